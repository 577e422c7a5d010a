// A test client that signs RPC requests exactly as the official SDK does (V3 ACS3-HMAC-SHA256), for
// app.inject() and for real HTTP: shared/signing/sign-request.ts with test defaults (host, now, a
// random nonce). Our signer is cross-checked against the SDK in test/signing.

import { randomBytes } from 'node:crypto'
import { signRpcRequest, type SigningCredentials } from '../../shared/signing/sign-request.ts'

export type Credentials = SigningCredentials

export interface SignedRequest {
  method: 'POST'
  url: string
  headers: Record<string, string>
  payload: string
}

export function signRpc(opts: {
  creds: Credentials
  action: string
  version: string
  params?: Record<string, string | number>
  form?: Record<string, string | number>
  host?: string
  date?: Date
  nonce?: string
}): SignedRequest {
  const signed = signRpcRequest({
    creds: opts.creds,
    action: opts.action,
    version: opts.version,
    params: opts.params,
    form: opts.form,
    host: opts.host ?? 'localhost',
    date: opts.date ?? new Date(),
    nonce: opts.nonce ?? randomBytes(16).toString('hex'),
  })
  return { method: signed.method, url: signed.url, headers: signed.headers, payload: signed.body }
}
