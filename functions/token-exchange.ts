// Lambda entry: STS 2015-04-01 (AssumeRoleWithOIDC, GetCallerIdentity), the hot path, behind its own
// HTTP API. Everything that can outlive an invocation (app, stores, JWKS cache, config cache, token
// keys) is built once per container at module scope; a warm exchange reads no table and calls no IdP.

import { loadConfig } from '../shared/config.ts'
import { parseTokenKeys } from '../shared/credentials/token-keys.ts'
import { createLambdaHandler } from '../shared/http/lambda-adapter.ts'
import { createLogger } from '../shared/log.ts'
import { buildServiceApp } from '../shared/service-app.ts'
import { stsActions } from '../shared/services/sts-actions.ts'
import { openStores } from '../shared/store/stores.ts'

const config = loadConfig()
if (!config.tokenKeys) throw new Error('TOKEN_KEYS must be set: it seals the SecurityTokens this function issues')
const app = buildServiceApp({
  config,
  stores: openStores(config),
  logger: createLogger(config.logLevel),
  tokenKeys: parseTokenKeys(config.tokenKeys),
  actions: stsActions,
})

const proxy = createLambdaHandler(app)
// The audit table copy is written before the invocation returns, so a frozen or recycled container
// loses nothing; the log line written during the request is the durable record either way.
export const handler = async (event: Parameters<typeof proxy>[0], context: unknown) => {
  try {
    return await proxy(event, context)
  } finally {
    await app.sts.audit.flush()
  }
}
await app.ready()
