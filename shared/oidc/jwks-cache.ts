// Module-scope cache of issuers' signing keys between warm invocations: bounded age, refetch budget, stale window, per-caller thumbprint check.
//
// Rules (issue 4 item 5; modelled on jose's remote JWKS and aws-jwt-verify's SimpleJwksCache):
// - Fresh for maxAgeMs after a successful fetch; then the next request refreshes it, so keys the IdP
//   removed stop being trusted at most maxAgeMs after removal.
// - Concurrent callers share one in-flight fetch per issuer (200 cold exchanges -> 1 discovery + 1 JWKS).
// - Network fetches for an issuer start at most once per cooldownMs, whatever triggers them (unknown
//   kid, fingerprint not in the cached chain, retry after a failure); the first fetch of a cold entry
//   is the only exception. A failed fetch is remembered for cooldownMs (penalty box) so an IdP outage
//   costs one timeout per cooldown, not one per request.
// - When a refresh fails for an availability reason (unreachable, timeout, HTTP status, broken or
//   oversized document), keys fetched less than staleMs ago keep serving; after that it fails closed
//   with IssuerConfigurationBroken. Trust failures (certificate invalid, fingerprint mismatch, forbidden
//   address, non-https jwks_uri, issuer mismatch) never fall back to stale keys.
// - An ordering counter: a fetch or seed applies only if it started after whatever is in the entry,
//   so an older in-flight reload cannot overwrite a newer result (e.g. a seeded stored copy).
// - A stored copy (the table's, written by other functions with their own clocks) counts as fetched at
//   its stamp or at its reading, whichever is earlier: with writer clocks at most STORED_COPY_MAX_SKEW_MS
//   ahead, keys from a copy are trusted at most maxAgeMs + that skew after the IdP served them. (Counting
//   it as fetched a whole skew before its stamp would close that gap but make every copy stale a skew
//   early: a health check storing one every JWKS_MAX_AGE_SECONDS would leave each container fetching
//   from the IdP for the last minute of every cycle, and a max age under the skew would never take one.)
//   A copy stamped further ahead than the skew is refused, and refused again later (an entry remembers
//   the stamp), however close real time has come to it.
// - Bounded in memory, not only in entries: issuers with keys are at most maxIssuers entries holding at
//   most maxKeys keys (usable or skipped) in all, least recently used evicted first; issuers without keys
//   yet (cold, failing, unreachable) are kept apart, at most maxIssuers of them, so they never evict an
//   issuer that has keys. An entry that can no longer serve (keys older than maxAgeMs and staleMs, no
//   failure or fetch to remember within the cooldown) is dropped when it is the least recently used at
//   an insertion. A warm lookup does the same O(1) work as before (one Map get and re-insert).
// - Thumbprints are per caller: an entry remembers the chains it was fetched over and every getKey
//   checks the CALLER's fingerprints against both (discovery and JWKS host), so keys fetched under
//   account A's fingerprints never vouch for account B's.
// - An unknown kid is answered with AuthenticationFail.OIDCToken.InvalidSignature (the token cannot be
//   verified with any key the issuer publishes); Alibaba documents no closer code.

import type { KeyObject } from 'node:crypto'
import { ApiError } from '../errors.ts'
import { selectKey } from './discovery-jwks.ts'
import { type DiscoveryFailureKind, type DiscoveryOptions, discoveryFailureOf, fetchIssuerKeys, type IssuerKeys } from './discovery.ts'
import { chainsVouchFor, normaliseFingerprints } from './https-fetch-chain.ts'
import { fromStoredJwksCopy, STORED_COPY_MAX_SKEW_MS, type StoredJwksCopy } from './jwks-cache-copy.ts'
import type { JwsAlgorithm } from './jws-algorithms.ts'

export const JWKS_CACHE_DEFAULTS = {
  maxAgeMs: 10 * 60_000,
  cooldownMs: 30_000,
  staleMs: 60 * 60_000,
  maxIssuers: 1000,
  /**
   * Keys (usable or skipped) held by all issuers' entries together. Measured: 10 000 keys are ~25 MB
   * resident as 2048-bit RSA keys, ~70-110 MB as 16384-bit ones with 256-character kids (the worst a
   * JWKS may publish); without this bound, 1000 such issuers of 100 keys held ~790 MB.
   */
  maxKeys: 10_000,
  /** A stored copy is read at most this often per issuer on unknown kids (a table read each). */
  storedCopyCooldownMs: 1_000,
} as const

export interface JwksCacheOptions {
  maxAgeMs?: number
  cooldownMs?: number
  staleMs?: number
  maxIssuers?: number
  maxKeys?: number
  storedCopyCooldownMs?: number
  /** Fetches an issuer's keys; fetchIssuerKeys with `fetchOptions` by default. */
  fetchKeys?: (issuer: string, fingerprints: readonly string[]) => Promise<IssuerKeys>
  /** Options for the default fetcher (allowPrivate from ALLOW_PRIVATE_ISSUERS, timeouts, test CA). */
  fetchOptions?: Omit<DiscoveryOptions, 'now'>
  /**
   * Seam for issue 5: the table's copy of an issuer's JWKS. Consulted on a cold entry before the
   * network, and on an unknown kid before a network refetch (rate-limited by storedCopyCooldownMs).
   * Errors are ignored (the network is the fallback).
   */
  loadStoredCopy?: (issuer: string) => Promise<StoredJwksCopy | undefined>
  now?: () => number
}

export interface JwksCacheStats {
  /** Network fetches started (one discovery + one JWKS request each when they succeed). */
  fetches: number
  fetchFailures: number
  storedCopyLoads: number
  storedCopiesApplied: number
  staleServed: number
}

// Failures that say the IdP is unavailable or serving garbage, not that it can no longer be trusted.
const OUTAGE_KINDS: ReadonlySet<DiscoveryFailureKind> = new Set([
  'unreachable', 'timeout', 'bad-status', 'bad-json', 'too-large', 'redirect', 'invalid-discovery', 'invalid-jwks',
])

interface Failure {
  at: number
  error: unknown
  kind: DiscoveryFailureKind | undefined
  /** SHA-1s of the chain of the failing connection (fingerprint mismatch): who else it applies to. */
  observedSha1s: string[]
}

class Entry {
  keys: IssuerKeys | undefined
  /** Keys (usable and skipped) of `keys`: what the entry counts against maxKeys. */
  weight = 0
  /** Cache-clock time of the fetch that produced `keys` (for a stored copy: its stamp or its reading, the earlier). */
  fetchedAt = Number.NEGATIVE_INFINITY
  appliedSeq = 0
  lastFetchStartedAt: number | undefined
  failure: Failure | undefined
  inflight: Promise<IssuerKeys> | undefined
  storedCopyCheckedAt: number | undefined
  /** The fetchedAt (stamp) of the last stored copy applied: no copy stamped at or before it applies again. */
  appliedCopyStamp = Number.NEGATIVE_INFINITY
  /** The stamp of the last copy refused as stamped in the future: that copy never applies, even once real time reaches it. */
  refusedFutureStamp: number | undefined
  storedCopyInflight: Promise<boolean> | undefined
  readonly stats: JwksCacheStats = { fetches: 0, fetchFailures: 0, storedCopyLoads: 0, storedCopiesApplied: 0, staleServed: 0 }
}

const chainSha1s = (chain: readonly { sha1: string }[]) => chain.map((c) => c.sha1)

// The exchange passes the same fingerprints array (a provider of the config cache) for up to its TTL:
// normalised once per array, not per exchange. Weak: an array no longer cached is dropped with it.
const normalisedFingerprints = new WeakMap<readonly string[], string[]>()

function normalisedOnce(fingerprints: readonly string[]): string[] {
  let fps = normalisedFingerprints.get(fingerprints)
  if (fps === undefined) {
    fps = normaliseFingerprints(fingerprints)
    // Frozen arrays only: a caller's array that may still change is normalised every time.
    if (Object.isFrozen(fingerprints)) normalisedFingerprints.set(fingerprints, fps)
  }
  return fps
}

/** A kid as it may appear in a message: printable ASCII, truncated. */
function showKid(kid: string): string {
  return /^[\x20-\x7e]*$/.test(kid) ? JSON.stringify(kid.length > 64 ? `${kid.slice(0, 64)}…` : kid) : `(a kid of ${kid.length} characters with unprintable characters)`
}

export class JwksCache {
  readonly maxAgeMs: number
  readonly cooldownMs: number
  readonly staleMs: number
  readonly maxIssuers: number
  readonly maxKeys: number
  readonly storedCopyCooldownMs: number
  private readonly fetchKeys: (issuer: string, fingerprints: readonly string[]) => Promise<IssuerKeys>
  private readonly loadStoredCopy: JwksCacheOptions['loadStoredCopy']
  private readonly now: () => number
  // Map insertion order is recency: entryFor re-inserts on every use; eviction takes the front.
  // Issuers with keys: ≤ maxIssuers entries holding ≤ maxKeys keys in all (LRU), fresh ≤ maxAgeMs.
  private readonly entries = new Map<string, Entry>() // bound: maxIssuers entries and maxKeys keys (LRU)
  // Issuers without keys yet (cold, failing): moved to `entries` by their first keys.
  private readonly pending = new Map<string, Entry>() // bound: maxIssuers entries (LRU), no keys
  /** Sum of `weight` over `entries`. */
  private totalKeys = 0
  private seq = 0

  constructor(options: JwksCacheOptions = {}) {
    const positive = (name: string, v: number | undefined, fallback: number) => {
      if (v === undefined) return fallback
      if (!Number.isFinite(v) || v < 0) throw new Error(`JwksCache: ${name} must be a non-negative number`)
      return v
    }
    this.maxAgeMs = positive('maxAgeMs', options.maxAgeMs, JWKS_CACHE_DEFAULTS.maxAgeMs)
    this.cooldownMs = positive('cooldownMs', options.cooldownMs, JWKS_CACHE_DEFAULTS.cooldownMs)
    this.staleMs = positive('staleMs', options.staleMs, JWKS_CACHE_DEFAULTS.staleMs)
    this.maxIssuers = Math.max(1, Math.floor(positive('maxIssuers', options.maxIssuers, JWKS_CACHE_DEFAULTS.maxIssuers)))
    this.maxKeys = Math.max(1, Math.floor(positive('maxKeys', options.maxKeys, JWKS_CACHE_DEFAULTS.maxKeys)))
    this.storedCopyCooldownMs = positive('storedCopyCooldownMs', options.storedCopyCooldownMs, JWKS_CACHE_DEFAULTS.storedCopyCooldownMs)
    this.now = options.now ?? Date.now
    const fetchOptions = options.fetchOptions ?? {}
    this.fetchKeys = options.fetchKeys ?? ((issuer, fps) => fetchIssuerKeys(issuer, fps, { ...fetchOptions, now: this.now }))
    this.loadStoredCopy = options.loadStoredCopy
  }

  /**
   * The issuer's key for a token header (`kid` may be absent: then the single key fitting `alg`).
   * Throws ApiError: IssuerConfigurationBroken / HttpsUrlInvalid / PublicKeyFingerprintMismatch from
   * fetching, InvalidSignature when no published key matches.
   */
  async getKey(issuer: string, fingerprints: readonly string[], kid: string | undefined, alg: JwsAlgorithm): Promise<KeyObject> {
    const fps = normalisedOnce(fingerprints)
    const entry = this.entryFor(issuer)
    if (entry.keys === undefined && this.loadStoredCopy !== undefined) await this.consultStoredCopy(issuer, entry)

    let keys = await this.keysFor(issuer, entry, fps)
    let pick = selectKey(keys, kid, alg)
    if ('key' in pick) return pick.key.key
    if (pick.problem === 'unfit') throw this.noKey(kid, pick)

    // Unknown kid (or ambiguous without kid): maybe the IdP rotated. A newer stored copy first (event-
    // driven refresh, no cooldown wait), then the IdP itself if the refetch budget allows.
    if (this.loadStoredCopy !== undefined && (await this.consultStoredCopy(issuer, entry))) {
      keys = await this.keysFor(issuer, entry, fps)
      pick = selectKey(keys, kid, alg)
      if ('key' in pick) return pick.key.key
    }
    if (entry.inflight !== undefined || this.mayFetch(entry)) {
      keys = await this.refreshFor(issuer, entry, fps)
      pick = selectKey(keys, kid, alg)
      if ('key' in pick) return pick.key.key
    }
    throw this.noKey(kid, pick)
  }

  /**
   * Installs a stored copy if it is newer than what the entry holds (tests; containers read the
   * table's copy themselves). Returns whether it was applied; a malformed copy is refused.
   */
  seed(issuer: string, copy: StoredJwksCopy): boolean {
    return this.applyCopy(issuer, this.entryFor(issuer), copy)
  }

  /** Counters for tests and benchmarks (zeros for an unknown or evicted issuer). */
  stats(issuer: string): JwksCacheStats {
    const s = (this.entries.get(issuer) ?? this.pending.get(issuer))?.stats
    return s ? { ...s } : { fetches: 0, fetchFailures: 0, storedCopyLoads: 0, storedCopiesApplied: 0, staleServed: 0 }
  }

  /** Issuers currently cached with keys, least recently used first. */
  issuers(): string[] {
    return [...this.entries.keys()]
  }

  /** Issuers currently cached without keys (cold or failing), least recently used first. */
  issuersWithoutKeys(): string[] {
    return [...this.pending.keys()]
  }

  /** Keys held by all entries (what maxKeys bounds). */
  keyCount(): number {
    return this.totalKeys
  }

  // --- internals ---

  private entryFor(issuer: string): Entry {
    // The hot path: a warm issuer is one get and one re-insert (recency), nothing else.
    let entry = this.entries.get(issuer)
    if (entry !== undefined) {
      this.entries.delete(issuer)
      this.entries.set(issuer, entry)
      return entry
    }
    entry = this.pending.get(issuer)
    if (entry !== undefined) {
      this.pending.delete(issuer)
      this.pending.set(issuer, entry)
      return entry
    }
    // A new issuer: first let go of what can no longer serve, then evict beyond the bound.
    const now = this.now()
    this.dropSpent(this.entries, now)
    this.dropSpent(this.pending, now)
    entry = new Entry()
    this.pending.set(issuer, entry)
    for (const oldest of this.pending.keys()) {
      if (this.pending.size <= this.maxIssuers) break
      this.pending.delete(oldest)
    }
    return entry
  }

  /**
   * Installs keys (a fetch's or a stored copy's) in the entry, moves it among the issuers with keys,
   * and evicts the least recently used of those beyond maxIssuers / maxKeys. An entry evicted while it
   * was fetching serves its callers but is not cached again.
   */
  private install(issuer: string, entry: Entry, keys: IssuerKeys, fetchedAt: number): void {
    entry.keys = keys
    entry.fetchedAt = fetchedAt
    const weight = keys.usable.length + keys.skipped.length
    if (this.entries.get(issuer) === entry) {
      this.totalKeys += weight - entry.weight
    } else if (this.pending.get(issuer) === entry) {
      this.pending.delete(issuer)
      this.entries.set(issuer, entry)
      this.totalKeys += weight
    } else {
      entry.weight = weight
      return
    }
    entry.weight = weight
    this.dropSpent(this.entries, this.now(), entry)
    for (const [oldest, e] of this.entries) {
      if (this.entries.size <= this.maxIssuers && this.totalKeys <= this.maxKeys) break
      if (e === entry) continue // one JWKS larger than maxKeys alone still serves its issuer
      this.entries.delete(oldest)
      this.totalKeys -= e.weight
    }
  }

  /** Drops the least recently used entries while they can no longer serve (amortised O(1): each entry is dropped once). */
  private dropSpent(map: Map<string, Entry>, now: number, keep?: Entry): void {
    for (const [issuer, e] of map) {
      if (e === keep || !this.isSpent(e, now)) return
      map.delete(issuer)
      if (map === this.entries) this.totalKeys -= e.weight
    }
  }

  /** Nothing left to serve or remember: keys too old even to serve stale, no fetch, failure or copy read within its cooldown. */
  private isSpent(e: Entry, now: number): boolean {
    return (
      e.inflight === undefined &&
      e.storedCopyInflight === undefined &&
      (e.keys === undefined || now - e.fetchedAt >= Math.max(this.maxAgeMs, this.staleMs)) &&
      (e.lastFetchStartedAt === undefined || now - e.lastFetchStartedAt >= this.cooldownMs) &&
      (e.failure === undefined || now - e.failure.at >= this.cooldownMs) &&
      (e.storedCopyCheckedAt === undefined || now - e.storedCopyCheckedAt >= this.storedCopyCooldownMs)
    )
  }

  private mayFetch(entry: Entry): boolean {
    return entry.lastFetchStartedAt === undefined || this.now() - entry.lastFetchStartedAt >= this.cooldownMs
  }

  /** Keys the caller may use now: fresh, refreshed, or (on an outage) stale within staleMs. */
  private async keysFor(issuer: string, entry: Entry, fps: string[]): Promise<IssuerKeys> {
    const now = this.now()
    if (entry.keys !== undefined && now - entry.fetchedAt < this.maxAgeMs) {
      if (chainsVouchFor(entry.keys, fps)) return entry.keys
      // The cached chain lacks the caller's fingerprints. The IdP may have changed chain since; look
      // again only within the refetch budget, else refuse on what we know.
      if (entry.inflight !== undefined || this.mayFetch(entry)) return this.refreshFor(issuer, entry, fps)
      throw this.mismatch(issuer, entry.keys)
    }
    const failure = this.applicableFailure(entry, fps, now)
    if (failure !== undefined) return this.staleOr(entry, fps, failure.error)
    try {
      return await this.refreshFor(issuer, entry, fps)
    } catch (e) {
      return this.staleOr(entry, fps, e)
    }
  }

  /** Refresh (or join the refresh in flight) and check the result against the caller's fingerprints. */
  private async refreshFor(issuer: string, entry: Entry, fps: string[]): Promise<IssuerKeys> {
    let keys: IssuerKeys
    try {
      keys = await this.refresh(issuer, entry, fps)
    } catch (e) {
      // A shared fetch that failed on another caller's fingerprints, over a chain that carries this
      // caller's, says nothing about this caller. With fresh keys that serve it, that fetch was the
      // issuer's one refetch of the cooldown: this caller keeps the keys it had. Without them, fetch once
      // with its own.
      const f = discoveryFailureOf(e)
      if (f?.kind !== 'fingerprint-mismatch' || !(f.chain ?? []).some((c) => fps.includes(c.sha1))) throw e
      const fresh = entry.keys !== undefined && this.now() - entry.fetchedAt < this.maxAgeMs && chainsVouchFor(entry.keys, fps) ? entry.keys : undefined
      keys = fresh ?? (await this.refresh(issuer, entry, fps))
    }
    if (!chainsVouchFor(keys, fps)) throw this.mismatch(issuer, keys)
    return keys
  }

  /** One network fetch per issuer at a time; the result applies only if nothing newer did meanwhile. */
  private refresh(issuer: string, entry: Entry, fps: string[]): Promise<IssuerKeys> {
    if (entry.inflight !== undefined) return entry.inflight
    const seq = ++this.seq
    entry.lastFetchStartedAt = this.now()
    entry.stats.fetches++
    const run = async (): Promise<IssuerKeys> => {
      try {
        const keys = await this.fetchKeys(issuer, fps)
        if (seq > entry.appliedSeq) {
          entry.appliedSeq = seq
          entry.failure = undefined
          this.install(issuer, entry, keys, this.now())
        }
        return keys
      } catch (e) {
        entry.stats.fetchFailures++
        const f = discoveryFailureOf(e)
        if (seq > entry.appliedSeq) {
          entry.failure = { at: this.now(), error: e, kind: f?.kind, observedSha1s: chainSha1s(f?.chain ?? []) }
        }
        throw e instanceof ApiError ? e : new ApiError('AuthenticationFail.OIDCToken.IssuerConfigurationBroken', `Get public keys from OIDC Provider failed, the issuer is ${issuer}.`, { cause: e })
      }
    }
    const p = run()
    entry.inflight = p
    const clear = () => {
      if (entry.inflight === p) entry.inflight = undefined
    }
    p.then(clear, clear)
    return p
  }

  /** The remembered failure if it is recent and applies to this caller (penalty box). */
  private applicableFailure(entry: Entry, fps: string[], now: number): Failure | undefined {
    const f = entry.failure
    if (f === undefined || now - f.at >= this.cooldownMs) return undefined
    // A mismatch over a chain that carries this caller's fingerprint was someone else's.
    if (f.kind === 'fingerprint-mismatch' && f.observedSha1s.some((s) => fps.includes(s))) return undefined
    return f
  }

  private staleOr(entry: Entry, fps: string[], error: unknown): IssuerKeys {
    const kind = discoveryFailureOf(error)?.kind
    const keys = entry.keys
    if (kind !== undefined && OUTAGE_KINDS.has(kind) && keys !== undefined && this.now() - entry.fetchedAt < this.staleMs && chainsVouchFor(keys, fps)) {
      entry.stats.staleServed++
      return keys
    }
    throw error
  }

  private async consultStoredCopy(issuer: string, entry: Entry): Promise<boolean> {
    if (entry.storedCopyInflight !== undefined) return entry.storedCopyInflight
    const now = this.now()
    if (entry.storedCopyCheckedAt !== undefined && now - entry.storedCopyCheckedAt < this.storedCopyCooldownMs) return false
    entry.storedCopyCheckedAt = now
    entry.stats.storedCopyLoads++
    const load = this.loadStoredCopy!
    const run = async (): Promise<boolean> => {
      try {
        const copy = await load(issuer)
        return copy === undefined ? false : this.applyCopy(issuer, entry, copy)
      } catch {
        return false
      }
    }
    const p = run()
    entry.storedCopyInflight = p
    const clear = () => {
      if (entry.storedCopyInflight === p) entry.storedCopyInflight = undefined
    }
    p.then(clear, clear)
    return p
  }

  private applyCopy(issuer: string, entry: Entry, copy: StoredJwksCopy): boolean {
    const keys = fromStoredJwksCopy(issuer, copy)
    if (typeof keys === 'string') return false
    const now = this.now()
    const stamp = keys.fetchedAt
    // The stamp is the writer's clock, at most STORED_COPY_MAX_SKEW_MS ahead of the fetch it records:
    // counted from the stamp or from now, the earlier, its keys are trusted at most maxAgeMs + the skew
    // after the IdP served them. A copy stamped further ahead is refused, and that copy stays refused
    // once real time reaches it (a writer with a right clock replaces it in the table meanwhile:
    // jwks-copy-store.ts).
    if (stamp > now + STORED_COPY_MAX_SKEW_MS) {
      entry.refusedFutureStamp = stamp
      return false
    }
    if (stamp === entry.refusedFutureStamp) return false
    // Newer than what the entry holds, and each copy once. A copy stamped after this container's own
    // fetch but less than the skew after it may be older than that fetch: still applied (a rotated key
    // works at once), so it may bring back a key for at most maxAgeMs + the skew after the copy's fetch.
    if (stamp <= entry.appliedCopyStamp || (entry.keys !== undefined && stamp <= entry.fetchedAt)) return false
    entry.appliedSeq = ++this.seq
    entry.appliedCopyStamp = stamp
    if (entry.failure !== undefined && stamp > entry.failure.at) entry.failure = undefined
    entry.stats.storedCopiesApplied++
    this.install(issuer, entry, keys, Math.min(stamp, now))
    return true
  }

  private mismatch(issuer: string, keys: IssuerKeys): ApiError {
    const host = (url: string) => {
      try {
        return new URL(url).host
      } catch {
        return url
      }
    }
    const seen = [`${host(issuer)} (last certificate sent ${keys.lastSentSha1.discovery})`, `${host(keys.jwksUri)} (last certificate sent ${keys.lastSentSha1.jwks})`]
    const chains = [...new Set(seen)].join(' and of ')
    return new ApiError(
      'AuthenticationFail.OIDCToken.PublicKeyFingerprintMismatch',
      `The OIDC provider's fingerprints do not match the certificate chain of the issuer ${JSON.stringify(issuer)}: the chain of ${chains} contains none of them.`,
    )
  }

  private noKey(kid: string | undefined, selection: { problem: 'unknown-kid' | 'ambiguous' | 'unfit'; detail: string }): ApiError {
    const why =
      kid === undefined
        ? selection.detail
        : selection.problem === 'unfit'
          ? `the issuer's key ${showKid(kid)} cannot verify it: ${selection.detail}`
          : `the issuer's JWKS has no usable key with kid ${showKid(kid)}`
    return new ApiError('AuthenticationFail.OIDCToken.InvalidSignature', `OIDC token validate failed: invalid signature. ${why.charAt(0).toUpperCase()}${why.slice(1)}.`)
  }
}

// Module scope: survives warm invocations. Created on first use; the first caller's options win
// (token-exchange wiring passes the configuration once at module scope).
let shared: JwksCache | undefined // bound: one instance per container (its own bounds above)

export function getJwksCache(options?: JwksCacheOptions): JwksCache {
  shared ??= new JwksCache(options)
  return shared
}

export function resetJwksCacheForTests(): void {
  shared = undefined
}
