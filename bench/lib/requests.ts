// The requests the HTTP benchmarks send, as raw bytes for the load generator: hello-world, the
// exchange (every parameter in the query string, as the SDK sends it), and calls signed with
// ACS3-HMAC-SHA256 (fresh date and nonce each: the server refuses a replayed nonce).

import { randomBytes } from 'node:crypto'
import { signRpcRequest, type SigningCredentials } from '../../shared/signing/sign-request.ts'
import type { BenchAlg, BenchContext } from './context.ts'
import { rawRequest } from './loadgen.ts'
import { exchangeQuery, idToken } from './tokens.ts'

export const IMS = '2019-08-15'
export const STS = '2015-04-01'

export function helloRequest(port: number): Buffer {
  return rawRequest('POST', '/?Action=Hello&Version=2015-04-01&Format=JSON', { host: `127.0.0.1:${port}` })
}

/** A pool of exchange requests with distinct tokens (jti) and session names, cycled by index. */
export function exchangeRequests(ctx: BenchContext, alg: BenchAlg, port: number, size = 64): Buffer[] {
  return Array.from({ length: size }, (_, i) => rawRequest('POST', `/?${exchangeQuery(ctx, idToken(ctx, alg), `bench-${i}`)}`, { host: `127.0.0.1:${port}` }))
}

export function signedRequest(creds: SigningCredentials, action: string, version: string, params: Record<string, string>, port: number): Buffer {
  const host = `127.0.0.1:${port}`
  const s = signRpcRequest({ creds, action, version, params, host, date: new Date(), nonce: randomBytes(16).toString('hex') })
  return rawRequest(s.method, s.url, s.headers, s.body)
}

/** Temporary credentials from one exchange over HTTP (for calls signed with STS credentials). */
export async function stsCredentials(ctx: BenchContext, port: number): Promise<SigningCredentials> {
  const res = await fetch(`http://127.0.0.1:${port}/?${exchangeQuery(ctx, idToken(ctx, 'RS256'), 'bench-sts')}`, { method: 'POST' })
  const body = (await res.json()) as { Credentials?: { AccessKeyId: string; AccessKeySecret: string; SecurityToken: string } }
  if (res.status !== 200 || !body.Credentials) throw new Error(`exchange for STS credentials failed: ${res.status} ${JSON.stringify(body).slice(0, 300)}`)
  return { accessKeyId: body.Credentials.AccessKeyId, secret: body.Credentials.AccessKeySecret, securityToken: body.Credentials.SecurityToken }
}
