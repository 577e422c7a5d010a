// What the bench runner hands to each suite process: where the engine, the IdP and the registered
// provider and role are, the token keys, and the IdP's signing keys (to mint ID tokens).

import { readFileSync, writeFileSync } from 'node:fs'

export type BenchAlg = 'RS256' | 'ES256'

export interface BenchContext {
  /** DynamoDB Local itself. */
  ddbEndpoint: string
  /** The counting pass-through in front of it (bench/lib/ddb-counter.ts). */
  countingEndpoint: string
  tableName: string
  region: string
  tokenKeys: string
  /** PEM of the test root CA (NODE_EXTRA_CA_CERTS of every suite process). */
  caFile: string
  caPem: string
  issuer: string
  discoveryPath: string
  jwksPath: string
  fingerprint: string
  accountId: string
  root: { accessKeyId: string; secret: string }
  providerName: string
  providerArn: string
  roleName: string
  roleArn: string
  clientId: string
  keys: Record<BenchAlg, { kid: string; privatePem: string }>
}

export function writeContext(file: string, ctx: BenchContext): void {
  writeFileSync(file, JSON.stringify(ctx, null, 2), { mode: 0o600 })
}

/** In a suite process: the context named by BENCH_CONTEXT. */
export function loadContext(): BenchContext {
  const file = process.env.BENCH_CONTEXT
  if (!file) throw new Error('BENCH_CONTEXT is not set: suites are started by bench/run.ts')
  return JSON.parse(readFileSync(file, 'utf8')) as BenchContext
}

/** In a suite process: writes the suite's result where the runner reads it (BENCH_OUT). */
export function writeResult(result: unknown): void {
  const file = process.env.BENCH_OUT
  if (!file) throw new Error('BENCH_OUT is not set')
  writeFileSync(file, JSON.stringify(result, null, 2))
}

/** The service's configuration for a suite process (what a deployed function gets from its environment). */
export function serviceEnv(ctx: BenchContext, opts: { counted?: boolean; logLevel?: string } = {}): Record<string, string> {
  return {
    TABLE_NAME: ctx.tableName,
    DYNAMODB_ENDPOINT: opts.counted ? ctx.countingEndpoint : ctx.ddbEndpoint,
    AWS_REGION: ctx.region,
    TOKEN_KEYS: ctx.tokenKeys,
    ALLOW_PRIVATE_ISSUERS: 'true',
    NODE_EXTRA_CA_CERTS: ctx.caFile,
    LOG_LEVEL: opts.logLevel ?? 'info',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    // The per-container rate limits (issue 7) would answer Throttling.User long before the CPU is the
    // limit: raised so the benchmarks measure capacity. The limiter itself still runs on every exchange.
    RATE_LIMIT_PROVIDER_PER_SECOND: '1000000',
    RATE_LIMIT_PROVIDER_BURST: '1000000',
    RATE_LIMIT_SOURCE_PER_SECOND: '1000000',
    RATE_LIMIT_SOURCE_BURST: '1000000',
  }
}

/** Progress on stderr (stdout of suite processes carries the service's log lines and is discarded). */
export const say = (line: string) => process.stderr.write(`${line}\n`)
