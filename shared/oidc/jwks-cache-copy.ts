// The stored form of an issuer's keys (what the key-refresh job writes to the table, what a cold container reads), and its re-validation.
//
// A stored copy is data, not trust: reading it re-runs the JWKS checks (parseJwks) and the chain it
// records is still compared with each caller's fingerprints by the cache.

import type { KeyObject } from 'node:crypto'
import { parseJwks, type PublicJwk } from './discovery-jwks.ts'
import type { IssuerKeys } from './discovery.ts'
import type { ChainEntry } from './https-fetch-chain.ts'

/**
 * How far a stored copy's fetchedAt may be ahead of a reader's or writer's clock (its writer's clock
 * skew). Readers ignore a copy stamped further ahead and count any copy as fetched this much before its
 * stamp; writers replace a copy stamped further ahead of their own clock (jwks-copy-store.ts).
 */
export const STORED_COPY_MAX_SKEW_MS = 60_000

export interface StoredJwksCopy {
  issuer: string
  jwksUri: string
  /** The usable keys' public JWKs at fetch time. */
  jwks: { keys: PublicJwk[] }
  /** The validated chains the documents arrived over (their SHA-1s vouch for the copy per caller). */
  discoveryChain: ChainEntry[]
  jwksChain: ChainEntry[]
  matchedFingerprints: { discovery: string; jwks: string }
  lastSentSha1: { discovery: string; jwks: string }
  /** Epoch milliseconds of the successful fetch. */
  fetchedAt: number
}

export function toStoredJwksCopy(keys: IssuerKeys): StoredJwksCopy {
  return {
    issuer: keys.issuer,
    jwksUri: keys.jwksUri,
    jwks: { keys: keys.jwks },
    discoveryChain: keys.discoveryChain,
    jwksChain: keys.jwksChain,
    matchedFingerprints: keys.matchedFingerprints,
    lastSentSha1: keys.lastSentSha1,
    fetchedAt: keys.fetchedAt,
  }
}

const SHA1 = /^[0-9a-f]{40}$/
const isChain = (v: unknown): v is ChainEntry[] =>
  Array.isArray(v) && v.length <= 10 && v.every((c) => typeof c === 'object' && c !== null && typeof (c as ChainEntry).sha1 === 'string' && SHA1.test((c as ChainEntry).sha1))
const isPair = (v: unknown): v is { discovery: string; jwks: string } =>
  typeof v === 'object' && v !== null && typeof (v as { discovery?: unknown }).discovery === 'string' && typeof (v as { jwks?: unknown }).jwks === 'string'

/** The copy as IssuerKeys, or a reason it cannot be used (wrong issuer, malformed, no key survives the checks is fine). */
export function fromStoredJwksCopy(issuer: string, copy: unknown): IssuerKeys | string {
  if (typeof copy !== 'object' || copy === null) return 'the stored copy is not an object'
  const c = copy as Partial<StoredJwksCopy>
  if (c.issuer !== issuer) return 'the stored copy belongs to another issuer'
  if (typeof c.jwksUri !== 'string' || !c.jwksUri.startsWith('https://')) return 'the stored copy has no https jwksUri'
  if (typeof c.fetchedAt !== 'number' || !Number.isFinite(c.fetchedAt)) return 'the stored copy has no fetchedAt'
  if (!isChain(c.discoveryChain) || !isChain(c.jwksChain) || c.discoveryChain.length === 0 || c.jwksChain.length === 0) return 'the stored copy has no certificate chains'
  if (!isPair(c.matchedFingerprints) || !isPair(c.lastSentSha1)) return 'the stored copy is malformed'
  let parsed
  try {
    parsed = parseJwks(c.jwks)
  } catch (e) {
    return `the stored JWKS is invalid: ${(e as Error).message}`
  }
  const keys = new Map<string, KeyObject>()
  for (const [kid, k] of parsed.byKid) keys.set(kid, k.key)
  return {
    issuer,
    jwksUri: c.jwksUri,
    jwks: parsed.usable.map((k) => k.jwk),
    keys,
    usable: parsed.usable,
    byKid: parsed.byKid,
    skipped: parsed.skipped,
    discoveryChain: c.discoveryChain,
    jwksChain: c.jwksChain,
    matchedFingerprints: c.matchedFingerprints,
    lastSentSha1: c.lastSentSha1,
    fetchedAt: c.fetchedAt,
  }
}

/** A stored copy's JSON text, or undefined when it does not parse (treated as no copy: the IdP is asked). */
export function parseStoredCopy(text: string): StoredJwksCopy | undefined {
  try {
    return JSON.parse(text) as StoredJwksCopy
  } catch {
    return undefined
  }
}
