// STS 2015-04-01: AssumeRoleWithOIDC (anonymous: the OIDC token is the credential) and
// GetCallerIdentity. Checks run in the order of alibaba-api.md §1.4; every outcome is audited.

import type { AuditSink } from '../audit/audit-log.ts'
import { credentialsJson, mintCredentials } from '../credentials/mint.ts'
import type { TokenKeyRing } from '../credentials/token-keys.ts'
import { ApiError } from '../errors.ts'
import { actionsWith, type ActionDefinition, JsonMembers, type RequestInfo } from '../http/action.ts'
import type { JwksCache } from '../oidc/jwks-cache.ts'
import { checkTokenLength, verifyOidcToken, type VerifiedClaims } from '../oidc/verify-token.ts'
import { parseSessionPolicy, serializePolicyDocument } from '../policy/document.ts'
import { evaluateTrust } from '../policy/evaluate.ts'
import { formatUtc } from '../time.ts'
import { parseProviderArn, providerArn as toProviderArn } from '../validation/oidc-provider-rules.ts'
import { optionalString, type Params } from '../validation/params.ts'
import { parseRoleArn, roleArn as toRoleArn, roleKeyOf } from '../validation/ram-rules.ts'
import type { ExchangeConfig } from './exchange-config.ts'
import { type RateLimiter, sourceKey } from '../limits/rate-limiter.ts'

export const STS_VERSION = '2015-04-01'

export interface StsRuntime {
  config: ExchangeConfig
  limits: { perProvider: RateLimiter; perSource: RateLimiter }
  jwks: JwksCache
  tokenKeys: TokenKeyRing
  audit: AuditSink
  leewaySeconds: number
}

export interface StsDeps {
  sts: StsRuntime
}

const define = actionsWith<StsDeps>()

const SESSION_NAME = /^[A-Za-z0-9.@_-]{2,64}$/
const MIN_DURATION = 900

interface ExchangeInput {
  providerArn: string
  provider: { accountId: string; name: string }
  roleArn: string
  role: { accountId: string; roleName: string }
  token: string
  sessionName: string
  durationSeconds: number | undefined
  policy: string | undefined
}

function readExchangeParams(params: Params): ExchangeInput {
  const providerArn = params.get('OIDCProviderArn')
  if (!providerArn) throw new ApiError('MissingParameter.OIDCProviderArn', 'The input parameter "OIDCProviderArn" that is mandatory for processing this request is not supplied.')
  const roleArn = params.get('RoleArn')
  if (!roleArn) throw new ApiError('MissingParameter.RoleArn', 'The input parameter "RoleArn" that is mandatory for processing this request is not supplied.')
  const sessionName = params.get('RoleSessionName')
  if (!sessionName) throw new ApiError('MissingParameter.RoleSessionName', 'The input parameter "RoleSessionName" that is mandatory for processing this request is not supplied.')
  if (!SESSION_NAME.test(sessionName)) {
    throw new ApiError('InvalidParameter.RoleSessionName', 'The parameter RoleSessionName is wrongly formed: 2 to 64 characters of letters, digits, ".", "@", "_" and "-".')
  }
  const rawDuration = params.get('DurationSeconds')
  let durationSeconds: number | undefined
  if (rawDuration !== undefined && rawDuration !== '') {
    if (!/^\d{1,9}$/.test(rawDuration) || Number(rawDuration) < MIN_DURATION) {
      throw new ApiError('InvalidParameter.DurationSeconds', `The parameter DurationSeconds must be an integer of at least ${MIN_DURATION} and at most the role's MaxSessionDuration.`)
    }
    durationSeconds = Number(rawDuration)
  }
  const policy = optionalString(params, 'Policy', { max: 2048 })
  // Every parameter's own format (the ARNs included) before the token (spec §1.4: step 1, then 3).
  const provider = parseProviderArn('OIDCProviderArn', providerArn)
  const role = parseRoleArn('RoleArn', roleArn)
  const token = params.get('OIDCToken') ?? ''
  // Its length with the other parameters' (§1.4 step 1): an oversized token costs no rate-limit slot
  // and no configuration read. Its content is checked once the provider is known (step 3 on).
  checkTokenLength(token)
  return {
    providerArn,
    provider,
    roleArn,
    role,
    token,
    sessionName,
    durationSeconds,
    policy,
  }
}

const noSuchProvider = () => new ApiError('AuthenticationFail.NoPermission', 'No such OIDC Provider registered.')

const throttled = (wait: number) => new ApiError('Throttling.User', 'Request was denied due to user flow control.', { retryAfterMs: wait })

/**
 * Per source (an IPv6 address by its /64: sourceKey), before any table read or IdP call: a flood from
 * one place costs neither.
 */
function enforceSourceLimit(sts: StsRuntime, now: Date, sourceIp: string): void {
  const wait = sts.limits.perSource.take(sourceKey(sourceIp), now.getTime())
  if (wait > 0) throw throttled(wait)
}

/**
 * Per OIDC provider, once the token's signature has verified: the provider ARN is public, so a budget
 * spent by any token at all would let anyone lock a provider's callers out with garbage (spec §1.4 puts
 * the rate limit last, too). Unverified tokens cost the source limit above, the cached configuration
 * and the JWKS cache's refetch cooldown.
 */
function enforceProviderLimit(sts: StsRuntime, providerArn: string, now: Date): void {
  const wait = sts.limits.perProvider.take(providerArn, now.getTime())
  if (wait > 0) throw throttled(wait)
}

/**
 * What the audit record of an exchange can say about it, filled in as each part passes its check: a
 * refused exchange is recorded with everything known of it by then (who presented a token the trust
 * policy refused, which role a malformed request named), never with a value that failed its check.
 */
interface ExchangeFacts {
  accountId?: string
  providerArn?: string
  roleArn?: string
  sessionName?: string
  sub?: string
  jti?: string
  /** The trust policy's verdict on a refused token (for the operator: the caller is not told). */
  reason?: string
}

/** Every parameter that passes its own check, whatever the others are (for the record of a refused request). */
function factsOfParams(params: Params, facts: ExchangeFacts): void {
  const valid = <T>(read: () => T): T | undefined => {
    try {
      return read()
    } catch {
      return undefined
    }
  }
  const providerArn = params.get('OIDCProviderArn')
  const roleArn = params.get('RoleArn')
  const sessionName = params.get('RoleSessionName')
  const provider = providerArn === undefined ? undefined : valid(() => parseProviderArn('OIDCProviderArn', providerArn))
  const role = roleArn === undefined ? undefined : valid(() => parseRoleArn('RoleArn', roleArn))
  if (provider !== undefined) facts.providerArn = providerArn
  if (role !== undefined) facts.roleArn = roleArn
  if (sessionName !== undefined && SESSION_NAME.test(sessionName)) facts.sessionName = sessionName
  facts.accountId ??= role?.accountId ?? provider?.accountId
}

/** The audit record of a refused exchange: what `facts` knows, the error's code. */
function recordFailure(sts: StsRuntime, request: RequestInfo, facts: ExchangeFacts, e: unknown): void {
  const { accountId = 'unknown', ...known } = facts
  sts.audit.record({
    time: request.now.getTime(),
    requestId: request.requestId,
    accountId,
    ...known,
    sourceIp: request.sourceIp,
    outcome: 'Failure',
    errorCode: e instanceof ApiError ? e.code : 'InternalError',
  })
}

async function exchange(input: ExchangeInput, sts: StsRuntime, now: Date, sourceIp: string, facts: ExchangeFacts) {
  enforceSourceLimit(sts, now, sourceIp)
  const { provider: p, role: r } = input
  // The provider must be registered in the role's account: nothing crosses accounts.
  if (p.accountId !== r.accountId) throw noSuchProvider()
  const provider = await sts.config.provider(p.accountId, p.name)
  if (!provider) throw noSuchProvider()
  const providerArn = toProviderArn(provider.accountId, provider.name)
  const { claims } = await verifyOidcToken(
    input.token,
    { issuer: provider.issuerUrl, clientIds: provider.clientIds, issuanceLimitHours: provider.issuanceLimitTime, leewaySeconds: sts.leewaySeconds, now },
    (kid, alg) => sts.jwks.getKey(provider.issuerUrl, provider.fingerprints, kid, alg),
  )
  facts.sub = claims.sub
  if (typeof claims.jti === 'string') facts.jti = claims.jti
  enforceProviderLimit(sts, input.providerArn, now)

  // The role is read only for a verified token: a flood of bad tokens naming made-up roles costs no
  // table read (overlapping the two would save one round trip on a cold exchange, not worth that).
  const role = await sts.config.role(r.accountId, r.roleName)
  if (!role) throw new ApiError('EntityNotExist.Role', `The role not exists: ${input.roleArn}. `)
  const trust = evaluateTrust(role.trust, { providerArn, claims: claims as VerifiedClaims & { iss: string; sub: string; aud: string[] }, now, sourceIp })
  if (trust.decision !== 'Allow') {
    // Which statement or condition refused the token tells its holder what to change: the operator
    // reads it in the audit record (ListAuditEvents Reason), the caller gets the bare refusal.
    facts.reason = trust.reason
    throw new ApiError('AuthenticationFail.NoPermission', 'There is no permission: the trust policy of the role does not allow this token.')
  }

  const durationSeconds = input.durationSeconds ?? Math.min(3600, role.maxSessionDuration)
  if (durationSeconds > role.maxSessionDuration) {
    throw new ApiError('InvalidParameter.DurationSeconds', `The parameter DurationSeconds must be between ${MIN_DURATION} and the role's MaxSessionDuration ${role.maxSessionDuration}.`)
  }
  const sessionPolicy = input.policy === undefined ? undefined : serializePolicyDocument(parseSessionPolicy(input.policy))

  const roleArn = toRoleArn(r.accountId, role.roleName)
  const credentials = mintCredentials(
    {
      accountId: r.accountId,
      roleName: role.roleName,
      roleId: role.roleId,
      roleArn,
      sessionName: input.sessionName,
      durationSeconds,
      // Undefined without a session policy (mintCredentials leaves it out of the token): one object shape.
      sessionPolicy,
      providerArn,
      sub: claims.sub,
      issuer: claims.iss,
    },
    sts.tokenKeys,
    now,
  )
  const assumedRoleUser = { Arn: `${roleArn}/${input.sessionName}`, AssumedRoleId: `${role.roleId}:${input.sessionName}` }
  const tokenInfo = {
    Issuer: claims.iss,
    Subject: claims.sub,
    ClientIds: claims.aud.join(','),
    // iat is required by verifyOidcToken; the check only narrows the type.
    IssuanceTime: typeof claims.iat === 'number' ? formatUtc(claims.iat * 1000) : undefined,
    ExpirationTime: formatUtc(claims.exp * 1000),
    VerificationInfo: 'Success',
  }
  // Spec §1.3's members, serialised here: the credentials without a scan of the SecurityToken
  // (credentialsJson), the rest, which carries claims from the token, by JSON.stringify.
  const body = new JsonMembers(`"Credentials":${credentialsJson(credentials)},"AssumedRoleUser":${JSON.stringify(assumedRoleUser)},"OIDCTokenInfo":${JSON.stringify(tokenInfo)}`)
  return { claims, body }
}

const assumeRoleWithOidc = define({
  product: 'Sts',
  version: STS_VERSION,
  name: 'AssumeRoleWithOIDC',
  anonymous: true,
  // Its audit line (below) is the request's one log line.
  audited: true,
  // Validation happens inside run so that every outcome, malformed requests included, is audited.
  parse: (params) => params,
  async run(params, { deps, request }) {
    const { sts } = deps
    const facts: ExchangeFacts = {}
    try {
      const input = readExchangeParams(params)
      facts.accountId = input.role.accountId
      facts.providerArn = input.providerArn
      facts.roleArn = input.roleArn
      facts.sessionName = input.sessionName
      const { claims, body } = await exchange(input, sts, request.now, request.sourceIp, facts)
      sts.audit.record({
        time: request.now.getTime(),
        requestId: request.requestId,
        accountId: input.role.accountId,
        providerArn: input.providerArn,
        roleArn: input.roleArn,
        sessionName: input.sessionName,
        sub: claims.sub,
        jti: typeof claims.jti === 'string' ? claims.jti : undefined,
        sourceIp: request.sourceIp,
        outcome: 'Success',
      })
      return body
    } catch (e) {
      if (facts.accountId === undefined) factsOfParams(params, facts)
      recordFailure(sts, request, facts, e)
      throw e
    }
  },
  // Refused before run (the request could not be read: a duplicated or malformed parameter, a body too
  // large): recorded with the parameters that could be read and passed their own checks.
  rejected(params, { deps, request }, e) {
    const facts: ExchangeFacts = {}
    factsOfParams(params, facts)
    recordFailure(deps.sts, request, facts, e)
  },
})

const getCallerIdentity = define({
  product: 'Sts',
  version: STS_VERSION,
  name: 'GetCallerIdentity',
  // Any authenticated caller may ask who it is (spec §2.2: no permission needed).
  anyCaller: true,
  parse: () => ({}),
  async run(_input, { caller }) {
    if (!caller) throw new ApiError('IncompleteSignature', 'GetCallerIdentity must be signed.')
    if (caller.type === 'root') {
      return { IdentityType: 'Account', AccountId: caller.accountId, Arn: `acs:ram::${caller.accountId}:root`, PrincipalId: caller.accountId, UserId: caller.accountId }
    }
    return {
      IdentityType: 'AssumedRoleUser',
      AccountId: caller.accountId,
      // Lower-cased like every role ARN (see roleArn): the same session reads the same in both ARNs.
      Arn: `acs:ram::${caller.accountId}:assumed-role/${roleKeyOf(caller.roleName)}/${caller.sessionName}`,
      PrincipalId: `${caller.roleId}:${caller.sessionName}`,
      RoleId: caller.roleId,
    }
  },
})

export const stsActions = [assumeRoleWithOidc, getCallerIdentity] as ActionDefinition<any, StsDeps>[] // eslint-disable-line @typescript-eslint/no-explicit-any
