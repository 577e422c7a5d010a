// Lambda entry: IMS (and later RAM) management actions plus operator extensions, behind their own
// HTTP API. The Fastify app is built once per container (top-level await) and reused while warm.

import { loadConfig } from '../shared/config.ts'
import { createLambdaHandler } from '../shared/http/lambda-adapter.ts'
import { createLogger } from '../shared/log.ts'
import { managementActions } from '../shared/management-app.ts'
import { buildServiceApp } from '../shared/service-app.ts'
import { openStores } from '../shared/store/stores.ts'

const config = loadConfig()
const app = buildServiceApp({ config, stores: openStores(config), logger: createLogger(config.logLevel), actions: managementActions() })

export const handler = createLambdaHandler(app)
await app.ready()
