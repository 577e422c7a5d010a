// The single DynamoDB table and its entities (dynamodb-toolbox v2): the only place that knows key layouts.
//
// Access patterns (pk / sk):
// | item                          | pk                         | sk                        | used by                          |
// |-------------------------------|----------------------------|---------------------------|----------------------------------|
// | account (quota counters)      | ACCOUNT#<accountId>        | ACCOUNT                   | create* transactions (counters)  |
// | access key                    | AK#<accessKeyId>           | AK                        | request authentication (GetItem) |
// | OIDC provider                 | ACCOUNT#<accountId>        | OIDCPROVIDER#<name>       | IMS actions; Query for List      |
// | issuer uniqueness guard       | ACCOUNT#<accountId>        | OIDCISSUER#<issuerUrl>    | CreateOIDCProvider transaction   |
// | request nonce (TTL)           | NONCE#<accessKeyId>#<nonce>| NONCE                     | replay protection (cond. put)    |
// | RAM role                      | ACCOUNT#<accountId>        | ROLE#<lower-cased name>   | RAM role actions; Query for List |
// | role ID guard                 | ROLEID#<roleId>            | ROLEID                    | CreateRole transaction (unique)  |
// | custom policy                 | ACCOUNT#<accountId>        | POLICY#<name>             | RAM policy actions; Query (List) |
// | system policy use counter     | ACCOUNT#<accountId>        | SYSPOLICYUSE#<name>       | attach/detach transactions       |
// | attachment role <- policy     | ACCOUNT#<accountId>        | ATTACH#<role>#<type>#<pol>| attach/detach; Query per role    |
// | provider health               | HEALTH#<accountId>         | OIDCHEALTH#<name>         | health check; Get/List health    |
// | JWKS copy                     | JWKS#<issuer>              | JWKS                      | key refresh; cold token exchange |
// | audit record (TTL)            | AUDIT#<account>#<day>      | <ISO time>#<requestId>    | exchanges (batched); ListAudit…  |
// Sparse GSI `byIssuer` (issuerUrl / sk): providers, issuer guards and health records only; scanned by
// the scheduled health check, queried by key refresh (store/provider-directory.ts).
// Role names are case-insensitive (key lower-cased, display case kept in the item); policy names are
// case-sensitive. Attachment `<role>` is the lower-cased role name, `<type>` System or Custom.
// Health, JWKS-copy and audit entities live in health-store.ts, jwks-copy-store.ts, audit-store.ts.
// No Scan on a request path. TTL attribute: expiresAt (epoch seconds).

import { Agent as HttpAgent } from 'node:http'
import { Agent as HttpsAgent } from 'node:https'
import { DynamoDBClient } from '@aws-sdk/client-dynamodb'
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb'
import { Entity, Table, boolean, item, list, map, number, string } from 'dynamodb-toolbox'

// Key layouts live in table-keys.ts (no SDK import), so the raw hot-path reads (hot-reads.ts) share them.
import { ACCOUNT_SK, accountPk, attachmentPrefix, POLICY_PREFIX, PROVIDER_PREFIX, ROLE_PREFIX, SYSTEM_POLICY_USE_PREFIX } from './table-keys.ts'
import { storeBounds } from './store-timeouts.ts'
export * from './table-keys.ts'

export interface StoreOptions {
  tableName: string
  region: string
  /** e.g. DynamoDB Local's http://127.0.0.1:8000; unset on AWS. */
  endpoint?: string | undefined
  /**
   * Fail fast when the store is down instead of hanging (ms, per attempt): bounds the connection and
   * the whole request. Default connect 2 s, request 5 s: storeBounds() in store-timeouts.ts.
   */
  requestTimeoutMs?: number | undefined
}

export function createDocumentClient(opts: StoreOptions): DynamoDBDocumentClient {
  const bounds = storeBounds(opts)
  const client = new DynamoDBClient({
    region: opts.region,
    ...(opts.endpoint
      ? {
          endpoint: opts.endpoint,
          // DynamoDB Local accepts any credentials; never pick up the developer's real ones for it.
          credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
        }
      : {}),
    // Two attempts: a store that is down must surface as ServiceUnavailable quickly, not hang.
    maxAttempts: bounds.maxAttempts,
    requestHandler: {
      connectionTimeout: bounds.connectTimeoutMs,
      requestTimeout: bounds.requestTimeoutMs,
      // Without this the SDK only logs when requestTimeout elapses: a store that accepts connections
      // but never answers would hang the request.
      throwOnRequestTimeout: true,
      // The local server runs many requests at once; waiting for a free socket must not count as a
      // connection timeout (Lambda runs one request per instance).
      httpAgent: new HttpAgent({ keepAlive: true, maxSockets: 256 }),
      httpsAgent: new HttpsAgent({ keepAlive: true, maxSockets: 256 }),
    },
  })
  return DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } })
}

export function defineTable(documentClient: DynamoDBDocumentClient, tableName: string) {
  const table = new Table({
    name: tableName,
    documentClient,
    partitionKey: { name: 'pk', type: 'string' },
    sortKey: { name: 'sk', type: 'string' },
  })

  const AccountEntity = new Entity({
    name: 'Account',
    table,
    schema: item({
      accountId: string().key(),
      providerCount: number().default(0),
      // RAM quotas; absent on accounts created before roles existed (conditions treat absent as 0).
      roleCount: number().optional().default(0),
      policyCount: number().optional().default(0),
      createdAt: number(),
    }),
    computeKey: ({ accountId }) => ({ pk: accountPk(accountId), sk: ACCOUNT_SK }),
    timestamps: false,
  })

  const AccessKeyEntity = new Entity({
    name: 'AccessKey',
    table,
    schema: item({
      accessKeyId: string().key(),
      accountId: string(),
      // Needed in clear to verify HMAC signatures (as Alibaba's own AK store must); protect the table.
      secret: string(),
      status: string().enum('Active', 'Inactive'),
      // The bootstrap account's key may call operator actions (CreateAccount); denormalised here so
      // authentication needs one read.
      operator: boolean().default(false),
      createdAt: number(),
    }),
    computeKey: ({ accessKeyId }) => ({ pk: `AK#${accessKeyId}`, sk: 'AK' }),
    timestamps: false,
  })

  const ProviderEntity = new Entity({
    name: 'OIDCProvider',
    table,
    schema: item({
      accountId: string().key(),
      name: string().key(),
      issuerUrl: string(),
      clientIds: list(string()),
      fingerprints: list(string()),
      issuanceLimitTime: number(),
      description: string(),
      createdAt: number(),
      updatedAt: number(),
      version: number(),
    }),
    computeKey: ({ accountId, name }) => ({ pk: accountPk(accountId), sk: `${PROVIDER_PREFIX}${name}` }),
    timestamps: false,
  })

  const IssuerGuardEntity = new Entity({
    name: 'OIDCIssuerGuard',
    table,
    schema: item({
      accountId: string().key(),
      issuerUrl: string().key(),
      providerName: string(),
    }),
    computeKey: ({ accountId, issuerUrl }) => ({ pk: accountPk(accountId), sk: `OIDCISSUER#${issuerUrl}` }),
    timestamps: false,
  })

  const NonceEntity = new Entity({
    name: 'Nonce',
    table,
    schema: item({
      accessKeyId: string().key(),
      nonce: string().key(),
      /** Random id of the call that used the nonce (nonce-store.ts: recognises the SDK retrying our own write). */
      sig: string().optional(),
      expiresAt: number(),
    }),
    computeKey: ({ accessKeyId, nonce }) => ({ pk: `NONCE#${accessKeyId}#${nonce}`, sk: 'NONCE' }),
    timestamps: false,
  })

  const tagList = () => list(map({ key: string(), value: string() }))

  const RoleEntity = new Entity({
    name: 'Role',
    table,
    schema: item({
      accountId: string().key(),
      /** Lower-cased role name: names are unique case-insensitively. */
      nameKey: string().key(),
      roleName: string(),
      roleId: string(),
      description: string(),
      /** Normalised trust policy (serializePolicyDocument). */
      trustPolicy: string(),
      maxSessionDuration: number(),
      tags: tagList(),
      /** Policies attached; bounded by the per-role quota, must be 0 to delete. */
      attachmentCount: number(),
      createdAt: number(),
      updatedAt: number(),
      version: number(),
    }),
    computeKey: ({ accountId, nameKey }) => ({ pk: accountPk(accountId), sk: `${ROLE_PREFIX}${nameKey}` }),
    timestamps: false,
  })

  const RoleIdGuardEntity = new Entity({
    name: 'RoleIdGuard',
    table,
    schema: item({
      roleId: string().key(),
      accountId: string(),
      nameKey: string(),
    }),
    computeKey: ({ roleId }) => ({ pk: `ROLEID#${roleId}`, sk: 'ROLEID' }),
    timestamps: false,
  })

  const PolicyEntity = new Entity({
    name: 'Policy',
    table,
    schema: item({
      accountId: string().key(),
      policyName: string().key(),
      description: string(),
      /** Normalised permission policy (serializePolicyDocument) of the default version. */
      document: string(),
      defaultVersion: string(),
      tags: tagList(),
      /** Roles the policy is attached to; must be 0 to delete. */
      attachmentCount: number(),
      createdAt: number(),
      updatedAt: number(),
      version: number(),
    }),
    computeKey: ({ accountId, policyName }) => ({ pk: accountPk(accountId), sk: `${POLICY_PREFIX}${policyName}` }),
    timestamps: false,
  })

  const SystemPolicyUseEntity = new Entity({
    name: 'SystemPolicyUse',
    table,
    schema: item({
      accountId: string().key(),
      policyName: string().key(),
      attachmentCount: number(),
    }),
    computeKey: ({ accountId, policyName }) => ({ pk: accountPk(accountId), sk: `${SYSTEM_POLICY_USE_PREFIX}${policyName}` }),
    timestamps: false,
  })

  const AttachmentEntity = new Entity({
    name: 'PolicyAttachment',
    table,
    schema: item({
      accountId: string().key(),
      roleKey: string().key(),
      policyType: string().enum('System', 'Custom').key(),
      policyName: string().key(),
      attachedAt: number(),
    }),
    computeKey: ({ accountId, roleKey, policyType, policyName }) => ({
      pk: accountPk(accountId),
      sk: `${attachmentPrefix(roleKey)}${policyType}#${policyName}`,
    }),
    timestamps: false,
  })

  return {
    table,
    AccountEntity,
    AccessKeyEntity,
    ProviderEntity,
    IssuerGuardEntity,
    NonceEntity,
    RoleEntity,
    RoleIdGuardEntity,
    PolicyEntity,
    SystemPolicyUseEntity,
    AttachmentEntity,
  }
}

export type StoreTable = ReturnType<typeof defineTable>
