// Through the @fastify/aws-lambda proxy in process, one invocation at a time (as Lambda runs a
// container): a hello-world Fastify route (the floor) and the real token-exchange handler
// (functions/token-exchange.ts, configured from the environment like a deployed function) answering
// AssumeRoleWithOIDC with RS256 and ES256 tokens, warm. Next to it the same composition without the
// audit table copy (the response path alone: what a caller waits for in 24 invocations of 25). Rounds
// interleave all of them, so the ratios compare figures taken side by side. Also: process CPU per
// invocation and a sampling profile of the deployed handler.

import Fastify from 'fastify'
import { loadConfig } from '../../shared/config.ts'
import { parseTokenKeys } from '../../shared/credentials/token-keys.ts'
import { createLambdaHandler } from '../../shared/http/lambda-adapter.ts'
import { createLogger } from '../../shared/log.ts'
import { buildServiceApp } from '../../shared/service-app.ts'
import { stsActions } from '../../shared/services/sts-actions.ts'
import { openStores } from '../../shared/store/stores.ts'
import { type BenchAlg, loadContext, say, writeResult } from '../lib/context.ts'
import { httpApiEvent, lambdaContext } from '../lib/events.ts'
import { profile, type ProfileSummary } from '../lib/profile.ts'
import { summarize, type Summary } from '../lib/stats.ts'
import { exchangeQuery, idToken } from '../lib/tokens.ts'

type Handler = (event: unknown, context: unknown) => Promise<{ statusCode: number; body: string }>

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7)
const ROUND_MS = Number(process.env.BENCH_ROUND_MS ?? 700)
const ctx = loadContext()

const hello = Fastify({ logger: false })
hello.route({ method: ['GET', 'POST'], url: '/', handler: async () => ({ hello: 'world' }) })
await hello.ready()
const helloHandler = createLambdaHandler(hello) as unknown as Handler
const helloEvent = httpApiEvent({ rawQueryString: 'Action=Hello&Version=2015-04-01&Format=JSON' })

const { handler: exchangeHandler } = (await import('../../functions/token-exchange.ts')) as unknown as { handler: Handler }
// functions/token-exchange.ts's composition, minus the audit table copy (the log line stays).
const config = loadConfig()
const responsePathApp = buildServiceApp({
  config,
  stores: { ...openStores(config), audit: undefined as never },
  logger: createLogger(config.logLevel),
  tokenKeys: parseTokenKeys(config.tokenKeys!),
  actions: stsActions,
})
await responsePathApp.ready()
const responsePathHandler = createLambdaHandler(responsePathApp) as unknown as Handler
const pool = (alg: BenchAlg) => Array.from({ length: 64 }, (_, i) => httpApiEvent({ rawQueryString: exchangeQuery(ctx, idToken(ctx, alg), `bench-${i}`) }))
const events: Record<BenchAlg, ReturnType<typeof pool>> = { RS256: pool('RS256'), ES256: pool('ES256') }
const lambdaCtx = lambdaContext()

interface Sample {
  perSec: number
  wallUs: number
  cpuUs: number
}

type Kind = 'hello' | BenchAlg | 'RS256.responsePath' | 'ES256.responsePath'
const PROFILED = ['RS256', 'ES256', 'RS256.responsePath'] as const
type ProfiledKind = (typeof PROFILED)[number]

async function run(kind: Kind, budgetMs: number): Promise<Sample> {
  const fn = kind === 'hello' ? helloHandler : kind.endsWith('.responsePath') ? responsePathHandler : exchangeHandler
  const evs = kind === 'hello' ? [helloEvent] : events[kind.slice(0, 5) as BenchAlg]
  let n = 0
  const cpu0 = process.cpuUsage()
  const t0 = performance.now()
  let elapsed = 0
  while (elapsed < budgetMs) {
    for (let i = 0; i < 50; i++) {
      const res = await fn(evs[n % evs.length], lambdaCtx)
      if (res.statusCode !== 200) throw new Error(`${kind}: status ${res.statusCode} ${res.body.slice(0, 300)}`)
      n++
    }
    elapsed = performance.now() - t0
  }
  const cpu = process.cpuUsage(cpu0)
  return { perSec: (n / elapsed) * 1000, wallUs: (elapsed * 1000) / n, cpuUs: (cpu.user + cpu.system) / n }
}

// Warm-up: JIT, config cache, JWKS cache (the first exchange fetches the IdP's keys).
say('proxy: warming up')
const kinds: Kind[] = ['hello', 'RS256', 'ES256', 'RS256.responsePath', 'ES256.responsePath']
for (const kind of kinds) await run(kind, 1500)

const samples = Object.fromEntries(kinds.map((k) => [k, [] as Sample[]])) as Record<Kind, Sample[]>
for (let r = 0; r < ROUNDS; r++) {
  // Rotate the order so no kind always runs first (or right after a GC-heavy one).
  for (let k = 0; k < kinds.length; k++) {
    const kind = kinds[(k + r) % kinds.length]!
    samples[kind].push(await run(kind, ROUND_MS))
  }
  say(`proxy: round ${r + 1}/${ROUNDS}: ${kinds.map((k) => `${k} ${samples[k].at(-1)!.perSec.toFixed(0)}/s`).join(', ')}`)
}

const sum = (s: Sample[]) => ({
  perSec: summarize(s.map((x) => x.perSec)),
  wallUs: summarize(s.map((x) => x.wallUs)),
  cpuUs: summarize(s.map((x) => x.cpuUs)),
})

say('proxy: profiling the exchange')
const profiles = {} as Record<ProfiledKind, ProfileSummary>
for (const kind of PROFILED) profiles[kind] = await profile(async () => void (await run(kind, 2000)))

const result: ProxyResult = {
  rounds: ROUNDS,
  roundMs: ROUND_MS,
  kinds: Object.fromEntries(kinds.map((k) => [k, sum(samples[k])])) as ProxyResult['kinds'],
  profiles,
}
writeResult(result)
process.exit(0)

export interface ProxyResult {
  rounds: number
  roundMs: number
  kinds: Record<Kind, { perSec: Summary; wallUs: Summary; cpuUs: Summary }>
  profiles: Record<ProfiledKind, ProfileSummary>
}
