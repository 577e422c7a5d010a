// Builds requests signed by the official SDK's own signer (openapi-core), the oracle our verifier must agree with.

import { stringify } from 'node:querystring'
import openapiCore from '@alicloud/openapi-core/dist/utils.js'
import type { RpcRequestForSigning } from '../../shared/signing/verify.ts'

// A CommonJS module with `exports.default = Client`: Node's ESM loader hands over module.exports (the
// class under `.default`), while vitest honours `__esModule` and hands over the class itself.
type Sdk = typeof openapiCore.default
const sdk: Sdk = (openapiCore as unknown as { default?: Sdk }).default ?? (openapiCore as unknown as Sdk)
type SdkRequest = Parameters<Sdk['getAuthorization']>[0]

export interface SdkV3Options {
  accessKeyId: string
  secret: string
  securityToken?: string
  host?: string
  action?: string
  version?: string
  date: string
  nonce: string
  query?: Record<string, string>
  /** Sent as an application/x-www-form-urlencoded body, like the SDK's `body` with reqBodyType form. */
  form?: Record<string, string>
  /** Added before signing (so they are signed if the SDK signs them). */
  extraHeaders?: Record<string, string>
}

/**
 * What openapi-core `doRequest` puts on the wire for an RPC call, as the server sees it: query sent
 * through node's querystring (which leaves `!'()*` unescaped) and decoded again, header names
 * lower-cased as node gives them.
 */
export function sdkSignedV3(o: SdkV3Options): RpcRequestForSigning {
  const headers: Record<string, string> = {
    host: o.host ?? 'ims.aliyuncs.com',
    'x-acs-version': o.version ?? '2019-08-15',
    'x-acs-action': o.action ?? 'ListOIDCProviders',
    'user-agent': 'AlibabaCloud (linux; x64) Node.js/v20 Core/1.0.8 TeaDSL/2',
    'x-acs-date': o.date,
    'x-acs-signature-nonce': o.nonce,
    accept: 'application/json',
    ...o.extraHeaders,
  }
  let body = Buffer.alloc(0)
  if (o.form !== undefined) {
    body = Buffer.from(stringify(o.form), 'utf8')
    headers['content-type'] = 'application/x-www-form-urlencoded'
  }
  headers['x-acs-content-sha256'] = sdk.hash(body, 'ACS3-HMAC-SHA256').toString('hex')
  if (o.securityToken !== undefined) {
    headers['x-acs-accesskey-id'] = o.accessKeyId
    headers['x-acs-security-token'] = o.securityToken
  }
  const query = o.query ?? {}
  const request = { method: 'POST', pathname: '/', query, headers } as unknown as SdkRequest
  headers['Authorization'] = sdk.getAuthorization(request, 'ACS3-HMAC-SHA256', headers['x-acs-content-sha256'], o.accessKeyId, o.secret)
  return onTheWire('POST', query, headers, body)
}

export interface SdkV1Options {
  accessKeyId: string
  secret: string
  securityToken?: string
  action?: string
  version?: string
  timestamp: string
  nonce: string
  method?: string
  query?: Record<string, string>
  form?: Record<string, string>
}

/** openapi-core's V1 path (`signatureAlgorithm: 'v2'`): common params in the query, Signature over query + form. */
export function sdkSignedV1(o: SdkV1Options): RpcRequestForSigning {
  const method = o.method ?? 'POST'
  const query: Record<string, string> = {
    Action: o.action ?? 'AssumeRole',
    Format: 'json',
    Version: o.version ?? '2015-04-01',
    Timestamp: o.timestamp,
    SignatureNonce: o.nonce,
    ...o.query,
  }
  if (o.securityToken !== undefined) query['SecurityToken'] = o.securityToken
  query['SignatureMethod'] = 'HMAC-SHA1'
  query['SignatureVersion'] = '1.0'
  query['AccessKeyId'] = o.accessKeyId
  const headers: Record<string, string> = { host: 'sts.aliyuncs.com', 'x-acs-version': query['Version'] as string, 'x-acs-action': query['Action'] as string }
  let body = Buffer.alloc(0)
  if (o.form !== undefined) {
    body = Buffer.from(stringify(o.form), 'utf8')
    headers['content-type'] = 'application/x-www-form-urlencoded'
  }
  query['Signature'] = sdk.getRPCSignature({ ...query, ...o.form }, method, o.secret)
  return onTheWire(method, query, headers, body)
}

function onTheWire(method: string, query: Record<string, string>, headers: Record<string, string>, body: Buffer): RpcRequestForSigning {
  const lower: Record<string, string> = {}
  for (const [name, value] of Object.entries(headers)) lower[name.toLowerCase()] = value
  const isForm = lower['content-type'] === 'application/x-www-form-urlencoded'
  return {
    method,
    path: '/',
    query: decodePairs(stringify(query)),
    form: isForm ? decodePairs(body.toString('utf8')) : [],
    headers: lower,
    body,
  }
}

export function decodePairs(encoded: string): Array<[string, string]> {
  return [...new URLSearchParams(encoded)]
}
