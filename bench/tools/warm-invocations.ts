// A deterministic-ish companion to the proxy benchmark, for instruction counting: the warm exchange
// through the service's Lambda handler (shared/service-app.ts + stsActions behind
// shared/http/lambda-adapter.ts, as functions/token-exchange.ts composes them) or the hello-world
// floor, with stub stores and a stub JWKS fetcher so that nothing but the handler runs once warm
// (no DynamoDB Local, no IdP: the warm path reads neither). One event-loop turn between invocations,
// as in bench/procs/proxy.ts.
//
//   node --expose-gc --import tsx bench/tools/warm-invocations.ts <hello|RS256|ES256> <invocations> [--time]
//
// WARM (default 5000) invocations run first (JIT, caches: under --trace-opt, Turbofan still compiles parts
// of the exchange until ~5000 warm invocations); a full GC brackets the measured ones when counting.
// bench/tools/cachegrind.sh runs it twice under valgrind and divides the difference by the difference
// in invocations: instructions and simulated cache misses per warm invocation, free of the shared
// machine's noise (BENCHMARKS.md, "Where the exchange time goes").

import { createPublicKey, generateKeyPairSync } from 'node:crypto'
import { readFileSync } from 'node:fs'
import awsLambdaFastify from '@fastify/aws-lambda'
import Fastify from 'fastify'
import { loadConfig } from '../../shared/config.ts'
import { createTokenKeyRing, generateTokenKey } from '../../shared/credentials/token-keys.ts'
import { createLambdaHandler } from '../../shared/http/lambda-adapter.ts'
import { createLogger } from '../../shared/log.ts'
import { parseJwks } from '../../shared/oidc/discovery-jwks.ts'
import { JwksCache } from '../../shared/oidc/jwks-cache.ts'
import { buildServiceApp } from '../../shared/service-app.ts'
import { stsActions } from '../../shared/services/sts-actions.ts'
import { httpApiEvent, lambdaContext } from '../lib/events.ts'
import { exchangeQuery, idToken } from '../lib/tokens.ts'

type Handler = (event: unknown, context: unknown) => Promise<{ statusCode: number; body: string }>
const [kind = '', count = '1000'] = process.argv.slice(2)
const N = Number(count)
if (!['hello', 'RS256', 'ES256'].includes(kind) || !(N > 0)) throw new Error('usage: warm-invocations.ts <hello|RS256|ES256> <invocations> [--time]')

let handler: Handler
let events: unknown[]
if (kind === 'hello') {
  const hello = Fastify({ logger: false })
  hello.route({ method: ['GET', 'POST'], url: '/', handler: async () => ({ hello: 'world' }) })
  await hello.ready()
  handler = awsLambdaFastify(hello) as unknown as Handler
  events = [httpApiEvent({ rawQueryString: 'Action=Hello&Version=2015-04-01&Format=JSON' })]
} else {
  const alg = kind as 'RS256' | 'ES256'
  // BENCH_KEY_FILE: the IdP's private key (PEM), so that two runs under valgrind use the same key
  // (key generation is random work that would not cancel out); a new key otherwise.
  const keyFile = process.env.BENCH_KEY_FILE
  const privatePem = keyFile
    ? readFileSync(keyFile, 'utf8')
    : (alg === 'RS256' ? generateKeyPairSync('rsa', { modulusLength: 2048 }) : generateKeyPairSync('ec', { namedCurve: 'P-256' })).privateKey.export({ format: 'pem', type: 'pkcs8' }).toString()
  const jwk = { ...createPublicKey(privatePem).export({ format: 'jwk' }), kid: 'k1', use: 'sig', alg }
  const issuer = 'https://idp.example.com/bench'
  const account = '1234567890123456'
  const providerArn = `acs:ram::${account}:oidc-provider/bench-ci`
  const fingerprint = '0'.repeat(40)
  const trust = JSON.stringify({ Version: '1', Statement: [{ Effect: 'Allow', Action: 'sts:AssumeRole', Principal: { Federated: providerArn }, Condition: { StringEquals: { 'oidc:aud': 'sts.aliyuncs.com' }, StringLike: { 'oidc:sub': 'repo:octo-org/*' } } }] })
  const stores = {
    providers: { get: async () => ({ accountId: account, name: 'bench-ci', issuerUrl: issuer, clientIds: ['sts.aliyuncs.com'], fingerprints: [fingerprint], issuanceLimitTime: 12, description: '', createdAt: 0, updatedAt: 0, version: 1 }) },
    roles: { get: async () => ({ roleName: 'BenchDeployer', roleId: '300000000000000001', maxSessionDuration: 43200, trustPolicy: trust }) },
    jwksCopies: { get: async () => undefined },
  }
  const parsed = parseJwks({ keys: [jwk] })
  const keys = new Map([...parsed.byKid].map(([k, v]) => [k, v.key]))
  const chain = [{ sha1: fingerprint }]
  const jwks = new JwksCache({ fetchKeys: async () => ({ issuer, jwksUri: `${issuer}/jwks`, jwks: [jwk], ...parsed, keys, discoveryChain: chain, jwksChain: chain }) as never })
  const unlimited = { RATE_LIMIT_PROVIDER_PER_SECOND: '1000000', RATE_LIMIT_PROVIDER_BURST: '1000000', RATE_LIMIT_SOURCE_PER_SECOND: '1000000', RATE_LIMIT_SOURCE_BURST: '1000000' }
  const app = buildServiceApp({
    config: loadConfig({ ...process.env, TABLE_NAME: 'bench', LOG_LEVEL: 'info', ...unlimited }),
    stores: stores as never,
    logger: createLogger('info'),
    tokenKeys: createTokenKeyRing([generateTokenKey()]),
    actions: stsActions,
    auditTableCopy: 'log-subscriber',
    jwks,
    queryFromLambdaAdapter: true,
  })
  await app.ready()
  handler = createLambdaHandler(app) as unknown as Handler
  // The tokens and queries of the benchmarks (bench/lib/tokens.ts: GitHub Actions-shaped, ~1.2 KB).
  const ctx = { issuer, clientId: 'sts.aliyuncs.com', keys: { [alg]: { kid: 'k1', privatePem } }, providerArn, roleArn: `acs:ram::${account}:role/benchdeployer` }
  events = Array.from({ length: 64 }, (_, i) => httpApiEvent({ rawQueryString: exchangeQuery(ctx, idToken(ctx, alg), `bench-${i}`) }))
}

const context = lambdaContext()
const invoke = async (i: number) => {
  const res = await handler(events[i % events.length], context)
  if (res.statusCode !== 200) throw new Error(`${kind}: status ${res.statusCode} ${res.body.slice(0, 300)}`)
  await new Promise((r) => setImmediate(r))
}
for (let i = 0; i < Number(process.env.WARM ?? 5000); i++) await invoke(i)
const timed = process.argv.includes('--time')
// Counting runs: a full GC brackets the measured invocations, so that two runs start from the same heap.
// Timed runs: none, as in bench/procs/proxy.ts. A forced full GC shrinks the young generation, and the
// scavenges that follow made a hello-world invocation measure ~160 µs of CPU instead of ~120.
const gc = timed ? undefined : (globalThis as { gc?: () => void }).gc
for (let round = 0; round < (timed ? 7 : 1); round++) {
  gc?.()
  const cpu0 = process.cpuUsage()
  for (let i = 0; i < N; i++) await invoke(i)
  const cpu = process.cpuUsage(cpu0)
  gc?.()
  if (timed) process.stderr.write(`${kind}: ${((cpu.user + cpu.system) / N).toFixed(0)} µs CPU per invocation\n`)
}
