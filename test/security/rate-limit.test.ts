// AssumeRoleWithOIDC is limited per source address and per OIDC provider (token buckets, per container).
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createExchangeFixture, type ExchangeFixture } from '../support/exchange-fixture.ts'

let now = new Date('2026-11-28T10:00:00Z')
let fx: ExchangeFixture
beforeAll(async () => {
  fx = await createExchangeFixture({
    clock: () => now,
    env: { RATE_LIMIT_SOURCE_PER_SECOND: '1', RATE_LIMIT_SOURCE_BURST: '3', RATE_LIMIT_PROVIDER_PER_SECOND: '1', RATE_LIMIT_PROVIDER_BURST: '6' },
  })
})
afterAll(async () => { await fx?.close() })

describe('AssumeRoleWithOIDC rate limits', () => {
  it('answers Throttling.User with x-acs-retry-after once an address spends its burst, and recovers with time', async () => {
    const statuses = []
    for (let i = 0; i < 4; i++) statuses.push((await fx.exchange({ OIDCToken: fx.idToken() }, '198.51.100.1')).status)
    expect(statuses).toEqual([200, 200, 200, 429])
    const throttled = await fx.exchange({ OIDCToken: fx.idToken() }, '198.51.100.1')
    expect(throttled.body.Code).toBe('Throttling.User')
    expect(throttled.body.Message).toBe('Request was denied due to user flow control.')
    // In milliseconds, the unit the official SDKs read (1/s: a token is back in 1000 ms).
    expect(throttled.headers['x-acs-retry-after']).toBe('1000')
    expect(throttled.body.Credentials).toBeUndefined()
    now = new Date(now.getTime() + 1000)
    expect((await fx.exchange({ OIDCToken: fx.idToken() }, '198.51.100.1')).status).toBe(200)
  })

  it('limits a provider across addresses', async () => {
    now = new Date(now.getTime() + 60_000) // buckets full again
    const statuses = []
    for (let i = 0; i < 8; i++) statuses.push((await fx.exchange({ OIDCToken: fx.idToken() }, `198.51.100.${10 + i}`)).status)
    expect(statuses.filter((s) => s === 200)).toHaveLength(6)
    expect(statuses.slice(6)).toEqual([429, 429])
  })

  it('spends a provider\'s budget on verified tokens only: garbage from many addresses locks no one out', async () => {
    now = new Date(now.getTime() + 60_000)
    // More garbage than the provider's burst (6), each from its own address (the source limit is per address).
    const garbage = 'eyJhbGciOiJSUzI1NiJ9.e30.AAAA'
    for (let i = 0; i < 10; i++) {
      const res = await fx.exchange({ OIDCToken: garbage }, `192.0.2.${i + 1}`)
      expect([res.status, res.body.Code]).toEqual([401, 'AuthenticationFail.OIDCToken.Invalid'])
    }
    expect((await fx.exchange({ OIDCToken: fx.idToken() }, '192.0.2.200')).status).toBe(200)
  })

  it('limits an IPv6 source by its /64: rotating addresses within it buys nothing', async () => {
    now = new Date(now.getTime() + 60_000)
    const statuses = []
    for (let i = 1; i <= 4; i++) statuses.push((await fx.exchange({ OIDCToken: fx.idToken() }, `2001:db8:1:2::${i}`)).status)
    expect(statuses).toEqual([200, 200, 200, 429])
    // Another /64 has its own bucket.
    expect((await fx.exchange({ OIDCToken: fx.idToken() }, '2001:db8:1:3::1')).status).toBe(200)
  })

  it('audits throttled exchanges as failures', async () => {
    await fx.svc.app.sts.audit.flush()
    const listed = await fx.svc.call('ListAuditEvents', '2026-11-01', { Date: '2026-11-28', MaxItems: 100 })
    const throttled = (listed.body.AuditEvents.AuditEvent as Array<{ ErrorCode?: string }>).filter((e) => e.ErrorCode === 'Throttling.User')
    // Two refusals by the per-source bucket above, two by the per-provider one, one by the IPv6 /64's.
    expect(throttled).toHaveLength(5)
    for (const e of throttled) expect(e).toMatchObject({ Outcome: 'Failure', ErrorCode: 'Throttling.User' })
  })
})
