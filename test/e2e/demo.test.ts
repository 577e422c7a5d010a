// `npm run demo` (local/demo.ts) as a newcomer runs it: against `npm start` (a child process with its own
// DATA_DIR, started the way the demo tells them to), it prints every step and ends with the
// assumed-role ARN, masks secrets, runs again cleanly, and when the server cannot trust or reach the
// demo IdP it prints the one command that fixes it.

import { randomBytes } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, afterEach, describe, expect, inject, it } from 'vitest'
import { ensureDemoCa } from '../../local/demo-idp.ts'
import { freePort } from '../../local/dynamodb-local.ts'
import { Child, START_ARGS, TSX, run, testEnv } from './support/processes.ts'

// The run's shared DynamoDB Local serves the server (no JVM start); a loaded runner still needs a margin.
const START_BOUND_MS = 60_000
const DEMO_BOUND_MS = 60_000
const SLOW_TEST_MS = 180_000

const scratch = mkdtempSync(join(tmpdir(), 'oidc-sts-demo-'))
const children = new Set<Child>()
afterEach(async () => {
  await Promise.all([...children].map((c) => c.stop()))
  children.clear()
})
afterAll(() => rmSync(scratch, { recursive: true, force: true }))

/** `npm start` (node --import tsx local/start.ts) on a free port of 127.0.0.1; resolves with its endpoint once it serves. */
async function startServer(dataDir: string, extra: Record<string, string>): Promise<string> {
  const child = new Child(process.execPath, START_ARGS, testEnv({
    DATA_DIR: dataDir,
    PORT: '0',
    DYNAMODB_ENDPOINT: inject('dynamodbEndpoint'),
    TABLE_NAME: `demo-e2e-${randomBytes(4).toString('hex')}`,
    ...extra,
  }))
  children.add(child)
  const [, endpoint] = await child.waitForStderr(/listening on (http:\/\/127\.0\.0\.1:\d+\/)/, START_BOUND_MS)
  await child.waitForStderr(/operator account [^\n]*\n/, START_BOUND_MS)
  return endpoint as string
}

const runDemo = (dataDir: string, endpoint: string) => run(TSX, ['local/demo.ts'], testEnv({ DATA_DIR: dataDir, OIDC_STS_ENDPOINT: endpoint }), DEMO_BOUND_MS)
const accountOf = (dataDir: string) => (JSON.parse(readFileSync(join(dataDir, 'root-credentials.json'), 'utf8')) as { AccountId: string; AccessKeySecret: string })

describe('npm run demo', () => {
  it('plays the whole story against a server started with the printed command, ending with the assumed-role ARN, and runs again cleanly', async () => {
    const dataDir = join(scratch, 'ok')
    // The demo CA exists before the server starts, as after a first `npm run demo`.
    const ca = await ensureDemoCa(dataDir)
    expect(ca.caFile).toBe(join(dataDir, 'demo-ca.pem'))
    const endpoint = await startServer(dataDir, { ALLOW_PRIVATE_ISSUERS: 'true', NODE_EXTRA_CA_CERTS: ca.caFile })
    const operator = accountOf(dataDir)

    const first = await runDemo(dataDir, endpoint)
    expect(first.code, first.stderr).toBe(0)
    expect(first.stdout).toContain(`reusing ${ca.caFile}`)
    expect(first.stdout).toContain(`thumbprint: ${ca.thumbprint}`)
    for (const title of ['CreateOIDCProvider', 'CreateRole', 'AssumeRoleWithOIDC', 'GetCallerIdentity']) expect(first.stdout).toContain(title)
    // The server fetches discovery then the JWKS, either when the provider is registered (npm start
    // delivers the key-refresh event in process) or at the exchange: other output may come between.
    expect(first.stdout).toMatch(/\[demo IdP\] GET \/\.well-known\/openid-configuration\n[\s\S]*\[demo IdP\] GET \/jwks\n/)
    const arn = new RegExp(`"Arn": "(acs:ram::${operator.AccountId}:assumed-role/(oidc-sts-demo-[0-9a-f]{6})/demo-session)"`)
    const [, sessionArn, roleName] = arn.exec(first.stdout) ?? []
    expect(sessionArn).toBeDefined()
    expect(first.stdout).toContain('"IdentityType": "AssumedRoleUser"')
    expect(first.stdout).toContain(`Done: a token from https://127.0.0.1:`)
    // Secrets masked: the temporary secret and token, and the operator's secret never printed.
    expect(first.stdout).toMatch(/"AccessKeySecret": "[^"]{4}…\(\d+ characters, masked\)"/)
    expect(first.stdout).toMatch(/"SecurityToken": "[^"]{4}…\(\d+ characters, masked\)"/)
    expect(first.stdout).not.toContain(operator.AccessKeySecret)

    // Re-runnable: the second run removes the first run's role and provider, then makes its own.
    const second = await runDemo(dataDir, endpoint)
    expect(second.code, second.stderr).toBe(0)
    expect(second.stdout).toContain(`deleted role ${roleName}`)
    expect(second.stdout).toContain(`deleted OIDC provider ${roleName}`)
    const [, secondArn] = arn.exec(second.stdout) ?? []
    expect(secondArn).toBeDefined()
    expect(secondArn).not.toBe(sessionArn)
  }, SLOW_TEST_MS)

  it('when the server does not trust the demo CA, fails on AssumeRoleWithOIDC printing the exact command to restart it with', async () => {
    const dataDir = join(scratch, 'untrusted')
    const endpoint = await startServer(dataDir, { ALLOW_PRIVATE_ISSUERS: 'true' })
    const result = await runDemo(dataDir, endpoint)
    expect(result.code).toBe(1)
    expect(result.stderr).toContain('AssumeRoleWithOIDC failed: AuthenticationFail.OIDCToken.HttpsUrlInvalid')
    const port = new URL(endpoint).port
    expect(result.stderr).toContain(`  DATA_DIR=${dataDir} PORT=${port} ALLOW_PRIVATE_ISSUERS=true NODE_EXTRA_CA_CERTS=${join(dataDir, 'demo-ca.pem')} npm start\n`)
    // The demo made the CA the command names.
    expect(readFileSync(join(dataDir, 'demo-ca.pem'), 'utf8')).toContain('BEGIN CERTIFICATE')
  }, SLOW_TEST_MS)

  it('when no server answers, makes the demo CA and prints the command that starts one', async () => {
    const dataDir = join(scratch, 'no-server')
    const port = await freePort()
    const result = await runDemo(dataDir, `http://127.0.0.1:${port}/`)
    expect(result.code).toBe(1)
    expect(result.stderr).toContain(`cannot reach oidc-sts at http://127.0.0.1:${port} (ECONNREFUSED)`)
    expect(result.stderr).toContain(`  DATA_DIR=${dataDir} PORT=${port} ALLOW_PRIVATE_ISSUERS=true NODE_EXTRA_CA_CERTS=${join(dataDir, 'demo-ca.pem')} npm start\n`)
    expect(result.stdout).toContain(`created ${join(dataDir, 'demo-ca.pem')}`)
  })
})
