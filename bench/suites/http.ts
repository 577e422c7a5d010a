// Over HTTP on loopback, keep-alive, 32 connections each with one request in flight: the hello-world
// route (floor) and the service as `npm start` serves it: the exchange (RS256, ES256) and signed
// management calls (GetOIDCProvider with the root AccessKey and with STS credentials, and
// GetCallerIdentity with STS credentials); and the exchange on the same service without its audit
// table copy, to show what writing the copy costs. The servers run in their own process, the load generator
// here; rounds interleave the kinds so the ratios compare figures taken side by side.

import type { SigningCredentials } from '../../shared/signing/sign-request.ts'
import { type BenchContext, say, serviceEnv } from '../lib/context.ts'
import { runLoad } from '../lib/loadgen.ts'
import { exchangeRequests, helloRequest, IMS, signedRequest, STS, stsCredentials } from '../lib/requests.ts'
import { startServerProc } from '../lib/server-proc.ts'
import { balancedOrder, summarize, type Summary } from '../lib/stats.ts'

export const HTTP_KINDS = [
  'hello',
  'exchange.RS256',
  'exchange.ES256',
  'exchange.RS256.noTableCopy',
  'exchange.ES256.noTableCopy',
  'GetOIDCProvider.root',
  'GetOIDCProvider.sts',
  'GetCallerIdentity.sts',
] as const
export type HttpKind = (typeof HTTP_KINDS)[number]

export interface HttpKindResult {
  perSec: Summary
  /** Process CPU of the server (user + system, all its threads) per request, µs. */
  serverCpuUs: Summary
  p50Ms: Summary
  p99Ms: Summary
  requests: number
  errors: number
  failures: string[]
}

export interface HttpResult {
  concurrency: number
  rounds: number
  roundMs: number
  kinds: Record<HttpKind, HttpKindResult>
}

export async function runHttpSuite(ctx: BenchContext, contextFile: string, opts: { rounds: number; roundMs: number; concurrency?: number }): Promise<HttpResult> {
  const concurrency = opts.concurrency ?? 32
  const server = await startServerProc({ ...serviceEnv(ctx), BENCH_CONTEXT: contextFile })
  try {
    const { helloPort, servicePort, noTableCopyPort } = server
    const sts = await stsCredentials(ctx, servicePort)
    const root: SigningCredentials = ctx.root
    const pools = { RS256: exchangeRequests(ctx, 'RS256', servicePort), ES256: exchangeRequests(ctx, 'ES256', servicePort) }
    const bare = { RS256: exchangeRequests(ctx, 'RS256', noTableCopyPort), ES256: exchangeRequests(ctx, 'ES256', noTableCopyPort) }
    const hello = helloRequest(helloPort)
    const provider = { OIDCProviderName: ctx.providerName }
    const exchangeOk = (status: number, body: Buffer) => status === 200 && body.includes('"SecurityToken"')
    const plan: Record<HttpKind, { port: number; request: (i: number) => Buffer; accept?: (status: number, body: Buffer) => boolean }> = {
      hello: { port: helloPort, request: () => hello },
      'exchange.RS256': { port: servicePort, request: (i) => pools.RS256[i % pools.RS256.length]!, accept: exchangeOk },
      'exchange.ES256': { port: servicePort, request: (i) => pools.ES256[i % pools.ES256.length]!, accept: exchangeOk },
      'exchange.RS256.noTableCopy': { port: noTableCopyPort, request: (i) => bare.RS256[i % bare.RS256.length]!, accept: exchangeOk },
      'exchange.ES256.noTableCopy': { port: noTableCopyPort, request: (i) => bare.ES256[i % bare.ES256.length]!, accept: exchangeOk },
      'GetOIDCProvider.root': { port: servicePort, request: () => signedRequest(root, 'GetOIDCProvider', IMS, provider, servicePort) },
      'GetOIDCProvider.sts': { port: servicePort, request: () => signedRequest(sts, 'GetOIDCProvider', IMS, provider, servicePort) },
      'GetCallerIdentity.sts': { port: servicePort, request: () => signedRequest(sts, 'GetCallerIdentity', STS, {}, servicePort) },
    }
    const once = async (kind: HttpKind, durationMs: number) => {
      const before = (await server.memory()).cpu
      const load = await runLoad({ ...plan[kind], concurrency, durationMs })
      const after = (await server.memory()).cpu
      const cpuUs = after.user + after.system - before.user - before.system
      return { ...load, serverCpuUs: load.requests > 0 ? cpuUs / load.requests : Number.NaN }
    }

    say('http: warming up')
    for (const kind of HTTP_KINDS) {
      const w = await once(kind, 1000)
      if (w.errors > 0) throw new Error(`http: ${kind} fails during warm-up: ${w.failures.join(' | ')}`)
    }
    const raw = Object.fromEntries(HTTP_KINDS.map((k) => [k, [] as Awaited<ReturnType<typeof once>>[]])) as Record<HttpKind, Awaited<ReturnType<typeof once>>[]>
    for (let r = 0; r < opts.rounds; r++) {
      // A balanced order (Williams square): no kind always runs right after the same one.
      for (const k of balancedOrder(HTTP_KINDS.length, r)) {
        const kind = HTTP_KINDS[k]!
        raw[kind].push(await once(kind, opts.roundMs))
      }
      say(`http: round ${r + 1}/${opts.rounds}: ${HTTP_KINDS.map((k) => `${k} ${raw[k].at(-1)!.perSec.toFixed(0)}/s`).join(', ')}`)
    }
    const kinds = Object.fromEntries(
      HTTP_KINDS.map((k) => {
        const runs = raw[k]
        return [k, {
          perSec: summarize(runs.map((x) => x.perSec)),
          serverCpuUs: summarize(runs.map((x) => x.serverCpuUs)),
          p50Ms: summarize(runs.map((x) => x.p50Ms)),
          p99Ms: summarize(runs.map((x) => x.p99Ms)),
          requests: runs.reduce((a, x) => a + x.requests, 0),
          errors: runs.reduce((a, x) => a + x.errors, 0),
          failures: runs.flatMap((x) => x.failures).slice(0, 3),
        } satisfies HttpKindResult]
      }),
    ) as Record<HttpKind, HttpKindResult>
    return { concurrency, rounds: opts.rounds, roundMs: opts.roundMs, kinds }
  } finally {
    await server.stop()
  }
}
