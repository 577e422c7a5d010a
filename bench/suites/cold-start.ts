// Cold start: every function bundled by build/bundle.mjs (sizes raw and zipped, as deployed), then
// fresh node processes, alternately one that only starts (the floor) and one that imports the bundled
// token-exchange handler and answers its first exchange, timed from spawn to exit. "First warm-path
// answer": the provider, role and JWKS copy are in the table and the IdP is reachable; the first
// exchange fills the config cache from the table and the JWKS cache from the IdP (listed exactly by a
// counted run), verifies, mints and answers.

import { spawn, spawnSync } from 'node:child_process'
import { cpSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { deflateRawSync } from 'node:zlib'
import { type BenchContext, say, serviceEnv } from '../lib/context.ts'
import { diffCounts, type OpCounts, readCounts } from '../lib/ddb-counter.ts'
import { httpApiEvent } from '../lib/events.ts'
import { summarize, type Summary } from '../lib/stats.ts'
import { exchangeQuery, idToken } from '../lib/tokens.ts'
import { signRpcRequest } from '../../shared/signing/sign-request.ts'
import { randomBytes } from 'node:crypto'
import type { HttpsIdp } from '../../test/support/https-idp.ts'

export interface BundleSize {
  file: string
  rawBytes: number
  zipBytes: number
  zipMethod: string
}

export interface ColdStartResult {
  bundles: Record<string, BundleSize>
  runs: number
  floorMs: Summary
  exchangeMs: Summary
  /** Per pair: exchange process minus the floor process started right before it. */
  overFloorMs: Summary
  /** Inside the exchange process, since its start: bundle imported (app ready), first answer out. */
  importedAtMs: Summary
  answeredAtMs: Summary
  firstExchange: { tableOps: OpCounts; idpRequests: { discovery: number; jwks: number } }
  /** The management bundle, started fresh, answering a signed GetOIDCProvider (a smoke check of the build). */
  managementSmoke: { status: number; importedAtMs: number; answeredAtMs: number }
}

/** The bundle's directory (index.mjs and chunks/) zipped as a deployment package would hold it. */
function zipSize(bundleDir: string, dir: string): { bytes: number; method: string } {
  const zip = spawnSync('zip', ['-q', '-9', '-X', '-r', join(dir, 'size.zip'), '.'], { cwd: bundleDir })
  if (zip.status === 0) {
    const bytes = statSync(join(dir, 'size.zip')).size
    rmSync(join(dir, 'size.zip'))
    return { bytes, method: 'zip -9' }
  }
  // No zip CLI: the deflate streams alone (a zip adds ~100 bytes of headers per file).
  return { bytes: filesOf(bundleDir).reduce((n, f) => n + deflateRawSync(readFileSync(f), { level: 9 }).length + 100, 0), method: 'deflate -9 (+100 B headers)' }
}

const filesOf = (d: string): string[] => readdirSync(d, { recursive: true, withFileTypes: true }).filter((e) => e.isFile() && e.name.endsWith('.mjs')).map((e) => join(e.parentPath ?? (e as unknown as { path: string }).path, e.name))

function timeProcess(args: string[], env: Record<string, string>): Promise<number> {
  const started = performance.now()
  const child = spawn(process.execPath, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'inherit'] })
  return new Promise((resolveTime, reject) =>
    child.on('exit', (code) => (code === 0 ? resolveTime(performance.now() - started) : reject(new Error(`${args.join(' ')} exited ${code}`)))),
  )
}

export async function runColdStart(ctx: BenchContext, dir: string, idp: HttpsIdp, opts: { runs: number }): Promise<ColdStartResult> {
  say('cold-start: bundling every function with build/bundle.mjs')
  const { bundleAll } = (await import(resolve('build/bundle.mjs'))) as { bundleAll: (root?: string) => Promise<Record<string, string>> }
  const built = await bundleAll(process.cwd())
  // Copies, so that a rebuild by someone else mid-run cannot change what is measured.
  const bundles: Record<string, BundleSize> = {}
  for (const [name, file] of Object.entries(built)) {
    // The whole output directory: a split bundle's index.mjs imports its chunks/.
    const copy = join(dir, 'bundles', name, 'index.mjs')
    cpSync(dirname(file), join(dir, 'bundles', name), { recursive: true })
    const zip = zipSize(join(dir, 'bundles', name), dir)
    const rawBytes = filesOf(join(dir, 'bundles', name)).reduce((n, f) => n + statSync(f).size, 0)
    bundles[name] = { file: `.build/${name}/`, rawBytes, zipBytes: zip.bytes, zipMethod: zip.method }
  }
  const bundle = join(dir, 'bundles', 'tokenExchange', 'index.mjs')
  const eventFile = join(dir, 'cold-start-event.json')
  writeFileSync(eventFile, JSON.stringify(httpApiEvent({ rawQueryString: exchangeQuery(ctx, idToken(ctx, 'RS256'), 'cold-start') })))

  const child = async (counted: boolean, target = { bundle, eventFile, expect: '"SecurityToken"' }) => {
    const out = join(dir, `cold-${Math.random().toString(36).slice(2)}.json`)
    const ms = await timeProcess(['bench/procs/cold-start.mjs'], { ...serviceEnv(ctx, { counted }), BENCH_BUNDLE: target.bundle, BENCH_EVENT: target.eventFile, BENCH_EXPECT: target.expect, BENCH_OUT: out })
    const r = JSON.parse(readFileSync(out, 'utf8')) as { ok: boolean; status: number; body: string; importedAt: number; answeredAt: number }
    rmSync(out)
    if (!r.ok) throw new Error(`cold-start: ${target.bundle} answered ${r.status}: ${r.body}`)
    return { ms, ...r }
  }

  say('cold-start: one counted run (what the first exchange does)')
  const before = await readCounts(ctx.countingEndpoint)
  const idpBefore = { discovery: idp.requests(ctx.discoveryPath), jwks: idp.requests(ctx.jwksPath) }
  await child(true)
  const firstExchange = {
    tableOps: diffCounts(await readCounts(ctx.countingEndpoint), before),
    idpRequests: { discovery: idp.requests(ctx.discoveryPath) - idpBefore.discovery, jwks: idp.requests(ctx.jwksPath) - idpBefore.jwks },
  }

  say(`cold-start: ${opts.runs} pairs of fresh processes`)
  const floor: number[] = []
  const exch: number[] = []
  const over: number[] = []
  const imported: number[] = []
  const answered: number[] = []
  await timeProcess(['bench/procs/cold-start-floor.mjs'], {}) // page cache
  await child(false)
  for (let i = 0; i < opts.runs; i++) {
    const f = await timeProcess(['bench/procs/cold-start-floor.mjs'], serviceEnv(ctx))
    const e = await child(false)
    floor.push(f)
    exch.push(e.ms)
    over.push(e.ms - f)
    imported.push(e.importedAt)
    answered.push(e.answeredAt)
  }
  say('cold-start: the management bundle answers a signed call')
  const mgmtEventFile = join(dir, 'management-event.json')
  const signed = signRpcRequest({ creds: ctx.root, action: 'GetOIDCProvider', version: '2019-08-15', params: { OIDCProviderName: ctx.providerName }, host: 'ims.example.com', date: new Date(), nonce: randomBytes(16).toString('hex') })
  writeFileSync(mgmtEventFile, JSON.stringify(httpApiEvent({ rawQueryString: signed.url.slice(2), headers: signed.headers, host: 'ims.example.com' })))
  const m = await child(false, { bundle: join(dir, 'bundles', 'management', 'index.mjs'), eventFile: mgmtEventFile, expect: '"OIDCProvider"' })
  return {
    managementSmoke: { status: m.status, importedAtMs: m.importedAt, answeredAtMs: m.answeredAt },
    bundles,
    runs: opts.runs,
    floorMs: summarize(floor),
    exchangeMs: summarize(exch),
    overFloorMs: summarize(over),
    importedAtMs: summarize(imported),
    answeredAtMs: summarize(answered),
    firstExchange,
  }
}
