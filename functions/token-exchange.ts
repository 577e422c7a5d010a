// Lambda entry: STS 2015-04-01 (AssumeRoleWithOIDC, GetCallerIdentity), the hot path, behind its own
// HTTP API. Everything that can outlive an invocation (app, stores, JWKS cache, config cache, token
// keys) is built once per container at module scope; a warm exchange reads no table and calls no IdP.

import { loadConfig } from '../shared/config.ts'
import { createLambdaHandler } from '../shared/http/lambda-adapter.ts'
import { createLogger } from '../shared/log.ts'
import { buildServiceApp } from '../shared/service-app.ts'
import { stsActions } from '../shared/services/sts-actions.ts'
import { loadDeployedSecrets } from '../shared/secrets/parameter-store.ts'
import { openExchangeStores } from '../shared/store/exchange-stores.ts'
import { deployedStoreTimeouts, EXCHANGE_STORE_REQUEST_TIMEOUT_MS } from '../shared/store/store-timeouts.ts'

const config = loadConfig()
// TOKEN_KEYS, or on AWS the TOKEN_KEYS_PARAMETER SecureString, read once per container: they seal the SecurityTokens this function issues.
const { tokenKeys } = await loadDeployedSecrets(config, { root: false })
const logger = createLogger(config.logLevel)
const app = buildServiceApp({
  config,
  // Raw GetItems for the exchange's reads; the SDK and dynamodb-toolbox load on the first other store call.
  // On AWS 1.5 s per attempt: the exchange's worst case then fits the function's timeout (serverless.yml).
  stores: openExchangeStores(config, deployedStoreTimeouts(config.dynamodbEndpoint, EXCHANGE_STORE_REQUEST_TIMEOUT_MS)),
  logger,
  tokenKeys,
  actions: stsActions,
  // Each exchange writes one audit log line and no table item: the audit-writer function, subscribed to
  // this function's log group, copies the lines to the table in batches (functions/audit-writer.ts).
  auditTableCopy: 'log-subscriber',
  queryFromLambdaAdapter: true,
})

export const handler = createLambdaHandler(app, logger)
await app.ready()
