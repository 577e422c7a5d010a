// What an issuer looked like to the health check (one observation per IdP per run), and the pure
// evaluation of one provider's fingerprints against it: status, matched fingerprint, the fingerprint
// to add, days until the matched certificate expires. Time is a parameter.
//
// Status, most severe first:
//   unreachable          no complete TLS connection or answer (refused, timeout, untrusted or expired
//                        chain, forbidden address, HTTP 5xx or 429, after the retry)
//   invalid-discovery    the discovery document is missing, not JSON, names another issuer, or its
//                        jwks_uri is unusable
//   invalid-jwks         the JWKS is missing, not JSON, malformed, or has no usable signing key
//   fingerprint-mismatch a host's validated chain contains none of the provider's fingerprints:
//                        exchanges fail now; `fingerprintsToAdd` says what to register
//   certificate-expiring a matched certificate expires within the warning window: the IdP's chain
//                        will change, register the successor's fingerprint before it does
//   ok

import { type HealthStatus, type KeyRotationDetail, MAX_KEY_IDS_SHOWN } from '../events/service-events.ts'
import type { DiscoveryFailureKind } from '../oidc/discovery.ts'
import { type ChainEntry, matchFingerprint } from '../oidc/https-fetch-chain.ts'

export interface HostObservation {
  url: string
  /** host[:port] as in the URL. */
  host: string
  /**
   * The chain node validated (leaf first; a trust-store root it appended comes last), or the chain as
   * the server sent it when validation failed.
   */
  chain: ChainEntry[]
  /** The last certificate the server sends (spec §6.2's openssl answer): the fingerprint to register. */
  lastSentSha1: string | undefined
}

export type ProblemKind = DiscoveryFailureKind | 'deadline' | 'no-usable-key'

export interface ObservationProblem {
  kind: ProblemKind
  stage: 'discovery' | 'jwks'
  /** Operator-facing; never contains a response body. */
  message: string
  httpStatus?: number
}

export interface IssuerObservation {
  issuer: string
  /** Epoch ms. */
  observedAt: number
  discovery?: HostObservation
  jwks?: HostObservation
  jwksUri?: string
  /** kids of the usable keys, sorted. */
  keyIds: string[]
  /** Usable keys, with or without kid. */
  keyCount: number
  /** Keys of the JWKS that cannot be used and why (at most 20). */
  skippedKeys: { kid?: string; reason: string }[]
  problem?: ObservationProblem
}

export interface MatchedCertificate {
  host: 'discovery' | 'jwks'
  subject: string
  sha1: string
  notAfter: string
  expiresInDays: number
}

export interface ProviderHealthEvaluation {
  status: HealthStatus
  /** Why the status is not ok. */
  problem?: string
  /** The registered fingerprint found in each host's chain. */
  matched: { discovery?: string; jwks?: string }
  /** The JWKS host's match (spec §6.1: the thumbprint host), else the discovery host's. */
  matchedFingerprint?: string
  /** What to add with AddFingerprintToOIDCProvider (JWKS host first), empty unless mismatched. */
  fingerprintsToAdd: string[]
  /** The matched certificate that expires first. */
  matchedCertificate?: MatchedCertificate
}

const DAY_MS = 86_400_000

const TRANSPORT: ReadonlySet<ProblemKind> = new Set(['unreachable', 'timeout', 'forbidden-address', 'certificate-invalid', 'deadline'])

/** The status a failed observation gives every provider of the issuer (fingerprint-mismatch aside). */
export function statusOfProblem(p: ObservationProblem): HealthStatus {
  if (p.kind === 'fingerprint-mismatch') return 'fingerprint-mismatch'
  if (TRANSPORT.has(p.kind)) return 'unreachable'
  // A server error, or the IdP asking us to slow down (429, still so after the retry): not its configuration.
  if (p.kind === 'bad-status' && ((p.httpStatus ?? 0) >= 500 || p.httpStatus === 429)) return 'unreachable'
  // A non-https jwks_uri is the discovery document's fault.
  if (p.kind === 'not-https' || p.kind === 'invalid-discovery' || p.kind === 'issuer-mismatch') return 'invalid-discovery'
  if (p.kind === 'invalid-jwks' || p.kind === 'no-usable-key') return 'invalid-jwks'
  return p.stage === 'discovery' ? 'invalid-discovery' : 'invalid-jwks'
}

export function daysUntil(notAfter: string, nowMs: number): number | undefined {
  const t = Date.parse(notAfter)
  return Number.isFinite(t) ? Math.floor((t - nowMs) / DAY_MS) : undefined
}

function matchedCertificate(host: 'discovery' | 'jwks', obs: HostObservation, fingerprint: string, nowMs: number): MatchedCertificate | undefined {
  const cert = obs.chain.find((c) => c.sha1 === fingerprint)
  const days = cert === undefined ? undefined : daysUntil(cert.notAfter, nowMs)
  if (cert === undefined || days === undefined) return undefined
  return { host, subject: cert.subject, sha1: cert.sha1, notAfter: cert.notAfter, expiresInDays: days }
}

/** Evaluates one provider's registered fingerprints against its issuer's observation. */
export function evaluateProviderHealth(obs: IssuerObservation, fingerprints: readonly string[], nowMs: number, warningDays: number): ProviderHealthEvaluation {
  if (obs.problem !== undefined) {
    const status = statusOfProblem(obs.problem)
    const host = obs.problem.stage === 'discovery' ? obs.discovery : obs.jwks
    const toAdd = status === 'fingerprint-mismatch' && host?.lastSentSha1 ? [host.lastSentSha1] : []
    // Whatever chain was observed still shows which registered fingerprint it carries.
    const d = obs.discovery && matchFingerprint(obs.discovery.chain, fingerprints)
    const j = obs.jwks && matchFingerprint(obs.jwks.chain, fingerprints)
    const matched = { ...(d ? { discovery: d } : {}), ...(j ? { jwks: j } : {}) }
    return { status, problem: obs.problem.message, matched, fingerprintsToAdd: toAdd }
  }
  const discovery = obs.discovery
  const jwks = obs.jwks
  if (discovery === undefined || jwks === undefined) {
    return { status: 'unreachable', problem: 'the observation holds no certificate chain', matched: {}, fingerprintsToAdd: [] }
  }
  const d = matchFingerprint(discovery.chain, fingerprints)
  const j = matchFingerprint(jwks.chain, fingerprints)
  const matched = { ...(d === undefined ? {} : { discovery: d }), ...(j === undefined ? {} : { jwks: j }) }
  if (d === undefined || j === undefined) {
    const toAdd: string[] = []
    const lacking: string[] = []
    if (j === undefined) {
      lacking.push(jwks.host)
      if (jwks.lastSentSha1) toAdd.push(jwks.lastSentSha1)
    }
    if (d === undefined && discovery.host !== jwks.host) lacking.push(discovery.host)
    if (d === undefined && discovery.lastSentSha1 && !toAdd.includes(discovery.lastSentSha1)) toAdd.push(discovery.lastSentSha1)
    const registered = fingerprints.length === 0 ? 'the provider has no registered fingerprint' : `none of the ${fingerprints.length} registered fingerprints is in the certificate chain of ${lacking.join(' and of ')}`
    const advice = toAdd.length > 0 ? `; add ${toAdd.join(' and ')} (the last certificate the server sends) with AddFingerprintToOIDCProvider` : ''
    return { status: 'fingerprint-mismatch', problem: `${registered}${advice}`, matched, fingerprintsToAdd: toAdd, matchedFingerprint: j ?? d }
  }
  const certs = [matchedCertificate('jwks', jwks, j, nowMs), matchedCertificate('discovery', discovery, d, nowMs)].filter((c): c is MatchedCertificate => c !== undefined)
  const first = certs.sort((a, b) => a.expiresInDays - b.expiresInDays)[0]
  const base = { matched, matchedFingerprint: j, fingerprintsToAdd: [], ...(first === undefined ? {} : { matchedCertificate: first }) }
  // Valid when observed, expired by `nowMs` (a read between checks, or checks that stopped): TLS to the
  // host now fails validation, so exchanges fail as for any expired chain. (One already expired when
  // observed was not needed by that successful validation, e.g. an old cross-signed root still sent.)
  if (first !== undefined && first.expiresInDays < 0 && Date.parse(first.notAfter) > obs.observedAt) {
    return {
      ...base,
      status: 'unreachable',
      problem: `the matched certificate ${first.subject} (${first.sha1}) of the ${first.host === 'jwks' ? 'JWKS' : 'discovery'} host expired on ${first.notAfter}: connections to it fail certificate validation`,
    }
  }
  if (first !== undefined && first.expiresInDays <= warningDays) {
    return {
      ...base,
      status: 'certificate-expiring',
      problem: `the matched certificate ${first.subject} (${first.sha1}) of the ${first.host === 'jwks' ? 'JWKS' : 'discovery'} host expires on ${first.notAfter}, in ${first.expiresInDays} days: register its successor's fingerprint before the IdP switches`,
    }
  }
  return { ...base, status: 'ok' }
}

export interface ObservedChange {
  reason: 'key-ids-changed' | 'chain-changed'
  addedKeyIds: string[]
  removedKeyIds: string[]
}

const sha1s = (h: HostObservation | undefined) => (h?.chain ?? []).map((c) => c.sha1).join(',')

/**
 * What changed between two complete observations of an issuer: its key ids (a rotation) or the
 * certificate chain of either host. Undefined when nothing did, or when either is incomplete.
 */
export function observedChange(before: IssuerObservation | undefined, after: IssuerObservation): ObservedChange | undefined {
  const complete = (o: IssuerObservation | undefined) => o !== undefined && o.problem === undefined && o.discovery !== undefined && o.jwks !== undefined
  if (!complete(before) || !complete(after)) return undefined
  const old = new Set(before!.keyIds)
  const now = new Set(after.keyIds)
  const addedKeyIds = [...now].filter((k) => !old.has(k))
  const removedKeyIds = [...old].filter((k) => !now.has(k))
  if (addedKeyIds.length > 0 || removedKeyIds.length > 0) return { reason: 'key-ids-changed', addedKeyIds, removedKeyIds }
  if (sha1s(before!.discovery) !== sha1s(after.discovery) || sha1s(before!.jwks) !== sha1s(after.jwks)) return { reason: 'chain-changed', addedKeyIds, removedKeyIds }
  return undefined
}

/**
 * The key-rotation event an issuer's check sends: the change observed since the previous check, and a
 * rotation announced before whose delivery is not confirmed (`pending`, its detail as sent). Pending
 * alone, it is sent again as it was; with a new change, one event tells both: the kids added and
 * removed over the two (net, exact unless the pending one's lists were cut), observed now.
 */
export function keyRotationDetail(issuer: string, observedAt: number, change: ObservedChange | undefined, pending: KeyRotationDetail | undefined): KeyRotationDetail | undefined {
  if (change === undefined) return pending
  let { reason, addedKeyIds: added, removedKeyIds: removed } = change
  let addedNotShown = 0
  let removedNotShown = 0
  if (pending !== undefined) {
    // A kid one of them added and the other removed is no change to a subscriber who heard neither.
    const a = new Set([...(pending.addedKeyIds ?? []), ...added])
    const r = new Set([...(pending.removedKeyIds ?? []), ...removed])
    added = [...a].filter((k) => !r.has(k)).sort()
    removed = [...r].filter((k) => !a.has(k)).sort()
    addedNotShown = pending.addedKeyIdsNotShown ?? 0
    removedNotShown = pending.removedKeyIdsNotShown ?? 0
    if (added.length + removed.length + addedNotShown + removedNotShown > 0) reason = 'key-ids-changed'
  }
  addedNotShown += Math.max(0, added.length - MAX_KEY_IDS_SHOWN)
  removedNotShown += Math.max(0, removed.length - MAX_KEY_IDS_SHOWN)
  return {
    issuer,
    reason,
    observedAt: new Date(observedAt).toISOString(),
    ...(added.length > 0 ? { addedKeyIds: added.slice(0, MAX_KEY_IDS_SHOWN) } : {}),
    ...(addedNotShown > 0 ? { addedKeyIdsNotShown: addedNotShown } : {}),
    ...(removed.length > 0 ? { removedKeyIds: removed.slice(0, MAX_KEY_IDS_SHOWN) } : {}),
    ...(removedNotShown > 0 ? { removedKeyIdsNotShown: removedNotShown } : {}),
  }
}
