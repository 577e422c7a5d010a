// The sparse issuer index the background jobs read, on DynamoDB Local: created with the table, added to a
// table made before it, holding providers (and their guards and health records) of every account and
// nothing else; and the strict reading of provider images from the table's stream.
import { randomBytes } from 'node:crypto'
import { CreateTableCommand, DescribeTableCommand } from '@aws-sdk/client-dynamodb'
import { ScanCommand } from '@aws-sdk/lib-dynamodb'
import { describe, expect, it } from 'vitest'
import { startDynamoDbLocal } from '../../local/dynamodb-local.ts'
import { ensureTable } from '../../shared/store/create-table.ts'
import { ISSUER_INDEX, providerFromStreamImage, unmarshallImage } from '../../shared/store/provider-directory.ts'
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
    expect((await stores.providerDirectory.scan()).health).toEqual([{ accountId: account, name: 'ci', issuerUrl: observation.issuer, status: 'ok' }])
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

describe('provider images from the stream', () => {
  const image = {
    pk: { S: 'ACCOUNT#1234567890123456' },
    sk: { S: 'OIDCPROVIDER#ci' },
    accountId: { S: '1234567890123456' },
    name: { S: 'ci' },
    issuerUrl: { S: 'https://idp.example.com' },
    fingerprints: { L: [{ S: fp('A') }, { S: 'not-a-fingerprint' }] },
    version: { N: '3' },
    flags: { M: { on: { BOOL: true }, none: { NULL: true }, tags: { SS: ['x'] } } },
  }

  it('reads a provider (fingerprints normalised) and tells other items apart', () => {
    expect(providerFromStreamImage(image)).toEqual({ kind: 'provider', provider: { accountId: '1234567890123456', name: 'ci', issuerUrl: 'https://idp.example.com', fingerprints: [fp('a')] } })
    expect(providerFromStreamImage({ pk: { S: 'NONCE#x' }, sk: { S: 'NONCE' } })).toEqual({ kind: 'other' })
    expect(unmarshallImage(image).flags).toEqual({ on: true, none: null, tags: ['x'] })
  })

  it.each([
    ['not an object', 'x'],
    ['a value with two types', { ...image, name: { S: 'ci', N: '1' } }],
    ['a binary value', { ...image, blob: { B: 'AAAA' } }],
    ['a number that is not one', { ...image, version: { N: 'three' } }],
    ['an account pk that is not 16 digits', { ...image, pk: { S: 'ACCOUNT#12' } }],
    ['a name that disagrees with the key', { ...image, name: { S: 'other' } }],
    ['an http issuer', { ...image, issuerUrl: { S: 'http://idp.example.com' } }],
    ['fingerprints that are not a list', { ...image, fingerprints: { S: fp('a') } }],
  ])('refuses %s', (_name, bad) => {
    expect(providerFromStreamImage(bad)).toMatchObject({ kind: 'rejected', reason: expect.any(String) })
  })
})
