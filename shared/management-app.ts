// The management API's actions: IMS OIDC providers, RAM roles and policies, and the operator
// extensions. functions/management.ts serves exactly these; the local runner adds the STS ones.

import type { ActionDefinition } from './http/action.ts'
import { accountActions } from './services/accounts.ts'
import { auditActions } from './services/audit-actions.ts'
import { oidcProviderActions } from './services/oidc-provider-actions.ts'
import { providerHealthActions } from './services/provider-health-actions.ts'
import { ramPolicyActions } from './services/ram-policy-actions.ts'
import { ramRoleActions } from './services/ram-role-actions.ts'
import type { Stores } from './store/stores.ts'

export function managementActions(): ActionDefinition<any, Stores>[] { // eslint-disable-line @typescript-eslint/no-explicit-any
  return [...oidcProviderActions, ...ramRoleActions, ...ramPolicyActions, ...accountActions, ...auditActions, ...providerHealthActions]
}
