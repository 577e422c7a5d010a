// Wires a set of actions to the store-backed authenticator and authorizer and, for token exchange, to
// the STS runtime (config cache, JWKS cache, token keys, audit): the one composition used by both
// Lambda HTTP handlers and the local runner.

import { AuditSink } from './audit/audit-log.ts'
import { createAuthenticator } from './auth/authenticate.ts'
import { createAuthorizer } from './auth/authorize.ts'
import type { Config } from './config.ts'
import { createSessionResolver } from './credentials/session-resolver.ts'
import type { TokenKeyRing } from './credentials/token-keys.ts'
import type { ActionDefinition } from './http/action.ts'
import { buildApp } from './http/app.ts'
import type { Logger } from './log.ts'
import type { FetchOptions } from './oidc/https-fetch.ts'
import { getJwksCache, JwksCache } from './oidc/jwks-cache.ts'
import { ExchangeConfig } from './services/exchange-config.ts'
import { RateLimiter } from './limits/rate-limiter.ts'
import type { StsDeps, StsRuntime } from './services/sts-actions.ts'
import type { Stores } from './store/stores.ts'

export type ServiceDeps = Stores & StsDeps

export interface ServiceAppOptions {
  config: Config
  stores: Stores
  logger: Logger
  tokenKeys: TokenKeyRing
  actions: ReadonlyArray<ActionDefinition<any, ServiceDeps>> // eslint-disable-line @typescript-eslint/no-explicit-any
  https?: { cert: Buffer; key: Buffer }
  clock?: () => Date
  /** Tests: a private JWKS cache (else the module-scope one) and fetch options such as a test CA. */
  jwks?: JwksCache | 'private'
  fetchOptions?: Pick<FetchOptions, 'ca' | 'resolver' | 'connectTimeoutMs' | 'totalTimeoutMs'>
  /**
   * Who copies the audit log lines to the table (for ListAuditEvents): this process, in batches in the
   * background (`in-process`, the default: `npm start`, tests), or a log subscriber (`log-subscriber`:
   * on AWS the audit-writer function reads the token-exchange log group, so the exchange function
   * writes its one log line and nothing else).
   */
  auditTableCopy?: 'in-process' | 'log-subscriber'
  /** The Lambda functions: the app sits behind shared/http/lambda-adapter.ts (AppOptions.queryFromLambdaAdapter). */
  queryFromLambdaAdapter?: boolean
}

export function createStsRuntime(opts: ServiceAppOptions): StsRuntime {
  const { config, stores } = opts
  const nowMs = opts.clock ? () => opts.clock!().getTime() : undefined
  const jwksOptions = {
    ...(nowMs ? { now: nowMs } : {}),
    maxAgeMs: config.jwksMaxAgeMs,
    cooldownMs: config.jwksCooldownMs,
    staleMs: config.jwksStaleMs,
    fetchOptions: { allowPrivate: config.allowPrivateIssuers, ...opts.fetchOptions },
    // Issue 5: the key-refresh job's copy in the table, read on a cold entry before the IdP and on an
    // unknown kid before a refetch (so a rotation is picked up without waiting for the cooldown).
    loadStoredCopy: async (issuer: string) => (await stores.jwksCopies.get(issuer))?.copy,
  }
  return {
    config: new ExchangeConfig(stores, config.configCacheMs, nowMs),
    limits: { perProvider: new RateLimiter(config.rateLimits.perProvider), perSource: new RateLimiter(config.rateLimits.perSource) },
    jwks: opts.jwks === 'private' ? new JwksCache(jwksOptions) : (opts.jwks ?? getJwksCache(jwksOptions)),
    tokenKeys: opts.tokenKeys,
    audit: new AuditSink({ logger: opts.logger, ...(opts.auditTableCopy === 'log-subscriber' ? {} : { store: stores.audit }) }),
    leewaySeconds: config.jwtLeewaySeconds,
  }
}

export function buildServiceApp(opts: ServiceAppOptions) {
  const { stores } = opts
  const sts = createStsRuntime(opts)
  const app = buildApp({
    actions: opts.actions,
    deps: { ...stores, sts },
    authenticate: createAuthenticator({
      accounts: stores.accounts,
      nonces: stores.nonces,
      windowSeconds: opts.config.signatureWindowSeconds,
      // Temporary credentials are verified from their sealed SecurityToken: no table read.
      sessions: createSessionResolver(opts.tokenKeys),
    }),
    // Role policies are cached per container for at most 5 s (MAX_ROLE_POLICY_CACHE_MS): the delay
    // before a detach or a policy change reaches live sessions.
    authorize: createAuthorizer({ roles: stores.roles, policies: stores.policies, attachments: stores.attachments }),
    logger: opts.logger,
    ...(opts.https ? { https: opts.https } : {}),
    ...(opts.clock ? { clock: opts.clock } : {}),
    ...(opts.queryFromLambdaAdapter ? { queryFromLambdaAdapter: true } : {}),
  })
  // Audit records still buffered are written before the app closes (local shutdown, tests).
  app.addHook('onClose', async () => sts.audit.flush())
  return Object.assign(app, { sts })
}
