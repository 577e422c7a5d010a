// Opens the table once and hands out the per-entity stores (module scope in a Lambda: reused while warm).

import type { Config } from '../config.ts'
import { AccountStore } from './account-store.ts'
import { AttachmentStore } from './attachment-store.ts'
import { AuditStore } from './audit-store.ts'
import { HealthStore } from './health-store.ts'
import { JwksCopyStore } from './jwks-copy-store.ts'
import { NonceStore } from './nonce-store.ts'
import { OidcProviderStore } from './oidc-provider-store.ts'
import { PolicyStore } from './policy-store.ts'
import { ProviderDirectory } from './provider-directory.ts'
import { RoleStore } from './role-store.ts'
import type { StoreTimeouts } from './store-timeouts.ts'
import { createDocumentClient, defineTable } from './table.ts'

/** `timeouts`: the Lambda functions' own bounds on AWS (store-timeouts.ts); the defaults otherwise. */
export function openStores(config: Pick<Config, 'tableName' | 'region' | 'dynamodbEndpoint'> & Partial<Pick<Config, 'auditRetentionDays'>>, timeouts: StoreTimeouts = {}) {
  const documentClient = createDocumentClient({ tableName: config.tableName, region: config.region, endpoint: config.dynamodbEndpoint, requestTimeoutMs: timeouts.requestTimeoutMs })
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
    health: new HealthStore(table),
    jwksCopies: new JwksCopyStore(table),
    /** Every account's providers, for the background jobs only (sparse issuer index). */
    providerDirectory: new ProviderDirectory(documentClient, config.tableName),
  }
}

export type Stores = ReturnType<typeof openStores>
