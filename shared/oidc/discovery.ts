// Fetches an issuer's signing keys: OIDC discovery document, then its jwks_uri, both through the guarded, thumbprint-checked fetcher.
//
// Failures become the spec §1.5 codes (ApiError) with the typed OidcDiscoveryError as `cause`, which the
// health check reads for its status, the observed chain and the fingerprint to add.

import type { KeyObject } from 'node:crypto'
import { ApiError } from '../errors.ts'
import { type IssuerKey, InvalidJwksError, parseJwks, type PublicJwk, type SkippedKey } from './discovery-jwks.ts'
import { type ChainEntry, FETCH_DEFAULTS, fetchHttpsJson, type FetchOptions, type FetchResult, IdpConnections, MAX_TIMEOUT_MS, OidcFetchError, type OidcFetchErrorKind } from './https-fetch.ts'

export interface DiscoveryOptions extends Omit<FetchOptions, 'fingerprints'> {
  /** The fetcher; fetchHttpsJson by default (tests may inject one). */
  fetchJson?: (url: string, opts: FetchOptions) => Promise<FetchResult>
  now?: () => number
}

export interface IssuerKeys {
  /** The registered IssuerUrl (equal to the discovery document's `issuer`). */
  issuer: string
  jwksUri: string
  /** The usable keys' public JWKs (private and unknown members dropped). */
  jwks: PublicJwk[]
  /** Usable keys by kid, as node KeyObjects (verification uses node:crypto). */
  keys: Map<string, KeyObject>
  /** All usable keys, including any without a kid. */
  usable: IssuerKey[]
  /** Usable keys by kid with their JWK metadata (what key selection uses). */
  byKid: Map<string, IssuerKey>
  /** Keys of the JWKS that are not used, and why (health check, logs). */
  skipped: SkippedKey[]
  discoveryChain: ChainEntry[]
  jwksChain: ChainEntry[]
  matchedFingerprints: { discovery: string; jwks: string }
  lastSentSha1: { discovery: string; jwks: string }
  fetchedAt: number
}

export type DiscoveryFailureKind = OidcFetchErrorKind | 'issuer-mismatch' | 'invalid-discovery' | 'invalid-jwks'

/** Why fetching an issuer's keys failed, and at which of the two documents. */
export class OidcDiscoveryError extends Error {
  readonly kind: DiscoveryFailureKind
  readonly stage: 'discovery' | 'jwks'
  readonly url: string
  /** The chain observed on the failing connection, when the handshake got that far. */
  readonly chain: ChainEntry[] | undefined
  readonly lastSentSha1: string | undefined
  readonly fetchError: OidcFetchError | undefined

  constructor(kind: DiscoveryFailureKind, stage: 'discovery' | 'jwks', url: string, message: string, fetchError?: OidcFetchError) {
    super(message, fetchError === undefined ? undefined : { cause: fetchError })
    this.name = 'OidcDiscoveryError'
    this.kind = kind
    this.stage = stage
    this.url = url
    this.fetchError = fetchError
    this.chain = fetchError?.chain
    this.lastSentSha1 = fetchError?.lastSentSha1
  }
}

/** OIDC Discovery §4: the issuer with ONE trailing slash removed, then `/.well-known/openid-configuration`. */
export function discoveryUrlOf(issuer: string): string {
  return `${issuer.endsWith('/') ? issuer.slice(0, -1) : issuer}/.well-known/openid-configuration`
}

/** The typed failure behind an ApiError thrown by fetchIssuerKeys, if any. */
export function discoveryFailureOf(e: unknown): OidcDiscoveryError | undefined {
  if (e instanceof OidcDiscoveryError) return e
  const cause = (e as { cause?: unknown } | undefined)?.cause
  return cause instanceof OidcDiscoveryError ? cause : undefined
}

const quote = (s: string, max = 256) => JSON.stringify(s.length > max ? `${s.slice(0, max)}…` : s)

/** The client-facing error: code by failure kind, message naming the issuer and the failed check. */
export function toApiError(issuer: string, failure: OidcDiscoveryError): ApiError {
  if (failure.kind === 'certificate-invalid') {
    return new ApiError('AuthenticationFail.OIDCToken.HttpsUrlInvalid', `Invoke url failed due to certificate chain validation: ${failure.message}.`, { cause: failure })
  }
  if (failure.kind === 'fingerprint-mismatch') {
    return new ApiError(
      'AuthenticationFail.OIDCToken.PublicKeyFingerprintMismatch',
      `The OIDC provider's fingerprints do not match the certificate chain of the issuer ${quote(issuer)}: ${failure.message}.`,
      { cause: failure },
    )
  }
  return new ApiError('AuthenticationFail.OIDCToken.IssuerConfigurationBroken', `Get public keys from OIDC Provider failed, the issuer is ${issuer}. ${publicReason(failure)}`, { cause: failure })
}

function publicReason(f: OidcDiscoveryError): string {
  const doc = f.stage === 'discovery' ? 'The discovery document' : 'The JWKS'
  const host = f.fetchError?.host ?? ''
  switch (f.kind) {
    // Refused, reset and timed out read alike: a client learns nothing about ports or filtering.
    case 'unreachable':
    case 'timeout':
      return `${doc} could not be fetched from ${host}: no complete answer in time.`
    case 'forbidden-address':
    case 'not-https':
    case 'too-large':
    case 'redirect':
    case 'bad-status':
    case 'bad-json':
      return `${doc} could not be fetched: ${f.message}.`
    default:
      return `${f.message}.`
  }
}

function wrapFetchError(e: unknown, stage: 'discovery' | 'jwks', url: string): OidcDiscoveryError {
  if (e instanceof OidcFetchError) return new OidcDiscoveryError(e.kind, stage, url, e.message, e)
  // Anything else is a bug or an unexpected runtime failure: report it as unreachable, keep the cause.
  const wrapped = new OidcFetchError('unreachable', 'the request failed unexpectedly', { url, host: '', cause: e })
  return new OidcDiscoveryError('unreachable', stage, url, wrapped.message, wrapped)
}

/**
 * Fetches and validates an issuer's keys. Both hosts (discovery and jwks_uri) pass the SSRF guard and
 * must present a validated chain containing one of `fingerprints`; both requests together take at
 * most `totalTimeoutMs` (default 5 s).
 * Throws ApiError (IssuerConfigurationBroken / HttpsUrlInvalid / PublicKeyFingerprintMismatch) whose
 * `cause` is an OidcDiscoveryError.
 */
export async function fetchIssuerKeys(issuer: string, fingerprints: readonly string[], opts: DiscoveryOptions = {}): Promise<IssuerKeys> {
  try {
    return await fetchIssuerKeysOrFail(issuer, fingerprints, opts)
  } catch (e) {
    if (e instanceof OidcDiscoveryError) throw toApiError(issuer, e)
    throw e
  }
}

async function fetchIssuerKeysOrFail(issuer: string, fingerprints: readonly string[], opts: DiscoveryOptions): Promise<IssuerKeys> {
  // Discovery and JWKS go over one keep-alive connection when jwks_uri is on the discovery host (most
  // IdPs): one handshake instead of two, each connection still thumbprint-checked (https-fetch-reuse.ts).
  // The pool ends with this fetch.
  const connections = opts.connections ?? new IdpConnections()
  try {
    return await fetchOverConnections(issuer, fingerprints, { ...opts, connections })
  } finally {
    if (opts.connections === undefined) connections.close()
  }
}

async function fetchOverConnections(issuer: string, fingerprints: readonly string[], opts: DiscoveryOptions): Promise<IssuerKeys> {
  const { fetchJson = fetchHttpsJson, now = Date.now, ...fetchOpts } = opts
  // Discovery and JWKS share ONE total budget (issue 4: the exchange waits at most that long for an IdP).
  const budgetMs = Math.min(fetchOpts.totalTimeoutMs ?? FETCH_DEFAULTS.totalTimeoutMs, MAX_TIMEOUT_MS)
  const started = performance.now()
  const options: FetchOptions = { ...fetchOpts, fingerprints, totalTimeoutMs: budgetMs }

  const discoveryUrl = discoveryUrlOf(issuer)
  let discovery: FetchResult
  try {
    discovery = await fetchJson(discoveryUrl, options)
  } catch (e) {
    throw wrapFetchError(e, 'discovery', discoveryUrl)
  }
  const named = discovery.json.issuer
  if (typeof named !== 'string') {
    throw new OidcDiscoveryError('invalid-discovery', 'discovery', discoveryUrl, 'The discovery document has no "issuer" string')
  }
  // Exact comparison (OIDC Discovery §4.3): no trailing-slash, case or encoding leniency.
  if (named !== issuer) {
    throw new OidcDiscoveryError('issuer-mismatch', 'discovery', discoveryUrl, `The discovery document names the issuer ${quote(named)}, not the registered ${quote(issuer)}`)
  }
  const jwksUri = discovery.json.jwks_uri
  if (typeof jwksUri !== 'string' || jwksUri.length === 0) {
    throw new OidcDiscoveryError('invalid-discovery', 'discovery', discoveryUrl, 'The discovery document has no "jwks_uri" string')
  }
  if (jwksUri.length > 2048) {
    throw new OidcDiscoveryError('invalid-discovery', 'discovery', discoveryUrl, 'The discovery document\'s "jwks_uri" is longer than 2048 characters')
  }

  let jwksDoc: FetchResult
  try {
    jwksDoc = await fetchJson(jwksUri, { ...options, totalTimeoutMs: Math.max(1, Math.floor(budgetMs - (performance.now() - started))) })
  } catch (e) {
    throw wrapFetchError(e, 'jwks', jwksUri)
  }
  let parsed
  try {
    parsed = parseJwks(jwksDoc.json)
  } catch (e) {
    if (e instanceof InvalidJwksError) throw new OidcDiscoveryError('invalid-jwks', 'jwks', jwksUri, `The JWKS at ${quote(jwksUri)} is invalid: ${e.message}`)
    throw e
  }
  const keys = new Map<string, KeyObject>()
  for (const [kid, k] of parsed.byKid) keys.set(kid, k.key)
  return {
    issuer,
    jwksUri,
    jwks: parsed.usable.map((k) => k.jwk),
    keys,
    usable: parsed.usable,
    byKid: parsed.byKid,
    skipped: parsed.skipped,
    discoveryChain: discovery.chain,
    jwksChain: jwksDoc.chain,
    matchedFingerprints: { discovery: discovery.matchedFingerprint, jwks: jwksDoc.matchedFingerprint },
    lastSentSha1: { discovery: discovery.lastSentSha1, jwks: jwksDoc.lastSentSha1 },
    fetchedAt: now(),
  }
}
