// The stores of the token-exchange function, shaped as openStores() but without loading the AWS SDK or
// dynamodb-toolbox at cold start: the reads of an exchange (provider, role, stored JWKS copy) go through
// the raw GetItem client (hot-reads.ts); every other store method (signed-call keys and nonces, the
// only others token exchange makes) imports stores.ts on its first call (a chunk of its own in the bundle)
// and runs on the toolbox stores from then on. Without credentials the raw client can use (no endpoint
// and no AWS_ACCESS_KEY_ID in the environment: a developer profile, SSO...), the reads use them too.

import type { Config } from '../config.ts'
import { HotReads } from './hot-reads.ts'
import { rawCredentials } from '../aws/raw-json-client.ts'
import { RawDynamo } from './raw-dynamodb.ts'
import type { Stores } from './stores.ts'
import { storeBounds, type StoreTimeouts } from './store-timeouts.ts'

type StoreConfig = Pick<Config, 'tableName' | 'region' | 'dynamodbEndpoint'> & Partial<Pick<Config, 'auditRetentionDays'>>

/**
 * `timeouts` bound the raw reads and the toolbox stores alike (functions/token-exchange.ts passes
 * EXCHANGE_STORE_REQUEST_TIMEOUT_MS on AWS: the exchange's worst case must fit the Lambda timeout,
 * serverless.yml); the defaults otherwise.
 */
export function openExchangeStores(config: StoreConfig, timeouts: StoreTimeouts = {}): Stores {
  let loading: Promise<Stores> | undefined
  const load = () => (loading ??= import('./stores.ts').then((m) => m.openStores(config, timeouts)))
  // Methods of the real store `name`, loaded on first call; `hot` overrides some of them.
  const store = (name: keyof Stores, hot: Record<string, (...args: never[]) => unknown> = {}) =>
    new Proxy(hot, {
      get: (target, method) => {
        if (typeof method !== 'string' || method === 'then') return undefined
        if (method in target) return target[method]
        // eslint-disable-next-line @typescript-eslint/no-explicit-any
        return (...args: unknown[]) => load().then((s) => (s[name] as any)[method](...args))
      },
    })
  const credentials = rawCredentials(config.dynamodbEndpoint)
  const hot = credentials
    ? new HotReads(
        new RawDynamo({
          region: config.region,
          endpoint: config.dynamodbEndpoint,
          credentials,
          // The same bounds as createDocumentClient's.
          ...storeBounds(timeouts),
        }),
        config.tableName,
      )
    : undefined
  const stores = {
    accounts: store('accounts'),
    providers: store('providers', hot ? { get: (accountId: string, name: string) => hot.provider(accountId, name) } : {}),
    nonces: store('nonces'),
    roles: store('roles', hot ? { get: (accountId: string, roleName: string) => hot.role(accountId, roleName) } : {}),
    policies: store('policies'),
    attachments: store('attachments'),
    audit: store('audit'),
    health: store('health'),
    jwksCopies: store('jwksCopies', hot ? { get: (issuer: string) => hot.jwksCopy(issuer) } : {}),
    providerDirectory: store('providerDirectory'),
  }
  return stores as unknown as Stores
}
