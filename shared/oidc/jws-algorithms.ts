// The JWS algorithms an ID token may use (asymmetric only), which keys fit each, and signature
// verification with node:crypto and a cached KeyObject (the hot path: ~6x cheaper than WebCrypto).

import { constants, type KeyObject, verify } from 'node:crypto'

export type JwsAlgorithm = 'RS256' | 'RS384' | 'RS512' | 'PS256' | 'PS384' | 'PS512' | 'ES256' | 'ES384' | 'ES512'

type Hash = 'sha256' | 'sha384' | 'sha512'

type AlgorithmSpec =
  | { readonly family: 'RS' | 'PS'; readonly hash: Hash; readonly hashBytes: number }
  | {
      readonly family: 'ES'
      readonly hash: Hash
      /** node's name of the curve (asymmetricKeyDetails.namedCurve). */
      readonly curve: 'prime256v1' | 'secp384r1' | 'secp521r1'
      readonly curveName: 'P-256' | 'P-384' | 'P-521'
      /** Bytes of r and of s in the JWS (IEEE P1363) signature (RFC 7518 §3.4). */
      readonly coordinateBytes: number
      /** The group order n: r and s must lie in 1..n-1. */
      readonly order: bigint
    }

// Group orders as `openssl ecparam -name <curve> -param_enc explicit -text` prints them (SEC 2 / FIPS 186-4).
const P256_ORDER = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n
const P384_ORDER = 0xffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf581a0db248b0a77aecec196accc52973n
const P521_ORDER =
  0x01fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffa51868783bf2f966b7fcc0148f709a5d03bb5c9b8899c47aebb6fb71e91386409n

/** The allow-list (issue 4 item 2): `none`, HS* and everything else are refused before any key is looked up. */
const ALGORITHMS: Readonly<Record<JwsAlgorithm, AlgorithmSpec>> = {
  RS256: { family: 'RS', hash: 'sha256', hashBytes: 32 },
  RS384: { family: 'RS', hash: 'sha384', hashBytes: 48 },
  RS512: { family: 'RS', hash: 'sha512', hashBytes: 64 },
  PS256: { family: 'PS', hash: 'sha256', hashBytes: 32 },
  PS384: { family: 'PS', hash: 'sha384', hashBytes: 48 },
  PS512: { family: 'PS', hash: 'sha512', hashBytes: 64 },
  ES256: { family: 'ES', hash: 'sha256', curve: 'prime256v1', curveName: 'P-256', coordinateBytes: 32, order: P256_ORDER },
  ES384: { family: 'ES', hash: 'sha384', curve: 'secp384r1', curveName: 'P-384', coordinateBytes: 48, order: P384_ORDER },
  ES512: { family: 'ES', hash: 'sha512', curve: 'secp521r1', curveName: 'P-521', coordinateBytes: 66, order: P521_ORDER },
}

export function isAllowedAlgorithm(alg: unknown): alg is JwsAlgorithm {
  return typeof alg === 'string' && Object.hasOwn(ALGORITHMS, alg)
}

/** RSA keys below this are refused (NIST SP 800-131A; issue 4 item 2). */
export const MIN_RSA_MODULUS_BITS = 2048
/** Bounds the cost of one verification (a 16384-bit modulus takes milliseconds). */
export const MAX_RSA_MODULUS_BITS = 16384

/** Why `key` cannot verify `alg` signatures, or undefined when it can. */
export function keyProblem(key: KeyObject, alg: JwsAlgorithm): string | undefined {
  const spec = ALGORITHMS[alg]
  if (key.type !== 'public') return `a ${key.type} key is not a public key`
  const keyType = key.asymmetricKeyType
  const details = key.asymmetricKeyDetails ?? {}
  if (spec.family === 'ES') {
    if (keyType !== 'ec') return `${alg} needs an EC ${spec.curveName} key, the key is ${keyType ?? 'unknown'}`
    if (details.namedCurve !== spec.curve) return `${alg} needs curve ${spec.curveName}, the key is on ${details.namedCurve ?? 'an unknown curve'}`
    return undefined
  }
  if (keyType !== 'rsa') return `${alg} needs an RSA key, the key is ${keyType ?? 'unknown'}`
  const bits = details.modulusLength ?? 0
  if (bits < MIN_RSA_MODULUS_BITS) return `the RSA key has ${bits} bits, below the minimum of ${MIN_RSA_MODULUS_BITS}`
  if (bits > MAX_RSA_MODULUS_BITS) return `the RSA key has ${bits} bits, above the maximum of ${MAX_RSA_MODULUS_BITS}`
  const e = details.publicExponent ?? 0n
  // e = 1 makes "signatures" trivial to forge; an even e is not a valid RSA exponent.
  if (e < 3n || e % 2n === 0n) return 'the RSA key has a weak or invalid public exponent'
  return undefined
}

/**
 * True when `signature` is a valid `alg` signature of `signingInput` under `key` (checked by
 * `keyProblem` first). ECDSA signatures must be exactly 2 x the coordinate size (a DER-encoded
 * signature is refused) with r and s in 1..n-1 (CVE-2022-21449 class, checked here although node's
 * OpenSSL also refuses them). High-s signatures are accepted: RFC 7518 does not require low-s, IdPs
 * that do not normalise produce them half the time, and malleability is no forgery (the signature is
 * never used as an identifier).
 */
export function verifyJwsSignature(alg: JwsAlgorithm, key: KeyObject, signingInput: Buffer, signature: Buffer): boolean {
  const spec = ALGORITHMS[alg]
  try {
    if (spec.family === 'ES') {
      const c = spec.coordinateBytes
      if (signature.length !== 2 * c) return false
      const r = toBigInt(signature.subarray(0, c))
      const s = toBigInt(signature.subarray(c))
      if (r === 0n || s === 0n || r >= spec.order || s >= spec.order) return false
      return verify(spec.hash, signingInput, { key, dsaEncoding: 'ieee-p1363' }, signature)
    }
    // RFC 7518 §3.3/§3.5: the signature is exactly as long as the modulus.
    const modulusBytes = Math.ceil((key.asymmetricKeyDetails?.modulusLength ?? 0) / 8)
    if (signature.length !== modulusBytes) return false
    if (spec.family === 'RS') {
      return verify(spec.hash, signingInput, { key, padding: constants.RSA_PKCS1_PADDING }, signature)
    }
    // PS*: salt as long as the hash, MGF1 with the same hash (RFC 7518 §3.5; OpenSSL's MGF1 default).
    return verify(spec.hash, signingInput, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: spec.hashBytes }, signature)
  } catch {
    // node throws on some malformed inputs rather than returning false; either way it is no valid signature.
    return false
  }
}

function toBigInt(bytes: Buffer): bigint {
  return bytes.length === 0 ? 0n : BigInt(`0x${bytes.toString('hex')}`)
}
