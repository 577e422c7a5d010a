// Lambda entry: IMS (and later RAM) management actions plus operator extensions, behind their own
// HTTP API. The Fastify app is built once per container (top-level await) and reused while warm.

import { loadConfig } from '../shared/config.ts'
import { parseTokenKeys } from '../shared/credentials/token-keys.ts'
import { createLambdaHandler } from '../shared/http/lambda-adapter.ts'
import { createLogger } from '../shared/log.ts'
import { managementActions } from '../shared/management-app.ts'
import { buildServiceApp } from '../shared/service-app.ts'
import { openStores } from '../shared/store/stores.ts'

const config = loadConfig()
if (!config.tokenKeys) throw new Error('TOKEN_KEYS must be set: it verifies the SecurityTokens of temporary credentials')
const app = buildServiceApp({
  config,
  stores: openStores(config),
  logger: createLogger(config.logLevel),
  tokenKeys: parseTokenKeys(config.tokenKeys),
  actions: managementActions(),
})

export const handler = createLambdaHandler(app)
await app.ready()
