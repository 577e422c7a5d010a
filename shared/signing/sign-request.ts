// Client-side signer: turns one RPC call into the exact ACS3-HMAC-SHA256 request the official SDKs send
// (business parameters in the query, signed x-acs-* headers). Used by the operator CLI and the tests;
// pure: the caller supplies the date and the nonce.

import { buildCanonicalRequestV3, hashPayload, signV3, stringToSignV3 } from './acs3.ts'
import { percentEncode } from './percent-encode.ts'
import { formatUtc } from '../time.ts'

export interface SigningCredentials {
  accessKeyId: string
  secret: string
  /** With STS temporary credentials (`STS.` AccessKeyId). */
  securityToken?: string
}

export interface RpcCall {
  creds: SigningCredentials
  action: string
  version: string
  /** Sent in the query string, as the IMS/RAM/STS SDK methods send business parameters. */
  params?: Record<string, string | number>
  /** Sent as an application/x-www-form-urlencoded body, as the credential providers do. */
  form?: Record<string, string | number>
  /** The Host header the request will carry: the endpoint's `host[:port]`, as `new URL(endpoint).host` gives it. */
  host: string
  date: Date
  /** Single-use; the server refuses a nonce it has seen within the signature window. */
  nonce: string
}

export interface SignedRpcRequest {
  method: 'POST'
  /** Path and query (`/?Name=value`), to be resolved against the endpoint. */
  url: string
  headers: Record<string, string>
  body: string
}

const SIGNED = (name: string) => name === 'host' || name === 'content-type' || name.startsWith('x-acs-')

export function signRpcRequest(call: RpcCall): SignedRpcRequest {
  const query = Object.entries(call.params ?? {}).map(([k, v]) => [k, String(v)] as const)
  const body = call.form ? encodePairs(Object.entries(call.form).map(([k, v]) => [k, String(v)] as const)) : ''
  const headers: Record<string, string> = {
    host: call.host,
    'x-acs-action': call.action,
    'x-acs-version': call.version,
    'x-acs-date': formatUtc(call.date.getTime()),
    'x-acs-signature-nonce': call.nonce,
    'x-acs-content-sha256': hashPayload(body),
    accept: 'application/json',
  }
  if (call.form) headers['content-type'] = 'application/x-www-form-urlencoded'
  if (call.creds.securityToken !== undefined) {
    headers['x-acs-accesskey-id'] = call.creds.accessKeyId
    headers['x-acs-security-token'] = call.creds.securityToken
  }
  const signed = Object.keys(headers).filter(SIGNED).sort()
  const canonical = buildCanonicalRequestV3({ method: 'POST', path: '/', query, headers, hashedPayload: hashPayload(body) }, signed)
  const signature = signV3(call.creds.secret, stringToSignV3(canonical))
  headers.authorization = `ACS3-HMAC-SHA256 Credential=${call.creds.accessKeyId},SignedHeaders=${signed.join(';')},Signature=${signature}`
  const qs = encodePairs(query)
  return { method: 'POST', url: qs ? `/?${qs}` : '/', headers, body }
}

function encodePairs(pairs: ReadonlyArray<readonly [string, string]>): string {
  return pairs.map(([k, v]) => `${percentEncode(k)}=${percentEncode(v)}`).join('&')
}
