// functions/key-refresh.ts as Lambda runs it, with the samples in events/: the bundle in a process of its
// own for the stream path against a trusted local IdP; the module in process for every refusal (none of
// which may reach an IdP or write to the table).
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ScanCommand } from '@aws-sdk/lib-dynamodb'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
// @ts-expect-error -- plain ESM build script without type declarations
import { bundleAll } from '../../build/bundle.mjs'
import { bootstrapOperatorAccount, generateAccessKey, generateAccountId } from '../../shared/services/accounts.ts'
import { openStores, type Stores } from '../../shared/store/stores.ts'
import { run, TSX, testEnv } from '../e2e/support/processes.ts'
import { makeSigningKey, startHttpsIdp, type HttpsIdp } from '../support/https-idp.ts'
import { createTestTable } from '../support/store.ts'
import { createTestPki, type TestPki } from '../support/test-ca.ts'

type Handler = (event: unknown, context: unknown) => Promise<Record<string, any>> // eslint-disable-line @typescript-eslint/no-explicit-any
const sample = (name: string) => JSON.parse(readFileSync(new URL(`../../events/${name}`, import.meta.url), 'utf8'))
const scratch = mkdtempSync(join(tmpdir(), 'oidc-sts-key-refresh-fn-'))
let pki: TestPki
let idp: HttpsIdp
let stores: Stores
let tableName: string
let handler: Handler
const accountId = generateAccountId()
let insert: Record<string, any> // eslint-disable-line @typescript-eslint/no-explicit-any

async function tableItems(): Promise<number> {
  return (await stores.documentClient.send(new ScanCommand({ TableName: tableName, Select: 'COUNT' }))).Count ?? 0
}

beforeAll(async () => {
  pki = await createTestPki('key-refresh-fn')
  writeFileSync(join(scratch, 'ca.pem'), pki.root.certPem)
  idp = await startHttpsIdp({ pki, keys: [makeSigningKey('k7').jwk] })
  const t = await createTestTable('fn-refresh')
  tableName = t.tableName
  stores = openStores({ tableName, region: 'us-east-1', dynamodbEndpoint: t.endpoint })
  const key = generateAccessKey()
  await bootstrapOperatorAccount(stores.accounts, { AccountId: accountId, AccessKeyId: key.accessKeyId, AccessKeySecret: key.secret }, Date.now())
  await stores.providers.create({ accountId, name: 'TestOIDCProvider', issuerUrl: idp.issuer, fingerprints: [pki.intermediate.sha1], clientIds: ['sts.aliyuncs.com'], issuanceLimitTime: 12, description: '', createdAt: Date.now(), updatedAt: Date.now(), version: 1 })

  // The INSERT sample, for this table's account and the local IdP.
  insert = sample('dynamodb-stream-provider-insert.json')
  const d = insert.Records[0].dynamodb
  d.Keys.pk.S = `ACCOUNT#${accountId}`
  d.ApproximateCreationDateTime = Math.floor(Date.now() / 1000)

  process.env.TABLE_NAME = tableName
  process.env.DYNAMODB_ENDPOINT = t.endpoint
  process.env.LOG_LEVEL = 'silent'
  process.env.ALLOW_PRIVATE_ISSUERS = 'true'
  handler = (await import('../../functions/key-refresh.ts')).handler as unknown as Handler
}, 120_000)
afterAll(async () => {
  delete process.env.TABLE_NAME
  delete process.env.DYNAMODB_ENDPOINT
  delete process.env.ALLOW_PRIVATE_ISSUERS
  await idp?.close()
  rmSync(scratch, { recursive: true, force: true })
})

describe('functions/key-refresh.ts refuses bad input without touching the IdP or the table', () => {
  it('refuses the key-rotation sample for an issuer no provider registers', async () => {
    const items = await tableItems()
    expect(await handler(sample('eventbridge-key-rotation.json'), {})).toEqual({ status: 'rejected', reason: 'no OIDC provider is registered for the issuer "https://idp.example.com"' })
    expect(await tableItems()).toBe(items)
  })

  it('refuses a key-rotation event without an issuer, and the schedule event sent to the wrong function', async () => {
    const rotation = sample('eventbridge-key-rotation.json')
    expect(await handler({ ...rotation, detail: { reason: 'announced' } }, {})).toMatchObject({ status: 'rejected', reason: 'the event detail names no issuer' })
    expect(await handler(sample('schedule.json'), {})).toMatchObject({ status: 'rejected', reason: expect.stringContaining('source') })
  })

  it('answers a stream batch of garbage records with exactly their sequence numbers in batchItemFailures', async () => {
    const items = await tableItems()
    const modify = sample('dynamodb-stream-provider-modify.json')
    const good = modify.Records[0]
    const garbage = JSON.parse(JSON.stringify(good))
    garbage.dynamodb.SequenceNumber = '4421584600000000017450439093'
    garbage.dynamodb.Keys = { pk: { S: 'x' }, sk: { S: 'OIDCPROVIDER#TestOIDCProvider' } }
    // The sample's account has no provider in this table: deleted since, nothing to do.
    const gone = JSON.parse(JSON.stringify(good))
    gone.dynamodb.SequenceNumber = '4421584600000000017450439094'
    const result = await handler({ Records: [garbage, gone] }, {})
    expect(result).toEqual({ batchItemFailures: [{ itemIdentifier: '4421584600000000017450439093' }] })
    expect(await tableItems()).toBe(items)
  })
})

describe('functions/key-refresh.ts (bundled) on a provider INSERT from the stream', () => {
  it('stores the issuer\'s JWKS and reports no failure', async () => {
    const bundle = (await bundleAll(process.cwd(), ['keyRefresh'], join(scratch, 'build'))).keyRefresh
    const eventFile = join(scratch, 'insert.json')
    writeFileSync(eventFile, JSON.stringify(insert))
    const env = testEnv({ TABLE_NAME: tableName, DYNAMODB_ENDPOINT: process.env.DYNAMODB_ENDPOINT!, AWS_REGION: 'us-east-1', ALLOW_PRIVATE_ISSUERS: 'true', LOG_LEVEL: 'info', NODE_EXTRA_CA_CERTS: join(scratch, 'ca.pem') })
    const finished = await run(TSX, ['test/deploy/invoke-handler.ts', bundle, eventFile], env, 60_000)
    const last = finished.stdout.trim().split('\n').at(-1) ?? ''
    expect(last, finished.stdout + finished.stderr).toBe('RESULT {"batchItemFailures":[]}')
    expect(finished.stdout).toContain('"msg":"JWKS copy stored"')
    expect((await stores.jwksCopies.get(idp.issuer))?.keyIds).toEqual(['k7'])
  }, 90_000)
})
