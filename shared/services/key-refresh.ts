// Key refresh (design.md job 5): on a key-rotation event, when a provider is created, or when a
// provider changes so that the stored copy no longer vouches for its fingerprints, fetch the issuer's
// JWKS and store it as the table copy token exchange reads on a cold start and on an unknown kid.
//
// - The table's stream carries keys only (KEYS_ONLY), so this role never reads an item's attributes
//   from it (AccessKey secrets included); the provider a record names is read by key, issuer and
//   fingerprints only (provider-directory.ts).
// - Idempotent: a refresh is skipped when the stored copy was fetched at or after the trigger (the
//   event's observedAt/time, a stream INSERT's creation time) or, for a stream MODIFY, when the copy
//   vouches for the provider's fingerprints as they are now, so redeliveries and duplicate triggers
//   cost a few reads; a copy never replaces a newer one (conditional write). A copy stamped more than
//   STORED_COPY_MAX_SKEW_MS ahead of this function's clock is never current: it is fetched again and
//   replaced (its writer's clock was ahead; token exchange refuses it).
// - The fetch uses the union of the fingerprints of every provider (any account) registered for the
//   issuer; the copy records the chains, and each exchange checks its OWN provider's fingerprints
//   against them (jwks-cache.ts), so no account's thumbprints vouch for another's.
// - Bad input never changes stored data: a malformed event is refused with a logged reason; a bad
//   stream record is reported in batchItemFailures (Lambda retries it per the mapping's bounds, then
//   hands it to the on-failure destination) while the other records are processed. IdP failures are
//   logged, not retried: the health check reports them and refreshes again on its next run. Nor is a
//   copy too large for the table (a retry would fetch the same): token exchange fetches from the IdP.

import { type KeyRotationReason, parseKeyRotationEvent } from '../events/service-events.ts'
import type { Logger } from '../log.ts'
import { discoveryFailureOf, type DiscoveryOptions, fetchIssuerKeys, type IssuerKeys } from '../oidc/discovery.ts'
import { fromStoredJwksCopy, STORED_COPY_MAX_SKEW_MS, toStoredJwksCopy } from '../oidc/jwks-cache-copy.ts'
import { chainsVouchFor } from '../oidc/https-fetch-chain.ts'
import { jwksCopyItemBytes, type JwksCopyRecord, type JwksCopyStore, MAX_JWKS_COPY_ITEM_BYTES } from '../store/jwks-copy-store.ts'
import { type DirectoryProvider, type ProviderDirectory, providerKeyOf } from '../store/provider-directory.ts'
import { forEachBounded } from '../limits/for-each-bounded.ts'
import { isObject } from '../validation/is-object.ts'

/** Issuers of one stream batch refreshed at once (batch of 25 × a 5 s fetch budget each, within the 60 s timeout). */
const STREAM_ISSUER_CONCURRENCY = 8

export interface KeyRefreshDeps {
  providerDirectory: Pick<ProviderDirectory, 'byIssuer' | 'get'>
  jwksCopies: Pick<JwksCopyStore, 'get' | 'put'>
  logger: Logger
}

export interface KeyRefreshSettings {
  /** The token-exchange fetch options (ALLOW_PRIVATE_ISSUERS, trust anchors in tests). */
  fetchOptions?: Omit<DiscoveryOptions, 'now'>
  now?: () => number
  /** Tests may replace the fetch; fetchIssuerKeys by default. */
  fetchKeys?: (issuer: string, fingerprints: readonly string[]) => Promise<IssuerKeys>
}

/** When the stored copy needs no fetch: every condition given holds. */
export interface CopyCurrentIf {
  /** Fetched at or after this time (epoch ms): an event's time, a stream INSERT's. */
  fetchedSince?: number
  /** Its certificate chains hold a fingerprint of each of these providers (whenever it was fetched). */
  vouchesFor?: readonly DirectoryProvider[]
}

function isCurrent(issuer: string, stored: JwksCopyRecord, { fetchedSince, vouchesFor }: CopyCurrentIf): boolean {
  if (fetchedSince !== undefined && stored.fetchedAt < fetchedSince) return false
  if (vouchesFor === undefined) return true
  // Re-validated as token exchange reads it: a copy it would refuse vouches for nothing.
  const usable = fromStoredJwksCopy(issuer, stored.copy)
  return typeof usable !== 'string' && vouchesFor.every((p) => chainsVouchFor(usable, p.fingerprints))
}

export type RefreshOutcome =
  | { outcome: 'stored'; keyIds: string[]; fetchedAt: number }
  /** The stored copy was fetched at or after the trigger: nothing to do. */
  | { outcome: 'current'; fetchedAt: number }
  /** A newer copy was stored meanwhile (another trigger won). */
  | { outcome: 'superseded' }
  /** The copy is too large for the table: not stored, and not worth a retry. */
  | { outcome: 'too-large'; bytes: number }
  /** No provider of any account registers this issuer. */
  | { outcome: 'unknown-issuer' }
  | { outcome: 'idp-failed'; kind: string; message: string }

export type EventBridgeResult = { status: 'rejected'; reason: string } | ({ status: 'processed'; issuer: string } & RefreshOutcome)

export interface StreamBatchResult {
  batchItemFailures: { itemIdentifier: string }[]
}

/** A provider named by one or more records of a stream batch. */
interface TouchedProvider {
  accountId: string
  name: string
  /** An INSERT among its records (else only MODIFYs). */
  created: boolean
  notBefore: number
  sequenceNumbers: string[]
}

/** The providers of one issuer touched by a stream batch, as read after it. */
interface StreamWork {
  notBefore: number
  created: boolean
  sequenceNumbers: string[]
  providers: DirectoryProvider[]
}


export class KeyRefresher {
  private readonly now: () => number
  private readonly fetchKeys: (issuer: string, fingerprints: readonly string[]) => Promise<IssuerKeys>

  constructor(private readonly deps: KeyRefreshDeps, settings: KeyRefreshSettings = {}) {
    this.now = settings.now ?? Date.now
    this.fetchKeys = settings.fetchKeys ?? ((issuer, fps) => fetchIssuerKeys(issuer, fps, { ...settings.fetchOptions, now: this.now }))
  }

  /**
   * Refreshes the stored copy unless it is already current by `currentIf`. `extra`: providers known
   * from the trigger itself (read by key after a stream record; the index may not show them yet).
   * Throws only store errors (ApiError ServiceUnavailable/Throttling/InternalError): retryable.
   */
  async refreshIssuer(issuer: string, currentIf: CopyCurrentIf, extra: readonly DirectoryProvider[] = [], reason?: KeyRotationReason | 'stream'): Promise<RefreshOutcome> {
    const providers = [...(await this.deps.providerDirectory.byIssuer(issuer)), ...extra].filter((p) => p.issuerUrl === issuer)
    if (providers.length === 0) return { outcome: 'unknown-issuer' }
    const stored = await this.deps.jwksCopies.get(issuer)
    const now = this.now()
    if (stored !== undefined && stored.fetchedAt > now + STORED_COPY_MAX_SKEW_MS) {
      // Its writer's clock was ahead: token exchange refuses it, and put replaces it.
      this.deps.logger.warn('JWKS copy stamped in the future: fetched again to replace it', { issuer, reason, fetchedAt: stored.fetchedAt, now })
    } else if (stored !== undefined && isCurrent(issuer, stored, currentIf)) {
      this.deps.logger.debug('JWKS copy already current', { issuer, reason, fetchedAt: stored.fetchedAt, ...currentIf })
      return { outcome: 'current', fetchedAt: stored.fetchedAt }
    }
    const union = [...new Set(providers.flatMap((p) => p.fingerprints))]
    let keys: IssuerKeys
    try {
      keys = await this.fetchKeys(issuer, union)
    } catch (e) {
      const f = discoveryFailureOf(e)
      const failed = { outcome: 'idp-failed' as const, kind: f?.kind ?? 'unexpected', message: f?.message ?? 'the fetch failed unexpectedly' }
      this.deps.logger.warn('JWKS refresh failed at the IdP', { issuer, reason, kind: failed.kind, message: failed.message, providers: providers.length })
      return failed
    }
    const copy = toStoredJwksCopy(keys)
    const result = await this.deps.jwksCopies.put(copy, this.now())
    const keyIds = copy.jwks.keys.flatMap((k) => (k.kid === undefined ? [] : [k.kid])).sort()
    if (result === 'superseded') {
      this.deps.logger.info('JWKS copy superseded by a newer one', { issuer, reason })
      return { outcome: 'superseded' }
    }
    if (result === 'too-large') {
      const bytes = jwksCopyItemBytes(copy)
      this.deps.logger.warn('JWKS copy not stored: too large', { issuer, reason, bytes, limit: MAX_JWKS_COPY_ITEM_BYTES, keys: copy.jwks.keys.length })
      return { outcome: 'too-large', bytes }
    }
    this.deps.logger.info('JWKS copy stored', { issuer, reason, keyIds, fetchedAt: keys.fetchedAt })
    return { outcome: 'stored', keyIds, fetchedAt: keys.fetchedAt }
  }

  /** An EventBridge key-rotation event (one per invocation). Store errors are thrown (Lambda retries). */
  async handleEventBridge(event: unknown): Promise<EventBridgeResult> {
    const parsed = parseKeyRotationEvent(event)
    if ('rejected' in parsed) return this.reject(parsed.rejected, event)
    const outcome = await this.refreshIssuer(parsed.issuer, { fetchedSince: parsed.notBefore }, [], parsed.reason ?? 'announced')
    if (outcome.outcome === 'unknown-issuer') return this.reject(`no OIDC provider is registered for the issuer ${JSON.stringify(parsed.issuer)}`, event)
    return { status: 'processed', issuer: parsed.issuer, ...outcome }
  }

  /**
   * A batch of table stream records. The stream carries keys only, so each provider a record names is
   * read by key (its issuer and fingerprints, as they are now). The issuer's copy is refreshed unless
   * it vouches for every provider touched and, when one was created, is newer than the record (a
   * description or client-ID change leaves the copy as good as it was). A provider deleted since
   * needs nothing.
   */
  async handleStream(event: unknown): Promise<StreamBatchResult> {
    const records = isObject(event) ? event.Records : undefined
    if (!Array.isArray(records)) {
      this.reject('the stream event has no Records array', event)
      return { batchItemFailures: [] }
    }
    const failures = new Set<string>()
    const touched = new Map<string, TouchedProvider>()
    const refuse = (reason: string, index: number | undefined, seqs: readonly string[], eventID?: unknown) => {
      this.deps.logger.warn('stream record rejected', { reason, index, eventID: typeof eventID === 'string' ? eventID.slice(0, 64) : undefined, sequenceNumbers: seqs })
      // Without a sequence number the record cannot be named; reporting nothing keeps the batch moving.
      for (const s of seqs) failures.add(s)
    }
    records.forEach((r: unknown, index) => {
      const stream = isObject(r) && isObject(r.dynamodb) ? r.dynamodb : undefined
      const seq = typeof stream?.SequenceNumber === 'string' && /^\d{1,64}$/.test(stream.SequenceNumber) ? stream.SequenceNumber : undefined
      const reject = (reason: string) => refuse(reason, index, seq === undefined ? [] : [seq], isObject(r) ? r.eventID : undefined)
      if (!isObject(r) || stream === undefined) return reject('the record is not a DynamoDB stream record')
      if (r.eventSource !== 'aws:dynamodb') return reject(`the record's eventSource is ${JSON.stringify(r.eventSource)?.slice(0, 40)}, not aws:dynamodb`)
      if (seq === undefined) return reject('the record has no SequenceNumber')
      if (r.eventName !== 'INSERT' && r.eventName !== 'MODIFY' && r.eventName !== 'REMOVE') return reject(`unknown eventName ${JSON.stringify(r.eventName)?.slice(0, 40)}`)
      const key = providerKeyOf(stream.Keys)
      if (key.kind === 'rejected') return reject(key.reason)
      if (key.kind === 'other') return // not this job's business (the mapping's filter normally drops these)
      // Deletions need no key refresh; the health check removes the provider's health record.
      if (r.eventName === 'REMOVE') return
      const created = typeof stream.ApproximateCreationDateTime === 'number' && Number.isFinite(stream.ApproximateCreationDateTime) ? stream.ApproximateCreationDateTime : undefined
      // Stream times have one-second resolution: a copy counts as newer only if fetched after that second.
      const notBefore = created === undefined ? this.now() : Math.floor(created) * 1000 + 1000
      const id = `${key.accountId}/${key.name}`
      const t = touched.get(id) ?? { accountId: key.accountId, name: key.name, created: false, notBefore, sequenceNumbers: [] }
      t.created ||= r.eventName === 'INSERT'
      t.notBefore = Math.max(t.notBefore, notBefore)
      t.sequenceNumbers.push(seq)
      touched.set(id, t)
    })

    // Each provider as it is now, grouped by issuer.
    const work = new Map<string, StreamWork>()
    await forEachBounded([...touched.values()], STREAM_ISSUER_CONCURRENCY, async (t) => {
      let read
      try {
        read = await this.deps.providerDirectory.get(t.accountId, t.name)
      } catch (e) {
        this.deps.logger.error('provider read failed in the store', { accountId: t.accountId, provider: t.name, error: e as Error })
        for (const s of t.sequenceNumbers) failures.add(s)
        return
      }
      if (read.kind === 'missing') {
        this.deps.logger.debug('provider deleted since the stream record', { accountId: t.accountId, provider: t.name })
        return
      }
      if (read.kind === 'rejected') return refuse(read.reason, undefined, t.sequenceNumbers)
      const issuer = read.provider.issuerUrl
      const w = work.get(issuer) ?? { notBefore: t.notBefore, created: false, sequenceNumbers: [], providers: [] }
      w.notBefore = Math.max(w.notBefore, t.notBefore)
      w.created ||= t.created
      w.sequenceNumbers.push(...t.sequenceNumbers)
      w.providers.push(read.provider)
      work.set(issuer, w)
    })
    // Several issuers at a time: one after another, a batch of slow IdPs (up to the fetch budget each)
    // would outlast the function's timeout and be retried whole.
    await forEachBounded([...work], STREAM_ISSUER_CONCURRENCY, async ([issuer, w]) => {
      try {
        // The copy must serve every provider touched; a creation also wants one fetched after it.
        await this.refreshIssuer(issuer, { vouchesFor: w.providers, ...(w.created ? { fetchedSince: w.notBefore } : {}) }, w.providers, 'stream')
      } catch (e) {
        // The store is unavailable or throttling: these records are worth retrying.
        this.deps.logger.error('JWKS refresh failed in the store', { issuer, error: e as Error })
        for (const s of w.sequenceNumbers) failures.add(s)
      }
    })
    return { batchItemFailures: [...failures].map((itemIdentifier) => ({ itemIdentifier })) }
  }

  /** Either trigger, by shape. */
  async handle(event: unknown): Promise<EventBridgeResult | StreamBatchResult> {
    if (isObject(event) && Array.isArray(event.Records)) return this.handleStream(event)
    if (isObject(event) && 'detail-type' in event) return this.handleEventBridge(event)
    return this.reject('the event is neither an EventBridge event nor a DynamoDB stream batch', event)
  }

  private reject(reason: string, event: unknown): { status: 'rejected'; reason: string } {
    const e = isObject(event) ? event : {}
    this.deps.logger.warn('event rejected', {
      reason,
      id: typeof e.id === 'string' ? e.id.slice(0, 64) : undefined,
      source: typeof e.source === 'string' ? e.source.slice(0, 64) : undefined,
      detailType: typeof e['detail-type'] === 'string' ? e['detail-type'].slice(0, 64) : undefined,
    })
    return { status: 'rejected', reason }
  }
}
