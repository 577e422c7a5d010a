// GetOIDCProviderHealth / ListOIDCProviderHealth (oidc-sts extension, Version 2026-11-01): what the
// thumbprint health check saw of a provider's IdP. Signed; policy actions
// `oidcsts:GetOIDCProviderHealth` on the provider's ARN and `oidcsts:ListOIDCProviderHealth` on
// `acs:ram::<account>:oidc-provider/*`.
//
// `Status` is the observation of `CheckedAt` evaluated against the provider's fingerprints as they are
// NOW (and days counted from now): after AddFingerprintToOIDCProvider with the fingerprint the check
// asked for, the provider reads `ok` at once; the next run observes the IdP again. A provider not
// checked yet reads `unchecked`.

import { ApiError } from '../errors.ts'
import { HEALTH_STATUSES, type HealthStatus } from '../events/service-events.ts'
import { actionsWith, callerAccount, type ActionDefinition } from '../http/action.ts'
import type { ChainEntry } from '../oidc/https-fetch-chain.ts'
import type { ProviderHealthRecord, HealthStore } from '../store/health-store.ts'
import type { OidcProviderRecord, OidcProviderStore } from '../store/oidc-provider-store.ts'
import { formatUtc } from '../time.ts'
import { PROVIDER_LIMITS, PROVIDER_NAME_RULE, providerArn } from '../validation/oidc-provider-rules.ts'
import { decodeMarker, encodeMarker, markerName, optionalInteger, optionalString, requiredString } from '../validation/params.ts'
import { OIDC_STS_VERSION } from './accounts.ts'
import { evaluateProviderHealth, type HostObservation } from './health-evaluate.ts'

export interface ProviderHealthDeps {
  providers: Pick<OidcProviderStore, 'get' | 'list'>
  health: Pick<HealthStore, 'get' | 'listForAccount'>
}

const define = actionsWith<ProviderHealthDeps>()

function certificateView(c: ChainEntry) {
  return { Subject: c.subject, Issuer: c.issuer, Fingerprint: c.sha1, NotAfter: c.notAfter === '' ? '' : formatUtc(Date.parse(c.notAfter)), SelfSigned: c.selfSigned }
}

function endpointView(h: HostObservation | undefined, matched: string | undefined) {
  if (h === undefined) return undefined
  return {
    Url: h.url,
    Host: h.host,
    ...(h.lastSentSha1 ? { LastSentFingerprint: h.lastSentSha1 } : {}),
    ...(matched ? { MatchedFingerprint: matched } : {}),
    Certificates: { Certificate: h.chain.map(certificateView) },
  }
}

/** The operator's view of one provider's health (see the file comment for how Status is derived). */
export function toProviderHealthView(provider: OidcProviderRecord, record: ProviderHealthRecord | undefined, nowMs: number) {
  const base = { OIDCProviderName: provider.name, Arn: providerArn(provider.accountId, provider.name), IssuerUrl: provider.issuerUrl }
  // A record about another issuer belongs to a deleted provider of the same name: not this one.
  if (record === undefined || record.issuerUrl !== provider.issuerUrl) return { ...base, Status: 'unchecked' as const }
  const o = record.observation
  const ev = evaluateProviderHealth(o, provider.fingerprints, nowMs, record.warningDays)
  const discovery = endpointView(o.discovery, ev.matched.discovery)
  const jwks = endpointView(o.jwks, ev.matched.jwks)
  return {
    ...base,
    Status: ev.status,
    CheckedAt: formatUtc(record.checkedAt),
    ...(ev.status === record.status ? { StatusChangedAt: formatUtc(record.statusChangedAt) } : {}),
    ...(ev.problem ? { Problem: ev.problem } : {}),
    ...(ev.matchedFingerprint ? { MatchedFingerprint: ev.matchedFingerprint } : {}),
    ...(ev.fingerprintsToAdd.length > 0 ? { FingerprintsToAdd: ev.fingerprintsToAdd.join(',') } : {}),
    ...(ev.matchedCertificate
      ? { CertificateExpiration: formatUtc(Date.parse(ev.matchedCertificate.notAfter)), CertificateExpiresInDays: ev.matchedCertificate.expiresInDays }
      : {}),
    KeyIds: o.keyIds.join(','),
    ...(discovery ? { DiscoveryEndpoint: discovery } : {}),
    ...(jwks ? { JwksEndpoint: jwks } : {}),
  }
}

const getOidcProviderHealth = define({
  product: 'OidcSts',
  version: OIDC_STS_VERSION,
  name: 'GetOIDCProviderHealth',
  parse: (params) => ({ name: requiredString(params, 'OIDCProviderName', PROVIDER_NAME_RULE) }),
  permission: (input, caller) => ({ action: 'oidcsts:GetOIDCProviderHealth', resource: providerArn(caller.accountId, input.name) }),
  async run(input, { caller, deps, request }) {
    const accountId = callerAccount(caller)
    const [provider, record] = await Promise.all([deps.providers.get(accountId, input.name), deps.health.get(accountId, input.name)])
    if (!provider) throw new ApiError('EntityNotExist.OIDCProvider', `The OIDC provider "${input.name}" does not exist.`)
    return { OIDCProviderHealth: toProviderHealthView(provider, record, request.now.getTime()) }
  },
})

const STATUS_FILTER = [...HEALTH_STATUSES, 'unchecked'] as const

const listOidcProviderHealth = define({
  product: 'OidcSts',
  version: OIDC_STS_VERSION,
  name: 'ListOIDCProviderHealth',
  parse: (params) => {
    // Markers carry the name of the last provider returned.
    const after = markerName(decodeMarker(params), PROVIDER_NAME_RULE)
    const status = optionalString(params, 'Status', { max: 32 })
    if (status !== undefined && !(STATUS_FILTER as readonly string[]).includes(status)) {
      throw new ApiError('InvalidParameter.Status.Format', `The parameter "Status" must be one of ${STATUS_FILTER.join(', ')}.`)
    }
    return {
      maxItems: optionalInteger(params, 'MaxItems', PROVIDER_LIMITS.listMaxItems.min, PROVIDER_LIMITS.listMaxItems.max) ?? PROVIDER_LIMITS.listMaxItems.default,
      after,
      status: status as HealthStatus | 'unchecked' | undefined,
    }
  },
  permission: (_input, caller) => ({ action: 'oidcsts:ListOIDCProviderHealth', resource: providerArn(caller.accountId, '*') }),
  async run(input, { caller, deps, request }) {
    const accountId = callerAccount(caller)
    // An account has at most 100 providers (quota): read them all, join, then page by name.
    const providers: OidcProviderRecord[] = []
    let after: string | undefined
    do {
      const page = await deps.providers.list(accountId, PROVIDER_LIMITS.listMaxItems.max, after)
      providers.push(...page.items)
      after = page.nextName
    } while (after !== undefined)
    const records = new Map((await deps.health.listForAccount(accountId)).map((r) => [r.name, r]))
    const nowMs = request.now.getTime()
    const views = providers
      .filter((p) => input.after === undefined || p.name > input.after)
      .map((p) => toProviderHealthView(p, records.get(p.name), nowMs))
      .filter((v) => input.status === undefined || v.Status === input.status)
    const page = views.slice(0, input.maxItems)
    const truncated = views.length > input.maxItems
    return {
      IsTruncated: truncated,
      ...(truncated ? { Marker: encodeMarker({ n: page[page.length - 1]!.OIDCProviderName }) } : {}),
      OIDCProviderHealths: { OIDCProviderHealth: page },
    }
  },
})

export const providerHealthActions = [getOidcProviderHealth, listOidcProviderHealth] as ActionDefinition<any, ProviderHealthDeps>[] // eslint-disable-line @typescript-eslint/no-explicit-any
