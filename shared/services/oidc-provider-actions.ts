// The nine IMS 2019-08-15 OIDC provider actions (alibaba-api.md §3): parameter rules, the policy
// action each needs, and the response shapes.

import { ApiError } from '../errors.ts'
import { actionsWith, callerAccount, type ActionDefinition, type Permission } from '../http/action.ts'
import type { OidcProviderRecord, OidcProviderStore } from '../store/oidc-provider-store.ts'
import { formatUtc } from '../time.ts'
import {
  DESCRIPTION_RULE,
  PROVIDER_LIMITS,
  PROVIDER_NAME_RULE,
  checkClientId,
  checkFingerprint,
  checkIssuerUrl,
  normaliseFingerprint,
  providerArn,
} from '../validation/oidc-provider-rules.ts'
import {
  decodeMarker,
  encodeMarker,
  markerName,
  optionalInteger,
  optionalList,
  optionalString,
  requiredString,
  type Params,
} from '../validation/params.ts'

export const IMS_VERSION = '2019-08-15'

export interface ProviderDeps {
  providers: OidcProviderStore
}

export function toOidcProviderView(p: OidcProviderRecord) {
  return {
    OIDCProviderName: p.name,
    Arn: providerArn(p.accountId, p.name),
    IssuerUrl: p.issuerUrl,
    ClientIds: p.clientIds.join(','),
    Fingerprints: p.fingerprints.join(','),
    IssuanceLimitTime: p.issuanceLimitTime,
    Description: p.description,
    CreateDate: formatUtc(p.createdAt),
    UpdateDate: formatUtc(p.updatedAt),
    GmtCreate: p.createdAt,
    GmtModified: p.updatedAt,
  }
}

const providerName = (params: Params) => requiredString(params, 'OIDCProviderName', PROVIDER_NAME_RULE)

/**
 * The condition key of the OIDC provider actions (spec §3: "condition key ram:OidcIssuerUrl"): the
 * provider's issuer URL. CreateOIDCProvider has it in its parameters. The actions on an existing
 * provider read it from the stored provider (IssuerUrl is immutable), and only for a caller whose
 * policies test the key on that action (shared/auth/authorize.ts): the root key and the policies that
 * never mention it cost no read. An unknown provider has no issuer: the key is then absent, so an Allow
 * conditioned on it refuses (403 rather than the 404 the root key gets) and a negated Deny applies.
 * ListOIDCProviders names no provider and carries no issuer either.
 */
const OIDC_ISSUER_URL_KEY = 'ram:OidcIssuerUrl'

const onProvider = (action: string) => <I extends { name: string }>(input: I, caller: { accountId: string }, deps: ProviderDeps): Permission => ({
  action: `ram:${action}`,
  resource: providerArn(caller.accountId, input.name),
  context: { [OIDC_ISSUER_URL_KEY]: async () => (await storedProvider(input, caller.accountId, deps))?.issuerUrl },
})

/**
 * The stored provider a request names, read at most once per request: GetOIDCProvider then answers
 * with the provider its ram:OidcIssuerUrl was read from rather than reading it again. Keyed by the
 * request's parsed input, the one object the dispatcher hands both to permission() and to run() and
 * made afresh by parse() for every request: nothing is reused across requests (a management read must
 * see the latest write), and a WeakMap forgets the read with the request.
 */
const providerReads = new WeakMap<{ name: string }, Promise<OidcProviderRecord | undefined>>()

function storedProvider(input: { name: string }, accountId: string, deps: ProviderDeps): Promise<OidcProviderRecord | undefined> {
  let read = providerReads.get(input)
  if (read === undefined) {
    read = deps.providers.get(accountId, input.name)
    providerReads.set(input, read)
  }
  return read
}

function clientIdList(params: Params, name: string): string[] | undefined {
  const list = optionalList(params, name, (v) => checkClientId(name, v))
  if (list && list.length > PROVIDER_LIMITS.clientIdsPerProvider) {
    throw new ApiError('LimitExceeded.OIDCProvider.ClientId', `At most ${PROVIDER_LIMITS.clientIdsPerProvider} client IDs may be registered on an OIDC provider (got ${list.length}).`)
  }
  return list
}

function fingerprintList(params: Params, name: string): string[] | undefined {
  const list = optionalList(params, name, (v) => checkFingerprint(name, v), normaliseFingerprint)
  if (list && list.length > PROVIDER_LIMITS.fingerprintsPerProvider) {
    throw new ApiError('LimitExceeded.OIDCProvider.Fingerprint', `At most ${PROVIDER_LIMITS.fingerprintsPerProvider} fingerprints may be registered on an OIDC provider (got ${list.length}).`)
  }
  return list
}

const issuanceLimit = (params: Params) =>
  optionalInteger(params, 'IssuanceLimitTime', PROVIDER_LIMITS.issuanceLimitTime.min, PROVIDER_LIMITS.issuanceLimitTime.max)

const defineAction = actionsWith<ProviderDeps>()

const createOidcProvider = defineAction({
  product: 'Ims',
  version: IMS_VERSION,
  name: 'CreateOIDCProvider',
  parse: (params) => ({
    name: providerName(params),
    issuerUrl: checkIssuerUrl('IssuerUrl', requiredString(params, 'IssuerUrl', { max: 255 })),
    fingerprints: fingerprintList(params, 'Fingerprints') ?? [],
    clientIds: clientIdList(params, 'ClientIds') ?? [],
    issuanceLimitTime: issuanceLimit(params) ?? PROVIDER_LIMITS.issuanceLimitTime.default,
    description: optionalString(params, 'Description', DESCRIPTION_RULE) ?? '',
  }),
  permission: (input, caller) => ({
    action: 'ram:CreateOIDCProvider',
    resource: providerArn(caller.accountId, input.name),
    context: { [OIDC_ISSUER_URL_KEY]: input.issuerUrl },
  }),
  async run(input, { caller, deps, request }) {
    const now = request.now.getTime()
    const record: OidcProviderRecord = {
      accountId: callerAccount(caller),
      ...input,
      createdAt: now,
      updatedAt: now,
      version: 1,
    }
    await deps.providers.create(record)
    return { OIDCProvider: toOidcProviderView(record) }
  },
})

const getOidcProvider = defineAction({
  product: 'Ims',
  version: IMS_VERSION,
  name: 'GetOIDCProvider',
  parse: (params) => ({ name: providerName(params) }),
  permission: onProvider('GetOIDCProvider'),
  async run(input, { caller, deps }) {
    const record = await storedProvider(input, callerAccount(caller), deps)
    if (!record) throw new ApiError('EntityNotExist.OIDCProvider', `The OIDC provider "${input.name}" does not exist.`)
    return { OIDCProvider: toOidcProviderView(record) }
  },
})

const listOidcProviders = defineAction({
  product: 'Ims',
  version: IMS_VERSION,
  name: 'ListOIDCProviders',
  parse: (params) => {
    // Markers carry the name of the last provider returned.
    const after = markerName(decodeMarker(params), PROVIDER_NAME_RULE)
    return {
      maxItems: optionalInteger(params, 'MaxItems', PROVIDER_LIMITS.listMaxItems.min, PROVIDER_LIMITS.listMaxItems.max) ?? PROVIDER_LIMITS.listMaxItems.default,
      after,
    }
  },
  permission: (_input, caller) => ({ action: 'ram:ListOIDCProviders', resource: providerArn(caller.accountId, '*') }),
  // Bounded by count alone, unlike ListRoles/ListPolicies (list-page.ts): at most 100 providers of at
  // most ~10 KB each as listItemBytes counts them (50 client IDs of 128 characters, a 256-character
  // description and a 255-character URL even of quotes), ~1 MB, far below Lambda's 6 MB.
  async run(input, { caller, deps }) {
    const page = await deps.providers.list(callerAccount(caller), input.maxItems, input.after)
    return {
      IsTruncated: page.nextName !== undefined,
      ...(page.nextName !== undefined ? { Marker: encodeMarker({ n: page.nextName }) } : {}),
      OIDCProviders: { OIDCProvider: page.items.map(toOidcProviderView) },
    }
  },
})

const updateOidcProvider = defineAction({
  product: 'Ims',
  version: IMS_VERSION,
  name: 'UpdateOIDCProvider',
  parse: (params) => {
    const rawClientIds = params.get('ClientIds')
    return {
      name: providerName(params),
      description: params.has('NewDescription') ? (optionalString(params, 'NewDescription', DESCRIPTION_RULE) ?? '') : undefined,
      // Present-but-empty ClientIds clears the set (the whole set is replaced).
      clientIds: rawClientIds === undefined ? undefined : (clientIdList(params, 'ClientIds') ?? []),
      issuanceLimitTime: issuanceLimit(params),
    }
  },
  permission: onProvider('UpdateOIDCProvider'),
  async run(input, { caller, deps, request }) {
    const { name, ...changes } = input
    const clean = Object.fromEntries(Object.entries(changes).filter(([, v]) => v !== undefined))
    const record = await deps.providers.update(callerAccount(caller), name, clean, request.now.getTime())
    return { OIDCProvider: toOidcProviderView(record) }
  },
})

const deleteOidcProvider = defineAction({
  product: 'Ims',
  version: IMS_VERSION,
  name: 'DeleteOIDCProvider',
  parse: (params) => ({ name: providerName(params) }),
  permission: onProvider('DeleteOIDCProvider'),
  async run(input, { caller, deps }) {
    await deps.providers.delete(callerAccount(caller), input.name)
    return {}
  },
})

function listMember(
  actionName: string,
  field: 'clientIds' | 'fingerprints',
  param: 'ClientId' | 'Fingerprint',
  op: 'add' | 'remove',
  check: (name: string, v: string) => string,
) {
  return defineAction({
    product: 'Ims',
    version: IMS_VERSION,
    name: actionName,
    parse: (params) => ({
      name: providerName(params),
      value: check(param, requiredString(params, param, { max: 128 })),
    }),
    permission: onProvider(actionName),
    async run(input, { caller, deps, request }) {
      const accountId = callerAccount(caller)
      const now = request.now.getTime()
      const record = op === 'add'
        ? await deps.providers.addToList(accountId, input.name, field, input.value, now)
        : await deps.providers.removeFromList(accountId, input.name, field, input.value, now)
      return { OIDCProvider: toOidcProviderView(record) }
    },
  })
}

export const oidcProviderActions = [
  createOidcProvider,
  getOidcProvider,
  listOidcProviders,
  updateOidcProvider,
  deleteOidcProvider,
  listMember('AddClientIdToOIDCProvider', 'clientIds', 'ClientId', 'add', checkClientId),
  listMember('RemoveClientIdFromOIDCProvider', 'clientIds', 'ClientId', 'remove', checkClientId),
  listMember('AddFingerprintToOIDCProvider', 'fingerprints', 'Fingerprint', 'add', checkFingerprint),
  listMember('RemoveFingerprintFromOIDCProvider', 'fingerprints', 'Fingerprint', 'remove', checkFingerprint),
] as ActionDefinition<any, ProviderDeps>[] // eslint-disable-line @typescript-eslint/no-explicit-any -- inputs differ per action
