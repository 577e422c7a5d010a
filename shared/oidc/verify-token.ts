// Validates an OIDC ID token (compact JWS) for AssumeRoleWithOIDC in the order of spec §1.4, with the
// §1.5 codes. Pure: time comes in the policy and keys through an injected lookup (the JWKS cache).
//
// Decisions (fail closed; see also the constants below):
// - Only compact JWS with an asymmetric alg from the allow-list; a JWE (5 parts) is named as such.
// - Header and claim set are parsed by a strict parser: duplicate members and nesting deeper than
//   MAX_JSON_DEPTH are refused, as are non-canonical base64url and non-UTF-8 bytes.
// - `crit` is refused whatever it lists (we understand no extension), as is `b64` other than true.
// - `jwk`, `jku`, `x5u`, `x5c` make the token invalid: the key only ever comes from the issuer's
//   JWKS, and a legitimate IdP has no reason to embed a key, so such a token is an attack or a
//   misconfiguration and saying so beats a misleading "invalid signature".
// - `kid` is an opaque lookup key (string, 1..256 chars, no control characters); it is handed to the
//   lookup only, never put into a path, URL or query.
// - `iat` is required: the provider's IssuanceLimitTime cannot be enforced without it. Too old ->
//   AuthenticationFail.OIDCToken.IssuanceTimeLimitExceeded (our code; Alibaba's is unconfirmed).
// - NumericDates (exp, nbf, iat) are finite non-negative JSON numbers, fractions allowed (RFC 7519 §2);
//   exp at most MAX_NUMERIC_DATE (the response shows it as a four-digit-year date).
// - `azp` is checked only when the token has several audiences (OIDC Core §2) and is not required
//   then, since Kubernetes service-account tokens carry several audiences and no azp.
// - `sub`: a non-empty string of at most MAX_SUBJECT_LENGTH characters without control characters
//   (OIDC suggests 255 ASCII, but `system:serviceaccount:<ns>:<name>` can reach 339). `jti`, when
//   present, a string of at most MAX_JTI_LENGTH without control characters: both are audited and shown
//   to operators (ListAuditEvents), where an escape sequence or a line break would be an injection.
// Messages name the failed check and truncate any value taken from the token; they never contain the
// token itself or its signature.

import { isUtf8 } from 'node:buffer'
import type { KeyObject } from 'node:crypto'
import { ApiError } from '../errors.ts'
import { formatUtc } from '../time.ts'
import { isAllowedAlgorithm, type JwsAlgorithm, keyProblem, verifyJwsSignature } from './jws-algorithms.ts'
import { decodeBase64urlStrict } from './jws-base64url.ts'
import { JsonRejected, parseJsonStrict } from './jws-json.ts'

export const MIN_TOKEN_LENGTH = 4
export const MAX_TOKEN_LENGTH = 20000
export const DEFAULT_LEEWAY_SECONDS = 60
/** Containers nested deeper than this in the header or claims are refused (real tokens use ~3). */
export const MAX_JSON_DEPTH = 20
export const MAX_KID_LENGTH = 256
export const MAX_SUBJECT_LENGTH = 1024
/** `jti`, when present: at most this many characters, no control characters (it is audited, and shown to operators). */
export const MAX_JTI_LENGTH = 1024
/**
 * The latest exp accepted: 9999-12-31T23:59:59Z, the last instant the wire's `YYYY-MM-DDThh:mm:ssZ`
 * can spell (OIDCTokenInfo.ExpirationTime shows it); a later exp is refused.
 */
export const MAX_NUMERIC_DATE = 253402300799
/** Header members that carry or point to a key: never used, and their presence rejects the token. */
export const EMBEDDED_KEY_HEADERS = ['jwk', 'jku', 'x5u', 'x5c'] as const

export interface TokenPolicy {
  /** The provider's IssuerUrl; `iss` must equal it exactly. */
  issuer: string
  clientIds: readonly string[]
  /** The provider's IssuanceLimitTime (1..168 hours). */
  issuanceLimitHours: number
  /** Allowed clock skew for exp, nbf and iat; default DEFAULT_LEEWAY_SECONDS. */
  leewaySeconds?: number
  now: Date
}

/** Resolves the issuer's verification key; throws an ApiError itself on unknown kid or fetch problems. */
export type KeyLookup = (kid: string | undefined, alg: JwsAlgorithm) => Promise<KeyObject>

export interface JwsHeader {
  alg: JwsAlgorithm
  kid?: string
  [member: string]: unknown
}

export interface ParsedJws {
  header: JwsHeader
  payload: Record<string, unknown>
  /** ASCII bytes of `<header>.<payload>`, what the signature covers. */
  signingInput: Buffer
  signature: Buffer
}

export interface VerifiedClaims {
  iss: string
  sub: string
  /** Always an array (a string `aud` becomes a one-element array). */
  aud: string[]
  exp: number
  /** Always present after verification (required), optional in the type for callers building claims. */
  iat?: number
  nbf?: number
  jti?: string
  azp?: string
  [claim: string]: unknown
}

export interface VerifiedToken {
  header: { alg: JwsAlgorithm; kid?: string }
  claims: VerifiedClaims
}

const CODE_INVALID = 'AuthenticationFail.OIDCToken.Invalid'
const invalid = (message: string, cause?: unknown) => new ApiError(CODE_INVALID, message, cause === undefined ? {} : { cause })
const UNRECOGNISED = 'The Jwt content is invalid that cannot be recognized'

/**
 * The OIDCToken parameter's own limits (spec §1.1: 4..20000 characters), which AssumeRoleWithOIDC checks
 * with the other parameters (§1.4 step 1), before any provider is read. Throws AuthenticationFail.OIDCToken.Invalid.
 */
export function checkTokenLength(token: string): void {
  if (typeof token !== 'string' || token.length === 0) throw invalid('The OIDCToken can not empty.')
  if (token.length < MIN_TOKEN_LENGTH || token.length > MAX_TOKEN_LENGTH) {
    throw invalid(`The OIDCToken must be ${MIN_TOKEN_LENGTH} to ${MAX_TOKEN_LENGTH} characters long; it has ${token.length}.`)
  }
}

/**
 * Structural checks that need no key: length, three canonical base64url parts, header and payload
 * strict JSON objects, and the header rules (alg allow-list, crit, b64, embedded keys, kid).
 * Throws AuthenticationFail.OIDCToken.Invalid.
 */
export function parseCompactJws(token: string): ParsedJws {
  checkTokenLength(token)
  const parts = token.split('.')
  if (parts.length !== 3) {
    if (parts.length === 5) {
      throw invalid("The number of Jwt field should be divided into 3 parts with '.' . This token has 5 parts: it is an encrypted JWT (JWE); present the signed ID token (JWS).")
    }
    throw invalid(`The number of Jwt field should be divided into 3 parts with '.' . This token has ${parts.length}.`)
  }
  const [headerPart, payloadPart, signaturePart] = parts as [string, string, string]
  // The header first, so an unsigned `alg: none` token is reported as such rather than as an empty part.
  const header = decodeJsonPart(headerPart, 'header')
  checkHeader(header)
  const payload = decodeJsonPart(payloadPart, 'payload')
  const signature = decodeBase64urlStrict(signaturePart)
  if (signature === undefined) throw invalid('Cannot decode base64 encoded response(format invalided). The Jwt signature is not canonical unpadded base64url.')
  if (signature.length === 0) throw invalid(`${UNRECOGNISED}: the signature part is empty.`)
  return {
    header,
    payload,
    signingInput: Buffer.from(token.slice(0, headerPart.length + 1 + payloadPart.length), 'latin1'),
    signature,
  }
}

function decodeJsonPart(part: string, name: 'header' | 'payload'): Record<string, unknown> {
  const bytes = decodeBase64urlStrict(part)
  if (bytes === undefined) throw invalid(`Cannot decode base64 encoded response(format invalided). The Jwt ${name} is not canonical unpadded base64url.`)
  // isUtf8 refuses what a fatal TextDecoder would (invalid, overlong and surrogate sequences); a BOM stays a character.
  if (!isUtf8(bytes)) throw invalid(`${UNRECOGNISED}: the ${name} is not UTF-8.`)
  const text = bytes.toString('utf8')
  let value: unknown
  try {
    value = parseJsonStrict(text, MAX_JSON_DEPTH)
  } catch (e) {
    if (!(e instanceof JsonRejected)) throw e
    throw invalid(`${UNRECOGNISED}: the ${name} is not valid JSON (${e.message}).`, e)
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw invalid(`${UNRECOGNISED}: the ${name} is not a JSON object.`)
  return value as Record<string, unknown>
}

function checkHeader(header: Record<string, unknown>): asserts header is JwsHeader {
  const alg = header.alg
  if (typeof alg !== 'string') throw invalid(`${UNRECOGNISED}: the header has no alg string.`)
  if (!isAllowedAlgorithm(alg)) throw invalid(`The algorithm ${printable(alg)} that be specified in Jwt header is unknown.`)
  if (header.crit !== undefined) throw invalid(`${UNRECOGNISED}: the header lists critical extensions (crit) this service does not understand.`)
  if (header.b64 !== undefined && header.b64 !== true) throw invalid(`${UNRECOGNISED}: unencoded payloads (b64) are not accepted.`)
  for (const member of EMBEDDED_KEY_HEADERS) {
    if (header[member] !== undefined) {
      throw invalid(`${UNRECOGNISED}: the header carries ${member}; keys are taken only from the issuer's JWKS, never from the token.`)
    }
  }
  const kid = header.kid
  if (kid !== undefined) {
    if (typeof kid !== 'string') throw invalid(`${UNRECOGNISED}: the header kid must be a string, found ${typeName(kid)}.`)
    if (kid.length === 0 || kid.length > MAX_KID_LENGTH) throw invalid(`${UNRECOGNISED}: the header kid must be 1 to ${MAX_KID_LENGTH} characters long.`)
    if (CONTROL_CHAR.test(kid)) throw invalid(`${UNRECOGNISED}: the header kid contains control characters.`)
  }
}

/**
 * Verifies `token` against the provider `policy`: structure and header (parseCompactJws), issuer,
 * key and signature, times, audience, subject, in that order; the first failure is thrown as an
 * ApiError with its AuthenticationFail.OIDCToken.* code.
 */
export async function verifyOidcToken(token: string, policy: TokenPolicy, lookupKey: KeyLookup): Promise<VerifiedToken> {
  const leeway = policy.leewaySeconds ?? DEFAULT_LEEWAY_SECONDS
  // Caller bugs, not client errors; checked because a NaN would make every time comparison pass.
  if (!(leeway >= 0 && leeway <= 3600) || !(policy.issuanceLimitHours > 0) || !Number.isFinite(policy.now.getTime())) {
    throw new Error('verifyOidcToken: leewaySeconds must be 0..3600, issuanceLimitHours positive and now a valid Date')
  }
  const { header, payload, signingInput, signature } = parseCompactJws(token)

  // Issuer (step 5) before any key is fetched: a foreign issuer never causes a JWKS request.
  const iss = payload.iss
  if (typeof iss !== 'string') throw invalid(`${UNRECOGNISED}: the claim iss must be a string, found ${typeName(iss)}.`)
  if (iss !== policy.issuer) {
    throw new ApiError(
      'AuthenticationFail.OIDCToken.IssuerNotMatch',
      `The issuer in the OIDC Token doesn't match the OIDC Provider registered: expected ${JSON.stringify(policy.issuer)}, found ${quote(iss, 256)}.`,
    )
  }

  // Key and signature (steps 6-7).
  const key = await lookupKey(header.kid, header.alg)
  const problem = keyProblem(key, header.alg)
  if (problem !== undefined) {
    const which = header.kid === undefined ? '' : ` ${quote(header.kid)}`
    throw new ApiError('AuthenticationFail.OIDCToken.InvalidSignature', `OIDC token validate failed: invalid signature. The issuer's key${which} cannot verify ${header.alg}: ${problem}.`)
  }
  if (!verifyJwsSignature(header.alg, key, signingInput, signature)) {
    throw new ApiError('AuthenticationFail.OIDCToken.InvalidSignature', 'OIDC token validate failed: invalid signature.')
  }

  // Times (steps 8-9).
  const exp = numericDate(payload, 'exp')
  const iat = numericDate(payload, 'iat')
  const nbf = numericDate(payload, 'nbf')
  if (exp === undefined) throw invalid(`${UNRECOGNISED}: the claim exp is required.`)
  // Past 9999-12-31T23:59:59Z, exp could not be spelled as the response's ExpirationTime (YYYY-MM-DDThh:mm:ssZ).
  if (exp > MAX_NUMERIC_DATE) throw invalid(`${UNRECOGNISED}: the claim exp ${exp} is beyond the latest representable time (${MAX_NUMERIC_DATE} seconds since 1970, 9999-12-31T23:59:59Z).`)
  if (iat === undefined) throw invalid(`${UNRECOGNISED}: the claim iat is required (the OIDC provider's IssuanceLimitTime is checked against it).`)
  const nowMs = policy.now.getTime()
  const nowSec = nowMs / 1000
  const skew = `allowed clock skew ${leeway} s`
  if (nowSec > exp + leeway) {
    throw new ApiError(
      'AuthenticationFail.OIDCToken.Expired',
      `This JsonWebToken is expired. Server time ${formatUtc(nowMs)} is after its exp ${formatSeconds(exp)} (${skew}).`,
    )
  }
  if (nbf !== undefined && nowSec + leeway < nbf) {
    throw invalid(`The Jwt is not valid yet: its nbf ${formatSeconds(nbf)} is after server time ${formatUtc(nowMs)} (${skew}).`)
  }
  if (iat > nowSec + leeway) {
    throw invalid(`The Jwt was issued in the future: its iat ${formatSeconds(iat)} is after server time ${formatUtc(nowMs)} (${skew}).`)
  }
  if (nowSec - iat > policy.issuanceLimitHours * 3600 + leeway) {
    throw new ApiError(
      'AuthenticationFail.OIDCToken.IssuanceTimeLimitExceeded',
      `The Jwt was issued at ${formatSeconds(iat)}, more than the OIDC provider's IssuanceLimitTime of ${policy.issuanceLimitHours} hours before server time ${formatUtc(nowMs)}.`,
    )
  }

  // Audience (step 10).
  const aud = audiences(payload.aud)
  const azp = payload.azp
  if (azp !== undefined && typeof azp !== 'string') throw invalid(`${UNRECOGNISED}: the claim azp must be a string, found ${typeName(azp)}.`)
  if (!aud.some((a) => policy.clientIds.includes(a))) {
    throw new ApiError('AuthenticationFail.OIDCToken.AudienceNotMatch', `Invalid audience. The token's aud ${quoteList(aud)} contains none of the OIDC provider's client IDs.`)
  }
  if (aud.length > 1 && azp !== undefined && !policy.clientIds.includes(azp)) {
    throw new ApiError(
      'AuthenticationFail.OIDCToken.AudienceNotMatch',
      `Invalid audience. The token has several audiences and its azp ${quote(azp)} is not one of the OIDC provider's client IDs.`,
    )
  }

  // Subject and identifiers the exchange records.
  const sub = payload.sub
  if (typeof sub !== 'string' || sub.length === 0 || sub.length > MAX_SUBJECT_LENGTH || CONTROL_CHAR.test(sub)) {
    throw invalid(`${UNRECOGNISED}: the claim sub must be a string of 1 to ${MAX_SUBJECT_LENGTH} characters without control characters.`)
  }
  const jti = payload.jti
  if (jti !== undefined) {
    if (typeof jti !== 'string') throw invalid(`${UNRECOGNISED}: the claim jti must be a string, found ${typeName(jti)}.`)
    if (jti.length > MAX_JTI_LENGTH || CONTROL_CHAR.test(jti)) {
      throw invalid(`${UNRECOGNISED}: the claim jti must be at most ${MAX_JTI_LENGTH} characters without control characters.`)
    }
  }

  // The claim set is this call's own parse: completed in place (aud as an array) rather than copied.
  payload.aud = aud
  return {
    header: header.kid === undefined ? { alg: header.alg } : { alg: header.alg, kid: header.kid },
    claims: payload as VerifiedClaims,
  }
}

/** A NumericDate claim: absent, or a finite non-negative JSON number (seconds, fractions allowed). */
function numericDate(payload: Record<string, unknown>, name: 'exp' | 'iat' | 'nbf'): number | undefined {
  const v = payload[name]
  if (v === undefined) return undefined
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) {
    const found = typeof v === 'number' ? String(v) : typeName(v)
    throw invalid(`${UNRECOGNISED}: the claim ${name} must be a NumericDate (a finite non-negative number of seconds), found ${found}.`)
  }
  return v
}

function audiences(aud: unknown): string[] {
  if (typeof aud === 'string' && aud.length > 0) return [aud]
  if (Array.isArray(aud) && aud.length > 0 && aud.every((a) => typeof a === 'string' && a.length > 0)) return aud as string[]
  throw invalid(`${UNRECOGNISED}: the claim aud must be a non-empty string or a non-empty array of non-empty strings.`)
}

/**
 * What `sub`, `jti` and `kid` must not contain: C0 and C1 control characters (escape sequences, line
 * breaks: NEL), the Unicode line and paragraph separators, and lone surrogates (no Unicode text; JSON.parse
 * decodes `\ud800` to one, and strict JSON readers of ListAuditEvents or OIDCTokenInfo would refuse it).
 */
const CONTROL_CHAR = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]|\p{Cs}/u

function typeName(v: unknown): string {
  if (v === undefined) return 'nothing'
  if (v === null) return 'null'
  if (Array.isArray(v)) return 'an array'
  return `a ${typeof v}`
}

/** A value from the token, JSON-quoted (control characters escaped) and truncated. */
function quote(value: string, max = 64): string {
  return value.length > max ? `${JSON.stringify(value.slice(0, max))}...` : JSON.stringify(value)
}

function quoteList(values: readonly string[], maxItems = 5): string {
  const shown = values.slice(0, maxItems).map((v) => quote(v))
  const more = values.length > maxItems ? ` and ${values.length - maxItems} more` : ''
  return `[${shown.join(', ')}]${more}`
}

/** The alg as Alibaba prints it when harmless, quoted and truncated otherwise. */
function printable(alg: string): string {
  return /^[\x21-\x7e]{1,32}$/.test(alg) ? alg : quote(alg, 32)
}

function formatSeconds(seconds: number): string {
  const ms = seconds * 1000
  // Beyond Date's range (year 275760) toISOString throws; such dates are shown as numbers.
  return ms <= 8.64e15 ? formatUtc(ms) : `${seconds} (seconds since 1970)`
}
