// functions/audit-writer.ts as Lambda runs it: CloudWatch Logs subscription events (the sample in
// events/ and events built from audit lines) written to the table that ListAuditEvents reads.
import { readFileSync } from 'node:fs'
import { ScanCommand } from '@aws-sdk/lib-dynamodb'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { AuditSink, parseAuditLine, type AuditRecord } from '../../shared/audit/audit-log.ts'
import { createLogger } from '../../shared/log.ts'
import { generateAccountId } from '../../shared/services/accounts.ts'
import { openStores, type Stores } from '../../shared/store/stores.ts'
import { decodeLogsData, logsEvent } from '../support/cloudwatch-logs.ts'
import { createTestTable } from '../support/store.ts'

type Handler = (event: unknown, context: unknown) => Promise<{ logEvents: number; written: number; skipped: number }>
const sample = () => JSON.parse(readFileSync(new URL('../../events/cloudwatch-logs-audit.json', import.meta.url), 'utf8'))
let stores: Stores
let tableName: string
let handler: Handler
const ctx = { awsRequestId: 'test' }

async function tableItems(): Promise<number> {
  return (await stores.documentClient.send(new ScanCommand({ TableName: tableName, Select: 'COUNT' }))).Count ?? 0
}

/** Audit lines exactly as the token-exchange function writes them (AuditSink through the logger). */
function auditLines(records: AuditRecord[]): string[] {
  const lines: string[] = []
  const sink = new AuditSink({ logger: createLogger('warn', (l) => lines.push(l)) })
  for (const r of records) sink.record(r)
  return lines
}

const today = () => new Date().toISOString().slice(0, 10)

beforeAll(async () => {
  const t = await createTestTable('fn-audit')
  tableName = t.tableName
  stores = openStores({ tableName, region: 'us-east-1', dynamodbEndpoint: t.endpoint })
  Object.assign(process.env, { TABLE_NAME: tableName, DYNAMODB_ENDPOINT: t.endpoint, LOG_LEVEL: 'silent' })
  handler = (await import('../../functions/audit-writer.ts')).handler as unknown as Handler
})
afterAll(() => {
  for (const k of ['TABLE_NAME', 'DYNAMODB_ENDPOINT', 'LOG_LEVEL']) delete process.env[k]
})

describe('functions/audit-writer.ts', () => {
  it('events/cloudwatch-logs-audit.json: both audit lines become table items that ListAuditEvents reads', async () => {
    // The sample's records, moved to today (items expire after the retention period).
    const data = decodeLogsData(sample())
    const records = data.logEvents.map((e) => parseAuditLine(e.message)!)
    expect(records.map((r) => r.outcome)).toEqual(['Success', 'Failure'])
    const accountId = generateAccountId()
    const now = Date.now()
    const moved = records.map((r, i) => ({ ...r, accountId, time: now + i }))
    const result = await handler(logsEvent(auditLines(moved)), ctx)
    expect(result).toEqual({ logEvents: 2, written: 2, skipped: 0 })
    const { items } = await stores.audit.list(accountId, today(), 10, undefined, new Date())
    expect(items).toEqual([moved[1], moved[0]]) // newest first, every field as written
  })

  it('a redelivered batch rewrites the same items (at-least-once delivery, exactly one item per exchange)', async () => {
    const accountId = generateAccountId()
    const lines = auditLines([0, 1, 2].map((i) => ({ time: Date.now() + i, requestId: `REQ-${i}`, accountId, sourceIp: '203.0.113.9', outcome: 'Success' as const })))
    const event = logsEvent(lines)
    await handler(event, ctx)
    const before = await tableItems()
    await handler(event, ctx)
    expect(await tableItems()).toBe(before)
    expect((await stores.audit.list(accountId, today(), 10, undefined, new Date())).items).toHaveLength(3)
  })

  it('writes batches larger than 25 records (BatchWriteItem takes 25 at a time)', async () => {
    const accountId = generateAccountId()
    const lines = auditLines(Array.from({ length: 60 }, (_, i) => ({ time: Date.now() + i, requestId: `BIG-${i}`, accountId, sourceIp: '203.0.113.9', outcome: 'Failure' as const, errorCode: 'AuthenticationFail.OIDCToken.Expired' })))
    expect(await handler(logsEvent(lines), ctx)).toEqual({ logEvents: 60, written: 60, skipped: 0 })
    const page = await stores.audit.list(accountId, today(), 100, undefined, new Date())
    expect(page.items).toHaveLength(60)
  })

  it('skips lines that are not audit records (other messages, malformed or mistyped fields), writing the rest', async () => {
    const accountId = generateAccountId()
    const good = auditLines([{ time: Date.now(), requestId: 'GOOD', accountId, sourceIp: '203.0.113.9', outcome: 'Success' }])
    const lines = [
      ...good,
      '{"level":"info","msg":"request","requestId":"X"}',
      'START RequestId: 6f1b Version: $LATEST',
      '{"level":"info","msg":"audit","time":"yesterday","requestId":"A","accountId":"1","sourceIp":"x","outcome":"Success"}',
      `{"level":"info","msg":"audit","time":1,"requestId":"A","accountId":"${accountId}","sourceIp":"x","outcome":"Maybe"}`,
      `{"level":"info","msg":"audit","time":1,"requestId":"A","accountId":"${accountId}","sourceIp":"x","outcome":"Success","sub":42}`,
      '{"msg":"audit"',
    ]
    expect(await handler(logsEvent(lines), ctx)).toEqual({ logEvents: 7, written: 1, skipped: 6 })
    expect((await stores.audit.list(accountId, today(), 10, undefined, new Date())).items.map((r) => r.requestId)).toEqual(['GOOD'])
  })

  it('a line with a prefix before the JSON (a runtime that adds one) is still read', () => {
    const [line] = auditLines([{ time: 5, requestId: 'P', accountId: '1', sourceIp: 'x', outcome: 'Success' }])
    expect(parseAuditLine(`2026-11-28T09:15:02.118Z\t6f1b\tINFO\t${line}`)).toEqual({ time: 5, requestId: 'P', accountId: '1', sourceIp: 'x', outcome: 'Success' })
  })

  it('the control message a new subscription sends writes nothing', async () => {
    const before = await tableItems()
    expect(await handler(logsEvent(['CWL CONTROL MESSAGE: Checking health of destination Lambda.'], { messageType: 'CONTROL_MESSAGE' }), ctx)).toEqual({ logEvents: 0, written: 0, skipped: 0 })
    expect(await tableItems()).toBe(before)
  })

  it('refuses what is not a subscription event, naming the problem, and writes nothing', async () => {
    const before = await tableItems()
    const cases: Array<[unknown, RegExp]> = [
      [{}, /no awslogs\.data/],
      [{ awslogs: { data: '' } }, /no awslogs\.data/],
      [{ awslogs: { data: Buffer.from('plain text').toString('base64') } }, /not base64 of gzip/],
      [{ awslogs: { data: logsEvent([]).awslogs.data.slice(0, 20) } }, /not base64 of gzip/],
      [{ awslogs: { data: (await import('node:zlib')).gzipSync('not json').toString('base64') } }, /does not hold JSON/],
      [{ awslogs: { data: (await import('node:zlib')).gzipSync('{"logEvents":[]}').toString('base64') } }, /no messageType/],
      [{ awslogs: { data: (await import('node:zlib')).gzipSync('{"messageType":"DATA_MESSAGE"}').toString('base64') } }, /no logEvents/],
    ]
    for (const [event, message] of cases) await expect(handler(event, ctx), JSON.stringify(event).slice(0, 80)).rejects.toThrow(message)
    expect(await tableItems()).toBe(before)
  })
})
