// Key refresh (design.md job 5): on a key-rotation event or when a provider is created or its
// fingerprints change, fetch the issuer's JWKS and store it as the table copy token exchange reads on
// a cold start and on an unknown kid.
//
// - Idempotent: a refresh is skipped when the stored copy was fetched at or after the trigger (the
//   event's observedAt/time, the stream record's creation time), so redeliveries and duplicate
//   triggers cost one read; a copy never replaces a newer one (conditional write).
// - The fetch uses the union of the fingerprints of every provider (any account) registered for the
//   issuer; the copy records the chains, and each exchange checks its OWN provider's fingerprints
//   against them (jwks-cache.ts), so no account's thumbprints vouch for another's.
// - Bad input never changes stored data: a malformed event is refused with a logged reason; a bad
//   stream record is reported in batchItemFailures (Lambda retries it per the mapping's bounds, then
//   hands it to the on-failure destination) while the other records are processed. IdP failures are
//   logged, not retried: the health check reports them and refreshes again on its next run.

import { type KeyRotationReason, parseKeyRotationEvent } from '../events/service-events.ts'
import type { Logger } from '../log.ts'
import { discoveryFailureOf, type DiscoveryOptions, fetchIssuerKeys, type IssuerKeys } from '../oidc/discovery.ts'
import { toStoredJwksCopy } from '../oidc/jwks-cache-copy.ts'
import type { JwksCopyStore } from '../store/jwks-copy-store.ts'
import { type DirectoryProvider, isProviderKey, type ProviderDirectory, providerFromStreamImage } from '../store/provider-directory.ts'
import { forEachBounded } from '../limits/for-each-bounded.ts'

/** Issuers of one stream batch refreshed at once (batch of 25 × a 5 s fetch budget each, within the 60 s timeout). */
const STREAM_ISSUER_CONCURRENCY = 8

export interface KeyRefreshDeps {
  providerDirectory: Pick<ProviderDirectory, 'byIssuer'>
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

export type RefreshOutcome =
  | { outcome: 'stored'; keyIds: string[]; fetchedAt: number }
  /** The stored copy was fetched at or after the trigger: nothing to do. */
  | { outcome: 'current'; fetchedAt: number }
  /** A newer copy was stored meanwhile (another trigger won). */
  | { outcome: 'superseded' }
  /** No provider of any account registers this issuer. */
  | { outcome: 'unknown-issuer' }
  | { outcome: 'idp-failed'; kind: string; message: string }

export type EventBridgeResult = { status: 'rejected'; reason: string } | ({ status: 'processed'; issuer: string } & RefreshOutcome)

export interface StreamBatchResult {
  batchItemFailures: { itemIdentifier: string }[]
}

interface StreamWork {
  notBefore: number
  sequenceNumbers: string[]
  providers: DirectoryProvider[]
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)
const sameSet = (a: readonly string[], b: readonly string[]) => a.length === b.length && a.every((x) => b.includes(x))

export class KeyRefresher {
  private readonly now: () => number
  private readonly fetchKeys: (issuer: string, fingerprints: readonly string[]) => Promise<IssuerKeys>

  constructor(private readonly deps: KeyRefreshDeps, settings: KeyRefreshSettings = {}) {
    this.now = settings.now ?? Date.now
    this.fetchKeys = settings.fetchKeys ?? ((issuer, fps) => fetchIssuerKeys(issuer, fps, { ...settings.fetchOptions, now: this.now }))
  }

  /**
   * Refreshes the stored copy unless it already reflects `notBefore` (epoch ms). `extra`: providers
   * known from the trigger itself (a stream image the index may not show yet).
   * Throws only store errors (ApiError ServiceUnavailable/Throttling/InternalError): retryable.
   */
  async refreshIssuer(issuer: string, notBefore: number, extra: readonly DirectoryProvider[] = [], reason?: KeyRotationReason | 'stream'): Promise<RefreshOutcome> {
    const providers = [...(await this.deps.providerDirectory.byIssuer(issuer)), ...extra].filter((p) => p.issuerUrl === issuer)
    if (providers.length === 0) return { outcome: 'unknown-issuer' }
    const stored = await this.deps.jwksCopies.get(issuer)
    if (stored !== undefined && stored.fetchedAt >= notBefore) {
      this.deps.logger.debug('JWKS copy already current', { issuer, reason, fetchedAt: stored.fetchedAt, notBefore })
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
    this.deps.logger.info('JWKS copy stored', { issuer, reason, keyIds, fetchedAt: keys.fetchedAt })
    return { outcome: 'stored', keyIds, fetchedAt: keys.fetchedAt }
  }

  /** An EventBridge key-rotation event (one per invocation). Store errors are thrown (Lambda retries). */
  async handleEventBridge(event: unknown): Promise<EventBridgeResult> {
    const parsed = parseKeyRotationEvent(event)
    if ('rejected' in parsed) return this.reject(parsed.rejected, event)
    const outcome = await this.refreshIssuer(parsed.issuer, parsed.notBefore, [], parsed.reason ?? 'announced')
    if (outcome.outcome === 'unknown-issuer') return this.reject(`no OIDC provider is registered for the issuer ${JSON.stringify(parsed.issuer)}`, event)
    return { status: 'processed', issuer: parsed.issuer, ...outcome }
  }

  /** A batch of table stream records: provider INSERTs, and MODIFYs that change the fingerprints. */
  async handleStream(event: unknown): Promise<StreamBatchResult> {
    const records = isObject(event) ? event.Records : undefined
    if (!Array.isArray(records)) {
      this.reject('the stream event has no Records array', event)
      return { batchItemFailures: [] }
    }
    const failures = new Set<string>()
    const work = new Map<string, StreamWork>()
    records.forEach((r: unknown, index) => {
      const stream = isObject(r) && isObject(r.dynamodb) ? r.dynamodb : undefined
      const seq = typeof stream?.SequenceNumber === 'string' && /^\d{1,64}$/.test(stream.SequenceNumber) ? stream.SequenceNumber : undefined
      const refuse = (reason: string) => {
        this.deps.logger.warn('stream record rejected', { reason, index, eventID: isObject(r) && typeof r.eventID === 'string' ? r.eventID.slice(0, 64) : undefined, sequenceNumber: seq })
        // Without a sequence number the record cannot be named; reporting nothing keeps the batch moving.
        if (seq !== undefined) failures.add(seq)
      }
      if (!isObject(r) || stream === undefined) return refuse('the record is not a DynamoDB stream record')
      if (r.eventSource !== 'aws:dynamodb') return refuse(`the record's eventSource is ${JSON.stringify(r.eventSource)?.slice(0, 40)}, not aws:dynamodb`)
      if (seq === undefined) return refuse('the record has no SequenceNumber')
      if (r.eventName !== 'INSERT' && r.eventName !== 'MODIFY' && r.eventName !== 'REMOVE') return refuse(`unknown eventName ${JSON.stringify(r.eventName)?.slice(0, 40)}`)
      const provider = isProviderKey(stream.Keys)
      if (provider === undefined) return refuse('the record has no readable Keys')
      if (!provider) return // another kind of item: not this job's business (the mapping's filter normally drops these)
      // Deletions need no key refresh; the health check removes the provider's health record.
      if (r.eventName === 'REMOVE') return
      const next = providerFromStreamImage(stream.NewImage)
      if (next.kind === 'rejected') return refuse(`NewImage: ${next.reason}`)
      if (next.kind !== 'provider') return refuse('NewImage is not the provider its Keys name')
      if (r.eventName === 'MODIFY') {
        const prev = providerFromStreamImage(stream.OldImage)
        // IssuerUrl is immutable; a description or client-ID change does not touch the keys.
        if (prev.kind === 'provider' && prev.provider.issuerUrl === next.provider.issuerUrl && sameSet(prev.provider.fingerprints, next.provider.fingerprints)) return
      }
      const created = typeof stream.ApproximateCreationDateTime === 'number' && Number.isFinite(stream.ApproximateCreationDateTime) ? stream.ApproximateCreationDateTime : undefined
      // Stream times have one-second resolution: a copy counts as newer only if fetched after that second.
      const notBefore = created === undefined ? this.now() : Math.floor(created) * 1000 + 1000
      const issuer = next.provider.issuerUrl
      const w = work.get(issuer) ?? { notBefore, sequenceNumbers: [], providers: [] }
      w.notBefore = Math.max(w.notBefore, notBefore)
      w.sequenceNumbers.push(seq)
      w.providers.push(next.provider)
      work.set(issuer, w)
    })
    // Several issuers at a time: one after another, a batch of slow IdPs (up to the fetch budget each)
    // would outlast the function's timeout and be retried whole.
    await forEachBounded([...work], STREAM_ISSUER_CONCURRENCY, async ([issuer, w]) => {
      try {
        await this.refreshIssuer(issuer, w.notBefore, w.providers, 'stream')
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
