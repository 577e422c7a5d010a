// `npm start`: the whole service on one machine. Starts DynamoDB Local (unless DYNAMODB_ENDPOINT is
// set), creates the table, bootstraps the operator account, serves every action on HOST:PORT, and
// on Ctrl-C / SIGTERM stops everything it started.

import { readFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { type Config, ConfigError, loadConfig } from '../shared/config.ts'
import { ApiError } from '../shared/errors.ts'
import { createLogger } from '../shared/log.ts'
import { bootstrapOperatorAccount } from '../shared/services/accounts.ts'
import { ensureTable } from '../shared/store/create-table.ts'
import { openStores } from '../shared/store/stores.ts'
import { managementActions } from '../shared/management-app.ts'
import { buildServiceApp } from '../shared/service-app.ts'
import { loadOrCreateTokenKeys, parseTokenKeys, type TokenKeyRing } from '../shared/credentials/token-keys.ts'
import { stsActions } from '../shared/services/sts-actions.ts'
import { startBackgroundJobs } from '../shared/services/health-schedule.ts'
import { lockDataDir } from './data-dir-lock.ts'
import { JavaMissingError, startDynamoDbLocal, type DynamoDbLocal } from './dynamodb-local.ts'
import { resolveRootCredentials } from './root-credentials.ts'

const say = (line: string) => process.stderr.write(`${line}\n`)

/**
 * The configuration, TOKEN_KEYS included: every invalid value reported at once, before anything starts.
 * The token key ring parsed from TOKEN_KEYS is kept (undefined without it: DATA_DIR's key file is read later).
 */
function loadStartConfig(): { config: Config; tokenKeys: TokenKeyRing | undefined } {
  const problems: string[] = []
  const collect = (e: unknown) => {
    if (!(e instanceof ConfigError)) throw e
    problems.push(...e.problems)
  }
  let config: Config | undefined
  try {
    config = loadConfig()
  } catch (e) {
    collect(e)
  }
  let tokenKeys: TokenKeyRing | undefined
  const tokenKeysValue = process.env.TOKEN_KEYS
  if (tokenKeysValue !== undefined && tokenKeysValue !== '') {
    try {
      tokenKeys = parseTokenKeys(tokenKeysValue)
    } catch (e) {
      collect(e)
    }
  }
  if (problems.length > 0 || config === undefined) throw new ConfigError(problems)
  return { config, tokenKeys }
}

/** Fails at once when HOST:PORT is taken, rather than after DynamoDB Local has started. */
async function assertPortFree(host: string, port: number): Promise<void> {
  if (port === 0) return
  await new Promise<void>((done, fail) => {
    const probe = createServer()
    probe.once('error', fail)
    probe.listen({ host, port, exclusive: true }, () => probe.close(() => done()))
  }).catch((e: NodeJS.ErrnoException) => {
    throw new Error(e.code === 'EADDRINUSE' ? `${host}:${port} is already in use: stop what listens there, or set another PORT` : `cannot listen on ${host}:${port}: ${e.message}`)
  })
}

/** What a start has started, stopped in reverse order on Ctrl-C / SIGTERM and after a failed start. */
const cleanups: Array<() => Promise<void>> = []
let stopping = false

async function runCleanups(): Promise<void> {
  for (const c of cleanups.reverse()) await c().catch((e) => say(`oidc-sts: cleanup failed: ${(e as Error).message}`))
  cleanups.length = 0
}

async function main() {
  let checked
  try {
    checked = loadStartConfig()
  } catch (e) {
    if (e instanceof ConfigError) {
      say(`oidc-sts: ${e.message}`)
      process.exit(1)
    }
    throw e
  }
  let config = checked.config
  const logger = createLogger(config.logLevel)
  let engine: DynamoDbLocal | undefined
  const shutdown = async (signal: string) => {
    if (stopping) return
    stopping = true
    say(`oidc-sts: ${signal} received, stopping`)
    await runCleanups()
    process.exit(0)
  }
  process.on('SIGINT', () => void shutdown('SIGINT'))
  process.on('SIGTERM', () => void shutdown('SIGTERM'))

  await assertPortFree(config.host, config.port)
  if (!config.dynamodbEndpoint) {
    // Before the engine: a second engine on the same files would break the first one's.
    await lockDataDir(config.dataDir)
    try {
      engine = await startDynamoDbLocal({ dataDir: config.dataDir })
    } catch (e) {
      if (e instanceof JavaMissingError) {
        say(`oidc-sts: ${e.message}`)
        process.exit(1)
      }
      throw e
    }
    cleanups.push(() => engine!.stop())
    say(`oidc-sts: DynamoDB Local on ${engine.endpoint}, data in ${config.dataDir}/dynamodb`)
    config = { ...config, dynamodbEndpoint: engine.endpoint }
  }
  if (stopping) return

  const stores = openStores(config)
  await ensureTable(stores.documentClient, config.tableName)
  const root = await resolveRootCredentials(config, stores.accounts)
  await bootstrapOperatorAccount(stores.accounts, root.creds, Date.now()).catch((e: unknown) => {
    if (!(e instanceof ApiError && e.code === 'EntityAlreadyExists.Account')) throw e
    const from = root.source === 'env' ? 'ROOT_ACCESS_KEY_ID' : String(root.path)
    throw new Error(
      `the root AccessKey ${root.creds.AccessKeyId} (${from}) already belongs to another account than ${root.creds.AccountId}` +
        `${config.rootAccountId ? ' (ROOT_ACCOUNT_ID)' : ''}: unset ROOT_ACCOUNT_ID to keep the account it has, or start on a fresh DATA_DIR`,
    )
  })

  // One port serves every HTTP action, routed by Version/Action, as the deployed pair of APIs would.
  // TOKEN_KEYS as parsed when the configuration was checked, else DATA_DIR's key file (generated once).
  const tokenKeys = checked.tokenKeys ?? loadOrCreateTokenKeys(config.dataDir).ring
  const app = buildServiceApp({
    config,
    stores,
    logger,
    tokenKeys,
    actions: [...managementActions(), ...stsActions],
    ...(config.tlsCertFile && config.tlsKeyFile
      ? { https: { cert: readFileSync(config.tlsCertFile), key: readFileSync(config.tlsKeyFile) } }
      : {}),
  })
  // The deployed triggers, in process: health check at start and every interval, key-rotation events
  // delivered to key refresh, provider changes (the table stream on AWS) reported from the responses.
  const jobs = startBackgroundJobs({ config, stores, logger })
  app.addHook('onSend', async (request, reply, payload) => {
    if (reply.statusCode === 200 && PROVIDER_CHANGES.has(actionOf(request))) {
      // Answers are sent as UTF-8 bytes (shared/http/app.ts); decoded only for the actions read here.
      const text = Buffer.isBuffer(payload) ? payload.toString('utf8') : typeof payload === 'string' ? payload : ''
      let issuer: unknown
      try {
        issuer = (JSON.parse(text) as { OIDCProvider?: { IssuerUrl?: unknown } }).OIDCProvider?.IssuerUrl
      } catch {
        // An XML answer (Format=XML): nothing to read the issuer from; the next health check refreshes the keys.
      }
      if (typeof issuer === 'string') void jobs.providerChanged(issuer)
    }
    return payload
  })
  cleanups.push(() => app.close())
  // Cleanups run in reverse: the jobs stop (timer cleared, run aborted, deliveries drained) before the server closes.
  cleanups.push(() => jobs.stop())
  await app.listen({ host: config.host, port: config.port })
  const scheme = config.tlsCertFile ? 'https' : 'http'
  const address = app.server.address()
  const port = typeof address === 'object' && address ? address.port : config.port
  say(`oidc-sts: listening on ${scheme}://${config.host}:${port}/`)
  say(root.source === 'env'
    ? `oidc-sts: operator account ${root.creds.AccountId}, AccessKeyId ${root.creds.AccessKeyId} (from ROOT_ACCESS_KEY_ID/ROOT_ACCESS_KEY_SECRET)`
    : `oidc-sts: operator account ${root.creds.AccountId}; root AccessKey in ${root.path}`)
  if (!stopping) jobs.start()
}

/** Provider actions after which AWS's table stream triggers key refresh. */
const PROVIDER_CHANGES = new Set(['CreateOIDCProvider', 'AddFingerprintToOIDCProvider', 'RemoveFingerprintFromOIDCProvider'])

function actionOf(request: { url: string; headers: Record<string, string | string[] | undefined> }): string {
  const header = request.headers['x-acs-action']
  if (typeof header === 'string') return header
  return new URL(request.url, 'http://local').searchParams.get('Action') ?? ''
}

main().catch(async (e: unknown) => {
  say(`oidc-sts: failed to start: ${(e as Error).message}`)
  // The engine, if it started, is stopped and waited for; the DATA_DIR lock is released on exit.
  stopping = true
  await runCleanups()
  process.exit(1)
})
