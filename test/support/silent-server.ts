// A TCP server on 127.0.0.1 that accepts connections and never answers: an endpoint (a table, a bus, an
// IdP) that hangs, for tests of timeouts. It neither reads nor writes; close() destroys the sockets it
// holds, since server.close() waits for every connection to end and these never would.
import { createServer, type AddressInfo, type Socket } from 'node:net'

export interface SilentServer {
  /** http://127.0.0.1:<port> */
  readonly url: string
  readonly port: number
  /** TCP connections accepted so far. */
  readonly connections: number
  close(): Promise<void>
}

export async function silentServer(): Promise<SilentServer> {
  const sockets = new Set<Socket>()
  let connections = 0
  const server = createServer((s) => {
    connections++
    sockets.add(s)
    s.on('close', () => sockets.delete(s))
    // A client that gives up may reset the connection: that is the client's timeout at work, not a failure here.
    s.on('error', () => {})
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    get connections() {
      return connections
    },
    async close() {
      for (const s of sockets) s.destroy()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}
