// Turns a JWKS document into usable signature-verification keys (node KeyObjects), recording why each other key was skipped. Pure.
//
// Fail closed: only RSA (2048..16384-bit modulus, odd exponent > 1) and EC P-256/384/521 keys meant for
// signatures, whose `alg` (when given) is on the allow-list and fits the key; a kid shared by several
// usable keys is ambiguous and none of them is used; a key that publishes private members is refused
// (the IdP has leaked it: anyone could sign with it).

import { createPublicKey, type KeyObject } from 'node:crypto'
import { isAllowedAlgorithm, type JwsAlgorithm, MAX_RSA_MODULUS_BITS, MIN_RSA_MODULUS_BITS } from './jws-algorithms.ts'
import { isObject } from '../validation/is-object.ts'
import { MAX_KID_LENGTH } from './verify-token.ts'

/** A JWKS with more keys than this is refused as a whole (real IdPs publish 1-5). */
export const MAX_JWKS_KEYS = 100

export type EcCurve = 'P-256' | 'P-384' | 'P-521'

/** The public members of a usable key, as stored and shown (no private or unknown members). */
export type PublicJwk =
  | { kty: 'RSA'; n: string; e: string; kid?: string; alg?: JwsAlgorithm; use?: 'sig' }
  | { kty: 'EC'; crv: EcCurve; x: string; y: string; kid?: string; alg?: JwsAlgorithm; use?: 'sig' }

export interface IssuerKey {
  kid: string | undefined
  alg: JwsAlgorithm | undefined
  jwk: PublicJwk
  key: KeyObject
}

export interface SkippedKey {
  /** Position in the document's `keys` array. */
  index: number
  kid?: string
  reason: string
}

export interface ParsedJwks {
  usable: IssuerKey[]
  /** Usable keys that have a kid (each kid at most once). */
  byKid: Map<string, IssuerKey>
  skipped: SkippedKey[]
}

export class InvalidJwksError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'InvalidJwksError'
  }
}

const EC_COORDINATE_BYTES: Record<EcCurve, number> = { 'P-256': 32, 'P-384': 48, 'P-521': 66 }
const EC_ALG: Record<EcCurve, JwsAlgorithm> = { 'P-256': 'ES256', 'P-384': 'ES384', 'P-521': 'ES512' }
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'] as const
const BASE64URL = /^[A-Za-z0-9_-]+$/


function base64url(value: unknown): Buffer | undefined {
  return typeof value === 'string' && BASE64URL.test(value) ? Buffer.from(value, 'base64url') : undefined
}

/** An unsigned big-endian integer in its minimal form, base64url (RFC 7518 §6.3.1.1: no leading zero octets). */
function minimal(bytes: Buffer): string {
  let i = 0
  while (i < bytes.length - 1 && bytes[i] === 0) i++
  return bytes.subarray(i).toString('base64url')
}

function bitLength(bytes: Buffer): number {
  let i = 0
  while (i < bytes.length && bytes[i] === 0) i++
  if (i === bytes.length) return 0
  return (bytes.length - i - 1) * 8 + (32 - Math.clz32(bytes[i]!))
}

/** Why `alg` cannot be used with this key type/curve, or undefined. */
export function algorithmMismatch(jwk: PublicJwk, alg: JwsAlgorithm): string | undefined {
  if (jwk.kty === 'RSA') return /^(RS|PS)/.test(alg) ? undefined : `${alg} needs an EC key, this is an RSA key`
  const wanted = EC_ALG[jwk.crv]
  return alg === wanted ? undefined : `${alg} does not fit an EC ${jwk.crv} key (${wanted} does)`
}

/** The reason a JWK cannot be used for signature verification, or its clean public form. */
function checkJwk(raw: Record<string, unknown>): { jwk: PublicJwk } | { reason: string } {
  if (raw.use !== undefined && raw.use !== 'sig') return { reason: `use is ${JSON.stringify(raw.use).slice(0, 40)}, not "sig"` }
  if (raw.key_ops !== undefined && !(Array.isArray(raw.key_ops) && raw.key_ops.includes('verify'))) return { reason: 'key_ops does not include "verify"' }
  if (PRIVATE_MEMBERS.some((m) => raw[m] !== undefined)) return { reason: 'the key publishes private key material' }
  let alg: JwsAlgorithm | undefined
  if (raw.alg !== undefined) {
    if (!isAllowedAlgorithm(raw.alg)) return { reason: `alg ${JSON.stringify(raw.alg).slice(0, 40)} is not an allowed signature algorithm` }
    alg = raw.alg
  }
  const extra = { ...(alg === undefined ? {} : { alg }), ...(raw.use === 'sig' ? { use: 'sig' as const } : {}) }
  if (raw.kty === 'RSA') {
    const n = base64url(raw.n)
    const e = base64url(raw.e)
    if (!n || !e) return { reason: 'RSA key without valid base64url n and e' }
    const bits = bitLength(n)
    if (bits < MIN_RSA_MODULUS_BITS) return { reason: `RSA modulus of ${bits} bits is below ${MIN_RSA_MODULUS_BITS}` }
    if (bits > MAX_RSA_MODULUS_BITS) return { reason: `RSA modulus of ${bits} bits is above ${MAX_RSA_MODULUS_BITS}` }
    const eBits = bitLength(e)
    // e = 1 makes every "signature" valid; an even e is no RSA exponent.
    if (eBits < 2 || (e[e.length - 1]! & 1) === 0) return { reason: 'RSA public exponent is not odd and greater than 1' }
    if (eBits >= bits) return { reason: 'RSA public exponent is not smaller than the modulus' }
    // The same key in its minimal form: leading zero octets would only inflate the stored copy (a
    // padded modulus still counts as its bits), and the importer is given what was checked.
    const jwk: PublicJwk = { kty: 'RSA', n: minimal(n), e: minimal(e), ...extra }
    const mismatch = alg === undefined ? undefined : algorithmMismatch(jwk, alg)
    return mismatch === undefined ? { jwk } : { reason: mismatch }
  }
  if (raw.kty === 'EC') {
    const crv = raw.crv
    if (crv !== 'P-256' && crv !== 'P-384' && crv !== 'P-521') return { reason: `EC curve ${JSON.stringify(crv).slice(0, 40)} is not P-256, P-384 or P-521` }
    const x = base64url(raw.x)
    const y = base64url(raw.y)
    const size = EC_COORDINATE_BYTES[crv]
    if (!x || !y || x.length !== size || y.length !== size) return { reason: `EC ${crv} key without ${size}-byte x and y` }
    const jwk: PublicJwk = { kty: 'EC', crv, x: raw.x as string, y: raw.y as string, ...extra }
    const mismatch = alg === undefined ? undefined : algorithmMismatch(jwk, alg)
    return mismatch === undefined ? { jwk } : { reason: mismatch }
  }
  return { reason: `key type ${JSON.stringify(raw.kty).slice(0, 40)} is not RSA or EC` }
}

/**
 * Parses `{ keys: [...] }`. Throws InvalidJwksError when the document itself is unusable (no keys
 * array, too many keys); individual keys that cannot be used are listed in `skipped`. A JWKS whose
 * keys are all skipped is returned with no usable key: the IdP said so, and old keys must stop working.
 */
export function parseJwks(doc: unknown): ParsedJwks {
  if (!isObject(doc) || !Array.isArray(doc.keys)) throw new InvalidJwksError('the JWKS has no "keys" array')
  if (doc.keys.length > MAX_JWKS_KEYS) throw new InvalidJwksError(`the JWKS has ${doc.keys.length} keys, more than ${MAX_JWKS_KEYS}`)
  const found: Array<{ index: number; key: IssuerKey }> = []
  const skipped: SkippedKey[] = []
  doc.keys.forEach((raw: unknown, index: number) => {
    if (!isObject(raw)) return skipped.push({ index, reason: 'not a JSON object' })
    const kid = raw.kid
    if (kid !== undefined && (typeof kid !== 'string' || kid.length === 0 || kid.length > MAX_KID_LENGTH)) {
      return skipped.push({ index, reason: `kid is not a string of 1..${MAX_KID_LENGTH} characters (the token header's bound)` })
    }
    const named = kid === undefined ? {} : { kid }
    const checked = checkJwk(raw)
    if ('reason' in checked) return skipped.push({ index, ...named, reason: checked.reason })
    const j = checked.jwk
    // Only the public members reach the importer; node validates RSA structure and that EC points lie on the curve.
    const material = j.kty === 'RSA' ? { kty: j.kty, n: j.n, e: j.e } : { kty: j.kty, crv: j.crv, x: j.x, y: j.y }
    let key: KeyObject
    try {
      key = createPublicKey({ key: material, format: 'jwk' })
    } catch {
      return skipped.push({ index, ...named, reason: 'the key could not be imported (invalid key material)' })
    }
    found.push({ index, key: { kid, alg: j.alg, jwk: kid === undefined ? j : { ...j, kid }, key } })
  })

  // A kid used by several usable keys is ambiguous: which one the IdP signs with is unknowable.
  const counts = new Map<string, number>()
  for (const { key: k } of found) if (k.kid !== undefined) counts.set(k.kid, (counts.get(k.kid) ?? 0) + 1)
  const usable: IssuerKey[] = []
  for (const { index, key: k } of found) {
    const n = k.kid === undefined ? 1 : counts.get(k.kid)!
    if (n > 1) skipped.push({ index, kid: k.kid!, reason: `kid is shared by ${n} usable keys (ambiguous); none of them is used` })
    else usable.push(k)
  }
  skipped.sort((a, b) => a.index - b.index)
  const byKid = new Map<string, IssuerKey>()
  for (const k of usable) if (k.kid !== undefined) byKid.set(k.kid, k)
  return { usable, byKid, skipped }
}

export type KeySelection =
  | { key: IssuerKey }
  | { problem: 'unknown-kid' | 'ambiguous' | 'unfit'; detail: string }

/**
 * The key for a token header: by kid when the token has one; without a kid, the single usable key that
 * fits `alg` (several candidates are ambiguous). A found key whose kty/crv/alg does not fit `alg` is unfit.
 */
export function selectKey(parsed: Pick<ParsedJwks, 'usable' | 'byKid'>, kid: string | undefined, alg: JwsAlgorithm): KeySelection {
  if (kid !== undefined) {
    const k = parsed.byKid.get(kid)
    if (k === undefined) return { problem: 'unknown-kid', detail: 'no usable key with this kid' }
    const why = fitProblem(k, alg)
    return why === undefined ? { key: k } : { problem: 'unfit', detail: why }
  }
  const candidates = parsed.usable.filter((k) => fitProblem(k, alg) === undefined)
  if (candidates.length === 1) return { key: candidates[0]! }
  if (candidates.length === 0) return { problem: 'unknown-kid', detail: `the token has no kid and no usable key fits ${alg}` }
  return { problem: 'ambiguous', detail: `the token has no kid and ${candidates.length} keys fit ${alg}` }
}

function fitProblem(k: IssuerKey, alg: JwsAlgorithm): string | undefined {
  if (k.alg !== undefined && k.alg !== alg) return `the key is for ${k.alg}, the token uses ${alg}`
  return algorithmMismatch(k.jwk, alg)
}
