// The operator CLI (local/accounts-cli.ts) run as a child process against a listening service: it
// prints a working account, and says in one line what went wrong otherwise.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { freePort } from '../../local/dynamodb-local.ts'
import { generateAccountId } from '../../shared/services/accounts.ts'
import { callOverHttp } from './support/http-rpc.ts'
import { startListeningService, type ListeningService } from './support/listening-service.ts'
import { TSX, run, testEnv, type Finished } from './support/processes.ts'

const IMS = '2019-08-15'
const CLI = 'local/accounts-cli.ts'

let svc: ListeningService
let scratch: string

beforeAll(async () => {
  svc = await startListeningService()
  scratch = mkdtempSync(join(tmpdir(), 'oidc-sts-cli-'))
})
afterAll(async () => {
  await svc?.close()
  if (scratch) rmSync(scratch, { recursive: true, force: true })
})

/** The operator's key in the environment, the endpoint in OIDC_STS_ENDPOINT. */
const operatorEnv = (extra: Record<string, string> = {}) =>
  testEnv({ OIDC_STS_ENDPOINT: svc.endpoint, ROOT_ACCESS_KEY_ID: svc.root.AccessKeyId, ROOT_ACCESS_KEY_SECRET: svc.root.AccessKeySecret, DATA_DIR: scratch, ...extra })

const cli = (args: string[], env: NodeJS.ProcessEnv) => run(TSX, [CLI, ...args], env)

function printedAccount(out: Finished): { AccountId: string; AccessKeyId: string; AccessKeySecret: string } {
  expect(out.code, out.stderr).toBe(0)
  expect(out.stderr).toBe('')
  const account = JSON.parse(out.stdout) as Record<string, string>
  expect(Object.keys(account).sort()).toEqual(['AccessKeyId', 'AccessKeySecret', 'AccountId'])
  return account as { AccountId: string; AccessKeyId: string; AccessKeySecret: string }
}

/** Exactly one line on stderr, nothing on stdout, the given exit code. */
function oneLineFailure(out: Finished, exitCode: number): string {
  expect(out.code, out.stderr).toBe(exitCode)
  expect(out.stdout).toBe('')
  expect(out.stderr).toMatch(/^oidc-sts accounts: [^\n]+\n$/)
  return out.stderr
}

// Each CLI run is a fresh tsx process (one to several seconds on a loaded machine).
const CLI_TESTS = { timeout: 90_000 }

describe('accounts create', CLI_TESTS, () => {
  it('prints the new account as JSON, and its AccessKey can call ListOIDCProviders and owns what it creates', async () => {
    const account = printedAccount(await cli(['create'], operatorEnv()))
    expect(account.AccountId).toMatch(/^[1-9]\d{15}$/)
    expect(account.AccountId).not.toBe(svc.root.AccountId)
    const creds = { accessKeyId: account.AccessKeyId, secret: account.AccessKeySecret }

    const listed = await callOverHttp(svc.endpoint, creds, 'ListOIDCProviders', IMS)
    expect(listed.status).toBe(200)
    expect(listed.body).toMatchObject({ IsTruncated: false, OIDCProviders: { OIDCProvider: [] } })
    const created = await callOverHttp(svc.endpoint, creds, 'CreateOIDCProvider', IMS, { OIDCProviderName: 'cli-made', IssuerUrl: 'https://idp.cli.example.com' })
    expect(created.body.OIDCProvider?.Arn).toBe(`acs:ram::${account.AccountId}:oidc-provider/cli-made`)
  })

  it('creates the requested --account-id when run through `npm run -s accounts --`', async () => {
    const wanted = generateAccountId()
    // No update check: npm would otherwise ask the registry, and tests stay on 127.0.0.1.
    const out = await run('npm', ['run', '-s', 'accounts', '--', 'create', '--account-id', wanted], operatorEnv({ npm_config_update_notifier: 'false' }))
    expect(printedAccount(out).AccountId).toBe(wanted)
  })

  it('reads the operator key from $DATA_DIR/root-credentials.json and the endpoint from HOST and PORT when nothing else is set', async () => {
    const dataDir = mkdtempSync(join(scratch, 'data-'))
    writeFileSync(join(dataDir, 'root-credentials.json'), JSON.stringify(svc.root), { mode: 0o600 })
    const account = printedAccount(await cli(['create'], testEnv({ DATA_DIR: dataDir, HOST: '127.0.0.1', PORT: String(svc.port) })))
    expect((await callOverHttp(svc.endpoint, { accessKeyId: account.AccessKeyId, secret: account.AccessKeySecret }, 'ListOIDCProviders', IMS)).status).toBe(200)
  })

  it('reports an API error by code and status in one line: an AccountId taken twice is EntityAlreadyExists.Account', async () => {
    const wanted = generateAccountId()
    printedAccount(await cli(['create', `--account-id=${wanted}`], operatorEnv()))
    const line = oneLineFailure(await cli(['create', `--account-id=${wanted}`], operatorEnv()), 1)
    expect(line).toContain('EntityAlreadyExists.Account (HTTP 409)')
    expect(line).toContain(wanted)
  })

  it("reports NoPermission when signed with an ordinary account's key instead of the operator's", async () => {
    const account = printedAccount(await cli(['create'], operatorEnv()))
    const line = oneLineFailure(await cli(['create'], operatorEnv({ ROOT_ACCESS_KEY_ID: account.AccessKeyId, ROOT_ACCESS_KEY_SECRET: account.AccessKeySecret })), 1)
    expect(line).toContain('NoPermission (HTTP 403)')
  })

  it('reports a wrong secret as SignatureDoesNotMatch', async () => {
    const line = oneLineFailure(await cli(['create'], operatorEnv({ ROOT_ACCESS_KEY_SECRET: `${svc.root.AccessKeySecret}x` })), 1)
    expect(line).toContain('SignatureDoesNotMatch')
  })
})

describe('accounts CLI failures before any call', CLI_TESTS, () => {
  it('says the service is not running when nothing listens at the endpoint', async () => {
    const closed = await freePort()
    const line = oneLineFailure(await cli(['create'], operatorEnv({ OIDC_STS_ENDPOINT: `http://127.0.0.1:${closed}/` })), 1)
    expect(line).toContain(`http://127.0.0.1:${closed}/`)
    expect(line).toContain('connection refused')
    expect(line).toContain('npm start')
  })

  it('says where it looked when there are no operator credentials', async () => {
    const empty = mkdtempSync(join(scratch, 'empty-'))
    const line = oneLineFailure(await cli(['create'], testEnv({ OIDC_STS_ENDPOINT: svc.endpoint, DATA_DIR: empty })), 1)
    expect(line).toContain('ROOT_ACCESS_KEY_ID')
    expect(line).toContain(join(empty, 'root-credentials.json'))
  })

  it('rejects bad arguments with exit code 2: no command, an unknown command or option, a malformed --account-id', async () => {
    const cases = [[], ['delete'], ['create', '--force'], ['create', '--account-id'], ['create', '--account-id', '0123456789012345'], ['create', '--account-id', '12']]
    const outs = await Promise.all(cases.map((args) => cli(args, operatorEnv())))
    for (const out of outs) expect(oneLineFailure(out, 2)).toContain('--help')
  })

  it('prints usage with --help and exits 0', async () => {
    const out = await cli(['--help'], testEnv({}))
    expect(out.code).toBe(0)
    expect(out.stdout).toContain('create [--account-id <16 digits>]')
    expect(out.stdout).toContain('OIDC_STS_ENDPOINT')
    expect(out.stderr).toBe('')
  })
})
