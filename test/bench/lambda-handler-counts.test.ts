// Counting assertions behind BENCHMARKS.md (issue 6) for the Lambda entry itself: functions/token-exchange.ts
// configured from the environment, its DynamoDB requests counted at the wire by a pass-through in front of
// DynamoDB Local (bench/lib/ddb-counter.ts), IdP requests by the IdP. No timing is asserted: the
// configuration cache's 5 s bound is checked on a controlled clock (only Date is faked; timers, sockets
// and the IdP stay real). Its audit lines on stdout then go through functions/audit-writer.ts, as the
// log subscription delivers them.
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest'
import { type DdbCounter, diffCounts, startDdbCounter } from '../../bench/lib/ddb-counter.ts'
import { httpApiEvent } from '../../bench/lib/events.ts'
import { formatTokenKeys, generateTokenKey } from '../../shared/credentials/token-keys.ts'
import { getJwksCache } from '../../shared/oidc/jwks-cache.ts'
import { percentEncode } from '../../shared/signing/percent-encode.ts'
import { logsEvent } from '../support/cloudwatch-logs.ts'
import { createExchangeFixture, type ExchangeFixture, STS } from '../support/exchange-fixture.ts'

type Handler = (event: unknown, context: unknown) => Promise<{ statusCode: number; body: string }>

let fx: ExchangeFixture
let counter: DdbCounter
let handler: Handler
const ENV = ['TABLE_NAME', 'DYNAMODB_ENDPOINT', 'TOKEN_KEYS', 'LOG_LEVEL', 'ALLOW_PRIVATE_ISSUERS', 'RATE_LIMIT_SOURCE_PER_SECOND', 'RATE_LIMIT_SOURCE_BURST'] as const

beforeAll(async () => {
  fx = await createExchangeFixture()
  counter = await startDdbCounter(inject('dynamodbEndpoint'))
  Object.assign(process.env, {
    TABLE_NAME: fx.svc.stores.table.table.getName(),
    DYNAMODB_ENDPOINT: counter.endpoint,
    TOKEN_KEYS: formatTokenKeys([generateTokenKey()]),
    // Warnings and errors only: the audit lines are written at every level but silent.
    LOG_LEVEL: 'warn',
    ALLOW_PRIVATE_ISSUERS: 'true',
    RATE_LIMIT_SOURCE_PER_SECOND: '100000',
    RATE_LIMIT_SOURCE_BURST: '100000',
  })
  // The module-scope JWKS cache takes the first caller's options: trust the test CA (a deployed
  // function gets it from NODE_EXTRA_CA_CERTS, which cannot be set after node has started).
  getJwksCache({ fetchOptions: { allowPrivate: true, ca: fx.pki.root.certPem } })
  handler = ((await import('../../functions/token-exchange.ts')) as unknown as { handler: Handler }).handler
})
afterAll(async () => {
  for (const name of ENV) delete process.env[name]
  await counter?.close()
  await fx?.close()
})

const event = (token: string, i: number) => {
  const query = Object.entries({
    Action: 'AssumeRoleWithOIDC', Version: STS, Format: 'JSON',
    OIDCProviderArn: `acs:ram::${fx.account}:oidc-provider/ci`, RoleArn: `acs:ram::${fx.account}:role/deployer`,
    RoleSessionName: `lambda-${i}`, OIDCToken: token,
  }).map(([k, v]) => `${k}=${percentEncode(v)}`).join('&')
  return httpApiEvent({ rawQueryString: query })
}

/** One invocation: its table requests and what it wrote to stdout (the log stream). */
async function invoke(i: number, token = fx.idToken()) {
  const before = counter.counts()
  const lines: string[] = []
  const write = process.stdout.write
  process.stdout.write = ((chunk: string) => lines.push(...String(chunk).split('\n').filter(Boolean))) as never
  try {
    const res = await handler(event(token, i), {})
    return { status: res.statusCode, body: res.body, ops: diffCounts(counter.counts(), before), lines }
  } finally {
    process.stdout.write = write
  }
}

describe('functions/token-exchange.ts: table and IdP requests per invocation', () => {
  it('cold: reads its configuration and fetches the keys once; warm: no table request at all, one audit line each', async () => {
    const idpBefore = fx.idp.requests(fx.idp.discoveryPath) + fx.idp.requests(fx.idp.jwksPath)
    // The configuration cache (ExchangeConfig, CONFIG_CACHE_SECONDS = 5) ages by Date.now(): frozen at
    // T0 from before the cold invocation's reads, so how long the invocations take cannot matter. T0 is
    // a minute in the past so that the real clock, once restored, is later than every time stamped on
    // the fake one (a clock going backwards would drain the handler's rate-limit buckets).
    const T0 = Date.now() - 60_000
    vi.useFakeTimers({ toFake: ['Date'], now: T0 })
    try {
      const cold = await invoke(0)
      expect(cold.status, cold.body).toBe(200)
      expect(cold.ops.GetItem).toBeGreaterThanOrEqual(2) // provider and role (and a look for a stored JWKS copy)
      expect(Object.keys(cold.ops)).toEqual(['GetItem'])
      expect(fx.idp.requests(fx.idp.discoveryPath) + fx.idp.requests(fx.idp.jwksPath)).toBe(idpBefore + 2)

      // Warm, within the cache's 5 s: no table request at all (the audit copy is the log subscriber's).
      const warm = []
      for (let i = 1; i <= 30; i++) warm.push(await invoke(i))
      vi.setSystemTime(T0 + 4_999)
      warm.push(await invoke(31))
      expect(warm.map((w) => w.status)).toEqual(warm.map(() => 200))
      expect(warm.map((w) => w.ops)).toEqual(warm.map(() => ({})))

      // 5 s after the cold reads the cached provider and role expire: the next exchange reads each
      // once (GetItem, nothing else), and the ones after it read nothing again.
      vi.setSystemTime(T0 + 5_000)
      const refreshed = await invoke(32)
      const after = [await invoke(33), await invoke(34)]
      expect([refreshed, ...after].map((w) => w.status)).toEqual([200, 200, 200])
      expect(refreshed.ops).toEqual({ GetItem: 2 })
      expect(after.map((w) => w.ops)).toEqual([{}, {}])
      expect(fx.idp.requests(fx.idp.discoveryPath) + fx.idp.requests(fx.idp.jwksPath)).toBe(idpBefore + 2)
      // One log line per exchange: its audit record.
      for (const w of [cold, ...warm, refreshed, ...after]) {
        expect(w.lines).toHaveLength(1)
        expect(JSON.parse(w.lines[0]!)).toMatchObject({ level: 'info', msg: 'audit', outcome: 'Success', accountId: fx.account })
      }
    } finally {
      vi.useRealTimers()
    }
  })

  it('a refused exchange writes one audit line too, and the log subscriber copies both kinds to the table', async () => {
    const refused = await invoke(100, fx.idToken({ aud: 'someone-else' }))
    expect(refused.status).toBe(401)
    expect(Object.keys(refused.ops).filter((op) => op !== 'GetItem')).toEqual([])
    expect(refused.lines).toHaveLength(1)
    const ok = await invoke(101)
    const lines = [...refused.lines, ...ok.lines]

    const writer = ((await import('../../functions/audit-writer.ts')) as unknown as { handler: Handler }).handler
    const before = counter.counts()
    expect(await writer(logsEvent(lines), { awsRequestId: 't' })).toEqual({ logEvents: 2, written: 2, skipped: 0 })
    expect(diffCounts(counter.counts(), before)).toEqual({ BatchWriteItem: 1 })

    const listed = await fx.svc.call('ListAuditEvents', '2026-11-01', { MaxItems: 100 })
    expect(listed.status).toBe(200)
    const events = (listed.body.AuditEvents.AuditEvent as Array<Record<string, unknown>>).filter((e) => e.RoleSessionName === 'lambda-100' || e.RoleSessionName === 'lambda-101')
    expect(events.map((e) => [e.RoleSessionName, e.Outcome, e.ErrorCode])).toEqual([
      ['lambda-101', 'Success', undefined],
      ['lambda-100', 'Failure', 'AuthenticationFail.OIDCToken.AudienceNotMatch'],
    ])
  })
})
