// Signed RPC calls over real HTTP (fetch), signed by shared/signing/sign-request.ts as the operator CLI
// signs them; for services that only a socket reaches (a listener, a child process).

import { randomBytes } from 'node:crypto'
import { signRpcRequest, type SigningCredentials } from '../../../shared/signing/sign-request.ts'

export interface RpcReply {
  status: number
  // Response bodies are asserted field by field.
  body: Record<string, any> // eslint-disable-line @typescript-eslint/no-explicit-any
}

export async function callOverHttp(
  endpoint: string,
  creds: SigningCredentials,
  action: string,
  version: string,
  params: Record<string, string | number> = {},
): Promise<RpcReply> {
  const base = new URL(endpoint)
  const signed = signRpcRequest({ creds, action, version, params, host: base.host, date: new Date(), nonce: randomBytes(16).toString('hex') })
  const { host: _host, ...headers } = signed.headers // fetch sets Host from the URL: the same value that was signed
  // No body at all when there is none: fetch would add an unsigned `content-type: text/plain` to "".
  const body = signed.body === '' ? undefined : signed.body
  const res = await fetch(new URL(signed.url, base), { method: signed.method, headers, body, signal: AbortSignal.timeout(10_000) })
  return { status: res.status, body: (await res.json()) as RpcReply['body'] }
}
