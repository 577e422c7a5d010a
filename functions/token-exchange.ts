// Lambda entry: STS 2015-04-01 (AssumeRoleWithOIDC, GetCallerIdentity), the hot path, behind its own
// HTTP API. Everything that can outlive an invocation (app, stores, JWKS cache, config cache, token
// keys) is built once per container at module scope; a warm exchange reads no table and calls no IdP.

import { loadConfig } from '../shared/config.ts'
import { createLambdaHandler } from '../shared/http/lambda-adapter.ts'
import { createLogger } from '../shared/log.ts'
import { buildServiceApp } from '../shared/service-app.ts'
import { stsActions } from '../shared/services/sts-actions.ts'
import { loadDeployedSecrets } from '../shared/secrets/parameter-store.ts'
import { openStores } from '../shared/store/stores.ts'

const config = loadConfig()
// TOKEN_KEYS, or on AWS the TOKEN_KEYS_PARAMETER SecureString, read once per container: they seal the SecurityTokens this function issues.
const { tokenKeys } = await loadDeployedSecrets(config, { root: false })
const app = buildServiceApp({
  config,
  stores: openStores(config),
  logger: createLogger(config.logLevel),
  tokenKeys,
  actions: stsActions,
})

const proxy = createLambdaHandler(app)
// The log line written during the request is the durable audit record. The table copy is written in
// batches: after an invocation only when a batch of 25 is full or the oldest buffered record has
// waited 1 s (flushIfDue), and no write is ever left in flight when the container freezes. A write
// per exchange would cost more CPU than the exchange itself (BENCHMARKS.md); a recycled idle container
// loses at most 24 records from the table copy, none from the log stream.
export const handler = async (event: Parameters<typeof proxy>[0], context: unknown) => {
  try {
    return await proxy(event, context)
  } finally {
    await app.sts.audit.flushIfDue()
  }
}
await app.ready()
