// Lambda entry: IMS and RAM management actions plus operator extensions, behind their own
// HTTP API. The Fastify app is built once per container (top-level await) and reused while warm.

import { loadConfig } from '../shared/config.ts'
import { createLambdaHandler } from '../shared/http/lambda-adapter.ts'
import { createLogger } from '../shared/log.ts'
import { managementActions } from '../shared/management-app.ts'
import { loadDeployedSecrets } from '../shared/secrets/parameter-store.ts'
import { buildServiceApp } from '../shared/service-app.ts'
import { bootstrapOperatorAccount } from '../shared/services/accounts.ts'
import { openStores } from '../shared/store/stores.ts'
import { deployedStoreTimeouts, MANAGEMENT_STORE_REQUEST_TIMEOUT_MS } from '../shared/store/store-timeouts.ts'

const config = loadConfig()
// TOKEN_KEYS (verifies the SecurityTokens of temporary credentials) and the bootstrap root AccessKey:
// from the environment locally, from SSM SecureStrings on AWS, read once per container.
const secrets = await loadDeployedSecrets(config, { root: true })
// On AWS 2 s per attempt: a table that stops answering fails the request within the function's timeout (serverless.yml).
const stores = openStores(config, deployedStoreTimeouts(config.dynamodbEndpoint, MANAGEMENT_STORE_REQUEST_TIMEOUT_MS))
// Idempotent: creates the operator account on the first cold start, re-asserts its key afterwards.
if (secrets.root) await bootstrapOperatorAccount(stores.accounts, secrets.root, Date.now())
const logger = createLogger(config.logLevel)
const app = buildServiceApp({
  config,
  stores,
  logger,
  tokenKeys: secrets.tokenKeys,
  actions: managementActions(),
  queryFromLambdaAdapter: true,
})

export const handler = createLambdaHandler(app, logger)
await app.ready()
