// The token-exchange function's raw reads (shared/store/hot-reads.ts on raw-dynamodb.ts) return exactly
// what the dynamodb-toolbox stores return for the same items on DynamoDB Local, absent items included,
// and reject items that do not match the entity's schema as the toolbox does (InternalError).

import { describe, expect, it } from 'vitest'
import { HotReads } from '../../shared/store/hot-reads.ts'
import { JwksCopyStore } from '../../shared/store/jwks-copy-store.ts'
import { OidcProviderStore } from '../../shared/store/oidc-provider-store.ts'
import { rawCredentials } from '../../shared/aws/raw-json-client.ts'
import { RawDynamo } from '../../shared/store/raw-dynamodb.ts'
import { RoleStore } from '../../shared/store/role-store.ts'
import { openExchangeStores } from '../../shared/store/exchange-stores.ts'
import { deployedStoreTimeouts, storeBounds } from '../../shared/store/store-timeouts.ts'
import { silentServer } from '../support/silent-server.ts'
import { createTestTable } from '../support/store.ts'

describe('hot reads: raw GetItem vs the toolbox stores', async () => {
  const { endpoint, tableName, documentClient, table } = await createTestTable('hot')
  const hot = new HotReads(new RawDynamo({ region: 'us-east-1', endpoint, credentials: rawCredentials(endpoint)!, ...storeBounds() }), tableName)
  const providers = new OidcProviderStore(table)
  const roles = new RoleStore(table)
  const copies = new JwksCopyStore(table)
  const accountId = '1234567890123456'

  it('reads a provider, a role (case-insensitive name) and a JWKS copy identically; absent items are undefined', async () => {
    await table.AccountEntity.build((await import('dynamodb-toolbox')).PutItemCommand).item({ accountId, providerCount: 0, roleCount: 0, policyCount: 0, createdAt: 1 }).send()
    await providers.create({ accountId, name: 'gh', issuerUrl: 'https://idp.example/a', clientIds: ['sts.aliyuncs.com', 'x'], fingerprints: ['a'.repeat(40)], issuanceLimitTime: 12, description: 'd ü', createdAt: 1, updatedAt: 2, version: 1 })
    await roles.create({ accountId, roleName: 'Deployer', description: '', trustPolicy: '{"Version":"1","Statement":[]}', maxSessionDuration: 3600, tags: [{ key: 'k', value: 'v' }], createdAt: 1, updatedAt: 1 }, () => '300000000000000001')
    const copy = { issuer: 'https://idp.example/a', jwksUri: 'https://idp.example/a/jwks', jwks: { keys: [] }, discoveryChain: [], jwksChain: [], matchedFingerprints: { discovery: 'a', jwks: 'a' }, lastSentSha1: { discovery: 'a', jwks: 'a' }, fetchedAt: 5 }
    await copies.put(copy, 6)
    expect(await hot.provider(accountId, 'gh')).toEqual(await providers.get(accountId, 'gh'))
    expect(await hot.provider(accountId, 'gh')).toBeDefined()
    expect(await hot.role(accountId, 'DEPLOYER')).toEqual(await roles.get(accountId, 'deployer'))
    expect(await hot.role(accountId, 'deployer')).toMatchObject({ roleName: 'Deployer', roleId: '300000000000000001', tags: [{ key: 'k', value: 'v' }] })
    expect(await hot.jwksCopy(copy.issuer)).toEqual(await copies.get(copy.issuer))
    expect(await hot.jwksCopy(copy.issuer)).toMatchObject({ copy })
    expect(await hot.provider(accountId, 'nope')).toBeUndefined()
    expect(await hot.role(accountId, 'nope')).toBeUndefined()
    expect(await hot.jwksCopy('https://nope.example')).toBeUndefined()
  })

  it('answers InternalError for an item that does not match its entity, as the toolbox store does', async () => {
    await documentClient.send(new (await import('@aws-sdk/lib-dynamodb')).PutCommand({ TableName: tableName, Item: { pk: `ACCOUNT#${accountId}`, sk: 'OIDCPROVIDER#bad', _et: 'OIDCProvider', accountId, name: 'bad', clientIds: 'not a list' } }))
    await expect(providers.get(accountId, 'bad')).rejects.toMatchObject({ code: 'InternalError' })
    await expect(hot.provider(accountId, 'bad')).rejects.toMatchObject({ code: 'InternalError' })
  })

  it('maps a missing table to ServiceUnavailable and a dead endpoint to ServiceUnavailable, as the SDK path does', async () => {
    const missing = new HotReads(new RawDynamo({ region: 'us-east-1', endpoint, credentials: rawCredentials(endpoint)!, ...storeBounds() }), 'no-such-table')
    await expect(missing.provider(accountId, 'gh')).rejects.toMatchObject({ code: 'ServiceUnavailable' })
    const dead = new HotReads(new RawDynamo({ region: 'us-east-1', endpoint: 'http://127.0.0.1:9', credentials: rawCredentials('x')!, ...storeBounds() }), tableName)
    await expect(dead.provider(accountId, 'gh')).rejects.toMatchObject({ code: 'ServiceUnavailable' })
  })

  it('openExchangeStores: hot reads for the exchange, every other store method delegated to the toolbox stores', async () => {
    const s = openExchangeStores({ tableName, region: 'us-east-1', dynamodbEndpoint: endpoint })
    expect(await s.roles.get(accountId, 'deployer')).toEqual(await roles.get(accountId, 'deployer'))
    // A store method without a hot read (signed calls' access keys) reads the real item through the toolbox store.
    const { AccountStore } = await import('../../shared/store/account-store.ts')
    const key = { accessKeyId: 'LTAIHOTREADS0001', accountId, secret: 's'.repeat(30), status: 'Active' as const, operator: false, createdAt: 7 }
    await new AccountStore(table).putAccessKey(key)
    expect(await s.accounts.getAccessKey(key.accessKeyId)).toEqual(key)
    expect(await s.accounts.getAccessKey('NOSUCHKEY0000000')).toBeUndefined()
    expect((await s.roles.list(accountId, 10)).items.map((r) => r.roleName)).toEqual(['Deployer'])
  })

  it('openExchangeStores: its per-attempt bound applies to the raw reads and to the toolbox stores (a table that accepts connections and never answers)', async () => {
    const silent = await silentServer()
    try {
      const s = openExchangeStores({ tableName, region: 'us-east-1', dynamodbEndpoint: silent.url }, { requestTimeoutMs: 300 })
      // 2 attempts × 300 ms and a little backoff; the defaults (5 s per attempt) would take seconds.
      for (const read of [() => s.providers.get(accountId, 'gh'), () => s.jwksCopies.get('https://idp.example/a'), () => s.accounts.getAccessKey('LTAIHOTREADS0001')]) {
        const started = Date.now()
        await expect(read()).rejects.toMatchObject({ code: 'ServiceUnavailable' })
        expect(Date.now() - started).toBeGreaterThanOrEqual(2 * 300 - 50)
        expect(Date.now() - started).toBeLessThan(2_000)
      }
    } finally {
      await silent.close()
    }
  })

  it('takes the deployed per-attempt bound against DynamoDB itself, the defaults against an endpoint (DynamoDB Local)', () => {
    expect(deployedStoreTimeouts(undefined, 1500)).toEqual({ requestTimeoutMs: 1500 })
    expect(deployedStoreTimeouts('http://127.0.0.1:8000', 1500)).toEqual({})
  })

  it('uses Lambda environment credentials without an endpoint, and none otherwise', () => {
    expect(rawCredentials(undefined, { AWS_ACCESS_KEY_ID: 'AKIA', AWS_SECRET_ACCESS_KEY: 's', AWS_SESSION_TOKEN: 't' })).toEqual({ accessKeyId: 'AKIA', secretAccessKey: 's', sessionToken: 't' })
    expect(rawCredentials(undefined, {})).toBeUndefined()
  })
})
