// The test service (own table, bootstrapped operator) on a real 127.0.0.1 listener, for clients that
// speak HTTP: the official SDKs, fetch, child processes.

import { startTestService, type TestService } from '../../support/service.ts'

export interface ListeningService extends TestService {
  port: number
  /** `127.0.0.1:<port>`: what the SDKs call the endpoint, and the Host header they send. */
  host: string
  /** `http://127.0.0.1:<port>/` */
  endpoint: string
}

export async function startListeningService(): Promise<ListeningService> {
  const svc = await startTestService()
  await svc.app.listen({ host: '127.0.0.1', port: 0 })
  const address = svc.app.server.address()
  if (typeof address !== 'object' || address === null) throw new Error('the test service has no TCP address')
  return { ...svc, port: address.port, host: `127.0.0.1:${address.port}`, endpoint: `http://127.0.0.1:${address.port}/` }
}
