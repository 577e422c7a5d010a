// One run of the thumbprint health check (design.md job 4): every provider of every account, each
// distinct IdP fetched once, a bounded number of IdPs at a time, each within its own deadline.
//
// Per IdP: observe (health-observe.ts), evaluate every provider of the issuer against the observation,
// write one health record per provider, store the fetched JWKS as the table copy (so cold containers
// find keys at most one interval old), and emit
//   - "OIDC Provider Health Changed" for each provider whose status changed, and
//   - "OIDC Issuer Key Rotation" once per issuer whose key ids or certificate chain changed since the
//     previous run (the key-refresh function, or any other subscriber, reacts at once).
// Each IdP's events are published as soon as its records are written, so a run cut short (timeout,
// crash) loses none of the changes it has already saved. A record keeps the status last announced for
// certain (notifiedStatus) and one subscribers may believe instead (announcing), cleared once a
// delivery is confirmed: after an announcement that was not (refused, a failure after EventBridge took
// it, a stop), the next run announces whatever status it finds (at least once, never lost). So for a
// key-rotation event: the issuer's records carry it (announcingRotation) until its delivery is
// confirmed, and each run announces it again, with any newer change folded in. Accounts take turns,
// one IdP each per round, an account's never-checked IdPs first and the rest in a new random order each
// run (health-order.ts), so a run that cannot finish starves neither the same IdPs every time nor the
// accounts whose IdPs are few. A JWKS copy too large for the table is logged and left out, not an error.
// Health records of deleted providers are removed. A failure on one IdP or one record is logged and
// counted; it never stops the run.

import { DETAIL_TYPES, type EventPublisher, type HealthChangedDetail, type HealthStatus, HEALTH_STATUSES, type ServiceEvent } from '../events/service-events.ts'
import type { Logger } from '../log.ts'
import { toStoredJwksCopy } from '../oidc/jwks-cache-copy.ts'
import type { HealthStore, ProviderHealthRecord } from '../store/health-store.ts'
import { jwksCopyItemBytes, type JwksCopyStore, MAX_JWKS_COPY_ITEM_BYTES } from '../store/jwks-copy-store.ts'
import type { DirectoryProvider, ProviderDirectory } from '../store/provider-directory.ts'
import { formatUtc } from '../time.ts'
import { providerArn } from '../validation/oidc-provider-rules.ts'
import { evaluateProviderHealth, type IssuerObservation, keyRotationDetail, observedChange } from './health-evaluate.ts'
import { observeIssuer, type ObserveOptions } from './health-observe.ts'
import { issuerOrder } from './health-order.ts'
import { forEachBounded } from '../limits/for-each-bounded.ts'

export interface HealthCheckDeps {
  providerDirectory: Pick<ProviderDirectory, 'scan'>
  health: Pick<HealthStore, 'get' | 'put' | 'delete'>
  jwksCopies: Pick<JwksCopyStore, 'put'>
  publisher: EventPublisher
  logger: Logger
}

export interface HealthCheckSettings {
  /** IdPs observed at once (HEALTH_CHECK_CONCURRENCY). */
  concurrency: number
  /** Per-IdP deadline, ms (HEALTH_CHECK_IDP_TIMEOUT_SECONDS). */
  idpTimeoutMs: number
  /** CERT_EXPIRY_WARNING_DAYS. */
  warningDays: number
  fetchOptions?: ObserveOptions['fetch']
  now?: () => number
  /** Aborted (e.g. shortly before the Lambda timeout, or on local shutdown): no new IdP is started. */
  signal?: AbortSignal
  /**
   * Aborted at the deadline for publishing (the Lambda: shortly before its timeout, after `signal`):
   * publishing stops there, and the events it did not confirm stay in doubt on their records, counted
   * as failed. Records are written before their events are published, so only the marking of confirmed
   * announcements comes after it.
   */
  publishSignal?: AbortSignal
}

export interface HealthCheckSummary {
  startedAt: string
  durationMs: number
  providers: number
  issuers: number
  /** IdPs not started because the run was aborted. */
  issuersSkipped: number
  statuses: Record<HealthStatus, number>
  copiesStored: number
  orphansRemoved: number
  events: { published: number; failed: number }
  /** Store or publish failures (each logged). */
  errors: number
}

/** Store requests of one issuer's providers (and of the orphan removal) in flight at once. */
const PROVIDER_CONCURRENCY = 16

export async function runHealthCheck(deps: HealthCheckDeps, settings: HealthCheckSettings): Promise<HealthCheckSummary> {
  const now = settings.now ?? Date.now
  const started = now()
  const { logger } = deps
  const statuses = Object.fromEntries(HEALTH_STATUSES.map((s) => [s, 0])) as Record<HealthStatus, number>
  const published = { published: 0, failed: 0 }
  let copiesStored = 0
  let errors = 0

  const { providers, health } = await deps.providerDirectory.scan()
  const byIssuer = new Map<string, DirectoryProvider[]>()
  for (const p of providers) {
    const list = byIssuer.get(p.issuerUrl)
    if (list === undefined) byIssuer.set(p.issuerUrl, [p])
    else list.push(p)
  }

  const checkIssuer = async ([issuer, members]: [string, DirectoryProvider[]]) => {
    const events: ServiceEvent[] = []
    const union = [...new Set(members.flatMap((p) => p.fingerprints))]
    const { observation, keys } = await observeIssuer(issuer, union, { deadlineMs: settings.idpTimeoutMs, now, ...(settings.fetchOptions ? { fetch: settings.fetchOptions } : {}) })
    const checkedAt = now()
    // The members' records several at a time: one after another, an issuer that hundreds of accounts
    // trust would hold the run for hundreds of store round trips after its IdP answered. All are read
    // before any is written: the newest holds the previous observation and a key-rotation event in
    // doubt, and the records written carry the rotation this run announces until it is confirmed.
    const olds: Array<{ p: DirectoryProvider; old: ProviderHealthRecord | undefined }> = []
    let previous: ProviderHealthRecord | undefined
    await forEachBounded(members, PROVIDER_CONCURRENCY, async (p) => {
      try {
        const stored = await deps.health.get(p.accountId, p.name)
        // A record of another issuer belongs to a provider deleted and re-created under the same name
        // since the last run: this one starts unchecked.
        const old = stored?.issuerUrl === issuer ? stored : undefined
        if (old !== undefined && (previous === undefined || old.checkedAt > previous.checkedAt)) previous = old
        olds.push({ p, old })
      } catch (e) {
        errors++
        // Unread, it is not written either: this provider is left unchecked this run.
        logger.error('health record not read; provider not checked this run', { accountId: p.accountId, provider: p.name, issuer, error: e as Error })
      }
    })
    const change = observedChange(previous?.observation, observation)
    const rotation = keyRotationDetail(issuer, observation.observedAt, change, previous?.announcingRotation)
    // Records written, with the event announcing their status change (saved again once it is delivered).
    const written: Array<{ record: ProviderHealthRecord; event: ServiceEvent | undefined }> = []
    await forEachBounded(olds, PROVIDER_CONCURRENCY, async ({ p, old }) => {
      try {
        const ev = evaluateProviderHealth(observation, p.fingerprints, checkedAt, settings.warningDays)
        const changed = old?.status !== ev.status
        // What subscribers last heard for certain, and a status they may believe instead (`announcing`:
        // an announcement whose delivery is not confirmed, whether the bus refused it, timed out after
        // taking it, or the run stopped). Either way the status found is announced: a duplicate at worst.
        const notified = old === undefined ? 'unchecked' : (old.notifiedStatus ?? old.status)
        const doubt = old?.announcing !== undefined && old.announcing !== notified ? old.announcing : undefined
        const announce = notified !== ev.status || doubt !== undefined
        // The status before, as subscribers may believe it (never the status itself).
        const previousStatus = notified !== ev.status || doubt === undefined ? notified : doubt
        // Should this announcement not be confirmed, what subscribers may believe other than `notified`:
        // this status, or when it is `notified` itself, the doubt it answers (kept until confirmed).
        const nextDoubt = !announce ? undefined : ev.status !== notified ? ev.status : doubt
        const record: ProviderHealthRecord = {
          accountId: p.accountId,
          name: p.name,
          issuerUrl: issuer,
          status: ev.status,
          checkedAt,
          statusChangedAt: changed || old === undefined ? checkedAt : old.statusChangedAt,
          notifiedStatus: notified,
          ...(nextDoubt === undefined ? {} : { announcing: nextDoubt }),
          ...(rotation === undefined ? {} : { announcingRotation: rotation }),
          checkedFingerprints: p.fingerprints,
          ...(ev.matchedFingerprint === undefined ? {} : { matchedFingerprint: ev.matchedFingerprint }),
          fingerprintsToAdd: ev.fingerprintsToAdd,
          ...(ev.matchedCertificate === undefined ? {} : { expiresInDays: ev.matchedCertificate.expiresInDays }),
          warningDays: settings.warningDays,
          ...(ev.problem === undefined ? {} : { problem: ev.problem }),
          keyIds: observation.keyIds,
          observation,
        }
        await deps.health.put(record)
        statuses[ev.status]++
        if (changed) logger.info('provider health changed', { accountId: p.accountId, provider: p.name, issuer, previousStatus: old?.status ?? 'unchecked', status: ev.status })
        let event: ServiceEvent | undefined
        if (announce) {
          const detail: HealthChangedDetail = {
            accountId: p.accountId,
            providerName: p.name,
            providerArn: providerArn(p.accountId, p.name),
            issuerUrl: issuer,
            previousStatus,
            status: ev.status,
            checkedAt: formatUtc(checkedAt),
            ...(ev.problem === undefined ? {} : { problem: ev.problem }),
            ...(ev.fingerprintsToAdd.length > 0 ? { fingerprintsToAdd: ev.fingerprintsToAdd } : {}),
            ...(ev.matchedCertificate === undefined ? {} : { expiresInDays: ev.matchedCertificate.expiresInDays }),
          }
          event = { detailType: DETAIL_TYPES.healthChanged, detail, time: new Date(checkedAt) }
          events.push(event)
        }
        written.push({ record, event })
      } catch (e) {
        errors++
        logger.error('health record not written', { accountId: p.accountId, provider: p.name, issuer, error: e as Error })
      }
    })
    let rotationEvent: ServiceEvent | undefined
    if (rotation !== undefined) {
      rotationEvent = { detailType: DETAIL_TYPES.keyRotation, detail: rotation, time: new Date(checkedAt) }
      events.push(rotationEvent)
      if (change !== undefined) logger.info('issuer keys or chain changed', { issuer, reason: change.reason, addedKeyIds: change.addedKeyIds, removedKeyIds: change.removedKeyIds })
      else logger.info('key rotation announced again: its delivery was not confirmed', { issuer, observedAt: rotation.observedAt })
    }
    if (keys !== undefined) {
      try {
        const copy = toStoredJwksCopy(keys)
        const result = await deps.jwksCopies.put(copy, now())
        if (result === 'stored') copiesStored++
        // Not a failure of the run, and nothing a retry would change: exchanges fetch from the IdP.
        if (result === 'too-large') logger.warn('JWKS copy not stored: too large', { issuer, bytes: jwksCopyItemBytes(copy), limit: MAX_JWKS_COPY_ITEM_BYTES, keys: copy.jwks.keys.length })
      } catch (e) {
        errors++
        logger.error('JWKS copy not stored', { issuer, error: e as Error })
      }
    }
    logSummaryOfIssuer(logger, issuer, members.length, observation)
    if (events.length > 0) {
      const result = await deps.publisher.publish(events, { signal: settings.publishSignal })
      published.published += result.published
      published.failed += result.undelivered.length
      const undelivered = new Set(result.undelivered)
      // Confirmed: subscribers heard the status, or the rotation. Not confirmed (refused, or a failure
      // that may have come after EventBridge took it): the record stays as written, in doubt for the next run.
      const rotationHeard = rotationEvent !== undefined && !undelivered.has(rotationEvent)
      const settled = written.flatMap(({ record, event }) => {
        const heard = event !== undefined && !undelivered.has(event)
        if (!heard && !rotationHeard) return []
        const { announcing, announcingRotation, ...rest } = record
        return [{
          ...rest,
          ...(heard ? { notifiedStatus: record.status } : announcing === undefined ? {} : { announcing }),
          ...(rotationHeard || announcingRotation === undefined ? {} : { announcingRotation }),
        }]
      })
      await forEachBounded(settled, PROVIDER_CONCURRENCY, async (record) => {
        try {
          await deps.health.put(record)
        } catch (e) {
          // Left in doubt: the next run announces again, a duplicate at worst, never a loss.
          errors++
          logger.error('health record not marked as announced', { accountId: record.accountId, provider: record.name, issuer, error: e as Error })
        }
      })
    }
  }

  // Records of providers deleted since they were last checked (index reads lag a little: a record is
  // only removed when its provider is absent from the same scan that listed the record).
  const live = new Set(providers.map((p) => `${p.accountId}/${p.name}`))
  let orphansRemoved = 0
  // First, several at a time: a run that then runs out of time on its IdPs has still done this.
  await forEachBounded(health.filter((h) => !live.has(`${h.accountId}/${h.name}`)), PROVIDER_CONCURRENCY, async (h) => {
    try {
      await deps.health.delete(h.accountId, h.name)
      orphansRemoved++
    } catch (e) {
      errors++
      logger.error('orphaned health record not removed', { accountId: h.accountId, provider: h.name, error: e as Error })
    }
  })

  // Accounts take turns (health-order.ts): a run that stops early has checked some of every account's issuers.
  const issuersSkipped = await forEachBounded(issuerOrder(byIssuer, health), settings.concurrency, checkIssuer, settings.signal)
  if (issuersSkipped > 0) logger.warn('health check stopped before every IdP was checked', { issuersSkipped })


  errors += published.failed
  return {
    startedAt: formatUtc(started),
    durationMs: now() - started,
    providers: providers.length,
    issuers: byIssuer.size,
    issuersSkipped,
    statuses,
    copiesStored,
    orphansRemoved,
    events: published,
    errors,
  }
}

function logSummaryOfIssuer(logger: Logger, issuer: string, providers: number, o: IssuerObservation) {
  const fields = { issuer, providers, keyIds: o.keyIds, discoveryLastSent: o.discovery?.lastSentSha1, jwksLastSent: o.jwks?.lastSentSha1 }
  if (o.problem) logger.warn('IdP check failed', { ...fields, problem: o.problem.kind, stage: o.problem.stage, message: o.problem.message })
  else logger.debug('IdP checked', fields)
}
