// Through the @fastify/aws-lambda proxy in process, one invocation at a time (as Lambda runs a
// container): a hello-world Fastify route behind @fastify/aws-lambda with its default options (the
// floor), the same route behind the service's adapter (shared/http/lambda-adapter.ts, decorateRequest
// off), and the real token-exchange handler (functions/token-exchange.ts, configured from the
// environment like a deployed function) answering AssumeRoleWithOIDC with RS256 and ES256 tokens, warm.
// Rounds interleave all of them in a balanced order, so the ratios compare figures taken side by side.
// Also: process CPU per invocation, a sampling profile of the handler, and the audit writer's CPU per
// audit record.

import { gzipSync } from 'node:zlib'
import awsLambdaFastify from '@fastify/aws-lambda'
import Fastify from 'fastify'
import { AuditSink } from '../../shared/audit/audit-log.ts'
import { createLambdaHandler } from '../../shared/http/lambda-adapter.ts'
import { createLogger } from '../../shared/log.ts'
import { type BenchAlg, loadContext, say, writeResult } from '../lib/context.ts'
import { httpApiEvent, lambdaContext } from '../lib/events.ts'
import { profile, type ProfileSummary } from '../lib/profile.ts'
import { balancedOrder, summarize, type Summary } from '../lib/stats.ts'
import { exchangeQuery, idToken } from '../lib/tokens.ts'

type Handler = (event: unknown, context: unknown) => Promise<{ statusCode: number; body: string }>

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7)
const ROUND_MS = Number(process.env.BENCH_ROUND_MS ?? 700)
const ctx = loadContext()

const hello = Fastify({ logger: false })
hello.route({ method: ['GET', 'POST'], url: '/', handler: async () => ({ hello: 'world' }) })
await hello.ready()
const helloHandler = awsLambdaFastify(hello) as unknown as Handler
const helloAdapterHandler = createLambdaHandler(hello) as unknown as Handler
const helloEvent = httpApiEvent({ rawQueryString: 'Action=Hello&Version=2015-04-01&Format=JSON' })

const { handler: exchangeHandler } = (await import('../../functions/token-exchange.ts')) as unknown as { handler: Handler }
const pool = (alg: BenchAlg) => Array.from({ length: 64 }, (_, i) => httpApiEvent({ rawQueryString: exchangeQuery(ctx, idToken(ctx, alg), `bench-${i}`) }))
const events: Record<BenchAlg, ReturnType<typeof pool>> = { RS256: pool('RS256'), ES256: pool('ES256') }
const lambdaCtx = lambdaContext()

interface Sample {
  perSec: number
  wallUs: number
  cpuUs: number
}

type Kind = 'hello' | 'hello.adapter' | BenchAlg
const PROFILED = ['RS256', 'ES256'] as const
type ProfiledKind = (typeof PROFILED)[number]

/** Invocations of one kind, in batches of 50, until `ms` have passed and at least `invocations` were made. */
async function run(kind: Kind, budget: { ms: number; invocations?: number }): Promise<Sample> {
  const fn = kind === 'hello' ? helloHandler : kind === 'hello.adapter' ? helloAdapterHandler : exchangeHandler
  const evs = kind === 'hello' || kind === 'hello.adapter' ? [helloEvent] : events[kind]
  const minInvocations = budget.invocations ?? 0
  let n = 0
  const cpu0 = process.cpuUsage()
  const t0 = performance.now()
  let elapsed = 0
  while (elapsed < budget.ms || n < minInvocations) {
    for (let i = 0; i < 50; i++) {
      const res = await fn(evs[n % evs.length], lambdaCtx)
      if (res.statusCode !== 200) throw new Error(`${kind}: status ${res.statusCode} ${res.body.slice(0, 300)}`)
      n++
      // One event-loop turn between invocations, as the Lambda runtime's wait for the next event gives
      // (bench/procs/memory.ts: without it, native handles freed by deferred clean-up pile up).
      await new Promise((r) => setImmediate(r))
    }
    elapsed = performance.now() - t0
  }
  const cpu = process.cpuUsage(cpu0)
  return { perSec: (n / elapsed) * 1000, wallUs: (elapsed * 1000) / n, cpuUs: (cpu.user + cpu.system) / n }
}

// Warm-up: JIT, config cache, JWKS cache (the first exchange fetches the IdP's keys). Counted, not
// only timed: Turbofan keeps compiling the exchange's code until ~5000 invocations (--trace-opt,
// BENCHMARKS.md), which 1.5 s of exchanges on a slow round would not reach.
say('proxy: warming up')
const kinds: Kind[] = ['hello', 'hello.adapter', 'RS256', 'ES256']
const WARM_UP = { ms: 1500, invocations: 5000 }
for (const kind of kinds) await run(kind, WARM_UP)

const samples = Object.fromEntries(kinds.map((k) => [k, [] as Sample[]])) as Record<Kind, Sample[]>
for (let r = 0; r < ROUNDS; r++) {
  // A balanced order (a Williams square, bench/lib/stats.ts): over every 4 rounds each kind runs once
  // in each position and once right after each other kind, so hello-world does not always follow an
  // exchange (whose garbage it would collect). ROUNDS is best a multiple of 4 (bench/run.ts).
  for (const k of balancedOrder(kinds.length, r)) {
    const kind = kinds[k]!
    samples[kind].push(await run(kind, { ms: ROUND_MS }))
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
for (const kind of PROFILED) profiles[kind] = await profile(async () => void (await run(kind, { ms: 2000 })))

// The audit writer (functions/audit-writer.ts) with subscription batches of 100 audit lines, as the
// token-exchange function writes them: process CPU per record (its wall time is DynamoDB Local's).
say('proxy: the audit writer')
const { handler: auditWriter } = (await import('../../functions/audit-writer.ts')) as unknown as { handler: (e: unknown, c: unknown) => Promise<{ written: number }> }
const lines: string[] = []
const sink = new AuditSink({ logger: createLogger('info', (l) => lines.push(l)) })
const auditBatch = () => {
  lines.length = 0
  const t = Date.now()
  for (let i = 0; i < 100; i++) {
    sink.record({ time: t + i, requestId: `BENCH-${t}-${i}`, accountId: ctx.accountId, providerArn: `acs:ram::${ctx.accountId}:oidc-provider/bench`, roleArn: `acs:ram::${ctx.accountId}:role/bench`, sessionName: `bench-${i}`, sub: 'repo:octo-org/octo-repo:ref:refs/heads/main', jti: `jti-${t}-${i}`, sourceIp: '203.0.113.10', outcome: 'Success' })
  }
  const data = { messageType: 'DATA_MESSAGE', owner: '123456789012', logGroup: '/aws/lambda/oidc-sts-bench-tokenExchange', logStream: 's', subscriptionFilters: ['f'], logEvents: lines.map((message, i) => ({ id: String(i), timestamp: t, message })) }
  return { awslogs: { data: gzipSync(JSON.stringify(data)).toString('base64') } }
}
await auditWriter(auditBatch(), lambdaCtx)
const auditSamples: number[] = []
for (let r = 0; r < ROUNDS; r++) {
  const batches = Array.from({ length: 5 }, auditBatch)
  const cpu0 = process.cpuUsage()
  let written = 0
  for (const b of batches) written += (await auditWriter(b, lambdaCtx)).written
  const cpu = process.cpuUsage(cpu0)
  auditSamples.push((cpu.user + cpu.system) / written)
}

const result: ProxyResult = {
  rounds: ROUNDS,
  roundMs: ROUND_MS,
  kinds: Object.fromEntries(kinds.map((k) => [k, sum(samples[k])])) as ProxyResult['kinds'],
  profiles,
  auditWriterCpuUsPerRecord: summarize(auditSamples),
}
writeResult(result)
process.exit(0)

export interface ProxyResult {
  rounds: number
  roundMs: number
  kinds: Record<Kind, { perSec: Summary; wallUs: Summary; cpuUs: Summary }>
  profiles: Record<ProfiledKind, ProfileSummary>
  /** functions/audit-writer.ts: process CPU per audit record written (batches of 100 lines). */
  auditWriterCpuUsPerRecord: Summary
}
