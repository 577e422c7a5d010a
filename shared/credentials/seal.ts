// The SecurityToken: a compact JWE (RFC 7516) `{"alg":"dir","enc":"A256GCM","kid":...}` built with
// node:crypto AES-256-GCM directly, carrying everything a verifier needs, so any instance holding the
// token keys authenticates STS credentials without a table read.
//
// Form: `<protected header>..<iv>.<ciphertext>.<tag>` (empty encrypted key: `dir`), 12-byte random IV,
// AAD = ASCII of the protected header, 16-byte tag (RFC 7518 §5.3). Unsealing accepts only the exact
// protected headers of the ring's keys, so no header field can steer it; every part must be canonical
// base64url, so no byte of the token can change without the token being refused.

import { createCipheriv, createDecipheriv } from 'node:crypto'
import { ApiError } from '../errors.ts'
import { decodeBase64urlStrict, encodeBase64url } from '../oidc/jws-base64url.ts'
import { formatUtc } from '../time.ts'
import { randomPooledBytes } from './random-pool.ts'
import type { TokenKeyRing } from './token-keys.ts'

export const SECURITY_TOKEN_VERSION = 1
/** Bound checked before any work. Typical tokens are under 1 KiB; a maximal session policy stays well below. */
export const MAX_SECURITY_TOKEN_LENGTH = 32768

const IV_BYTES = 12
const TAG_BYTES = 16

/** What the SecurityToken carries (JSON, short names). Times are seconds since 1970. */
export interface SecurityTokenPayload {
  /** Format version, SECURITY_TOKEN_VERSION. */
  v: typeof SECURITY_TOKEN_VERSION
  account: string
  roleArn: string
  roleName: string
  roleId: string
  sessionName: string
  /** The AccessKeyId these credentials were minted with. */
  akid: string
  /** The AccessKeySecret. */
  secret: string
  iat: number
  exp: number
  /** The session policy as serialised normalised JSON, when the session has one. */
  sessionPolicy?: string
  providerArn: string
  sub: string
  issuer: string
}

export function sealSecurityToken(payload: SecurityTokenPayload, keys: TokenKeyRing): string {
  const { key, protectedHeader, aad } = keys.current
  // 96-bit random IV per token (NIST SP 800-38D §8.2.2), from the pooled CSPRNG. §8.3 caps this at 2^32
  // seals per key (an IV repeated under one key would expose GHASH's key): rotate TOKEN_KEYS before
  // (SECURITY.md, Limits).
  const iv = randomPooledBytes(IV_BYTES)
  const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES })
  cipher.setAAD(aad)
  const encrypted = cipher.update(JSON.stringify(payload), 'utf8')
  const rest = cipher.final()
  // GCM is a stream mode: update returns every byte and final none (no copy then); joined should that change.
  const ciphertext = rest.length === 0 ? encrypted : Buffer.concat([encrypted, rest])
  const token = `${protectedHeader}..${encodeBase64url(iv)}.${encodeBase64url(ciphertext)}.${encodeBase64url(cipher.getAuthTag())}`
  if (token.length > MAX_SECURITY_TOKEN_LENGTH) throw new Error(`sealed SecurityToken exceeds ${MAX_SECURITY_TOKEN_LENGTH} characters`)
  return token
}

const malformed = (why: string, cause?: unknown) =>
  new ApiError('InvalidSecurityToken.Malformed', `The SecurityToken is malformed: ${why}.`, cause === undefined ? {} : { cause })

/**
 * The payload of a SecurityToken sealed with one of `keys`, still valid at `now`. Throws
 * InvalidSecurityToken.Malformed (not a token of ours, altered, undecryptable), .KeyNotFound (sealed
 * with a key no longer in the ring) or .Expired.
 */
export function unsealSecurityToken(token: string, keys: TokenKeyRing, now: Date): SecurityTokenPayload {
  if (typeof token !== 'string' || token.length === 0) throw malformed('it is empty')
  if (token.length > MAX_SECURITY_TOKEN_LENGTH) throw malformed(`it is longer than ${MAX_SECURITY_TOKEN_LENGTH} characters`)
  const parts = token.split('.')
  if (parts.length !== 5 || parts[1] !== '') throw malformed('it is not a compact JWE with a direct key')
  const [headerPart, , ivPart, ciphertextPart, tagPart] = parts as [string, string, string, string, string]

  const tokenKey = keys.byProtectedHeader.get(headerPart)
  if (tokenKey === undefined) {
    const kid = kidOfForeignHeader(headerPart)
    if (kid === undefined || keys.byKid.has(kid)) throw malformed('its header is not one this service writes')
    throw new ApiError(
      'InvalidSecurityToken.KeyNotFound',
      `The SecurityToken was sealed with key ${JSON.stringify(kid.slice(0, 64))}, which this service no longer holds; request new credentials.`,
    )
  }

  const iv = decodeBase64urlStrict(ivPart)
  const ciphertext = decodeBase64urlStrict(ciphertextPart)
  const tag = decodeBase64urlStrict(tagPart)
  if (iv?.length !== IV_BYTES || tag?.length !== TAG_BYTES || ciphertext === undefined || ciphertext.length === 0) {
    throw malformed('its parts are not canonical base64url of the expected sizes')
  }

  let plaintext: string
  try {
    const decipher = createDecipheriv('aes-256-gcm', tokenKey.key, iv, { authTagLength: TAG_BYTES })
    // headerPart is exactly tokenKey.protectedHeader (looked up by it).
    decipher.setAAD(tokenKey.aad)
    decipher.setAuthTag(tag)
    plaintext = Buffer.concat([decipher.update(ciphertext), decipher.final()]).toString('utf8')
  } catch (e) {
    throw malformed('it could not be authenticated', e)
  }

  const payload = checkPayload(plaintext)
  const nowMs = now.getTime()
  // A caller bug; checked because a NaN clock would make the expiry comparison pass.
  if (!Number.isFinite(nowMs)) throw new Error('unsealSecurityToken: now must be a valid Date')
  if (nowMs >= payload.exp * 1000) {
    throw new ApiError('InvalidSecurityToken.Expired', `The SecurityToken expired at ${formatUtc(payload.exp * 1000)}; server time is ${formatUtc(nowMs)}.`)
  }
  return payload
}

/** The kid of a header shaped like ours (alg dir, enc A256GCM), else undefined. */
function kidOfForeignHeader(headerPart: string): string | undefined {
  const bytes = decodeBase64urlStrict(headerPart)
  if (bytes === undefined || bytes.length > 512) return undefined
  try {
    const header = JSON.parse(bytes.toString('utf8')) as unknown
    if (typeof header !== 'object' || header === null) return undefined
    const { alg, enc, kid } = header as Record<string, unknown>
    return alg === 'dir' && enc === 'A256GCM' && typeof kid === 'string' && kid.length > 0 ? kid : undefined
  } catch {
    return undefined
  }
}

const STRING_FIELDS = ['account', 'roleArn', 'roleName', 'roleId', 'sessionName', 'akid', 'secret', 'providerArn', 'sub', 'issuer'] as const

/** Authenticated data is ours, but an old format or a bug must fail closed, not half-work. */
function checkPayload(plaintext: string): SecurityTokenPayload {
  let p: Record<string, unknown>
  try {
    p = JSON.parse(plaintext) as Record<string, unknown>
  } catch (e) {
    throw malformed('its content is not JSON', e)
  }
  if (typeof p !== 'object' || p === null) throw malformed('its content is not an object')
  if (p.v !== SECURITY_TOKEN_VERSION) throw malformed(`its format version is not ${SECURITY_TOKEN_VERSION}`)
  for (const f of STRING_FIELDS) if (typeof p[f] !== 'string') throw malformed(`its ${f} is missing`)
  if (!Number.isSafeInteger(p.iat) || !Number.isSafeInteger(p.exp)) throw malformed('its times are missing')
  if (p.sessionPolicy !== undefined && typeof p.sessionPolicy !== 'string') throw malformed('its session policy is not text')
  return p as unknown as SecurityTokenPayload
}
