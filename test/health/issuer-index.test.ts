// The sparse issuer index the background jobs read, on DynamoDB Local: created with the table, added to a
// table made before it, holding providers (and their guards and health records) of every account and
// nothing else; the strict reading of the provider keys the table's stream names, and the read by key.
import { randomBytes } from 'node:crypto'
import { CreateTableCommand, DescribeTableCommand } from '@aws-sdk/client-dynamodb'
import { PutCommand, ScanCommand } from '@aws-sdk/lib-dynamodb'
import { describe, expect, it } from 'vitest'
import { startDynamoDbLocal } from '../../local/dynamodb-local.ts'
import { ensureTable } from '../../shared/store/create-table.ts'
import { ISSUER_INDEX, PROVIDER_READ_ATTRIBUTES, providerKeyOf } from '../../shared/store/provider-directory.ts'
import { openStores } from '../../shared/store/stores.ts'
import { createDocumentClient } from '../../shared/store/table.ts'
import { createTestTable } from '../support/store.ts'

const fp = (c: string) => c.repeat(40)

describe('the issuer index', () => {
  it('lists every account\'s providers by issuer, with their fingerprints, and no other items', async () => {
    const { endpoint, tableName } = await createTestTable('index')
    const stores = openStores({ tableName, region: 'us-east-1', dynamodbEndpoint: endpoint })
    const now = Date.now()
    for (const [account, name, issuer, fps] of [
      ['1111111111111111', 'a', 'https://one.example.com', [fp('a')]],
      ['2222222222222222', 'b', 'https://one.example.com', [fp('B')]],
      ['2222222222222222', 'c', 'https://two.example.com', []],
    ] as const) {
      await stores.accounts.createAccountWithKey(account, { accessKeyId: `LTAI${account}`, secret: 's'.repeat(30), status: 'Active', operator: false }, now).catch(() => undefined)
      await stores.providers.create({ accountId: account, name, issuerUrl: issuer, fingerprints: [...fps], clientIds: [], issuanceLimitTime: 12, description: '', createdAt: now, updatedAt: now, version: 1 })
    }
    await stores.nonces.consume('LTAIx', 'n1', 900, new Date())
    const byIssuer = await stores.providerDirectory.byIssuer('https://one.example.com')
    expect(byIssuer.sort((x, y) => x.name.localeCompare(y.name))).toEqual([
      { accountId: '1111111111111111', name: 'a', issuerUrl: 'https://one.example.com', fingerprints: [fp('a')] },
      { accountId: '2222222222222222', name: 'b', issuerUrl: 'https://one.example.com', fingerprints: [fp('b')] },
    ])
    const { providers, health } = await stores.providerDirectory.scan()
    expect(providers.map((p) => p.name).sort()).toEqual(['a', 'b', 'c'])
    expect(health).toEqual([])
    expect(await stores.providerDirectory.byIssuer('https://three.example.com')).toEqual([])
  })

  it('holds health records in a partition of their own per account, which the scan reads back', async () => {
    const { endpoint, tableName } = await createTestTable('health')
    const stores = openStores({ tableName, region: 'us-east-1', dynamodbEndpoint: endpoint })
    const account = '3333333333333333'
    const now = Date.now()
    const observation = { issuer: 'https://one.example.com', observedAt: now, keyIds: ['k1'], keyCount: 1, skippedKeys: [] }
    await stores.health.put({ accountId: account, name: 'ci', issuerUrl: observation.issuer, status: 'ok', checkedAt: now, statusChangedAt: now, checkedFingerprints: [fp('a')], fingerprintsToAdd: [], warningDays: 30, keyIds: ['k1'], observation })
    // HEALTH#<account>, never ACCOUNT#<account>: the health check's IAM grant (serverless.yml) names only HEALTH#*.
    const client = createDocumentClient({ tableName, region: 'us-east-1', endpoint })
    const raw = await client.send(new ScanCommand({ TableName: tableName }))
    expect(raw.Items?.map((i) => [i.pk, i.sk])).toEqual([[`HEALTH#${account}`, 'OIDCHEALTH#ci']])
    expect((await stores.health.listForAccount(account)).map((r) => r.name)).toEqual(['ci'])
    expect((await stores.providerDirectory.scan()).health).toEqual([{ accountId: account, name: 'ci', issuerUrl: observation.issuer }])
  })

  it('is added to a table created without it', async () => {
    // An engine of its own: DynamoDB Local builds indexes added later in the background, slowly when the
    // run's shared engine is busy with every other test's tables.
    const engine = await startDynamoDbLocal({ inMemory: true })
    try {
      await addToOldTable(engine.endpoint)
    } finally {
      await engine.stop()
    }
  }, 120_000)
})

async function addToOldTable(endpoint: string) {
  const tableName = `old-${randomBytes(4).toString('hex')}`
  const client = createDocumentClient({ tableName, region: 'us-east-1', endpoint })
  await client.send(new CreateTableCommand({
    TableName: tableName,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }, { AttributeName: 'sk', AttributeType: 'S' }],
    KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }, { AttributeName: 'sk', KeyType: 'RANGE' }],
  }))
  expect(await ensureTable(client, tableName)).toBe('exists')
  const index = (await client.send(new DescribeTableCommand({ TableName: tableName }))).Table?.GlobalSecondaryIndexes?.find((i) => i.IndexName === ISSUER_INDEX)
  expect(index).toMatchObject({ IndexStatus: 'ACTIVE', Projection: { ProjectionType: 'INCLUDE', NonKeyAttributes: ['fingerprints', 'status'] } })
}

describe('providers named by the table stream (keys only)', () => {
  const keys = { pk: { S: 'ACCOUNT#1234567890123456' }, sk: { S: 'OIDCPROVIDER#ci' } }

  it('reads a provider\'s key, and tells other items apart', () => {
    expect(providerKeyOf(keys)).toEqual({ kind: 'provider', accountId: '1234567890123456', name: 'ci' })
    expect(providerKeyOf({ pk: { S: 'NONCE#x' }, sk: { S: 'NONCE' } })).toEqual({ kind: 'other' })
    expect(providerKeyOf({ pk: { S: 'AK#LTAIabc' }, sk: { S: 'AK' } })).toEqual({ kind: 'other' })
  })

  it.each([
    ['not an object', 'x'],
    ['a list', [keys.pk, keys.sk]],
    ['a value with two types', { ...keys, sk: { S: 'OIDCPROVIDER#ci', N: '1' } }],
    ['a number key', { ...keys, pk: { N: '1' } }],
    ['an attribute that is no key', { ...keys, issuerUrl: { S: 'https://idp.example.com' } }],
    ['no sk', { pk: keys.pk }],
    ['an account pk that is not 16 digits', { ...keys, pk: { S: 'ACCOUNT#12' } }],
    ['a provider name that is not one', { ...keys, sk: { S: 'OIDCPROVIDER#a b' } }],
  ])('refuses Keys with %s', (_name, bad) => {
    expect(providerKeyOf(bad)).toMatchObject({ kind: 'rejected', reason: expect.any(String) })
  })

  it('reads the provider by key, its issuer and fingerprints only, strongly consistently', async () => {
    const { endpoint, tableName } = await createTestTable('by-key')
    const stores = openStores({ tableName, region: 'us-east-1', dynamodbEndpoint: endpoint })
    const sent: Record<string, unknown>[] = []
    stores.documentClient.middlewareStack.add((next) => async (args) => {
      sent.push(args.input as Record<string, unknown>)
      return next(args)
    }, { step: 'initialize' })
    const account = '4444444444444444'
    const now = Date.now()
    await stores.accounts.createAccountWithKey(account, { accessKeyId: `LTAI${account}`, secret: 's'.repeat(30), status: 'Active', operator: false }, now)
    await stores.providers.create({ accountId: account, name: 'ci', issuerUrl: 'https://one.example.com', fingerprints: [fp('A')], clientIds: ['sts.aliyuncs.com'], issuanceLimitTime: 12, description: 'secret-free, but not needed', createdAt: now, updatedAt: now, version: 1 })
    sent.length = 0
    expect(await stores.providerDirectory.get(account, 'ci')).toEqual({ kind: 'provider', provider: { accountId: account, name: 'ci', issuerUrl: 'https://one.example.com', fingerprints: [fp('a')] } })
    // What the request names is what the key-refresh role's dynamodb:Attributes grant allows (serverless.yml).
    expect(sent).toHaveLength(1)
    const input = sent[0] as { ConsistentRead: boolean; ProjectionExpression: string; ExpressionAttributeNames: Record<string, string> }
    expect(input.ConsistentRead).toBe(true)
    expect(input.ProjectionExpression.split(', ').map((n) => input.ExpressionAttributeNames[n]).sort()).toEqual([...PROVIDER_READ_ATTRIBUTES].sort())
    expect(await stores.providerDirectory.get(account, 'gone')).toEqual({ kind: 'missing' })
    // A provider item that is not one (written past the service): refused, not half-read.
    await stores.documentClient.send(new PutCommand({ TableName: tableName, Item: { pk: `ACCOUNT#${account}`, sk: 'OIDCPROVIDER#bad', issuerUrl: 'http://one.example.com', fingerprints: [] } }))
    expect(await stores.providerDirectory.get(account, 'bad')).toMatchObject({ kind: 'rejected', reason: expect.stringContaining('issuerUrl') })
    await stores.documentClient.send(new PutCommand({ TableName: tableName, Item: { pk: `ACCOUNT#${account}`, sk: 'OIDCPROVIDER#odd', issuerUrl: 'https://one.example.com', fingerprints: 'abc' } }))
    expect(await stores.providerDirectory.get(account, 'odd')).toMatchObject({ kind: 'rejected', reason: expect.stringContaining('fingerprints') })
  })
})
