// The events the service emits and accepts (EventBridge on AWS, the in-process bus locally): names,
// detail shapes, the publisher seam, and the validation of an incoming key-rotation event. Pure.
//
// | detail-type                   | emitted by                                  | consumed by                  |
// |-------------------------------|---------------------------------------------|------------------------------|
// | OIDC Provider Health Changed  | thumbprint check, when a status changes     | operators (rules, alarms)    |
// | OIDC Issuer Key Rotation      | thumbprint check (new key ids, new chain);  | key refresh (stores the JWKS) |
// |                               | operators (`aws events put-events`)         |                              |
// All with `source: oidc-sts`.

import { checkIssuerUrl } from '../validation/oidc-provider-rules.ts'
import { isObject } from '../validation/is-object.ts'

export const EVENT_SOURCE = 'oidc-sts'

export const DETAIL_TYPES = {
  healthChanged: 'OIDC Provider Health Changed',
  keyRotation: 'OIDC Issuer Key Rotation',
} as const

export type DetailType = (typeof DETAIL_TYPES)[keyof typeof DETAIL_TYPES]

export type HealthStatus = 'ok' | 'fingerprint-mismatch' | 'unreachable' | 'invalid-discovery' | 'invalid-jwks' | 'certificate-expiring'

export const HEALTH_STATUSES: readonly HealthStatus[] = ['ok', 'fingerprint-mismatch', 'unreachable', 'invalid-discovery', 'invalid-jwks', 'certificate-expiring']

export interface HealthChangedDetail {
  accountId: string
  providerName: string
  providerArn: string
  issuerUrl: string
  /** `unchecked` for a provider's first check. */
  previousStatus: HealthStatus | 'unchecked'
  status: HealthStatus
  /** ISO 8601 UTC. */
  checkedAt: string
  /** Operator-facing reason for a non-ok status. */
  problem?: string
  /** What to register with AddFingerprintToOIDCProvider when no registered fingerprint matches. */
  fingerprintsToAdd?: string[]
  /** Days until the matched certificate expires. */
  expiresInDays?: number
}

export type KeyRotationReason = 'key-ids-changed' | 'chain-changed' | 'provider-changed' | 'announced'

/**
 * Kids a key-rotation event lists per list; the rest are counted. A JWKS may hold 100 kids of 256
 * characters (up to 6 bytes each in JSON): all of them, added and removed, would exceed EventBridge's
 * 256 KB per entry; 2 × 20 stay under 62 KB.
 */
export const MAX_KEY_IDS_SHOWN = 20

export interface KeyRotationDetail {
  /** The IssuerUrl exactly as registered on the providers. */
  issuer: string
  reason?: KeyRotationReason
  /**
   * When the change was observed (ISO 8601). A stored JWKS copy fetched at or after this instant
   * already reflects it, so a repeated delivery does not refetch. Defaults to the event's `time`.
   */
  observedAt?: string
  /** At most MAX_KEY_IDS_SHOWN of the kids added; addedKeyIdsNotShown counts the others. */
  addedKeyIds?: string[]
  addedKeyIdsNotShown?: number
  /** At most MAX_KEY_IDS_SHOWN of the kids removed; removedKeyIdsNotShown counts the others. */
  removedKeyIds?: string[]
  removedKeyIdsNotShown?: number
}

export interface ServiceEvent<T = unknown> {
  detailType: DetailType
  detail: T
  /** Default: now. */
  time?: Date
}

export interface PublishResult {
  published: number
  /** The events (the objects passed in) that could not be delivered, logged in full by the publisher. */
  undelivered: ServiceEvent[]
}

export interface PublishOptions {
  /**
   * Aborted at the caller's deadline (the health check: shortly before the Lambda timeout). Nothing is
   * sent after it, a send in flight is abandoned, and every event not confirmed by then is returned
   * undelivered: publish() ends at the deadline instead of outlasting the caller.
   */
  signal?: AbortSignal
}

/** Where events go: EventBridge PutEvents on AWS, the in-process bus locally and in tests. */
export interface EventPublisher {
  publish(events: readonly ServiceEvent[], options?: PublishOptions): Promise<PublishResult>
}

/** The envelope EventBridge delivers to a Lambda target (and the in-process bus imitates). */
export interface EventBridgeEnvelope<T = unknown> {
  version: string
  id: string
  'detail-type': string
  source: string
  account: string
  time: string
  region: string
  resources: string[]
  detail: T
}

/** An issuer URL as IMS accepts one for IssuerUrl (the same rule as CreateOIDCProvider). */
export function isIssuerUrl(v: unknown): v is string {
  if (typeof v !== 'string') return false
  try {
    checkIssuerUrl('IssuerUrl', v)
    return true
  } catch {
    return false
  }
}

export type KeyRotationRequest = { issuer: string; notBefore: number; reason: KeyRotationReason | undefined; eventId: string }

const REASONS: ReadonlySet<string> = new Set<KeyRotationReason>(['key-ids-changed', 'chain-changed', 'provider-changed', 'announced'])

/**
 * Validates an EventBridge key-rotation event. `notBefore` (epoch ms) is the instant a stored copy
 * must be fetched at or after to count as reflecting the event: `detail.observedAt` when given, else
 * the END of the event's `time` second (EventBridge times have one-second resolution).
 * Returns the reason when the event cannot be used.
 */
export function parseKeyRotationEvent(event: unknown): KeyRotationRequest | { rejected: string } {
  if (!isObject(event)) return { rejected: 'the event is not a JSON object' }
  if (event.source !== EVENT_SOURCE) return { rejected: `the event's source is ${JSON.stringify(event.source)?.slice(0, 64)}, not "${EVENT_SOURCE}"` }
  if (event['detail-type'] !== DETAIL_TYPES.keyRotation) {
    return { rejected: `the event's detail-type is ${JSON.stringify(event['detail-type'])?.slice(0, 64)}, not "${DETAIL_TYPES.keyRotation}"` }
  }
  const eventId = typeof event.id === 'string' ? event.id.slice(0, 128) : ''
  const detail = event.detail
  if (!isObject(detail)) return { rejected: 'the event has no detail object' }
  if (detail.issuer === undefined) return { rejected: 'the event detail names no issuer' }
  if (!isIssuerUrl(detail.issuer)) return { rejected: 'the event detail\'s issuer is not an https issuer URL' }
  if (detail.reason !== undefined && (typeof detail.reason !== 'string' || !REASONS.has(detail.reason))) {
    return { rejected: `the event detail's reason must be one of ${[...REASONS].join(', ')}` }
  }
  let notBefore: number
  if (detail.observedAt !== undefined) {
    const t = typeof detail.observedAt === 'string' ? Date.parse(detail.observedAt) : Number.NaN
    if (!Number.isFinite(t)) return { rejected: 'the event detail\'s observedAt is not an ISO 8601 time' }
    notBefore = t
  } else {
    const t = typeof event.time === 'string' ? Date.parse(event.time) : Number.NaN
    if (!Number.isFinite(t)) return { rejected: 'the event has no valid time' }
    notBefore = Math.floor(t / 1000) * 1000 + 1000
  }
  return { issuer: detail.issuer, notBefore, reason: detail.reason as KeyRotationReason | undefined, eventId }
}
