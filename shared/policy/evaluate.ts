// Policy decisions: permission policies, their intersection with a session policy, and OIDC trust.

import {
  type RequestContext,
  evaluateConditionBlock,
  findUnsatisfiedCondition,
} from './conditions.ts'
import type { ActionElement, Effect, PolicyDocument, PolicyStatement } from './document.ts'
import { matchWildcard } from './wildcard.ts'

export type Decision = 'Allow' | 'ExplicitDeny' | 'ImplicitDeny'

/**
 * Which layer decided, spelled as `AccessDeniedDetail.PolicyType` values: Alibaba documents
 * `AccountLevelIdentityBasedPolicy` (policies attached to the role) and `AssumeRolePolicy` (trust);
 * `SessionPolicy` is our spelling for the `Policy` parameter of AssumeRole* (unconfirmed).
 */
export type PolicyType = 'AccountLevelIdentityBasedPolicy' | 'SessionPolicy' | 'AssumeRolePolicy'

export interface StatementRef {
  readonly policyIndex: number
  readonly statementIndex: number
}

export interface PolicyRequest {
  /** `<service>:<ApiName>`, e.g. `ram:ListOIDCProviders`; matched case-insensitively. */
  readonly action: string
  /** ARN, e.g. `acs:ram::1234567890123456:role/deployer`; matched case-sensitively. */
  readonly resource: string
  readonly context: RequestContext
}

export interface PolicyEvaluation {
  readonly decision: Decision
  /** The Deny statement that decided an ExplicitDeny, or the first Allow statement that matched. */
  readonly matched?: StatementRef
}

/**
 * Permission (identity or session) policies: deny by default, any matching Deny wins, else any
 * matching Allow. `Principal` is not consulted: the grammar forbids it in these kinds, and trust
 * documents go through `evaluateTrust`. A statement without Resource/NotResource (trust only)
 * matches every resource.
 */
export function evaluatePolicies(policies: readonly PolicyDocument[], request: PolicyRequest): PolicyEvaluation {
  let allow: StatementRef | undefined
  for (const [policyIndex, policy] of policies.entries()) {
    for (const [statementIndex, statement] of policy.Statement.entries()) {
      if (!statementApplies(statement, request)) continue
      if (statement.Effect === 'Deny') return { decision: 'ExplicitDeny', matched: { policyIndex, statementIndex } }
      allow ??= { policyIndex, statementIndex }
    }
  }
  return allow === undefined ? { decision: 'ImplicitDeny' } : { decision: 'Allow', matched: allow }
}

export interface SessionEvaluation {
  readonly decision: Decision
  /** Set unless the decision is Allow: the layer to report in AccessDeniedDetail.PolicyType. */
  readonly deniedBy?: Exclude<PolicyType, 'AssumeRolePolicy'>
  /** The role's attached policies on their own. */
  readonly identity: PolicyEvaluation
  /** The session policy on its own; undefined when the session has none. */
  readonly session?: PolicyEvaluation
}

/**
 * Effective permissions of an assumed-role session: the role's policies AND the session policy
 * (spec §4.5). A session policy can only narrow: without one, the role's policies decide alone.
 * An explicit Deny anywhere wins; when both layers deny, the session policy is reported first,
 * following the evaluation order of spec §4.5 (session policy, then identity policies).
 */
export function evaluateWithSession(
  rolePolicies: readonly PolicyDocument[],
  sessionPolicy: PolicyDocument | undefined,
  request: PolicyRequest,
): SessionEvaluation {
  const identity = evaluatePolicies(rolePolicies, request)
  if (sessionPolicy === undefined) {
    return identity.decision === 'Allow'
      ? { decision: 'Allow', identity }
      : { decision: identity.decision, deniedBy: 'AccountLevelIdentityBasedPolicy', identity }
  }
  const session = evaluatePolicies([sessionPolicy], request)
  const result = (decision: Decision, deniedBy?: SessionEvaluation['deniedBy']): SessionEvaluation =>
    deniedBy === undefined ? { decision, identity, session } : { decision, deniedBy, identity, session }
  if (session.decision === 'ExplicitDeny') return result('ExplicitDeny', 'SessionPolicy')
  if (identity.decision === 'ExplicitDeny') return result('ExplicitDeny', 'AccountLevelIdentityBasedPolicy')
  if (session.decision === 'ImplicitDeny') return result('ImplicitDeny', 'SessionPolicy')
  if (identity.decision === 'ImplicitDeny') return result('ImplicitDeny', 'AccountLevelIdentityBasedPolicy')
  return result('Allow')
}

/**
 * Whether some statement of `policies` whose Action covers `action` tests `key` (keys compared
 * case-insensitively, `key` given lower-case) in its Condition: only then can the key's value change
 * the decision on that action, so a value that costs a read is read only then.
 */
export function testsConditionKey(policies: readonly (PolicyDocument | undefined)[], action: string, key: string): boolean {
  for (const policy of policies) {
    if (policy === undefined) continue
    for (const statement of policy.Statement) {
      if (statement.Condition === undefined || !actionApplies(statement, [action])) continue
      for (const operator in statement.Condition) {
        const keys = statement.Condition[operator as keyof typeof statement.Condition]
        if (keys === undefined) continue
        for (const k in keys) if (k.toLowerCase() === key) return true
      }
    }
  }
  return false
}

function statementApplies(statement: PolicyStatement, request: PolicyRequest): boolean {
  return (
    actionApplies(statement, [request.action]) &&
    resourceApplies(statement, request.resource) &&
    evaluateConditionBlock(statement.Condition, request.context)
  )
}

/** Action: some pattern names one of `actions`. NotAction: no pattern names any of them. */
function actionApplies(statement: ActionElement, actions: readonly string[]): boolean {
  const patterns = statement.Action ?? statement.NotAction
  const named = patterns.some((p) => actions.some((a) => matchWildcard(p, a, { ignoreCase: true })))
  return statement.Action !== undefined ? named : !named
}

function resourceApplies(statement: PolicyStatement, resource: string): boolean {
  const patterns = statement.Resource ?? statement.NotResource
  if (patterns === undefined) return true
  // Role names are case-insensitive and a role's ARN carries its name lower-cased (validation/ram-rules.ts
  // roleArn), so against a role's ARN every pattern is compared lower-cased: whatever its shape
  // (`acs:ram::<id>:role/Name`, `acs:*:*:*:role/Name`, `*/Name`), a Deny or an Allow written with the
  // name's own capitals covers the role. The rest of such an ARN is lower-case already. Other
  // resources match case-sensitively.
  const fold = ROLE_ARN.test(resource)
  const named = patterns.some((p) => matchWildcard(fold ? p.toLowerCase() : p, resource, LITERAL_STAR))
  return statement.Resource !== undefined ? named : !named
}

const LITERAL_STAR = { literalStarInValue: true } as const
const ROLE_ARN = /^acs:ram::\d*:role\//

// ---------------------------------------------------------------------------------------------
// Trust

/**
 * The action an OIDC exchange performs. Alibaba's trust policies say `sts:AssumeRole` for every
 * principal type (spec §4.4); `sts:AssumeRoleWithOIDC`, seen in third-party code, is accepted as an
 * alias. Read so that the alias never widens access: an Allow applies when its Action names either
 * name (a NotAction naming either excludes it), a Deny when it covers either name.
 */
export const TRUST_ACTIONS: readonly string[] = ['sts:AssumeRole', 'sts:AssumeRoleWithOIDC']

/**
 * Whether a trust statement's Action / NotAction covers the exchange, as evaluateTrust reads it: an
 * Allow when its Action names either name (a NotAction naming either excludes it), a Deny when it
 * covers either name. A statement that does not can never apply, whatever the token: the grammar
 * refuses it in new trust policies (document.ts).
 */
export function coversTrustAction(statement: Pick<PolicyStatement, 'Effect'> & ActionElement): boolean {
  return statement.Effect === 'Deny' ? TRUST_ACTIONS.some((a) => actionApplies(statement, [a])) : actionApplies(statement, TRUST_ACTIONS)
}

export interface OidcClaims {
  readonly iss: string
  /** Every audience of the token (a string `aud` claim becomes a one-element array). */
  readonly aud: readonly string[]
  readonly sub: string
  readonly [claim: string]: unknown
}

export interface TrustRequest {
  /** The `OIDCProviderArn` of the exchange, already resolved to a provider of the role's account. */
  readonly providerArn: string
  /** Verified token claims. */
  readonly claims: OidcClaims
  readonly now: Date
  readonly sourceIp?: string
}

export interface TrustStatementResult {
  readonly statementIndex: number
  readonly effect: Effect
  readonly applies: boolean
  /** `Statement[0]: condition StringLike oidc:sub not satisfied`, `Statement[1]: applies`, ... */
  readonly reason: string
}

export interface TrustEvaluation {
  readonly decision: Decision
  /** The statement that decided (the Deny that applied, or the first Allow that applied). */
  readonly statementIndex?: number
  /** One line for logs or a dry-run API; never contains claim values. */
  readonly reason: string
  readonly statements: readonly TrustStatementResult[]
}

/** Condition keys an OIDC exchange offers: `oidc:iss`, `oidc:aud` (all audiences), `oidc:sub`, `acs:CurrentTime`, `acs:SourceIp`. */
export function createTrustContext(request: TrustRequest): RequestContext {
  const { iss, aud, sub } = request.claims
  // What createRequestContext would build from these keys (lower-cased, absent when undefined or
  // empty), written out: every exchange builds one, and the generic loop lower-cased four constant
  // names and copied each value into a fresh array. The claims are verified and never changed
  // afterwards, so `aud` is shared rather than copied.
  const values: Record<string, readonly string[]> = { 'oidc:iss': [iss], 'oidc:sub': [sub] }
  if (aud.length > 0) values['oidc:aud'] = aud
  if (request.sourceIp !== undefined) values['acs:sourceip'] = [request.sourceIp]
  return { values, now: request.now }
}

/**
 * May this OIDC exchange assume the role? Allow iff some Allow statement applies and no Deny
 * statement does. A statement applies when its Action covers `TRUST_ACTIONS`, its
 * `Principal.Federated` lists `providerArn` exactly (case-sensitive, no wildcards: the grammar
 * refuses them, so trusting "every provider" cannot be written by accident), and its Condition holds.
 * Resource is not consulted: a trust policy is about its own role (new ones cannot carry one; one
 * stored before that rule may).
 */
export function evaluateTrust(trust: PolicyDocument, request: TrustRequest): TrustEvaluation {
  const context = createTrustContext(request)
  const statements: TrustStatementResult[] = []
  for (let statementIndex = 0; statementIndex < trust.Statement.length; statementIndex++) {
    statements.push(trustStatementResult(trust.Statement[statementIndex]!, statementIndex, request.providerArn, context))
  }

  // Any Deny that applies decides; else the first Allow that applies.
  let allow: TrustStatementResult | undefined
  for (const s of statements) {
    if (!s.applies) continue
    if (s.effect === 'Deny') return { decision: 'ExplicitDeny', statementIndex: s.statementIndex, reason: s.reason, statements }
    allow ??= s
  }
  if (allow !== undefined) {
    return { decision: 'Allow', statementIndex: allow.statementIndex, reason: allow.reason, statements }
  }
  const allows = statements.filter((s) => s.effect === 'Allow')
  const reason =
    allows.length === 0
      ? 'no Allow statement in the trust policy'
      : `no Allow statement applies: ${allows.map((s) => s.reason).join('; ')}`
  return { decision: 'ImplicitDeny', reason, statements }
}

function trustStatementResult(statement: PolicyStatement, statementIndex: number, providerArn: string, context: RequestContext): TrustStatementResult {
  const effect = statement.Effect
  let why: string | undefined
  if (!coversTrustAction(statement)) why = 'action does not cover sts:AssumeRole'
  else if (!(statement.Principal?.Federated ?? []).includes(providerArn)) why = 'Principal.Federated does not list the OIDC provider'
  else if (statement.Condition !== undefined) {
    const failed = findUnsatisfiedCondition(statement.Condition, context)
    if (failed !== undefined) why = `condition ${failed.operator} ${failed.key} not satisfied`
  }
  return why === undefined
    ? { statementIndex, effect, applies: true, reason: `Statement[${statementIndex}]: ${effect} applies` }
    : { statementIndex, effect, applies: false, reason: `Statement[${statementIndex}]: ${why}` }
}
