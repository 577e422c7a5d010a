// Soak (opt-in: `npm run bench -- --soak` or BENCH_SOAK=1): the service as `npm start` serves it,
// five minutes of mixed exchanges and signed management calls at a fixed rate over loopback (open
// loop), its resident memory sampled (after a GC) every 10 s. Claims: no errors, RSS flat.

import { type BenchContext, say, serviceEnv } from '../lib/context.ts'
import { runLoad } from '../lib/loadgen.ts'
import { exchangeRequests, IMS, signedRequest, STS, stsCredentials } from '../lib/requests.ts'
import { startServerProc } from '../lib/server-proc.ts'
import { maxOf, percentile } from '../lib/stats.ts'

export interface SoakResult {
  seconds: number
  ratePerSec: number
  mix: Record<string, number>
  requests: number
  errors: number
  unsent: number
  errorsByKind: Record<string, number>
  failures: string[]
  /** Messages on idle connections (not answers to requests), and idle connections the server closed. */
  unsolicited: string[]
  p50Ms: number
  p99Ms: number
  maxMs: number
  byKind: Record<string, { requests: number; p50Ms: number; p99Ms: number; maxMs: number }>
  /** Server RSS after a GC, every 10 s. */
  rss: Array<{ atSeconds: number; rssBytes: number; heapUsedBytes: number }>
  /** RSS at the end vs after the first minute (the warm-up). */
  rssGrowth: number
  rssBound: number
}

// Share of each kind in every block of 20 requests.
const MIX: Array<[string, number]> = [
  ['exchange.RS256', 7],
  ['exchange.ES256', 6],
  ['GetCallerIdentity.sts', 3],
  ['GetOIDCProvider.root', 2],
  ['GetOIDCProvider.sts', 1],
  ['ListOIDCProviders.root', 1],
]
const SLOTS = MIX.flatMap(([k, n]) => Array<string>(n).fill(k))

export async function runSoak(ctx: BenchContext, contextFile: string, opts: { seconds: number; ratePerSec: number; rssBound?: number }): Promise<SoakResult> {
  const server = await startServerProc({ ...serviceEnv(ctx), BENCH_CONTEXT: contextFile })
  try {
    const port = server.servicePort
    const sts = await stsCredentials(ctx, port)
    const pools = { RS256: exchangeRequests(ctx, 'RS256', port, 128), ES256: exchangeRequests(ctx, 'ES256', port, 128) }
    const kindOf = (i: number) => SLOTS[i % SLOTS.length]!
    const provider = { OIDCProviderName: ctx.providerName }
    const request = (i: number): Buffer => {
      switch (kindOf(i)) {
        case 'exchange.RS256': return pools.RS256[i % pools.RS256.length]!
        case 'exchange.ES256': return pools.ES256[i % pools.ES256.length]!
        case 'GetCallerIdentity.sts': return signedRequest(sts, 'GetCallerIdentity', STS, {}, port)
        case 'GetOIDCProvider.root': return signedRequest(ctx.root, 'GetOIDCProvider', IMS, provider, port)
        case 'GetOIDCProvider.sts': return signedRequest(sts, 'GetOIDCProvider', IMS, provider, port)
        default: return signedRequest(ctx.root, 'ListOIDCProviders', IMS, {}, port)
      }
    }
    const errorsByKind: Record<string, number> = {}
    const latencies = new Map<string, number[]>(MIX.map(([k]) => [k, []]))
    const accept = (status: number, body: Buffer, i: number, latencyMs: number) => {
      const kind = kindOf(i)
      latencies.get(kind)!.push(latencyMs)
      const ok = status === 200 && (!kind.startsWith('exchange') || body.includes('"SecurityToken"'))
      if (!ok) errorsByKind[kind] = (errorsByKind[kind] ?? 0) + 1
      return ok
    }
    const rss: SoakResult['rss'] = []
    const t0 = performance.now()
    const sample = async () => {
      const m = await server.memory(true)
      rss.push({ atSeconds: Math.round((performance.now() - t0) / 1000), rssBytes: m.rss, heapUsedBytes: m.heapUsed })
    }
    await sample()
    const sampler = setInterval(() => {
      void sample().then(() => say(`soak: ${rss.at(-1)!.atSeconds}s rss ${(rss.at(-1)!.rssBytes / 2 ** 20).toFixed(1)} MiB`))
    }, 10_000)
    say(`soak: ${opts.seconds}s at ${opts.ratePerSec} requests/s (${MIX.map(([k, n]) => `${k} ${Math.round((n / SLOTS.length) * 100)}%`).join(', ')})`)
    const load = await runLoad({ port, concurrency: 32, durationMs: opts.seconds * 1000, ratePerSec: opts.ratePerSec, request, accept })
    clearInterval(sampler)
    await sample()
    const warm = rss.find((r) => r.atSeconds >= 60) ?? rss[0]!
    const end = rss.at(-1)!
    const rssBound = opts.rssBound ?? 0.1
    return {
      seconds: opts.seconds,
      ratePerSec: opts.ratePerSec,
      mix: Object.fromEntries(MIX.map(([k, n]) => [k, n / SLOTS.length])),
      requests: load.requests,
      errors: load.errors,
      unsent: load.unsent,
      errorsByKind,
      failures: load.failures,
      unsolicited: load.unsolicited,
      p50Ms: load.p50Ms,
      p99Ms: load.p99Ms,
      maxMs: load.maxMs,
      byKind: Object.fromEntries([...latencies].map(([k, v]) => [k, { requests: v.length, p50Ms: percentile(v, 50), p99Ms: percentile(v, 99), maxMs: maxOf(v) }])),
      rss,
      rssGrowth: end.rssBytes / warm.rssBytes - 1,
      rssBound,
    }
  } finally {
    await server.stop()
  }
}
