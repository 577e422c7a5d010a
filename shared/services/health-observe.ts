// Observes one IdP for the health check: discovery and JWKS through the same guarded, thumbprint-checked
// fetcher token exchange uses (fetchIssuerKeys), with the exact sent chain probed (spec §6.2), under a
// hard per-IdP deadline.
//
// One fetch serves every provider of the issuer: it runs with the union of their fingerprints, and each
// provider is then evaluated against the observed chains (health-evaluate.ts). When not one of those
// fingerprints is in a host's chain, the fetch is repeated trusting the chain just observed, purely to
// see the rest (the JWKS host's chain, the key ids): those keys are never stored or used. A transient
// failure (no answer, a reset, a 5xx or 429) is retried once after a pause, within the deadline.

import { discoveryFailureOf, discoveryUrlOf, type DiscoveryOptions, fetchIssuerKeys, type IssuerKeys, type OidcDiscoveryError } from '../oidc/discovery.ts'
import { normaliseFingerprints } from '../oidc/https-fetch-chain.ts'
import type { HostObservation, IssuerObservation } from './health-evaluate.ts'

export interface ObserveOptions {
  /** The token-exchange fetch options (ALLOW_PRIVATE_ISSUERS, trust anchors in tests, resolver). */
  fetch?: Omit<DiscoveryOptions, 'now' | 'exactSentChain'>
  now?: () => number
  /** Everything for this IdP (both documents, probes, a repeat on mismatch) ends within this, ms. */
  deadlineMs: number
}

export interface IssuerObservationResult {
  observation: IssuerObservation
  /** The keys when the chains carry at least one registered fingerprint (may be stored as the copy). */
  keys?: IssuerKeys
}

const MAX_SKIPPED_SHOWN = 20
/** Pause before the one retry of a transient failure (within the per-IdP deadline). */
const RETRY_PAUSE_MS = 1_000

/** Failures that one blip can cause (no answer, a reset, a 5xx or 429): tried once more before they count. */
function isTransient(f: OidcDiscoveryError | undefined): boolean {
  if (f === undefined || f.kind === 'unreachable' || f.kind === 'timeout') return true
  const status = f.fetchError?.status
  return f.kind === 'bad-status' && status !== undefined && (status >= 500 || status === 429)
}

function hostOf(url: string): string {
  try {
    return new URL(url).host
  } catch {
    return url.slice(0, 255)
  }
}

function fromKeys(keys: IssuerKeys): IssuerObservation {
  const discoveryUrl = discoveryUrlOf(keys.issuer)
  const keyIds = [...keys.byKid.keys()].sort()
  const base: IssuerObservation = {
    issuer: keys.issuer,
    observedAt: keys.fetchedAt,
    discovery: { url: discoveryUrl, host: hostOf(discoveryUrl), chain: keys.discoveryChain, lastSentSha1: keys.lastSentSha1.discovery },
    jwks: { url: keys.jwksUri, host: hostOf(keys.jwksUri), chain: keys.jwksChain, lastSentSha1: keys.lastSentSha1.jwks },
    jwksUri: keys.jwksUri,
    keyIds,
    keyCount: keys.usable.length,
    skippedKeys: keys.skipped.slice(0, MAX_SKIPPED_SHOWN).map((s) => ({ ...(s.kid === undefined ? {} : { kid: s.kid.slice(0, 256) }), reason: s.reason })),
  }
  if (keys.usable.length === 0) {
    const why = keys.skipped.length === 0 ? 'it lists no keys' : `${keys.skipped.length} key(s) skipped, e.g. ${keys.skipped[0]!.reason}`
    base.problem = { kind: 'no-usable-key', stage: 'jwks', message: `The JWKS at ${JSON.stringify(keys.jwksUri)} has no usable signing key: ${why}` }
  }
  return base
}

function fromFailure(issuer: string, f: OidcDiscoveryError | undefined, observedAt: number): IssuerObservation {
  const obs: IssuerObservation = { issuer, observedAt, keyIds: [], keyCount: 0, skippedKeys: [] }
  if (f === undefined) {
    obs.problem = { kind: 'unreachable', stage: 'discovery', message: 'The check failed unexpectedly' }
    return obs
  }
  obs.problem = { kind: f.kind, stage: f.stage, message: f.message, ...(f.fetchError?.status === undefined ? {} : { httpStatus: f.fetchError.status }) }
  if (f.chain !== undefined && f.chain.length > 0) {
    const host: HostObservation = { url: f.url, host: hostOf(f.url), chain: f.chain, lastSentSha1: f.lastSentSha1 }
    obs[f.stage] = host
  }
  if (f.stage === 'jwks') obs.jwksUri = f.url
  return obs
}

/**
 * Fetches the issuer's discovery document and JWKS once for all its providers (`fingerprints`: the
 * union of theirs). Never throws: every failure becomes the observation's `problem`.
 */
export async function observeIssuer(issuer: string, fingerprints: readonly string[], opts: ObserveOptions): Promise<IssuerObservationResult> {
  const now = opts.now ?? Date.now
  const work = async (): Promise<IssuerObservationResult> => {
    let fps = normaliseFingerprints(fingerprints)
    let vouched = true
    // One transient failure must not flip every provider of the issuer to unreachable and back. The retry
    // starts only while the deadline leaves room for it: once the deadline has answered, nothing new starts.
    let retried = false
    const deadlineAt = Date.now() + opts.deadlineMs
    const retryBefore = deadlineAt - RETRY_PAUSE_MS
    // At most: the real fetch, then one repeat per host whose chain carried none of the fingerprints.
    for (let attempt = 0; ; attempt++) {
      try {
        const keys = await fetchIssuerKeys(issuer, fps, { ...opts.fetch, exactSentChain: true, now })
        const observation = fromKeys(keys)
        return vouched && observation.problem === undefined ? { observation, keys } : { observation }
      } catch (e) {
        const f = discoveryFailureOf(e)
        const seen = (f?.chain ?? []).map((c) => c.sha1).filter((s) => !fps.includes(s))
        // Repeated only while the deadline has not answered: after it, nothing new is fetched.
        if (f?.kind === 'fingerprint-mismatch' && seen.length > 0 && attempt < 2 && Date.now() < deadlineAt) {
          fps = [...fps, ...seen]
          vouched = false
          continue
        }
        if (!retried && isTransient(f) && Date.now() < retryBefore) {
          retried = true
          await new Promise((r) => setTimeout(r, RETRY_PAUSE_MS).unref())
          continue
        }
        return { observation: fromFailure(issuer, f, now()) }
      }
    }
  }
  let timer: NodeJS.Timeout | undefined
  const deadline = new Promise<IssuerObservationResult>((resolve) => {
    timer = setTimeout(() => {
      const seconds = Math.round(opts.deadlineMs / 100) / 10
      resolve({
        observation: {
          issuer,
          observedAt: now(),
          keyIds: [],
          keyCount: 0,
          skippedKeys: [],
          problem: { kind: 'deadline', stage: 'discovery', message: `The IdP gave no complete answer within the health check's ${seconds} s per IdP` },
        },
      })
    }, opts.deadlineMs)
    timer.unref()
  })
  try {
    // The fetches end on their own timers (≤ 5 s each) if the deadline wins: nothing is left hanging.
    return await Promise.race([work(), deadline])
  } finally {
    clearTimeout(timer)
  }
}
