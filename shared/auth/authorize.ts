// Decides whether a caller may perform an action on a resource. Nothing crosses accounts: a resource
// of another account is denied to everyone. The root AccessKey may do everything in its own account;
// operator-only actions need the bootstrap account's key. Temporary credentials (an assumed role) get
// what the role's attached policies allow, intersected with the session policy, decided by the policy
// engine (shared/policy/evaluate.ts) on `ram:<Action>` / `sts:<Action>`, the resource ARN, and the
// condition keys: those of every signed call, and the action's own (Permission.context).

import { TtlCache } from '../cache/ttl-cache.ts'
import { ApiError } from '../errors.ts'
import type { ActionDefinition, Caller, Permission, RequestInfo } from '../http/action.ts'
import type { Authorize } from '../http/app.ts'
import { createRequestContext } from '../policy/conditions.ts'
import { parsePolicyDocument, type PolicyDocument } from '../policy/document.ts'
import { evaluateWithSession, testsConditionKey } from '../policy/evaluate.ts'
import { findSystemPolicy } from '../services/ram-system-policies.ts'
import type { AttachmentStore } from '../store/attachment-store.ts'
import type { PolicyStore } from '../store/policy-store.ts'
import type { RoleStore } from '../store/role-store.ts'
import { roleKeyOf } from '../validation/ram-rules.ts'

export function noPermission(caller: Caller, action: string, type: 'ImplicitDeny' | 'ExplicitDeny', policyType?: string): ApiError {
  return new ApiError('NoPermission', `You are not authorized to do this action. Action: ${action}`, {
    detail: {
      AuthAction: action,
      AuthPrincipalType: caller.type === 'root' ? 'Account' : 'AssumedRoleUser',
      AuthPrincipalOwnerId: caller.accountId,
      AuthPrincipalDisplayName: caller.type === 'root' ? caller.accountId : `${caller.roleName}:${caller.sessionName}`,
      NoPermissionType: type,
      ...(policyType ? { PolicyType: policyType } : {}),
    },
  })
}

/** The resource's account segment (`acs:ram::<account>:...`); nothing crosses accounts. */
function resourceAccount(resource: string): string | undefined {
  return /^acs:[a-z0-9-]*:[^:]*:(\d{16}|\*):/.exec(resource)?.[1]
}

const resourcesOf = (permission: Permission): readonly string[] => (typeof permission.resource === 'string' ? [permission.resource] : permission.resource)

const actionName = (permission: Permission | undefined, def: ActionDefinition<unknown, unknown>) =>
  permission?.action ?? `${def.product.toLowerCase()}:${def.name}`

/**
 * The checks that need no policy: operator-only actions, the resource's account, the root key.
 * Returns true when the caller is allowed outright (root in its own account).
 */
function checkWithoutPolicies(caller: Caller, permission: Permission | undefined, def: ActionDefinition<unknown, unknown>): boolean {
  const action = actionName(permission, def)
  if (def.operatorOnly) {
    if (caller.type === 'root' && caller.operator) return true
    throw noPermission(caller, action, 'ImplicitDeny')
  }
  if (permission && resourcesOf(permission).some((r) => resourceAccount(r) !== caller.accountId)) {
    throw noPermission(caller, action, 'ImplicitDeny')
  }
  return caller.type === 'root'
}

/**
 * The action's own condition keys (Permission.context) as values: a key given as a function (one that
 * costs a read, such as the stored provider's `ram:OidcIssuerUrl`) is read only when a policy that
 * could apply to this action tests it; otherwise it stays absent, which cannot change the decision.
 */
async function resolveActionKeys(
  permission: Permission | undefined,
  action: string,
  policies: readonly (PolicyDocument | undefined)[],
): Promise<Record<string, string | undefined>> {
  const out: Record<string, string | undefined> = {}
  const context = permission?.context
  if (context === undefined) return out
  for (const key of Object.keys(context)) {
    const value = context[key]
    if (typeof value !== 'function') out[key] = value
    else if (testsConditionKey(policies, action, key.toLowerCase())) out[key] = await value()
  }
  return out
}

export interface AuthorizerDeps {
  roles: Pick<RoleStore, 'get'>
  policies: Pick<PolicyStore, 'get'>
  attachments: Pick<AttachmentStore, 'listForRole'>
  /**
   * How long a role's loaded policies may be reused (ms), which bounds how late a detach or an
   * UpdateRole takes effect on live sessions. At most 5000; 0 disables the cache.
   */
  cacheMs?: number
  /** Milliseconds clock for cache ages (tests). */
  clock?: () => number
}

export const MAX_ROLE_POLICY_CACHE_MS = 5000
const ROLE_POLICY_CACHE_MAX = 500

interface RolePolicies {
  /** The role's ID when loaded, or undefined if the role does not exist. */
  roleId: string | undefined
  documents: readonly PolicyDocument[]
}

export interface Authorizer extends Authorize {
  /** Forgets every cached role (tests). */
  clearCache(): void
}

/**
 * The service's Authorize: store-backed for assumed-role callers. A role's attachments and policy
 * documents are read once and cached per container (bounded in size and age), and a session whose
 * role was deleted or re-created under the same name (a different RoleId) gets no permission at all.
 */
export function createAuthorizer(deps: AuthorizerDeps): Authorizer {
  const cacheMs = Math.min(Math.max(deps.cacheMs ?? MAX_ROLE_POLICY_CACHE_MS, 0), MAX_ROLE_POLICY_CACHE_MS)
  const clock = deps.clock ?? Date.now
  // Per-container: at most ROLE_POLICY_CACHE_MAX roles, each trusted for cacheMs (<= 5 s) after its
  // read; concurrent requests for one role share a single load.
  const cache = new TtlCache<string, RolePolicies>({ ttlMs: cacheMs, maxEntries: ROLE_POLICY_CACHE_MAX, now: clock })

  const load = async (accountId: string, roleName: string): Promise<RolePolicies> => {
    const role = await deps.roles.get(accountId, roleName)
    if (!role) return { roleId: undefined, documents: [] }
    const attachments = await deps.attachments.listForRole(accountId, roleName)
    const documents = await Promise.all(
      attachments.map(async (a) => {
        if (a.policyType === 'System') return findSystemPolicy(a.policyName)?.document
        const policy = await deps.policies.get(accountId, a.policyName)
        return policy ? parsePolicyDocument(policy.document, 'permission', { stored: true }) : undefined
      }),
    )
    return { roleId: role.roleId, documents: documents.filter((d): d is PolicyDocument => d !== undefined) }
  }

  const rolePolicies = (accountId: string, roleName: string): Promise<RolePolicies> =>
    cache.get(`${accountId}/${roleKeyOf(roleName)}`, () => load(accountId, roleName))

  const authorize = async (caller: Caller, permission: Permission | undefined, def: ActionDefinition<unknown, unknown>, request?: RequestInfo) => {
    if (checkWithoutPolicies(caller, permission, def)) return
    if (caller.type !== 'assumed-role') throw noPermission(caller, actionName(permission, def), 'ImplicitDeny')
    const action = actionName(permission, def)
    const loaded = await rolePolicies(caller.accountId, caller.roleName)
    const documents = loaded.roleId === caller.roleId ? loaded.documents : []
    const actionKeys = await resolveActionKeys(permission, action, [...documents, caller.sessionPolicy])
    const context = createRequestContext(
      {
        ...actionKeys,
        // After the action's keys: an action cannot supply these.
        'acs:SourceIp': request?.sourceIp,
        'acs:AccessId': caller.accessKeyId,
        'acs:SecureTransport': request === undefined ? undefined : String(request.secureTransport),
        // Every call is signed with an AccessKey or STS credentials; none is made with MFA (this service
        // has no console sign-in). Given rather than left absent: an absent key satisfies no Bool, so
        // the common "Deny when acs:MFAPresent is false" would never fire.
        'acs:MFAPresent': 'false',
      },
      request?.now,
    )
    // Every resource must be allowed; an explicit Deny on any one is reported as such.
    let refused: ReturnType<typeof evaluateWithSession> | undefined
    for (const resource of permission === undefined ? ['*'] : resourcesOf(permission)) {
      const evaluation = evaluateWithSession(documents, caller.sessionPolicy, { action, resource, context })
      if (evaluation.decision === 'ExplicitDeny') throw noPermission(caller, action, evaluation.decision, evaluation.deniedBy)
      if (evaluation.decision !== 'Allow') refused ??= evaluation
    }
    if (refused !== undefined) throw noPermission(caller, action, refused.decision as 'ImplicitDeny', refused.deniedBy)
  }
  return Object.assign(authorize, { clearCache: () => cache.clear() })
}
