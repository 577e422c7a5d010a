// Verifies a signed RPC request (V3 ACS3-HMAC-SHA256 or legacy V1 HMAC-SHA1); pure apart from the injected seams.

import { timingSafeEqual } from 'node:crypto'
import { ApiError } from '../errors.ts'
import {
  absentSignedHeaders,
  buildCanonicalRequestV3,
  canonicalQueryStringV3,
  hashPayload,
  incomplete,
  parseAcs3Authorization,
  signV3,
  stringToSignV3,
  unsignedRequiredHeaders,
  type CanonicalInput,
  type ParamPairs,
  type RequestHeaders,
} from './acs3.ts'
import { isWellFormedText } from './percent-encode.ts'
import { signV1, stringToSignV1 } from './v1.ts'

export interface SigningKey {
  accessKeyId: string
  secret: string
  active: boolean
}

export interface VerifyDeps {
  now: () => Date
  /** Accepted clock skew both ways, in seconds (900 by default in config). */
  windowSeconds: number
  /** Throws ApiError for a bad security token; undefined when the key does not exist. */
  resolveKey: (accessKeyId: string, securityToken: string | undefined) => Promise<SigningKey | undefined>
  /** Records the nonce; false when it was already used within its TTL. */
  consumeNonce: (accessKeyId: string, nonce: string, ttlSeconds: number) => Promise<boolean>
}

export interface RpcRequestForSigning {
  method: string
  path: string
  /** Decoded query pairs. */
  query: ParamPairs
  /** Decoded form-body pairs (empty when there is no form body). */
  form: ParamPairs
  headers: RequestHeaders
  body: Buffer
}

export interface VerifiedCaller {
  accessKeyId: string
  securityToken: string | undefined
  scheme: 'ACS3-HMAC-SHA256' | 'HMAC-SHA1'
}

/** `YYYY-MM-DDThh:mm:ssZ` only: what every SDK sends, and one spelling per instant keeps logs honest. */
const TIMESTAMP = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})Z$/
/** The SDK sends 64 hex chars (V3) or a UUID (V1); the bound keeps the replay store's keys small. */
const NONCE = /^[\x21-\x7E]{1,128}$/
/** Same bound as the V3 Credential, so garbage never reaches the key store. */
const ACCESS_KEY_ID = /^[\x21-\x7E]{1,128}$/
const BASE64_SHA1 = /^[A-Za-z0-9+/]{27}=$/

/**
 * Authenticates the request or throws an ApiError. Checks run cheapest and least revealing first:
 * format/presence -> timestamp window -> key -> signature -> nonce. The nonce is consumed only after
 * the signature verifies, so nothing is recorded for a failed request (an attacker cannot burn a
 * legitimate client's nonce with a forged one).
 */
export async function verifyRequestSignature(req: RpcRequestForSigning, deps: VerifyDeps): Promise<VerifiedCaller> {
  const authorization = singleHeader(req.headers, 'authorization')
  const hasSignatureParam = req.query.some(isSignatureParam) || req.form.some(isSignatureParam)
  if (authorization !== undefined && hasSignatureParam) {
    throw incomplete('The request carries both an Authorization header and a Signature parameter; use one signature scheme.')
  }
  if (authorization !== undefined) {
    if (!authorization.startsWith('ACS3-')) {
      throw incomplete('The Authorization header scheme is not supported; sign with ACS3-HMAC-SHA256.')
    }
    return verifyV3(req, authorization, deps)
  }
  if (hasSignatureParam) return verifyV1(req, deps)
  throw incomplete('The request is not signed: send an ACS3-HMAC-SHA256 Authorization header or the RPC Signature parameters.')
}

const isSignatureParam = ([name]: readonly [string, string]) => name === 'Signature'

async function verifyV3(req: RpcRequestForSigning, authorization: string, deps: VerifyDeps): Promise<VerifiedCaller> {
  // format and presence
  const auth = parseAcs3Authorization(authorization)
  if (auth.signedHeaders.includes('authorization')) {
    throw incomplete('The Authorization header cannot itself be a signed header.')
  }
  const unsigned = unsignedRequiredHeaders(req.headers, auth.signedHeaders)
  if (unsigned.length > 0) {
    throw incomplete(`${plural(unsigned, 'header')} not signed: host, content-type and every x-acs-* header must be in SignedHeaders.`)
  }
  const absent = absentSignedHeaders(req.headers, auth.signedHeaders)
  if (absent.length > 0) throw incomplete(`The signed ${plural(absent, 'header')} absent from the request.`)
  assertWellFormedParams(req.query)

  const date = singleHeader(req.headers, 'x-acs-date')
  const timestamp = parseTimestamp(date, 'x-acs-date header')
  const nonce = singleHeader(req.headers, 'x-acs-signature-nonce')
  assertNonce(nonce, 'x-acs-signature-nonce header')
  const claimedPayloadHash = singleHeader(req.headers, 'x-acs-content-sha256')
  if (claimedPayloadHash === undefined) {
    throw new ApiError('SignatureDoesNotMatch', 'The x-acs-content-sha256 header with the SHA-256 of the request body is missing.')
  }
  const securityToken = singleHeader(req.headers, 'x-acs-security-token')
  if (securityToken !== undefined) {
    const tokenKeyId = singleHeader(req.headers, 'x-acs-accesskey-id')
    if (tokenKeyId !== undefined && tokenKeyId !== auth.accessKeyId) {
      throw new ApiError('InvalidSecurityToken.MismatchWithAccessKey', 'The x-acs-accesskey-id header does not match the AccessKeyId in the Authorization Credential.')
    }
  }

  assertWithinWindow(timestamp, deps)

  // The body is bound to the signature only through this header, so compare it with the real bytes.
  const payloadHash = hashPayload(req.body)
  if (claimedPayloadHash !== payloadHash) {
    throw new ApiError('SignatureDoesNotMatch', 'The x-acs-content-sha256 header does not match the SHA-256 of the request body.')
  }

  const key = await resolveActiveKey(auth.accessKeyId, securityToken, deps)

  const input: CanonicalInput = { method: req.method, path: req.path, query: req.query, headers: req.headers, hashedPayload: payloadHash }
  let matched = safeEqual(signV3(key.secret, stringToSignV3(buildCanonicalRequestV3(input, auth.signedHeaders))), auth.signature)
  if (!matched && sdkNameStyleApplies(req.query)) {
    matched = safeEqual(signV3(key.secret, stringToSignV3(buildCanonicalRequestV3(input, auth.signedHeaders, 'sdk'))), auth.signature)
  }
  if (!matched) throw signatureMismatch()

  await consumeNonceOnce(key.accessKeyId, nonce, deps)
  return { accessKeyId: key.accessKeyId, securityToken, scheme: 'ACS3-HMAC-SHA256' }
}

async function verifyV1(req: RpcRequestForSigning, deps: VerifyDeps): Promise<VerifiedCaller> {
  // format and presence
  const params = [...req.query, ...req.form]
  const byName = new Map<string, string>()
  for (const [name, value] of params) {
    // The SDK merges query and form into one map; a repeated name has no single signed value.
    if (byName.has(name)) throw new ApiError('InvalidParameter', `parameter ${describeParam(name)} is given more than once`)
    byName.set(name, value)
  }
  assertWellFormedParams(params)

  const accessKeyId = byName.get('AccessKeyId')
  if (accessKeyId === undefined || accessKeyId === '') throw incomplete('The AccessKeyId parameter is missing.')
  if (!ACCESS_KEY_ID.test(accessKeyId)) throw incomplete('The AccessKeyId parameter must be 1 to 128 visible ASCII characters.')
  if (byName.get('SignatureMethod') !== 'HMAC-SHA1') throw incomplete('The SignatureMethod parameter must be HMAC-SHA1.')
  if (byName.get('SignatureVersion') !== '1.0') throw incomplete('The SignatureVersion parameter must be 1.0.')
  // V1 signs parameters only: the action must be one of them. Without Action and Version among the
  // signed parameters, the request parser would take them from the x-acs-action / x-acs-version
  // headers, which nothing signs, and anyone on the path could turn a signed GetRole into a DeleteRole.
  for (const name of ['Action', 'Version']) {
    if (!byName.get(name)) throw incomplete(`The ${name} parameter is missing: a V1 (HMAC-SHA1) signature must cover it.`)
  }
  const nonce = byName.get('SignatureNonce')
  assertNonce(nonce, 'SignatureNonce parameter')
  const timestamp = parseTimestamp(byName.get('Timestamp'), 'Timestamp parameter')
  const signature = byName.get('Signature') as string
  if (!BASE64_SHA1.test(signature)) throw incomplete('The Signature parameter must be a base64 HMAC-SHA1 (28 characters).')
  const securityToken = byName.get('SecurityToken')

  assertWithinWindow(timestamp, deps)
  const key = await resolveActiveKey(accessKeyId, securityToken, deps)
  // Compared as text, not decoded bytes: base64 has several spellings of the same last byte.
  if (!safeEqual(signV1(key.secret, stringToSignV1(req.method, params)), signature)) throw signatureMismatch()

  await consumeNonceOnce(key.accessKeyId, nonce, deps)
  return { accessKeyId: key.accessKeyId, securityToken, scheme: 'HMAC-SHA1' }
}

function singleHeader(headers: RequestHeaders, name: string): string | undefined {
  const value = headers[name]
  if (value === undefined || typeof value === 'string') return value
  if (value.length > 1) throw incomplete(`The ${name} header is given more than once.`)
  return value[0]
}

function plural(names: readonly string[], noun: string): string {
  return names.length === 1 ? `${noun} ${names[0]} is` : `${noun}s ${names.join(', ')} are`
}

// Decoders never produce lone surrogates, and percent-encoding cannot represent them (it throws).
function assertWellFormedParams(params: ParamPairs): void {
  for (const [name, value] of params) {
    if (!isWellFormedText(name) || !isWellFormedText(value)) {
      throw new ApiError('InvalidParameter', 'A request parameter is not well-formed Unicode text.')
    }
  }
}

function describeParam(name: string): string {
  return /^[A-Za-z0-9._-]{1,64}$/.test(name) ? name : '(with an unusual name)'
}

function parseTimestamp(value: string | undefined, where: string): Date {
  const m = value === undefined ? null : TIMESTAMP.exec(value)
  if (m === null) {
    throw new ApiError('InvalidTimeStamp.Format', `The ${where} must be a UTC time in the form YYYY-MM-DDThh:mm:ssZ.`)
  }
  const [year, month, day, hour, minute, second] = m.slice(1).map(Number) as [number, number, number, number, number, number]
  const date = new Date(Date.UTC(year, month - 1, day, hour, minute, second))
  // Date.UTC rolls over (Feb 30 -> Mar 2); a round trip catches impossible dates and times.
  if (
    date.getUTCFullYear() !== year || date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day ||
    date.getUTCHours() !== hour || date.getUTCMinutes() !== minute || date.getUTCSeconds() !== second
  ) {
    throw new ApiError('InvalidTimeStamp.Format', `The ${where} is not a valid date and time.`)
  }
  return date
}

function assertWithinWindow(timestamp: Date, deps: VerifyDeps): void {
  const now = deps.now()
  const skewMs = timestamp.getTime() - now.getTime()
  const windowMs = deps.windowSeconds * 1000
  const serverTime = formatTimestamp(now)
  if (skewMs < -windowMs) {
    throw new ApiError('InvalidTimeStamp.Expired', `The request time ${formatTimestamp(timestamp)} is more than ${deps.windowSeconds} seconds before the server time ${serverTime}; the request is stale.`)
  }
  if (skewMs > windowMs) {
    throw new ApiError('InvalidTimeStamp.Expired', `The request time ${formatTimestamp(timestamp)} is more than ${deps.windowSeconds} seconds after the server time ${serverTime}; it is in the future (check the client clock).`)
  }
}

function formatTimestamp(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z')
}

function assertNonce(nonce: string | undefined, where: string): asserts nonce is string {
  if (nonce === undefined) throw incomplete(`The ${where} is missing.`)
  if (!NONCE.test(nonce)) throw incomplete(`The ${where} must be 1 to 128 visible ASCII characters.`)
}

async function resolveActiveKey(accessKeyId: string, securityToken: string | undefined, deps: VerifyDeps): Promise<SigningKey> {
  const key = await deps.resolveKey(accessKeyId, securityToken)
  if (key === undefined) throw new ApiError('InvalidAccessKeyId.NotFound', 'Specified access key is not found.')
  if (!key.active) throw new ApiError('InvalidAccessKeyId.Inactive', 'Specified access key is disabled.')
  return key
}

async function consumeNonceOnce(accessKeyId: string, nonce: string, deps: VerifyDeps): Promise<void> {
  // A request stays acceptable while its timestamp is within +-window of the clock, i.e. for up to
  // 2 x window after a future-dated send; the nonce must be remembered at least that long.
  const fresh = await deps.consumeNonce(accessKeyId, nonce, 2 * deps.windowSeconds)
  if (!fresh) throw new ApiError('SignatureNonceUsed', 'Specified signature nonce was used already.')
}

const signatureMismatch = () =>
  new ApiError('SignatureDoesNotMatch', 'Specified signature is not matched with our calculation.')

function safeEqual(expected: string, given: string): boolean {
  const a = Buffer.from(expected, 'utf8')
  const b = Buffer.from(given, 'utf8')
  return a.length === b.length && timingSafeEqual(a, b)
}

/**
 * Whether to also try the SDK's raw-name canonical query (see QueryNameStyle). Only when it differs
 * from the documented form, and only when it is unambiguous: names free of `%`, `&`, `=` and control
 * characters (so the canonical query parses back to one parameter set and can never equal the
 * documented form of another set), and no repeated name (an SDK query is a map).
 */
function sdkNameStyleApplies(query: ParamPairs): boolean {
  if (canonicalQueryStringV3(query, 'sdk') === canonicalQueryStringV3(query, 'rfc3986')) return false
  const names = new Set<string>()
  for (const [name] of query) {
    if (names.has(name) || /[%&=\x00-\x1F\x7F]/.test(name)) return false
    names.add(name)
  }
  return true
}
