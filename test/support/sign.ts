// A test client that signs RPC requests exactly as the official SDK does (V3 ACS3-HMAC-SHA256), for
// app.inject() and for real HTTP. Our signer is cross-checked against the SDK in test/signing.

import { randomBytes } from 'node:crypto'
import { buildCanonicalRequestV3, hashPayload, signV3, stringToSignV3 } from '../../shared/signing/acs3.ts'
import { percentEncode } from '../../shared/signing/percent-encode.ts'
import { formatUtc } from '../../shared/time.ts'

export interface Credentials {
  accessKeyId: string
  secret: string
  securityToken?: string
}

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
  const query = Object.entries(opts.params ?? {}).map(([k, v]) => [k, String(v)] as const)
  const payload = opts.form
    ? Object.entries(opts.form).map(([k, v]) => `${percentEncode(k)}=${percentEncode(String(v))}`).join('&')
    : ''
  const headers: Record<string, string> = {
    host: opts.host ?? 'localhost',
    'x-acs-action': opts.action,
    'x-acs-version': opts.version,
    'x-acs-date': formatUtc((opts.date ?? new Date()).getTime()),
    'x-acs-signature-nonce': opts.nonce ?? randomBytes(16).toString('hex'),
    'x-acs-content-sha256': hashPayload(payload),
    accept: 'application/json',
  }
  if (opts.form) headers['content-type'] = 'application/x-www-form-urlencoded'
  if (opts.creds.securityToken !== undefined) {
    headers['x-acs-accesskey-id'] = opts.creds.accessKeyId
    headers['x-acs-security-token'] = opts.creds.securityToken
  }
  const signed = Object.keys(headers).filter((h) => h === 'host' || h === 'content-type' || h.startsWith('x-acs-')).sort()
  const canonical = buildCanonicalRequestV3({ method: 'POST', path: '/', query, headers, hashedPayload: headers['x-acs-content-sha256']! }, signed)
  const signature = signV3(opts.creds.secret, stringToSignV3(canonical))
  headers.authorization = `ACS3-HMAC-SHA256 Credential=${opts.creds.accessKeyId},SignedHeaders=${signed.join(';')},Signature=${signature}`
  const qs = query.map(([k, v]) => `${percentEncode(k)}=${percentEncode(v)}`).join('&')
  return { method: 'POST', url: qs ? `/?${qs}` : '/', headers, payload }
}
