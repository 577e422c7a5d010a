// `npm run accounts -- create [--account-id <16 digits>]`: the operator's command line. Signs a
// CreateAccount call (oidc-sts extension, Version 2026-11-01) with the operator's root AccessKey, sends it
// to a running service and prints the new account's credentials as JSON on stdout. Every failure is one
// line on stderr and a non-zero exit: 2 for a usage error, 1 for anything else.

import { randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { ConfigError, loadConfig } from '../shared/config.ts'
import { OIDC_STS_VERSION, type RootCredentials } from '../shared/services/accounts.ts'
import { signRpcRequest, type SigningCredentials } from '../shared/signing/sign-request.ts'
import { rootCredentialsPath } from './root-credentials.ts'
import { reachHint } from './reach-hint.ts'

const USAGE = `usage: npm run -s accounts -- create [--account-id <16 digits>]
       npm run -s accounts -- --help

Creates an account on a running oidc-sts (npm start) and prints its credentials as JSON:
  {"AccountId": "...", "AccessKeyId": "...", "AccessKeySecret": "..."}

options:
  --account-id <id>   the new account's 16-digit AccountId (default: generated)
  -h, --help          this text

environment:
  OIDC_STS_ENDPOINT                          the service, e.g. http://127.0.0.1:8080/ (default: http://$HOST:$PORT/)
  HOST, PORT                                 as given to npm start (default 127.0.0.1, 8080)
  ROOT_ACCESS_KEY_ID, ROOT_ACCESS_KEY_SECRET the operator's AccessKey (default: read $DATA_DIR/root-credentials.json)
  DATA_DIR                                   as given to npm start (default .data)
`

const REQUEST_TIMEOUT_MS = 15_000

/** A failure to report in one line; `exitCode` 2 marks a usage error. */
class CliError extends Error {
  constructor(message: string, readonly exitCode: 1 | 2 = 1) {
    super(message)
  }
}

type Command = { kind: 'help' } | { kind: 'create'; accountId: string | undefined }

function parseArgs(argv: readonly string[]): Command {
  const usage = (why: string) => new CliError(`${why} (see --help)`, 2)
  if (argv.includes('--help') || argv.includes('-h') || argv[0] === 'help') return { kind: 'help' }
  const [command, ...rest] = argv
  if (command === undefined) throw usage('missing command: the only command is "create"')
  if (command !== 'create') throw usage(`unknown command "${command}": the only command is "create"`)
  let accountId: string | undefined
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i] as string
    const inline = /^--account-id=(.*)$/.exec(arg)
    if (arg !== '--account-id' && !inline) throw usage(`unknown argument "${arg}"`)
    if (accountId !== undefined) throw usage('--account-id is given more than once')
    const value = inline ? inline[1] : rest[++i]
    if (value === undefined || value === '') throw usage('--account-id needs a value')
    if (!/^[1-9]\d{15}$/.test(value)) throw usage(`--account-id must be 16 decimal digits not starting with 0 (got "${value}")`)
    accountId = value
  }
  return { kind: 'create', accountId }
}

interface Target {
  endpoint: URL
  creds: SigningCredentials
}

/** Where the service is and which key signs, from the same variables (and defaults) npm start uses. */
function resolveTarget(env: NodeJS.ProcessEnv): Target {
  const relevant = ['HOST', 'PORT', 'DATA_DIR', 'ROOT_ACCESS_KEY_ID', 'ROOT_ACCESS_KEY_SECRET', 'TLS_CERT_FILE', 'TLS_KEY_FILE']
  let config
  try {
    // Only the settings this command uses: an unrelated bad variable must not stop it.
    config = loadConfig(Object.fromEntries(relevant.flatMap((k) => (env[k] === undefined ? [] : [[k, env[k]]]))))
  } catch (e) {
    if (e instanceof ConfigError) throw new CliError(`invalid configuration: ${e.problems.join('; ')}`)
    throw e
  }
  return { endpoint: resolveEndpoint(env.OIDC_STS_ENDPOINT, config), creds: resolveCredentials(config) }
}

function resolveEndpoint(explicit: string | undefined, config: { host: string; port: number; tlsCertFile: string | undefined }): URL {
  if (explicit !== undefined && explicit !== '') {
    let url: URL
    try {
      url = new URL(explicit)
    } catch {
      throw new CliError(`OIDC_STS_ENDPOINT is not a URL (got "${explicit}")`)
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new CliError(`OIDC_STS_ENDPOINT must be an http:// or https:// URL (got "${explicit}")`)
    return new URL(url.origin)
  }
  // A service listening on every interface is reached on loopback.
  const host = config.host === '0.0.0.0' ? '127.0.0.1' : config.host === '::' ? '::1' : config.host
  const scheme = config.tlsCertFile ? 'https' : 'http'
  return new URL(`${scheme}://${host.includes(':') ? `[${host}]` : host}:${config.port}/`)
}

function resolveCredentials(config: { dataDir: string; rootAccessKeyId: string | undefined; rootAccessKeySecret: string | undefined }): SigningCredentials {
  if (config.rootAccessKeyId !== undefined && config.rootAccessKeySecret !== undefined) {
    return { accessKeyId: config.rootAccessKeyId, secret: config.rootAccessKeySecret }
  }
  const path = rootCredentialsPath(config.dataDir)
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code
    if (code === 'ENOENT') {
      throw new CliError(`no operator credentials: set ROOT_ACCESS_KEY_ID and ROOT_ACCESS_KEY_SECRET, or DATA_DIR to the directory npm start uses (no ${path})`)
    }
    throw new CliError(`cannot read the operator credentials ${path}: ${code ?? (e as Error).message}`)
  }
  let parsed: Partial<RootCredentials>
  try {
    parsed = JSON.parse(text) as Partial<RootCredentials>
  } catch {
    throw new CliError(`${path} is not JSON; expected {"AccountId","AccessKeyId","AccessKeySecret"}`)
  }
  if (typeof parsed.AccessKeyId !== 'string' || typeof parsed.AccessKeySecret !== 'string') {
    throw new CliError(`${path} has no AccessKeyId and AccessKeySecret`)
  }
  return { accessKeyId: parsed.AccessKeyId, secret: parsed.AccessKeySecret }
}

async function createAccount(target: Target, accountId: string | undefined, now: Date): Promise<RootCredentials> {
  const signed = signRpcRequest({
    creds: target.creds,
    action: 'CreateAccount',
    version: OIDC_STS_VERSION,
    params: accountId === undefined ? {} : { AccountId: accountId },
    host: target.endpoint.host,
    date: now,
    nonce: randomBytes(16).toString('hex'),
  })
  // fetch derives Host from the URL (the value signed) and must not add a content-type to an empty body.
  const { host: _host, ...headers } = signed.headers
  const where = target.endpoint.href
  let res: Response
  try {
    res = await fetch(new URL(signed.url, target.endpoint), {
      method: signed.method,
      headers,
      body: signed.body === '' ? undefined : signed.body,
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    })
  } catch (e) {
    throw new CliError(describeFetchFailure(e, where))
  }
  const text = await res.text()
  let body: Record<string, unknown>
  try {
    body = JSON.parse(text) as Record<string, unknown>
  } catch {
    throw new CliError(`unexpected answer from ${where} (HTTP ${res.status}, not JSON): is it an oidc-sts endpoint?`)
  }
  if (res.status !== 200) {
    const code = typeof body.Code === 'string' ? body.Code : 'UnknownError'
    const message = typeof body.Message === 'string' ? ` ${body.Message}` : ''
    const requestId = typeof body.RequestId === 'string' ? ` (RequestId ${body.RequestId})` : ''
    throw new CliError(`CreateAccount failed: ${code} (HTTP ${res.status}):${message}${requestId}`.replace(/\s*\n\s*/g, ' '))
  }
  const { AccountId, AccessKeyId, AccessKeySecret } = body
  if (typeof AccountId !== 'string' || typeof AccessKeyId !== 'string' || typeof AccessKeySecret !== 'string') {
    throw new CliError(`unexpected answer from ${where}: HTTP 200 without AccountId, AccessKeyId and AccessKeySecret`)
  }
  return { AccountId, AccessKeyId, AccessKeySecret }
}

function describeFetchFailure(e: unknown, where: string): string {
  const err = e as { name?: string; cause?: { code?: string; message?: string } }
  if (err.name === 'TimeoutError') return `no answer from ${where} within ${REQUEST_TIMEOUT_MS / 1000} s`
  const code = err.cause?.code
  if (code === 'ECONNREFUSED') {
    return `cannot reach oidc-sts at ${where} (connection refused): is it running (npm start)? Set OIDC_STS_ENDPOINT, or HOST and PORT, to reach another address`
  }
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return `cannot resolve the host of ${where} (${code})`
  const hint = reachHint(code, new URL(where).origin)
  return `cannot reach oidc-sts at ${where}: ${code ?? err.cause?.message ?? String(e)}${hint ? `\n${hint}` : ''}`
}

async function main(argv: readonly string[], env: NodeJS.ProcessEnv): Promise<number> {
  try {
    const command = parseArgs(argv)
    if (command.kind === 'help') {
      process.stdout.write(USAGE)
      return 0
    }
    const account = await createAccount(resolveTarget(env), command.accountId, new Date())
    process.stdout.write(`${JSON.stringify(account, null, 2)}\n`)
    return 0
  } catch (e) {
    if (e instanceof CliError) {
      process.stderr.write(`oidc-sts accounts: ${e.message}\n`)
      return e.exitCode
    }
    process.stderr.write(`oidc-sts accounts: unexpected failure: ${(e as Error).message ?? String(e)}\n`)
    return 1
  }
}

process.exitCode = await main(process.argv.slice(2), process.env)
