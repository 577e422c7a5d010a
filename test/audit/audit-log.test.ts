import { describe, expect, it, vi } from 'vitest'
import { AuditSink, parseAuditLine, type AuditRecord } from '../../shared/audit/audit-log.ts'
import { createLogger } from '../../shared/log.ts'
import { AuditStore } from '../../shared/store/audit-store.ts'
import { defineTable } from '../../shared/store/table.ts'
import { createTestTable } from '../support/store.ts'

const rec = (i: number, over: Partial<AuditRecord> = {}): AuditRecord => ({
  time: Date.UTC(2026, 10, 28, 10, 0, i),
  requestId: `REQ-${String(i).padStart(3, '0')}`,
  accountId: '1234567890123456',
  providerArn: 'acs:ram::1234567890123456:oidc-provider/gh',
  roleArn: 'acs:ram::1234567890123456:role/ci',
  sessionName: 'build',
  sub: 'repo:octo/app:ref:refs/heads/main',
  jti: `jti-${i}`,
  sourceIp: '203.0.113.7',
  outcome: i % 2 ? 'Failure' : 'Success',
  ...(i % 2 ? { errorCode: 'AuthenticationFail.OIDCToken.Expired' } : {}),
  ...over,
})

describe('AuditSink', () => {
  it('logs every record at once and writes the table copy in batches, readable by day with paging', async () => {
    const { table } = await createTestTable('audit')
    const store = new AuditStore(table)
    const lines: string[] = []
    const sink = new AuditSink({ logger: createLogger('info', (l) => lines.push(l)), store, flushIntervalMs: 60_000 })
    for (let i = 0; i < 60; i++) sink.record(rec(i))
    expect(lines).toHaveLength(60)
    expect(JSON.parse(lines[1]!)).toMatchObject({ msg: 'audit', outcome: 'Failure', errorCode: 'AuthenticationFail.OIDCToken.Expired' })
    await sink.flush()
    expect(sink.pending).toBe(0)

    const seen: AuditRecord[] = []
    let after: string | undefined
    do {
      const page = await store.list('1234567890123456', '2026-11-28', 25, after)
      seen.push(...page.items)
      after = page.nextAt
    } while (after)
    expect(seen).toHaveLength(60)
    expect(seen[0]!.requestId).toBe('REQ-059') // newest first
    expect(seen.find((r) => r.requestId === 'REQ-001')).toMatchObject({ outcome: 'Failure', sub: 'repo:octo/app:ref:refs/heads/main' })
  })

  it('bounds what waits for a stalled table, queued writes included: the excess is dropped from the copy and counted, never from the log', async () => {
    // A real store on DynamoDB Local whose writes are held, on the real client, until released.
    const { table, documentClient } = await createTestTable('audit-stalled')
    let release!: () => void
    const stalled = new Promise<void>((r) => (release = r))
    const held: number[] = []
    documentClient.middlewareStack.add(
      (next) => async (args) => {
        const items = (args.input as { RequestItems?: Record<string, unknown[]> }).RequestItems
        if (items) held.push(Object.values(items).reduce((n, v) => n + v.length, 0))
        await stalled
        return next(args)
      },
      { step: 'initialize', name: 'stallAuditWrites' },
    )
    const account = '5556667778889990'
    const store = new AuditStore(table)
    const lines: string[] = []
    const sink = new AuditSink({ logger: createLogger('info', (l) => lines.push(l)), store, maxBuffered: 100 })
    try {
      for (let i = 0; i < 1000; i++) sink.record(rec(i, { accountId: account }))
      const parsed = lines.map((l) => JSON.parse(l) as Record<string, unknown>)
      expect(parsed.filter((l) => l.msg === 'audit')).toHaveLength(1000)
      // The drops are said, once (the first; then at most one line a minute), not only counted.
      expect(parsed.filter((l) => l.msg !== 'audit')).toEqual([
        expect.objectContaining({ level: 'warn', msg: expect.stringContaining('audit table copy dropping records'), dropped: 1, maxBuffered: 100 }),
      ])
      expect(sink.pending).toBe(100)
      expect(sink.dropped).toBe(900)
      // The first batch of 25 is at the table and waiting; the other three wait behind it, in the sink.
      await vi.waitFor(() => expect(held).toEqual([25]))
      expect(sink.pending).toBe(100)
    } finally {
      release()
    }
    await sink.flush()
    expect(sink.pending).toBe(0)
    expect(held).toEqual([25, 25, 25, 25])

    // What the table holds: exactly the first 100 records, none of the 900 dropped.
    const stored: AuditRecord[] = []
    let after: string | undefined
    do {
      const page = await store.list(account, '2026-11-28', 100, after)
      stored.push(...page.items)
      after = page.nextAt
    } while (after)
    expect(stored.map((r) => r.requestId).sort()).toEqual(Array.from({ length: 100 }, (_, i) => rec(i).requestId))
    documentClient.middlewareStack.remove('stallAuditWrites')
  })

  it('writes a large batch in chunks of 25, several at a time, and every record arrives', async () => {
    const { table, documentClient } = await createTestTable('audit-chunks')
    let inFlight = 0
    let most = 0
    documentClient.middlewareStack.add(
      (next) => async (args) => {
        most = Math.max(most, ++inFlight)
        try {
          return await next(args)
        } finally {
          inFlight--
        }
      },
      { step: 'initialize', name: 'countInFlight' },
    )
    const store = new AuditStore(table)
    await store.putBatch(Array.from({ length: 110 }, (_, i) => rec(i, { accountId: '6543210987654321' })))
    expect(most).toBeGreaterThan(1)
    expect(most).toBeLessThanOrEqual(4)
    const page = await store.list('6543210987654321', '2026-11-28', 100)
    const rest = await store.list('6543210987654321', '2026-11-28', 100, page.nextAt)
    expect(new Set([...page.items, ...rest.items].map((r) => r.requestId)).size).toBe(110)
  })

  it('keeps serving when the table copy cannot be written: the log line is the durable record', async () => {
    const lines: string[] = []
    // A real store whose table does not exist on the real engine: every batch write fails.
    const { documentClient } = await createTestTable('audit-missing')
    const failing = new AuditStore(defineTable(documentClient, 'no-such-audit-table'))
    const sink = new AuditSink({ logger: createLogger('info', (l) => lines.push(l)), store: failing })
    sink.record(rec(1))
    await expect(sink.flush()).resolves.toBeUndefined()
    expect(sink.pending).toBe(0)
    expect(lines.filter((l) => l.includes('"msg":"audit"'))).toHaveLength(1)
    expect(JSON.parse(lines.find((l) => l.includes('audit table write failed'))!)).toMatchObject({ level: 'warn', count: 1 })
  })

  it('writes the audit line whatever LOG_LEVEL says (it is the durable record), except silent', () => {
    for (const level of ['debug', 'info', 'warn', 'error'] as const) {
      const lines: string[] = []
      new AuditSink({ logger: createLogger(level, (l) => lines.push(l)) }).record(rec(2))
      expect(lines, level).toHaveLength(1)
      expect(JSON.parse(lines[0]!), level).toMatchObject({ level: 'info', msg: 'audit', requestId: 'REQ-002', time: rec(2).time })
    }
    const silent: string[] = []
    new AuditSink({ logger: createLogger('silent', (l) => silent.push(l)) }).record(rec(2))
    expect(silent).toEqual([])
  })

  it('writes one JSON object per line whose members are level, msg and exactly the record, each once', () => {
    for (const r of [rec(4), rec(5), rec(7, { errorCode: 'AuthenticationFail.NoPermission', reason: 'Statement[1]: Deny applies' }), { time: 1, requestId: 'R', accountId: 'unknown', sourceIp: '::1', outcome: 'Failure' as const }]) {
      const lines: string[] = []
      new AuditSink({ logger: createLogger('info', (l) => lines.push(l)) }).record(r)
      const parsed = JSON.parse(lines[0]!)
      expect(parsed).toEqual({ level: 'info', msg: 'audit', ...r })
      expect(lines[0]!.match(/"[A-Za-z]+":/g)).toHaveLength(Object.keys(parsed).length)
      expect(parseAuditLine(lines[0]!)).toEqual(r)
    }
    expect(() => createLogger('info', () => {}).record('audit', { msg: 'other' })).toThrow(/level or msg/)
  })

  it('bounds claim values in the line: sub to 256 characters, jti to 128; and a reason to 512', () => {
    const lines: string[] = []
    new AuditSink({ logger: createLogger('info', (l) => lines.push(l)) }).record(rec(3, { sub: 's'.repeat(5000), jti: 'j'.repeat(5000), reason: 'r'.repeat(5000) }))
    const line = JSON.parse(lines[0]!)
    expect([line.sub.length, line.jti.length, line.reason.length]).toEqual([256, 128, 512])
  })
})
