// `npm run bench`: every benchmark of issue 6 (and the soak of issue 7 with --soak or BENCH_SOAK=1),
// on one machine in one run, written to BENCHMARKS.md and bench/results.json. The runner owns the
// world (DynamoDB Local, the counting pass-through, an HTTPS IdP, the account, provider and role);
// each measurement that needs a clean process gets one. Flags: --soak, --quick (fewer, shorter
// rounds: for trying the harness, not for figures), --only=<suite,...> (floors, proxy, http, counts,
// cold-start, memory, soak; partial runs do not overwrite BENCHMARKS.md unless --write).

import { execSync } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { cpus, loadavg, totalmem } from 'node:os'
import { runSuite } from './lib/child.ts'
import { say, serviceEnv } from './lib/context.ts'
import { startFixture } from './lib/fixture.ts'
import { type BenchResults, type DdbCountsResult, renderReport } from './report.ts'
import { runColdStart } from './suites/cold-start.ts'
import { runHttpSuite } from './suites/http.ts'
import { runIdpCounts } from './suites/idp-counts.ts'
import { runSoak } from './suites/soak.ts'

const args = process.argv.slice(2)
const flag = (name: string) => args.includes(`--${name}`)
const only = args.find((a) => a.startsWith('--only='))?.slice(7).split(',')
const soak = flag('soak') || process.env.BENCH_SOAK === '1'
const quick = flag('quick')
const wanted = (suite: string) => (only ? only.includes(suite) : suite !== 'soak' || soak)
const settings = {
  rounds: quick ? 3 : 7,
  // The proxy suite's ratio is the target most exposed to the shared machine's noise (per-round ratios
  // spread over ±25 %): more rounds, so that its median moves less between runs. A multiple of its 4
  // kinds, so that the balanced order (bench/lib/stats.ts balancedOrder) completes its blocks.
  proxyRounds: quick ? 4 : 16,
  proxyRoundMs: quick ? 300 : 700,
  floorRoundMs: quick ? 100 : 300,
  // Like the proxy suite's, its ratios spread over ±25 % per round (BENCHMARKS.md, "Over HTTP"). A
  // multiple of its 8 kinds, for the same reason as proxyRounds.
  httpRounds: quick ? 2 : 8,
  httpRoundMs: quick ? 1000 : 2000,
  coldStartRuns: quick ? 3 : 10,
  memoryExchanges: quick ? 10_000 : 100_000,
  // The warm table count runs for at least this many exchanges and seconds: longer than the config
  // cache's 5 s TTL (shared/services/exchange-config.ts), so it sees the refreshes that TTL causes.
  warmCountExchanges: 1000,
  warmCountSeconds: quick ? 6 : 12,
  soakSeconds: Number(process.env.BENCH_SOAK_SECONDS ?? 300),
  soakRatePerSec: Number(process.env.BENCH_SOAK_RATE ?? 200),
}

const started = Date.now()
const loadStart = loadavg()
say(`bench: node ${process.version}, ${cpus().length} x ${cpus()[0]?.model ?? '?'}, load ${loadStart.map((l) => l.toFixed(2)).join(' ')}`)
const fx = await startFixture(say)
const results: Partial<BenchResults> = {}
try {
  const env = { ...serviceEnv(fx.ctx), BENCH_CONTEXT: fx.contextFile, BENCH_ROUNDS: String(settings.rounds) }
  if (wanted('floors')) {
    say('bench: floors')
    results.floors = (await runSuite<BenchResults['floors']>('bench/procs/floors.ts', { env: { ...env, BENCH_FLOOR_ROUND_MS: String(settings.floorRoundMs) }, dir: fx.dir })).result
  }
  if (wanted('proxy')) {
    say('bench: through the @fastify/aws-lambda proxy')
    results.proxy = (await runSuite<BenchResults['proxy']>('bench/procs/proxy.ts', { env: { ...env, BENCH_ROUNDS: String(settings.proxyRounds), BENCH_ROUND_MS: String(settings.proxyRoundMs) }, dir: fx.dir })).result
  }
  if (wanted('http')) {
    say('bench: over HTTP on loopback')
    results.http = await runHttpSuite(fx.ctx, fx.contextFile, { rounds: settings.httpRounds, roundMs: settings.httpRoundMs })
  }
  if (wanted('counts')) {
    say('bench: counts')
    const idp = await runIdpCounts(fx.ctx, fx.idp)
    const table = (await runSuite<DdbCountsResult>('bench/procs/ddb-counts.ts', {
      env: { ...serviceEnv(fx.ctx, { counted: true }), BENCH_CONTEXT: fx.contextFile, BENCH_WARM_EXCHANGES: String(settings.warmCountExchanges), BENCH_WARM_SECONDS: String(settings.warmCountSeconds) },
      dir: fx.dir,
    })).result
    results.counts = { idp, table }
  }
  if (wanted('cold-start')) {
    say('bench: cold start')
    results.coldStart = await runColdStart(fx.ctx, fx.dir, fx.idp, { runs: settings.coldStartRuns })
  }
  if (wanted('memory')) {
    say('bench: memory')
    results.memory = (await runSuite<BenchResults['memory']>('bench/procs/memory.ts', { env: { ...env, BENCH_MEMORY_EXCHANGES: String(settings.memoryExchanges) }, dir: fx.dir })).result
  }
  if (wanted('soak')) {
    say('bench: soak')
    results.soak = await runSoak(fx.ctx, fx.contextFile, { seconds: settings.soakSeconds, ratePerSec: settings.soakRatePerSec })
  }
} finally {
  await fx.close()
}

const git = (cmd: string) => {
  try {
    return execSync(cmd, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim()
  } catch {
    return ''
  }
}
const full: BenchResults = {
  command: `npm run bench${args.length > 0 ? ` -- ${args.join(' ')}` : ''}`,
  node: process.version,
  date: new Date(started).toISOString(),
  durationSeconds: Math.round((Date.now() - started) / 1000),
  machine: {
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model ?? 'unknown',
    totalMemGiB: Number((totalmem() / 2 ** 30).toFixed(1)),
    loadAverageStart: loadStart.map((l) => Number(l.toFixed(2))),
    loadAverageEnd: loadavg().map((l) => Number(l.toFixed(2))),
  },
  git: { commit: git('git rev-parse --short HEAD'), dirty: git('git status --porcelain') !== '' },
  settings,
  quick,
  ...(results as Omit<BenchResults, 'command' | 'node' | 'date' | 'durationSeconds' | 'machine' | 'git' | 'settings' | 'quick'>),
}
const partial = only !== undefined || quick
const jsonFile = partial && !flag('write') ? 'bench/results.partial.json' : 'bench/results.json'
writeFileSync(jsonFile, `${JSON.stringify(full, null, 2)}\n`)
say(`bench: wrote ${jsonFile}`)
if (!partial || flag('write')) {
  writeFileSync('BENCHMARKS.md', renderReport(full, { results: jsonFile, report: 'BENCHMARKS.md' }))
  say('bench: wrote BENCHMARKS.md')
} else {
  writeFileSync('bench/BENCHMARKS.partial.md', renderReport(full, { results: jsonFile, report: 'bench/BENCHMARKS.partial.md' }))
  say('bench: partial run: wrote bench/BENCHMARKS.partial.md (BENCHMARKS.md untouched; --write to replace it)')
}
say(`bench: done in ${full.durationSeconds}s`)
process.exit(0)
