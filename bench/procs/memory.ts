// Resident memory of a warm container: the real token-exchange handler in a fresh process, RSS
// (after a full GC) after 1 000 exchanges and then along the way to 100 000, one invocation at a time.

import { loadContext, say, writeResult } from '../lib/context.ts'
import { httpApiEvent, lambdaContext } from '../lib/events.ts'
import { exchangeQuery, idToken } from '../lib/tokens.ts'

type Handler = (event: unknown, context: unknown) => Promise<{ statusCode: number; body: string }>

const ctx = loadContext()
const TOTAL = Number(process.env.BENCH_MEMORY_EXCHANGES ?? 100_000)
const { handler } = (await import('../../functions/token-exchange.ts')) as unknown as { handler: Handler }
// Distinct tokens (jti, sub variations are not needed: caches are keyed by provider, role and issuer).
const events = Array.from({ length: 256 }, (_, i) => httpApiEvent({ rawQueryString: exchangeQuery(ctx, idToken(ctx, i % 2 ? 'ES256' : 'RS256'), `mem-${i}`) }))
const lc = lambdaContext()

const gc = globalThis.gc ?? (() => undefined)
// Resident memory moves with V8's young-generation sizing and malloc's arenas as well as with live
// data: at each checkpoint, three full collections with pauses, and the lowest reading.
const snapshot = async (exchanges: number) => {
  let best: NodeJS.MemoryUsage | undefined
  for (let i = 0; i < 3; i++) {
    gc()
    await new Promise((r) => setTimeout(r, 200))
    const m = process.memoryUsage()
    if (best === undefined || m.rss < best.rss) best = m
  }
  return { exchanges, rssBytes: best!.rss, heapUsedBytes: best!.heapUsed, heapTotalBytes: best!.heapTotal, externalBytes: best!.external }
}

const checkpoints = [...new Set([1_000, 10_000, 25_000, 50_000, 75_000, TOTAL].filter((n) => n <= TOTAL))]
const points = []
let done = 0
const started = performance.now()
for (const target of checkpoints) {
  for (; done < target; done++) {
    const res = await handler(events[done % events.length], lc)
    if (res.statusCode !== 200) throw new Error(`exchange ${done} answered ${res.statusCode}: ${res.body.slice(0, 300)}`)
    // Between invocations the Lambda runtime waits for the next event (an HTTP request to the Runtime
    // API): the event loop turns, and with it the clean-up V8 and Node defer to it (second-pass weak
    // callbacks freeing native crypto handles). A loop of awaits alone never lets it run.
    await new Promise((r) => setImmediate(r))
  }
  points.push(await snapshot(done))
  const p = points.at(-1)!
  say(`memory: ${done} exchanges, rss ${(p.rssBytes / 2 ** 20).toFixed(1)} MiB, heap ${(p.heapUsedBytes / 2 ** 20).toFixed(1)}/${(p.heapTotalBytes / 2 ** 20).toFixed(1)} MiB`)
}
writeResult({ exchanges: TOTAL, seconds: (performance.now() - started) / 1000, points })
process.exit(0)
