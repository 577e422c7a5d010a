// A real service for one test file: its own table on the run's DynamoDB Local, the operator account
// bootstrapped, and the full local app (inject() or a real listener). No mocks.

import { loadConfig } from '../../shared/config.ts'
import { createLogger, type Logger } from '../../shared/log.ts'
import { managementActions } from '../../shared/management-app.ts'
import { bootstrapOperatorAccount, generateAccessKey, generateAccountId, type RootCredentials } from '../../shared/services/accounts.ts'
import { buildServiceApp, type ServiceAppOptions } from '../../shared/service-app.ts'
import { buildApp } from '../../shared/http/app.ts'
import { stsActions } from '../../shared/services/sts-actions.ts'
import { openStores, type Stores } from '../../shared/store/stores.ts'
import { createTestTable } from './store.ts'
import { createTokenKeyRing, generateTokenKey } from '../../shared/credentials/token-keys.ts'
import { signRpc, type Credentials } from './sign.ts'

export interface TestService {
  app: ReturnType<typeof buildServiceApp>
  stores: Stores
  root: RootCredentials
  rootCreds: Credentials
  /** Sends a signed RPC call through app.inject(); returns status and parsed JSON body. */
  call(action: string, version: string, params?: Record<string, string | number>, creds?: Credentials): Promise<{ status: number; body: Record<string, any> }> // eslint-disable-line @typescript-eslint/no-explicit-any
  close(): Promise<void>
}

export async function startTestService(opts: { clock?: () => Date; env?: Record<string, string>; fetchOptions?: ServiceAppOptions['fetchOptions']; logger?: Logger } = {}): Promise<TestService> {
  const { endpoint, tableName } = await createTestTable()
  const config = loadConfig({
    TABLE_NAME: tableName,
    DYNAMODB_ENDPOINT: endpoint,
    LOG_LEVEL: 'silent',
    // Tests send bursts from one address; the rate-limit tests set their own small limits.
    RATE_LIMIT_SOURCE_PER_SECOND: '100000',
    RATE_LIMIT_SOURCE_BURST: '100000',
    RATE_LIMIT_PROVIDER_PER_SECOND: '100000',
    RATE_LIMIT_PROVIDER_BURST: '100000',
    ...opts.env,
  })
  const stores = openStores(config)
  const key = generateAccessKey()
  const root: RootCredentials = { AccountId: generateAccountId(), AccessKeyId: key.accessKeyId, AccessKeySecret: key.secret }
  await bootstrapOperatorAccount(stores.accounts, root, Date.now())
  const app = buildServiceApp({
    config,
    stores,
    logger: opts.logger ?? createLogger('silent'),
    tokenKeys: testTokenKeys(),
    // Every HTTP action on one app, as `npm start` serves them.
    actions: [...managementActions(), ...stsActions],
    // A JWKS cache of this service's own, trusting the test CA when given.
    jwks: 'private',
    ...(opts.fetchOptions ? { fetchOptions: opts.fetchOptions } : {}),
    ...(opts.clock ? { clock: opts.clock } : {}),
  })
  await app.ready()
  const rootCreds = { accessKeyId: root.AccessKeyId, secret: root.AccessKeySecret }
  return {
    app,
    stores,
    root,
    rootCreds,
    async call(action, version, params = {}, creds = rootCreds) {
      const req = signRpc({ creds, action, version, params, ...(opts.clock ? { date: opts.clock() } : {}) })
      const res = await app.inject({ method: req.method, url: req.url, headers: req.headers, payload: req.payload })
      return { status: res.statusCode, body: res.json() }
    },
    close: async () => {
      await app.close()
      stores.documentClient.destroy()
    },
  }
}

export const IMS = '2019-08-15'

/**
 * `svc`'s management actions on its table, with `deps` added to the stores (a small `listPageBytes`,
 * say: what only deps can change), called as the account's root key. Unsigned: the authenticator is
 * replaced, the rest of the dispatch (parse, run, the response body) is the service's.
 */
export function withDeps(svc: TestService, deps: Record<string, unknown>): TestService['call'] {
  const app = buildApp({
    actions: managementActions(),
    deps: { ...svc.stores, ...deps },
    authenticate: async () => ({ type: 'root', accountId: svc.root.AccountId, accessKeyId: svc.root.AccessKeyId, operator: false }),
    authorize: () => undefined,
    logger: createLogger('silent'),
  })
  return async (action, version, params = {}) => {
    const query = new URLSearchParams({ Action: action, Version: version, Format: 'JSON', ...Object.fromEntries(Object.entries(params).map(([k, v]) => [k, String(v)])) })
    const res = await app.inject({ method: 'POST', url: `/?${query}` })
    return { status: res.statusCode, body: res.json() }
  }
}

/** A fresh SecurityToken key ring for one test service. */
export function testTokenKeys() {
  return createTokenKeyRing([generateTokenKey()])
}
