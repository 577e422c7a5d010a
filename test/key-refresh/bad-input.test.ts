// Malformed key-refresh input, against the real store and a real IdP: every bad event is refused with a
// logged reason, every bad stream record is reported in batchItemFailures while the good ones are
// processed, and none of it writes to the table.
import { readFileSync } from 'node:fs'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { PutCommand, ScanCommand } from '@aws-sdk/lib-dynamodb'
import { KeyRefresher } from '../../shared/services/key-refresh.ts'
import { ProviderDirectory } from '../../shared/store/provider-directory.ts'
import { makeSigningKey, startHttpsIdp, type HttpsIdp } from '../support/https-idp.ts'
import { startTestService, type TestService } from '../support/service.ts'
import { createTestPki, type TestPki } from '../support/test-ca.ts'
import { recordingLogger, registerProvider } from '../health/support.ts'

const sample = (name: string) => JSON.parse(readFileSync(new URL(`../../events/${name}`, import.meta.url), 'utf8'))
const clone = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T

let pki: TestPki
let idp: HttpsIdp
let svc: TestService
let refresher: KeyRefresher
let logger = recordingLogger()
let goodRecord: Record<string, any> // eslint-disable-line @typescript-eslint/no-explicit-any

async function jwksItems(): Promise<unknown[]> {
  const out = await svc.stores.documentClient.send(new ScanCommand({ TableName: svc.stores.table.table.getName(), FilterExpression: 'begins_with(pk, :j)', ExpressionAttributeValues: { ':j': 'JWKS#' } }))
  return out.Items ?? []
}

beforeAll(async () => {
  pki = await createTestPki('bad-input')
  idp = await startHttpsIdp({ pki, keys: [makeSigningKey('k1').jwk] })
  svc = await startTestService({ env: { ALLOW_PRIVATE_ISSUERS: 'true' } })
  await registerProvider(svc, { account: svc.root.AccountId, name: 'ci', issuer: idp.issuer, fingerprints: [pki.intermediate.sha1] })
  // The stream carries keys only: the record names the provider, which key refresh reads from the table.
  const insert = sample('dynamodb-stream-provider-insert.json')
  goodRecord = insert.Records[0]
  const d = goodRecord.dynamodb
  d.Keys.pk.S = `ACCOUNT#${svc.root.AccountId}`
  d.Keys.sk.S = 'OIDCPROVIDER#ci'
  d.ApproximateCreationDateTime = Math.floor(Date.now() / 1000)
  // A provider item the service would never write (an http issuer), put past it.
  await svc.stores.documentClient.send(new PutCommand({ TableName: svc.stores.table.table.getName(), Item: { pk: `ACCOUNT#${svc.root.AccountId}`, sk: 'OIDCPROVIDER#corrupt', issuerUrl: 'http://idp.example.com', fingerprints: [] } }))
})
beforeEach(() => {
  logger = recordingLogger()
  refresher = new KeyRefresher({ ...svc.stores, logger }, { fetchOptions: { ca: pki.root.certPem, allowPrivate: true } })
})
afterAll(async () => {
  await svc?.close()
  await idp?.close()
})

const event = (over: Record<string, unknown> = {}, detail: Record<string, unknown> | null = { issuer: idp.issuer }) => ({ ...sample('eventbridge-key-rotation.json'), detail, ...over })

describe('key refresh refuses malformed EventBridge events', () => {
  it.each([
    ['no issuer in the detail', () => event({}, { reason: 'announced' }), 'names no issuer'],
    ['an issuer that is not an https URL', () => event({}, { issuer: 'http://idp.example.com' }), 'not an https issuer URL'],
    ['an issuer that is not a string', () => event({}, { issuer: ['https://idp.example.com'] }), 'not an https issuer URL'],
    ['no detail', () => event({}, null), 'no detail object'],
    ['another source', () => event({ source: 'aws.events' }), 'source'],
    ['another detail-type', () => event({ 'detail-type': 'Scheduled Event' }), 'detail-type'],
    ['an unknown reason', () => event({}, { issuer: idp.issuer, reason: 'because' }), 'reason must be one of'],
    ['an observedAt that is no time', () => event({}, { issuer: idp.issuer, observedAt: 'yesterday' }), 'observedAt'],
    ['an issuer no provider registers', () => event({}, { issuer: 'https://idp.unknown.example' }), 'no OIDC provider is registered'],
  ])('%s', async (_name, make, reason) => {
    const requests = idp.requests(idp.jwksPath)
    const result = await refresher.handleEventBridge(make())
    expect(result).toMatchObject({ status: 'rejected', reason: expect.stringContaining(reason) })
    expect(logger.find('event rejected')).toEqual([expect.objectContaining({ level: 'warn', fields: expect.objectContaining({ reason: expect.stringContaining(reason) }) })])
    expect(idp.requests(idp.jwksPath)).toBe(requests)
    expect(await jwksItems()).toEqual([])
  })

  it.each([[null], ['a string'], [[1, 2]], [{}]])('refuses %j as neither trigger', async (e) => {
    expect(await refresher.handle(e)).toMatchObject({ status: 'rejected' })
    expect(await jwksItems()).toEqual([])
  })
})

describe('key refresh reports bad stream records per record', () => {
  it('fails exactly the bad records, processes the good one, and ignores other items, deletions and deleted providers', async () => {
    let seq = 100
    const rec = (mutate: (r: Record<string, any>) => void) => { // eslint-disable-line @typescript-eslint/no-explicit-any
      const r = clone(goodRecord)
      r.dynamodb.SequenceNumber = String(++seq)
      mutate(r)
      return r
    }
    const good = rec(() => {})
    const notDynamo = rec((r) => { r.eventSource = 'aws:kinesis' })
    const numberKey = rec((r) => { r.dynamodb.Keys.pk = { N: '1' } })
    const twoTypes = rec((r) => { r.dynamodb.Keys.sk = { S: 'OIDCPROVIDER#ci', B: 'AAAA' } })
    const extraKey = rec((r) => { r.dynamodb.Keys.issuerUrl = { S: idp.issuer } })
    const noSk = rec((r) => { delete r.dynamodb.Keys.sk })
    const shortAccount = rec((r) => { r.dynamodb.Keys.pk = { S: 'ACCOUNT#12' } })
    const badName = rec((r) => { r.dynamodb.Keys.sk = { S: 'OIDCPROVIDER#a b' } })
    const corrupt = rec((r) => { r.dynamodb.Keys.sk = { S: 'OIDCPROVIDER#corrupt' } })
    const unknownEvent = rec((r) => { r.eventName = 'UPSERT' })
    const noKeys = rec((r) => { r.dynamodb.Keys = 'pk' })
    const noSequence = rec((r) => { delete r.dynamodb.SequenceNumber; r.dynamodb.Keys = 7 })
    const nonce = rec((r) => { r.dynamodb.Keys = { pk: { S: 'NONCE#LTAIabc#n1' }, sk: { S: 'NONCE' } } })
    const removal = rec((r) => { r.eventName = 'REMOVE' })
    // A provider deleted since the record: nothing to refresh, nothing to fail.
    const gone = rec((r) => { r.eventName = 'MODIFY'; r.dynamodb.Keys.sk = { S: 'OIDCPROVIDER#gone' } })
    const batch = { Records: [notDynamo, numberKey, 'not a record', good, twoTypes, extraKey, noSk, shortAccount, badName, corrupt, unknownEvent, noKeys, noSequence, nonce, removal, gone] }

    const result = await refresher.handleStream(batch)
    const bad = [notDynamo, numberKey, twoTypes, extraKey, noSk, shortAccount, badName, corrupt, unknownEvent, noKeys]
    expect(result.batchItemFailures.map((f) => f.itemIdentifier).sort()).toEqual(bad.map((r) => r.dynamodb.SequenceNumber).sort())
    // Every refusal is logged with its reason (the two without a sequence number included).
    const refusals = logger.find('stream record rejected')
    expect(refusals).toHaveLength(bad.length + 2)
    expect(refusals.every((l) => typeof l.fields.reason === 'string' && (l.fields.reason as string).length > 0)).toBe(true)
    expect(refusals.map((l) => l.fields.reason)).toContainEqual(expect.stringContaining('unreadable Keys'))
    expect(refusals.map((l) => l.fields.reason)).toContainEqual(expect.stringContaining('no valid https issuerUrl'))
    // The good record was processed all the same: exactly one copy, for its issuer.
    const items = await jwksItems()
    expect(items).toHaveLength(1)
    expect(items[0]).toMatchObject({ pk: `JWKS#${idp.issuer}`, keyIds: ['k1'] })
  })

  it('reports the records of a provider it could not read (the store failed), for Lambda to retry', async () => {
    const r = clone(goodRecord)
    r.dynamodb.SequenceNumber = '800'
    // A real client on a table that does not exist: the read fails as a store error.
    const unreadable = new KeyRefresher({ ...svc.stores, providerDirectory: new ProviderDirectory(svc.stores.documentClient, 'no-such-table'), logger }, { fetchOptions: { ca: pki.root.certPem, allowPrivate: true } })
    const before = await jwksItems()
    const requests = idp.requests(idp.discoveryPath)
    expect(await unreadable.handleStream({ Records: [r] })).toEqual({ batchItemFailures: [{ itemIdentifier: '800' }] })
    expect(logger.find('provider read failed in the store')).toHaveLength(1)
    expect(idp.requests(idp.discoveryPath)).toBe(requests)
    expect(await jwksItems()).toEqual(before)
  })

  it('answers a batch without Records with no failures and a logged reason', async () => {
    expect(await refresher.handleStream({ records: [] })).toEqual({ batchItemFailures: [] })
    expect(logger.find('event rejected')[0]?.fields.reason).toContain('no Records array')
  })

  it('logs an IdP failure of a valid record without failing it (the health check reports the IdP)', async () => {
    const unreachable = clone(goodRecord)
    unreachable.dynamodb.SequenceNumber = '900'
    unreachable.dynamodb.ApproximateCreationDateTime = Math.floor(Date.now() / 1000) + 10
    const noTrust = new KeyRefresher({ ...svc.stores, logger }, { fetchOptions: { allowPrivate: true } }) // the test CA is not trusted here
    const before = await jwksItems()
    expect(await noTrust.handleStream({ Records: [unreachable] })).toEqual({ batchItemFailures: [] })
    expect(logger.find('JWKS refresh failed at the IdP')[0]?.fields).toMatchObject({ issuer: idp.issuer, kind: 'certificate-invalid' })
    expect(await jwksItems()).toEqual(before)
  })
})

describe('key refresh of a stream batch', () => {
  it('refreshes the batch\'s issuers several at a time, not one after another', async () => {
    const slow = await Promise.all([0, 1, 2].map((i) => startHttpsIdp({ pki, keys: [makeSigningKey('k1').jwk], issuerPath: `/slow-${i}` })))
    try {
      for (const s of slow) s.route(s.discoveryPath, { mode: 'hang' })
      const now = Date.now()
      const records = await Promise.all(slow.map(async (s, i) => {
        await svc.stores.providers.create({ accountId: svc.root.AccountId, name: `slow${i}`, issuerUrl: s.issuer, fingerprints: [pki.intermediate.sha1], clientIds: ['sts.aliyuncs.com'], issuanceLimitTime: 12, description: '', createdAt: now, updatedAt: now, version: 1 })
        const r = clone(goodRecord)
        r.dynamodb.Keys.sk.S = `OIDCPROVIDER#slow${i}`
        r.dynamodb.SequenceNumber = String(900 + i)
        return r
      }))
      const batch = refresher.handleStream({ Records: records })
      // Each IdP holds its request for the whole fetch budget (5 s): one issuer after another, the second
      // would not be asked before the first gave up.
      const until = Date.now() + 3_000
      while (slow.some((s) => s.requests(s.discoveryPath) === 0) && Date.now() < until) await new Promise((r) => setTimeout(r, 20))
      expect(slow.map((s) => s.requests(s.discoveryPath))).toEqual([1, 1, 1])
      // An IdP that does not answer is logged, not retried through the stream (only store failures are).
      expect(await batch).toEqual({ batchItemFailures: [] })
    } finally {
      await Promise.all(slow.map((s) => s.close()))
    }
  }, 30_000)
})
