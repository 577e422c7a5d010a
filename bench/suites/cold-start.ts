// Cold start: every function bundled by build/bundle.mjs (sizes raw and zipped, as deployed), then
// fresh node processes, alternately one that only starts (the floor) and one that imports the bundled
// token-exchange handler and answers its first exchange, timed from spawn to exit. Two phases:
// - no stored JWKS copy (a new issuer, or no health check yet): the first exchange reads the provider
//   and role from the table, finds no stored copy and fetches the issuer's discovery document and JWKS
//   (over one keep-alive TLS connection when both are on the issuer's host: one handshake, the thumbprint
//   checked for each request);
// - with the stored copy (the deployed steady state: the scheduled health check refreshes it every run,
//   key refresh on rotations): the first exchange reads the provider, the role and the copy, and calls
//   no IdP;
// - the same, with the token keys read from SSM Parameter Store as a deployed function reads them
//   (TOKEN_KEYS_PARAMETER, Lambda's role credentials in the environment): one raw GetParameters call,
//   here to a local server speaking SSM's protocol (test/support/local-ssm.ts, AWS_ENDPOINT_URL_SSM),
//   which checks every request's signature with the AWS SDK's signer.
// Each phase's table and IdP requests are listed exactly by a counted run.

import { spawn, spawnSync } from 'node:child_process'
import { cpSync, existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { deflateRawSync } from 'node:zlib'
import { type BenchContext, say, serviceEnv } from '../lib/context.ts'
import { diffCounts, type OpCounts, readCounts } from '../lib/ddb-counter.ts'
import { httpApiEvent } from '../lib/events.ts'
import { summarize, type Summary } from '../lib/stats.ts'
import { exchangeQuery, idToken } from '../lib/tokens.ts'
import { signRpcRequest } from '../../shared/signing/sign-request.ts'
import { randomBytes } from 'node:crypto'
import type { HttpsIdp } from '../../test/support/https-idp.ts'
import { LocalSsm } from '../../test/support/local-ssm.ts'
import { createLogger } from '../../shared/log.ts'
import { KeyRefresher } from '../../shared/services/key-refresh.ts'
import { openStores } from '../../shared/store/stores.ts'

export interface BundleSize {
  file: string
  rawBytes: number
  zipBytes: number
  zipMethod: string
}

/** One phase: pairs of fresh processes (floor, then import + first exchange), and a counted run. */
export interface ColdStartPhase {
  floorMs: Summary
  exchangeMs: Summary
  /** Per pair: exchange process minus the floor process started right before it. */
  overFloorMs: Summary
  /** Inside the exchange process, since its start: bundle imported (app ready), first answer out. */
  importedAtMs: Summary
  answeredAtMs: Summary
  firstExchange: { tableOps: OpCounts; idpRequests: { discovery: number; jwks: number } }
}

/** The phase without a stored JWKS copy at top level; the same with the issuer's copy stored (the deployed steady state). */
export interface ColdStartResult extends ColdStartPhase {
  bundles: Record<string, BundleSize>
  runs: number
  withStoredCopy: ColdStartPhase
  /** withStoredCopy, the token keys read from SSM (TOKEN_KEYS_PARAMETER) instead of TOKEN_KEYS: the deployed configuration. */
  withStoredCopyAndSsm?: ColdStartPhase & { ssmRequests: number; ssmSignaturesValid: boolean }
  /** The management bundle, started fresh, answering a signed GetOIDCProvider (a smoke check of the build). */
  managementSmoke: { status: number; importedAtMs: number; answeredAtMs: number }
}

/**
 * What serverless.yml packages of a bundle directory: index.mjs and chunks/** (not build/bundle.mjs's
 * meta.json), as paths relative to the directory.
 */
function deployedFiles(bundleDir: string): string[] {
  const chunks = join(bundleDir, 'chunks')
  if (!existsSync(chunks)) return ['index.mjs']
  const entries = readdirSync(chunks, { recursive: true, withFileTypes: true }).filter((e) => e.isFile())
  return ['index.mjs', ...entries.map((e) => relative(bundleDir, join(e.parentPath ?? (e as unknown as { path: string }).path, e.name)))]
}

/** The deployed files of a bundle directory zipped as a deployment package would hold them. */
function zipSize(bundleDir: string, dir: string): { bytes: number; method: string } {
  const files = deployedFiles(bundleDir)
  const zip = spawnSync('zip', ['-q', '-9', '-X', join(dir, 'size.zip'), ...files], { cwd: bundleDir })
  if (zip.status === 0) {
    const bytes = statSync(join(dir, 'size.zip')).size
    rmSync(join(dir, 'size.zip'))
    return { bytes, method: 'zip -9' }
  }
  // No zip CLI: the deflate streams alone (a zip adds ~100 bytes of headers per file).
  return { bytes: files.reduce((n, f) => n + deflateRawSync(readFileSync(join(bundleDir, f)), { level: 9 }).length + 100, 0), method: 'deflate -9 (+100 B headers)' }
}

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
    const copy = join(dir, 'bundles', name)
    cpSync(dirname(file), copy, { recursive: true })
    const zip = zipSize(copy, dir)
    const rawBytes = deployedFiles(copy).reduce((n, f) => n + statSync(join(copy, f)).size, 0)
    bundles[name] = { file: `.build/${name}/`, rawBytes, zipBytes: zip.bytes, zipMethod: zip.method }
  }
  const bundle = join(dir, 'bundles', 'tokenExchange', 'index.mjs')
  const eventFile = join(dir, 'cold-start-event.json')
  writeFileSync(eventFile, JSON.stringify(httpApiEvent({ rawQueryString: exchangeQuery(ctx, idToken(ctx, 'RS256'), 'cold-start') })))

  // Phases run with the token keys in TOKEN_KEYS, or (this set) read from SSM as deployed functions read them.
  let secretsEnv: Record<string, string> = {}
  const child = async (counted: boolean, target = { bundle, eventFile, expect: '"SecurityToken"' }) => {
    const out = join(dir, `cold-${Math.random().toString(36).slice(2)}.json`)
    const ms = await timeProcess(['bench/procs/cold-start.mjs'], { ...serviceEnv(ctx, { counted }), ...secretsEnv, BENCH_BUNDLE: target.bundle, BENCH_EVENT: target.eventFile, BENCH_EXPECT: target.expect, BENCH_OUT: out })
    const r = JSON.parse(readFileSync(out, 'utf8')) as { ok: boolean; status: number; body: string; importedAt: number; answeredAt: number }
    rmSync(out)
    if (!r.ok) throw new Error(`cold-start: ${target.bundle} answered ${r.status}: ${r.body}`)
    return { ms, ...r }
  }

  const counted = async () => {
    const before = await readCounts(ctx.countingEndpoint)
    const idpBefore = { discovery: idp.requests(ctx.discoveryPath), jwks: idp.requests(ctx.jwksPath) }
    await child(true)
    return {
      tableOps: diffCounts(await readCounts(ctx.countingEndpoint), before),
      idpRequests: { discovery: idp.requests(ctx.discoveryPath) - idpBefore.discovery, jwks: idp.requests(ctx.jwksPath) - idpBefore.jwks },
    }
  }
  const pairs = async () => {
    const floor: number[] = []
    const exch: number[] = []
    const over: number[] = []
    const imported: number[] = []
    const answered: number[] = []
    await timeProcess(['bench/procs/cold-start-floor.mjs'], {}) // page cache
    await child(false)
    for (let i = 0; i < opts.runs; i++) {
      const f = await timeProcess(['bench/procs/cold-start-floor.mjs'], { ...serviceEnv(ctx), ...secretsEnv })
      const e = await child(false)
      floor.push(f)
      exch.push(e.ms)
      over.push(e.ms - f)
      imported.push(e.importedAt)
      answered.push(e.answeredAt)
    }
    return { floorMs: summarize(floor), exchangeMs: summarize(exch), overFloorMs: summarize(over), importedAtMs: summarize(imported), answeredAtMs: summarize(answered) }
  }

  const stores = openStores({ tableName: ctx.tableName, region: ctx.region, dynamodbEndpoint: ctx.ddbEndpoint })
  if (await stores.jwksCopies.get(ctx.issuer)) throw new Error('cold-start: the issuer already has a stored JWKS copy')
  say('cold-start: no stored JWKS copy: one counted run (what the first exchange does)')
  const firstExchange = await counted()
  say(`cold-start: no stored JWKS copy: ${opts.runs} pairs of fresh processes`)
  const noCopy = await pairs()

  // What the health check / key refresh store for the issuer (a real fetch, thumbprints checked).
  const refresher = new KeyRefresher({ ...stores, logger: createLogger('silent') }, { fetchOptions: { allowPrivate: true, ca: ctx.caPem } })
  const stored = await refresher.refreshIssuer(ctx.issuer, { fetchedSince: Date.now() })
  if (!(await stores.jwksCopies.get(ctx.issuer))) throw new Error(`cold-start: storing the JWKS copy failed: ${JSON.stringify(stored)}`)
  say('cold-start: with the stored JWKS copy: one counted run')
  const withCopyFirst = await counted()
  say(`cold-start: with the stored JWKS copy: ${opts.runs} pairs of fresh processes`)
  const withCopy = await pairs()

  const credentials = { accessKeyId: 'ASIABENCHEXAMPLE0001', secretAccessKey: randomBytes(30).toString('base64'), sessionToken: randomBytes(200).toString('base64') }
  const ssm = new LocalSsm(ctx.region, credentials)
  await ssm.start()
  const tokenKeysParameter = '/oidc-sts/bench/token-keys'
  ssm.reset({ [tokenKeysParameter]: ctx.tokenKeys })
  secretsEnv = {
    TOKEN_KEYS: '',
    TOKEN_KEYS_PARAMETER: tokenKeysParameter,
    AWS_ENDPOINT_URL_SSM: ssm.endpoint,
    AWS_ACCESS_KEY_ID: credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
    AWS_SESSION_TOKEN: credentials.sessionToken,
  }
  say('cold-start: with the stored JWKS copy, token keys from SSM: one counted run')
  const withSsmFirst = await counted()
  say(`cold-start: with the stored JWKS copy, token keys from SSM: ${opts.runs} pairs of fresh processes`)
  const withSsm = await pairs()
  const ssmRequests = ssm.received.length
  const ssmSignaturesValid = ssm.received.every((r) => r.signatureValid === true && r.target === 'AmazonSSM.GetParameters')
  if (!ssmSignaturesValid) throw new Error('cold-start: a GetParameters request was not signed as the AWS SDK signs it')
  ssm.close()
  secretsEnv = {}
  stores.documentClient.destroy()

  say('cold-start: the management bundle answers a signed call')
  const mgmtEventFile = join(dir, 'management-event.json')
  const signed = signRpcRequest({ creds: ctx.root, action: 'GetOIDCProvider', version: '2019-08-15', params: { OIDCProviderName: ctx.providerName }, host: 'ims.example.com', date: new Date(), nonce: randomBytes(16).toString('hex') })
  writeFileSync(mgmtEventFile, JSON.stringify(httpApiEvent({ rawQueryString: signed.url.slice(2), headers: signed.headers, host: 'ims.example.com' })))
  const m = await child(false, { bundle: join(dir, 'bundles', 'management', 'index.mjs'), eventFile: mgmtEventFile, expect: '"OIDCProvider"' })
  return {
    managementSmoke: { status: m.status, importedAtMs: m.importedAt, answeredAtMs: m.answeredAt },
    bundles,
    runs: opts.runs,
    ...noCopy,
    firstExchange,
    withStoredCopy: { ...withCopy, firstExchange: withCopyFirst },
    withStoredCopyAndSsm: { ...withSsm, firstExchange: withSsmFirst, ssmRequests, ssmSignaturesValid },
  }
}
