// Opens the table once and hands out the per-entity stores (module scope in a Lambda: reused while warm).

import type { Config } from '../config.ts'
import { AccountStore } from './account-store.ts'
import { AttachmentStore } from './attachment-store.ts'
import { AuditStore } from './audit-store.ts'
import { NonceStore } from './nonce-store.ts'
import { OidcProviderStore } from './oidc-provider-store.ts'
import { PolicyStore } from './policy-store.ts'
import { RoleStore } from './role-store.ts'
import { createDocumentClient, defineTable } from './table.ts'

export function openStores(config: Pick<Config, 'tableName' | 'region' | 'dynamodbEndpoint'> & Partial<Pick<Config, 'auditRetentionDays'>>) {
  const documentClient = createDocumentClient({ tableName: config.tableName, region: config.region, endpoint: config.dynamodbEndpoint })
  const table = defineTable(documentClient, config.tableName)
  const roles = new RoleStore(table)
  const policies = new PolicyStore(table)
  return {
    documentClient,
    table,
    accounts: new AccountStore(table),
    providers: new OidcProviderStore(table),
    nonces: new NonceStore(table),
    roles,
    policies,
    attachments: new AttachmentStore(table, roles, policies),
    audit: new AuditStore(table, config.auditRetentionDays),
  }
}

export type Stores = ReturnType<typeof openStores>
