import { describe, expect, it, vi } from 'vitest'
import { AuditSink, clipText, MAX_AUDIT_CLAIM_LENGTH, parseAuditLine, type AuditRecord } from '../../shared/audit/audit-log.ts'
import { createLogger } from '../../shared/log.ts'
import { AuditStore } from '../../shared/store/audit-store.ts'
import { defineTable } from '../../shared/store/table.ts'
import { createTestTable } from '../support/store.ts'

/** A moment within the records' retention (the records are of 2026-11-28), whatever the machine's clock says. */
const NOW = new Date(Date.UTC(2026, 10, 29))

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
      const page = await store.list('1234567890123456', '2026-11-28', 25, after, NOW)
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
      const page = await store.list(account, '2026-11-28', 100, after, NOW)
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
    const page = await store.list('6543210987654321', '2026-11-28', 100, undefined, NOW)
    const rest = await store.list('6543210987654321', '2026-11-28', 100, page.nextAt, NOW)
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
    // The failed batch is out of the copy, and counted and said as any drop is.
    expect(sink.dropped).toBe(1)
    expect(JSON.parse(lines.find((l) => l.includes('audit table copy dropping records: a table write failed'))!)).toMatchObject({ level: 'warn', dropped: 1 })
    sink.record(rec(3))
    sink.record(rec(5))
    await sink.flush()
    expect(sink.dropped).toBe(3)
    // At most one warning a minute.
    expect(lines.filter((l) => l.includes('dropping records'))).toHaveLength(1)
  })

  it('lists no record past its retention, even while DynamoDB\'s TTL has not deleted it yet', async () => {
    const { table } = await createTestTable('audit-expired')
    const store = new AuditStore(table, 1)
    const account = '4445556667778889'
    // Records of 2026-11-28 10:00:00..10:00:09, kept one day: they expire at 2026-11-29 10:00:00..09.
    await store.putBatch(Array.from({ length: 10 }, (_, i) => rec(i, { accountId: account })))
    const at = (second: number) => new Date(Date.UTC(2026, 10, 29, 10, 0, second))
    const ids = async (now: Date, maxItems: number) => {
      const out: string[] = []
      let after: string | undefined
      do {
        const page = await store.list(account, '2026-11-28', maxItems, after, now)
        out.push(...page.items.map((r) => r.requestId))
        after = page.nextAt
      } while (after)
      return out
    }
    expect(await ids(new Date(Date.UTC(2026, 10, 28, 23)), 3)).toHaveLength(10)
    // At 10:00:04 the records of 10:00:00..04 have expired: the newest five remain, and paging ends with them.
    expect(await ids(at(4), 3)).toEqual(['REQ-009', 'REQ-008', 'REQ-007', 'REQ-006', 'REQ-005'])
    expect(await ids(at(4), 5)).toEqual(['REQ-009', 'REQ-008', 'REQ-007', 'REQ-006', 'REQ-005'])
    expect(await ids(at(9), 3)).toEqual([])
  })

  it('judges retention by the record\'s time and the retention set now, not by the expiry an earlier setting stored', async () => {
    const { table } = await createTestTable('audit-retention-changed')
    const account = '4445556667778880'
    // Three records kept 90 days, then two newer ones written after the retention was lowered to one day.
    await new AuditStore(table, 90).putBatch([0, 1, 2].map((i) => rec(i, { accountId: account })))
    await new AuditStore(table, 1).putBatch([3, 4].map((i) => rec(i, { accountId: account })))
    const twoDaysLater = new Date(Date.UTC(2026, 10, 30, 12))
    expect((await new AuditStore(table, 1).list(account, '2026-11-28', 10, undefined, twoDaysLater)).items).toEqual([])
    const listed = await new AuditStore(table, 90).list(account, '2026-11-28', 10, undefined, twoDaysLater)
    expect(listed.items.map((r) => r.requestId)).toEqual(['REQ-004', 'REQ-003', 'REQ-002', 'REQ-001', 'REQ-000'])
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

  it('keeps a verified sub and jti whole (the verifier bounds both to 1024 characters) and bounds what is longer; a reason to 512', () => {
    const lines: string[] = []
    const sink = new AuditSink({ logger: createLogger('info', (l) => lines.push(l)) })
    sink.record(rec(3, { sub: 's'.repeat(1024), jti: 'j'.repeat(1024) }))
    sink.record(rec(3, { sub: 's'.repeat(5000), jti: 'j'.repeat(5000), reason: 'r'.repeat(5000) }))
    const [whole, cut] = lines.map((l) => JSON.parse(l))
    expect([whole.sub.length, whole.jti.length]).toEqual([1024, 1024])
    expect([cut.sub.length, cut.jti.length, cut.reason.length]).toEqual([MAX_AUDIT_CLAIM_LENGTH, MAX_AUDIT_CLAIM_LENGTH, 512])
  })

  it('never cuts between the halves of a surrogate pair (a lone surrogate is no text: strict JSON readers refuse it)', async () => {
    const emoji = '\u{1F600}' // two UTF-16 code units
    expect(clipText(`ab${emoji}`, 3)).toBe('ab')
    expect(clipText(`ab${emoji}`, 4)).toBe(`ab${emoji}`)
    expect(clipText(`a${emoji}c`, 3)).toBe(`a${emoji}`)
    const sub = 's'.repeat(MAX_AUDIT_CLAIM_LENGTH - 1) + emoji.repeat(3)
    const lines: string[] = []
    new AuditSink({ logger: createLogger('info', (l) => lines.push(l)) }).record(rec(3, { sub }))
    expect(JSON.parse(lines[0]!).sub).toBe('s'.repeat(MAX_AUDIT_CLAIM_LENGTH - 1))
    // The table copy is cut the same way.
    const { table } = await createTestTable('audit-surrogates')
    const store = new AuditStore(table)
    await store.putBatch([rec(3, { accountId: '3334445556667778', sub })])
    const { items } = await store.list('3334445556667778', '2026-11-28', 10, undefined, NOW)
    expect(items[0]!.sub).toBe('s'.repeat(MAX_AUDIT_CLAIM_LENGTH - 1))
    expect(items[0]!.sub).not.toMatch(/[\uD800-\uDFFF]/)
  })
})
