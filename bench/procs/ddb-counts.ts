// Table access counted at the wire: the real Lambda handlers (functions/token-exchange.ts and
// functions/management.ts, configured from the environment) in a fresh process, with DYNAMODB_ENDPOINT
// pointing at the counting pass-through (bench/lib/ddb-counter.ts) in front of DynamoDB Local. The
// counters are read between invocations, so each invocation's requests are known exactly. The warm
// count outlasts the config cache's TTL, so it includes the refreshes that TTL causes.

import { randomBytes } from 'node:crypto'
import { loadConfig } from '../../shared/config.ts'
import { getJwksCache } from '../../shared/oidc/jwks-cache.ts'
import { signRpcRequest, type SigningCredentials } from '../../shared/signing/sign-request.ts'
import { loadContext, say, writeResult } from '../lib/context.ts'
import { diffCounts, type OpCounts, readCounts, totalOf } from '../lib/ddb-counter.ts'
import { httpApiEvent, lambdaContext } from '../lib/events.ts'
import { exchangeQuery, idToken } from '../lib/tokens.ts'

type Handler = (event: unknown, context: unknown) => Promise<{ statusCode: number; body: string }>

const ctx = loadContext()
const endpoint = ctx.countingEndpoint
if (process.env.DYNAMODB_ENDPOINT !== endpoint) throw new Error('ddb-counts: DYNAMODB_ENDPOINT must be the counting pass-through (serviceEnv(ctx, { counted: true }))')
const WARM = Number(process.env.BENCH_WARM_EXCHANGES ?? 1000)
const WARM_SECONDS = Number(process.env.BENCH_WARM_SECONDS ?? 12)
// The handler's config cache TTL (CONFIG_CACHE_SECONDS, at most 5 s): the warm count must outlast it
// to see the refreshes it causes.
const TTL_SECONDS = loadConfig(process.env).configCacheMs / 1000
// What the warm exchange caches with that TTL: the fixture's one provider and one role.
const CACHED_ITEMS = 2
const CALLS = 20
const lc = lambdaContext()

/** Runs fn and returns what it did at the table. */
async function counted<T>(fn: () => Promise<T>): Promise<{ value: T; ops: OpCounts }> {
  const before = await readCounts(endpoint)
  const value = await fn()
  return { value, ops: diffCounts(await readCounts(endpoint), before) }
}

const add = (into: OpCounts, ops: OpCounts) => {
  for (const [k, v] of Object.entries(ops)) into[k] = (into[k] ?? 0) + v
}

const beforeInit = await readCounts(endpoint)
const exchangeFn = (await import('../../functions/token-exchange.ts')) as unknown as { handler: Handler }
const init = diffCounts(await readCounts(endpoint), beforeInit)
const exchangeEvent = (i: number) => httpApiEvent({ rawQueryString: exchangeQuery(ctx, idToken(ctx, i % 2 === 0 ? 'RS256' : 'ES256'), `count-${i}`) })
const events = Array.from({ length: 64 }, (_, i) => exchangeEvent(i))
const exchange = async (i: number) => {
  const res = await exchangeFn.handler(events[i % events.length], lc)
  if (res.statusCode !== 200) throw new Error(`exchange answered ${res.statusCode}: ${res.body.slice(0, 300)}`)
  return JSON.parse(res.body) as { Credentials: { AccessKeyId: string; AccessKeySecret: string; SecurityToken: string } }
}

say('ddb-counts: cold exchange')
const jwks = getJwksCache()
const cold = await counted(() => exchange(0))
const coldFetches = jwks.stats(ctx.issuer).fetches

say(`ddb-counts: warm exchanges, one invocation at a time, for at least ${WARM} exchanges and ${WARM_SECONDS} s (config cache TTL ${TTL_SECONDS} s)`)
const warmTotals: OpCounts = {}
const warmRequests: Array<{ atSeconds: number; ops: OpCounts }> = []
let warmInvocationsWithRequests = 0
let warmExchanges = 0
const started = performance.now()
let warmSeconds = 0
while (warmExchanges < WARM || warmSeconds < WARM_SECONDS) {
  const { ops } = await counted(() => exchange(++warmExchanges))
  warmSeconds = (performance.now() - started) / 1000
  add(warmTotals, ops)
  if (totalOf(ops) > 0) {
    warmInvocationsWithRequests++
    // Which invocations made them, and when (a bounded list: a refresh per TTL is a handful).
    if (warmRequests.length < 50) warmRequests.push({ atSeconds: Number(warmSeconds.toFixed(3)), ops })
  }
}
const warmFetches = jwks.stats(ctx.issuer).fetches - coldFetches

const creds = (await exchange(warmExchanges + 1)).Credentials
const sts: SigningCredentials = { accessKeyId: creds.AccessKeyId, secret: creds.AccessKeySecret, securityToken: creds.SecurityToken }
const signedEvent = (c: SigningCredentials, action: string, version: string, params: Record<string, string>, host: string) => {
  const s = signRpcRequest({ creds: c, action, version, params, host, date: new Date(), nonce: randomBytes(16).toString('hex') })
  return httpApiEvent({ rawQueryString: s.url.slice(2), headers: s.headers, host })
}

async function series(name: string, handler: Handler, make: () => unknown) {
  const per: OpCounts[] = []
  for (let i = 0; i < CALLS; i++) {
    const { value, ops } = await counted(() => handler(make(), lc))
    if (value.statusCode !== 200) throw new Error(`${name} answered ${value.statusCode}: ${value.body.slice(0, 300)}`)
    per.push(ops)
  }
  const steady: OpCounts = {}
  for (const ops of per.slice(1)) add(steady, ops)
  for (const k of Object.keys(steady)) steady[k] = steady[k]! / (CALLS - 1)
  return { calls: CALLS, first: per[0]!, steadyPerCall: steady }
}

say('ddb-counts: signed calls')
const mgmt = (await import('../../functions/management.ts')) as unknown as { handler: Handler }
const signed = {
  'GetCallerIdentity.sts (token-exchange function)': await series('GetCallerIdentity', exchangeFn.handler, () => signedEvent(sts, 'GetCallerIdentity', '2015-04-01', {}, 'sts.example.com')),
  'GetOIDCProvider.root (management function)': await series('GetOIDCProvider root', mgmt.handler, () => signedEvent(ctx.root, 'GetOIDCProvider', '2019-08-15', { OIDCProviderName: ctx.providerName }, 'ims.example.com')),
  'GetOIDCProvider.sts (management function)': await series('GetOIDCProvider sts', mgmt.handler, () => signedEvent(sts, 'GetOIDCProvider', '2019-08-15', { OIDCProviderName: ctx.providerName }, 'ims.example.com')),
}

writeResult({
  init,
  coldExchange: { ops: cold.ops, idpFetches: coldFetches },
  warm: {
    exchanges: warmExchanges,
    seconds: warmSeconds,
    ttlSeconds: TTL_SECONDS,
    cachedItems: CACHED_ITEMS,
    totals: warmTotals,
    perExchange: Object.fromEntries(Object.entries(warmTotals).map(([k, v]) => [k, v / warmExchanges])),
    invocationsWithTableRequests: warmInvocationsWithRequests,
    requests: warmRequests,
    idpFetches: warmFetches,
  },
  signed,
})
process.exit(0)
