// Decides whether a caller may perform an action on a resource. The root AccessKey may do everything
// in its own account; operator-only actions need the bootstrap account's key. Temporary credentials
// are evaluated by the policy engine (roles/policies issue): until then they are denied.

import { ApiError } from '../errors.ts'
import type { Caller } from '../http/action.ts'
import type { Authorize } from '../http/app.ts'

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

export const authorizeRequest: Authorize = (caller, permission, def) => {
  const action = permission?.action ?? `${def.product.toLowerCase()}:${def.name}`
  if (def.operatorOnly) {
    if (caller.type === 'root' && caller.operator) return
    throw noPermission(caller, action, 'ImplicitDeny')
  }
  if (permission && resourceAccount(permission.resource) !== caller.accountId) {
    throw noPermission(caller, action, 'ImplicitDeny')
  }
  if (caller.type === 'root') return
  throw noPermission(caller, action, 'ImplicitDeny', 'AccountLevelIdentityBasedPolicy')
}
