// Counts, not times: requests seen by the IdP (discovery and JWKS) and DynamoDB commands sent, for
// 200 concurrent exchanges on a cold JWKS cache, and for 1000 exchanges carrying unknown `kid`s inside
// one refetch cooldown (the cooldown is opened first by moving the service's clock past it, the worst
// case). Runs in the runner, which owns the IdP and its counters; the service is the real app with a
// JWKS cache of its own and a clock the suite controls.

import { randomBytes } from 'node:crypto'
import { loadConfig } from '../../shared/config.ts'
import { parseTokenKeys } from '../../shared/credentials/token-keys.ts'
import { createLogger } from '../../shared/log.ts'
import { buildServiceApp } from '../../shared/service-app.ts'
import { stsActions } from '../../shared/services/sts-actions.ts'
import { openStores } from '../../shared/store/stores.ts'
import type { HttpsIdp } from '../../test/support/https-idp.ts'
import { type BenchContext, say, serviceEnv } from '../lib/context.ts'
import type { OpCounts } from '../lib/ddb-counter.ts'
import { countCommands } from '../lib/ddb-middleware.ts'
import { exchangeQuery, idToken } from '../lib/tokens.ts'

export interface IdpCountScenario {
  exchanges: number
  concurrency: number
  outcomes: Record<string, number>
  idp: { discovery: number; jwks: number }
  tableOps: OpCounts
}

export interface IdpCountsResult {
  coldConcurrent: IdpCountScenario
  unknownKids: IdpCountScenario & { cooldownSeconds: number; validAfter: { status: number; idpRequests: number } }
}

async function makeService(ctx: BenchContext, clock: () => Date) {
  const config = loadConfig({ ...serviceEnv(ctx), LOG_LEVEL: 'silent' })
  const stores = openStores(config)
  const table = countCommands(stores.documentClient)
  const app = buildServiceApp({
    config,
    stores,
    logger: createLogger('silent'),
    tokenKeys: parseTokenKeys(ctx.tokenKeys),
    actions: stsActions,
    jwks: 'private', // a cold cache of its own
    fetchOptions: { ca: ctx.caPem },
    clock,
  })
  await app.ready()
  const exchange = async (token: string, i: number) => {
    const res = await app.inject({ method: 'POST', url: `/?${exchangeQuery(ctx, token, `count-${i}`)}`, remoteAddress: '203.0.113.10' })
    const body = res.json() as { Code?: string; Credentials?: unknown }
    return res.statusCode === 200 && body.Credentials ? 'Success' : `${res.statusCode} ${body.Code ?? '?'}`
  }
  return { app, table, exchange, cooldownMs: config.jwksCooldownMs }
}

const tally = (outcomes: string[]) => outcomes.reduce<Record<string, number>>((acc, o) => ((acc[o] = (acc[o] ?? 0) + 1), acc), {})

export async function runIdpCounts(ctx: BenchContext, idp: HttpsIdp): Promise<IdpCountsResult> {
  const seen = () => ({ discovery: idp.requests(ctx.discoveryPath), jwks: idp.requests(ctx.jwksPath) })
  const delta = (a: { discovery: number; jwks: number }) => {
    const b = seen()
    return { discovery: b.discovery - a.discovery, jwks: b.jwks - a.jwks }
  }

  say('counts: 200 concurrent exchanges on a cold JWKS cache')
  const realClock = () => new Date()
  const s1 = await makeService(ctx, realClock)
  const tokens = Array.from({ length: 200 }, () => idToken(ctx, 'RS256'))
  const before1 = seen()
  const outcomes1 = await Promise.all(tokens.map((t, i) => s1.exchange(t, i)))
  const coldConcurrent: IdpCountScenario = { exchanges: 200, concurrency: 200, outcomes: tally(outcomes1), idp: delta(before1), tableOps: s1.table.counts() }
  await s1.app.close()

  say('counts: 1000 exchanges with unknown kids within one cooldown')
  let now = Date.now()
  const s2 = await makeService(ctx, () => new Date(now))
  if ((await s2.exchange(idToken(ctx, 'ES256', { nowSec: Math.floor(now / 1000) }), 0)) !== 'Success') throw new Error('counts: warm-up exchange failed')
  // Past the cooldown of the fetch that warmed the cache (still within the keys' freshness): the
  // first unknown kid may refetch, every later one inside this cooldown must not.
  now += s2.cooldownMs + 1000
  s2.table.reset()
  const nowSec = Math.floor(now / 1000)
  const unknown = Array.from({ length: 1000 }, () => idToken(ctx, 'ES256', { kid: `rotated-${randomBytes(6).toString('hex')}`, nowSec }))
  const before2 = seen()
  const outcomes2: string[] = []
  for (let i = 0; i < unknown.length; i += 50) outcomes2.push(...(await Promise.all(unknown.slice(i, i + 50).map((t, j) => s2.exchange(t, i + j)))))
  const idp2 = delta(before2)
  const ops2 = s2.table.counts()
  const before3 = seen()
  const after = await s2.exchange(idToken(ctx, 'RS256', { nowSec }), 2000)
  const d3 = delta(before3)
  await s2.app.close()
  return {
    coldConcurrent,
    unknownKids: {
      exchanges: 1000,
      concurrency: 50,
      outcomes: tally(outcomes2),
      idp: idp2,
      tableOps: ops2,
      cooldownSeconds: s2.cooldownMs / 1000,
      validAfter: { status: after === 'Success' ? 200 : Number(after.slice(0, 3)), idpRequests: d3.discovery + d3.jwks },
    },
  }
}
