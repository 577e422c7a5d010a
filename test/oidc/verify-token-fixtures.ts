// Real-shaped ID tokens for the verify-token tests: keys generated once per run, tokens signed with
// node:crypto exactly as an IdP would (or deliberately wrong), a controlled clock, a recording key lookup.

import { constants, createHmac, generateKeyPairSync, type KeyObject, sign } from 'node:crypto'
import { expect } from 'vitest'
import { ApiError } from '../../shared/errors.ts'
import type { JwsAlgorithm } from '../../shared/oidc/jws-algorithms.ts'
import type { KeyLookup, TokenPolicy } from '../../shared/oidc/verify-token.ts'

export const NOW = new Date('2026-11-28T10:00:00Z')
export const NOW_S = NOW.getTime() / 1000
export const ISSUER = 'https://idp.example.com'
export const CLIENT_ID = 'sts.aliyuncs.com'
export const OTHER_CLIENT_ID = 'demo-app'
export const SUBJECT = 'system:serviceaccount:prod:billing'

export const policy = (over: Partial<TokenPolicy> = {}): TokenPolicy => ({
  issuer: ISSUER,
  clientIds: [CLIENT_ID, OTHER_CLIENT_ID],
  issuanceLimitHours: 12,
  leewaySeconds: 60,
  now: NOW,
  ...over,
})

/** A Kubernetes-like claim set, issued a minute ago, valid for an hour. */
export const claims = (over: Record<string, unknown> = {}): Record<string, unknown> => ({
  iss: ISSUER,
  sub: SUBJECT,
  aud: CLIENT_ID,
  iat: NOW_S - 60,
  exp: NOW_S + 3600,
  nbf: NOW_S - 60,
  jti: '2f6c1f0e-6d1c-4c1e-9d4e-0c9f3f1f2a11',
  'kubernetes.io': { namespace: 'prod', serviceaccount: { name: 'billing', uid: '7d3b' } },
  ...over,
})

const rsa = (bits: number) => generateKeyPairSync('rsa', { modulusLength: bits })
const ec = (namedCurve: string) => generateKeyPairSync('ec', { namedCurve })

export const KEYS = {
  rsa: rsa(2048),
  rsa3072: rsa(3072),
  rsa1024: rsa(1024),
  p256: ec('P-256'),
  p384: ec('P-384'),
  p521: ec('P-521'),
  attackerRsa: rsa(2048),
  attackerP256: ec('P-256'),
}

export type KeyPair = { publicKey: KeyObject; privateKey: KeyObject }

/** The issuer's key for each algorithm. */
export const KEY_FOR: Record<JwsAlgorithm, KeyPair> = {
  RS256: KEYS.rsa,
  RS384: KEYS.rsa,
  RS512: KEYS.rsa3072,
  PS256: KEYS.rsa,
  PS384: KEYS.rsa3072,
  PS512: KEYS.rsa,
  ES256: KEYS.p256,
  ES384: KEYS.p384,
  ES512: KEYS.p521,
}

export const ALGS = Object.keys(KEY_FOR) as JwsAlgorithm[]

export const b64 = (data: string | Buffer) => Buffer.from(data).toString('base64url')
/** A JSON part from an object, or verbatim from a string (for duplicates, 1e400, deep nesting...). */
export const part = (value: unknown) => b64(typeof value === 'string' ? value : JSON.stringify(value))

const HASH: Record<string, string> = { '256': 'sha256', '384': 'sha384', '512': 'sha512' }

/** Signs `signingInput` as `alg` says (also HS* with any secret, for confusion attacks). */
export function signBytes(alg: string, signingInput: string, key: KeyObject | Buffer): Buffer {
  const hash = HASH[alg.slice(2)] ?? 'sha256'
  const data = Buffer.from(signingInput)
  if (alg.startsWith('HS')) return createHmac(hash, key).update(data).digest()
  if (alg.startsWith('RS')) return sign(hash, data, { key: key as KeyObject, padding: constants.RSA_PKCS1_PADDING })
  if (alg.startsWith('PS')) {
    return sign(hash, data, { key: key as KeyObject, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: Number(alg.slice(2)) / 8 })
  }
  return sign(hash, data, { key: key as KeyObject, dsaEncoding: 'ieee-p1363' })
}

export interface TokenOptions {
  alg?: string
  /** Replaces the whole header (object, or a raw JSON string). */
  header?: unknown
  /** Merged into the default header `{alg, kid, typ}`. */
  headerExtra?: Record<string, unknown>
  kid?: string | undefined
  /** The claim set (object, or a raw JSON string); defaults to claims(). */
  payload?: unknown
  /** Signing key; defaults to the issuer's key for alg. */
  key?: KeyObject | Buffer
  /** Replaces the signature bytes. */
  signature?: Buffer | ((good: Buffer) => Buffer)
}

/** A compact JWS. */
export function makeToken(opts: TokenOptions = {}): string {
  const alg = opts.alg ?? 'RS256'
  const header = opts.header ?? { alg, typ: 'JWT', ...('kid' in opts ? (opts.kid === undefined ? {} : { kid: opts.kid }) : { kid: 'k1' }), ...opts.headerExtra }
  const input = `${part(header)}.${part(opts.payload ?? claims())}`
  const key = opts.key ?? KEY_FOR[alg as JwsAlgorithm]?.privateKey ?? KEYS.rsa.privateKey
  const good = signBytes(alg, input, key)
  const sig = opts.signature === undefined ? good : typeof opts.signature === 'function' ? opts.signature(good) : opts.signature
  return `${input}.${b64(sig)}`
}

/** A lookup serving `keys` by kid (kid-less tokens get `keys.default`), recording every call. */
export function recordingLookup(keys: Record<string, KeyObject> = { k1: KEYS.rsa.publicKey }) {
  const calls: Array<{ kid: string | undefined; alg: string }> = []
  const lookup: KeyLookup = async (kid, alg) => {
    calls.push({ kid, alg })
    const key = Object.hasOwn(keys, kid ?? 'default') ? keys[kid ?? 'default'] : undefined
    if (!key) throw new ApiError('AuthenticationFail.OIDCToken.InvalidSignature', 'OIDC token validate failed: no key of the issuer has this kid.')
    return key
  }
  return Object.assign(lookup, { calls })
}

/** The issuer's public keys for every algorithm, by kid = alg. */
export const lookupByAlg = () => recordingLookup(Object.fromEntries(ALGS.map((a) => [a, KEY_FOR[a].publicKey])))

/** Runs `promise`, expecting an ApiError with `code`; returns it for further checks. */
export async function expectCode(promise: Promise<unknown>, code: string): Promise<ApiError> {
  let error: unknown
  try {
    await promise
  } catch (e) {
    error = e
  }
  expect(error, `expected ${code}, but it verified`).toBeInstanceOf(ApiError)
  expect((error as ApiError).code).toBe(code)
  expect((error as ApiError).status).toBe(401)
  return error as ApiError
}
