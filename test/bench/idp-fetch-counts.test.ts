// Counting assertions behind BENCHMARKS.md (issue 6): how many requests the IdP sees. Counted by the
// IdP itself (a real HTTPS server); no timing is asserted.
import { randomBytes } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createExchangeFixture, type ExchangeFixture } from '../support/exchange-fixture.ts'

let now = new Date()
const clock = () => now
let fx: ExchangeFixture
const seen = () => ({ discovery: fx.idp.requests(fx.idp.discoveryPath), jwks: fx.idp.requests(fx.idp.jwksPath) })

beforeAll(async () => {
  fx = await createExchangeFixture({ clock })
})
afterAll(async () => {
  await fx?.close()
})

describe('IdP fetches (counts behind BENCHMARKS.md)', () => {
  it('200 concurrent exchanges on a cold JWKS cache cost 1 discovery and 1 JWKS request', async () => {
    const before = seen()
    const tokens = Array.from({ length: 200 }, () => fx.idToken())
    const results = await Promise.all(tokens.map((t) => fx.exchange({ OIDCToken: t })))
    expect(results.filter((r) => r.status === 200)).toHaveLength(200)
    expect(seen()).toEqual({ discovery: before.discovery + 1, jwks: before.jwks + 1 })
  })

  it('1000 exchanges with unknown kids within one cooldown cost one refetch; valid tokens keep working without more', async () => {
    // Move past the cooldown of the fetch above (keys still fresh): the first unknown kid may refetch, no later one.
    now = new Date(now.getTime() + 31_000)
    const before = seen()
    const codes = new Map<string, number>()
    for (let i = 0; i < 1000; i += 50) {
      const batch = Array.from({ length: 50 }, () => fx.idToken({}, { header: { kid: `rotated-${randomBytes(6).toString('hex')}` } }))
      for (const r of await Promise.all(batch.map((t) => fx.exchange({ OIDCToken: t })))) {
        const key = `${r.status} ${r.body.Code}`
        codes.set(key, (codes.get(key) ?? 0) + 1)
      }
    }
    expect(Object.fromEntries(codes)).toEqual({ '401 AuthenticationFail.OIDCToken.InvalidSignature': 1000 })
    expect(seen()).toEqual({ discovery: before.discovery + 1, jwks: before.jwks + 1 })
    const after = seen()
    expect((await fx.exchange({ OIDCToken: fx.idToken() })).status).toBe(200)
    expect(seen()).toEqual(after)
  })
})
