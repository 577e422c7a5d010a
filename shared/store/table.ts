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
// Later issues add roles, policies, attachments, health, JWKS copies and audit records (design.md).
// No Scan on a request path. TTL attribute: expiresAt (epoch seconds).

import { DynamoDBClient } from '@aws-sdk/client-dynamodb'
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb'
import { Entity, Table, boolean, item, list, number, string } from 'dynamodb-toolbox'

export const ACCOUNT_SK = 'ACCOUNT'
export const accountPk = (accountId: string) => `ACCOUNT#${accountId}`
export const PROVIDER_PREFIX = 'OIDCPROVIDER#'

export interface StoreOptions {
  tableName: string
  region: string
  /** e.g. DynamoDB Local's http://127.0.0.1:8000; unset on AWS. */
  endpoint?: string | undefined
  /** Fail fast when the store is down instead of hanging (ms). */
  requestTimeoutMs?: number
}

export function createDocumentClient(opts: StoreOptions): DynamoDBDocumentClient {
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
    maxAttempts: 2,
    requestHandler: {
      connectionTimeout: opts.requestTimeoutMs ?? 2000,
      requestTimeout: opts.requestTimeoutMs ?? 5000,
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
      expiresAt: number(),
    }),
    computeKey: ({ accessKeyId, nonce }) => ({ pk: `NONCE#${accessKeyId}#${nonce}`, sk: 'NONCE' }),
    timestamps: false,
  })

  return { table, AccountEntity, AccessKeyEntity, ProviderEntity, IssuerGuardEntity, NonceEntity }
}

export type StoreTable = ReturnType<typeof defineTable>
