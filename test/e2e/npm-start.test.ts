// `npm start` (local/start.ts) as a user runs it: a child process with its own DATA_DIR and DynamoDB Local,
// driven over HTTP, stopped with SIGTERM, started again; and its two alternative set-ups (credentials
// from the environment, an existing DynamoDB endpoint) and its one-line failure without Java.

import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, afterEach, describe, expect, inject, it } from 'vitest'
import { DataDirInUseError, lockDataDir } from '../../local/data-dir-lock.ts'
import { freePort } from '../../local/dynamodb-local.ts'
import { loadConfig } from '../../shared/config.ts'
import { mintCredentials } from '../../shared/credentials/mint.ts'
import { createTokenKeyRing, formatTokenKeys, generateTokenKey } from '../../shared/credentials/token-keys.ts'
import { generateAccessKey, generateAccountId } from '../../shared/services/accounts.ts'
import { openStores } from '../../shared/store/stores.ts'
import { callOverHttp } from './support/http-rpc.ts'
import { Child, START_ARGS, descendantsOf, isJava, processesMentioning, testEnv } from './support/processes.ts'

const IMS = '2019-08-15'
// DynamoDB Local answers in about 3 s on these machines; a loaded CI runner gets ten times that.
const START_BOUND_MS = 60_000
const STOP_BOUND_MS = 30_000
const SLOW_TEST_MS = 180_000

const scratch = mkdtempSync(join(tmpdir(), 'oidc-sts-start-'))
const children = new Set<Child>()

afterEach(async () => {
  // A failed assertion must not leave a server (or its JVM) behind.
  await Promise.all([...children].map((c) => c.stop()))
  children.clear()
})
afterAll(() => {
  rmSync(scratch, { recursive: true, force: true })
})

const freshDataDir = (label: string) => mkdtempSync(join(scratch, `${label}-`))

interface Started {
  child: Child
  endpoint: string
}

/** Starts `node --import tsx local/start.ts` (npm start) and waits (event-driven, bounded) for its "listening on" line. */
async function startService(env: NodeJS.ProcessEnv): Promise<Started> {
  const child = new Child(process.execPath, START_ARGS, env)
  children.add(child)
  const [, endpoint] = await child.waitForStderr(/listening on (https?:\/\/\S+\/)\n/, START_BOUND_MS)
  // The operator line follows the listening line: the last thing a start prints.
  await child.waitForStderr(/operator account [^\n]*\n/, START_BOUND_MS)
  return { child, endpoint: endpoint as string }
}

async function stopWithSigterm(child: Child) {
  child.process.kill('SIGTERM')
  const finished = await child.waitForExit(STOP_BOUND_MS)
  children.delete(child)
  return finished
}

const readCredentials = (dataDir: string) => JSON.parse(readFileSync(join(dataDir, 'root-credentials.json'), 'utf8')) as Record<string, string>
const credsOf = (c: Record<string, string>) => ({ accessKeyId: c.AccessKeyId as string, secret: c.AccessKeySecret as string })

describe('npm start with the embedded DynamoDB Local (run in order: the second test restarts on the first one\'s DATA_DIR)', () => {
  const dataDir = freshDataDir('persist')
  let firstCredentialsFile = ''
  let provider: Record<string, unknown> | undefined

  it('generates root credentials into DATA_DIR/root-credentials.json (mode 0600), serves signed calls on PORT, and on SIGTERM exits leaving no Java behind', async () => {
    const port = await freePort()
    const { child, endpoint } = await startService(testEnv({ DATA_DIR: dataDir, PORT: String(port) }))
    expect(endpoint).toBe(`http://127.0.0.1:${port}/`)

    const path = join(dataDir, 'root-credentials.json')
    expect(statSync(path).mode & 0o777).toBe(0o600)
    firstCredentialsFile = readFileSync(path, 'utf8')
    const creds = readCredentials(dataDir)
    expect(creds).toEqual({ AccountId: expect.stringMatching(/^\d{16}$/), AccessKeyId: expect.stringMatching(/^LTAI/), AccessKeySecret: expect.any(String) })
    expect(child.stderr).toContain(path)
    expect(child.stderr).not.toContain(creds.AccessKeySecret)

    expect((await fetch(new URL('/health', endpoint))).status).toBe(200)
    const created = await callOverHttp(endpoint, credsOf(creds), 'CreateOIDCProvider', IMS, {
      OIDCProviderName: 'survives-restart',
      IssuerUrl: 'https://idp.restart.example.com',
      ClientIds: 'sts.aliyuncs.com',
      Description: 'kept in DATA_DIR',
    })
    expect(created.status, JSON.stringify(created.body)).toBe(200)
    expect(created.body.OIDCProvider.Arn).toBe(`acs:ram::${creds.AccountId}:oidc-provider/survives-restart`)
    provider = created.body.OIDCProvider

    // Positive control for the check below: while it runs, its JVM is a descendant and names DATA_DIR.
    expect(descendantsOf(child.process.pid!).filter(isJava)).toHaveLength(1)
    expect(processesMentioning(dataDir).filter(isJava)).toHaveLength(1)

    const finished = await stopWithSigterm(child)
    expect(finished.code).toBe(0)
    expect(finished.stderr).toContain('SIGTERM received')
    expect(processesMentioning(dataDir)).toEqual([])
  }, SLOW_TEST_MS)

  it('run through npm, stops with its server and Java on a SIGTERM to npm itself (a supervisor\'s or `docker stop`\'s)', async () => {
    const dir = freshDataDir('via-npm')
    const child = new Child('npm', ['start', '--silent'], testEnv({ DATA_DIR: dir, PORT: '0' }))
    children.add(child)
    await child.waitForStderr(/operator account [^\n]*\n/, START_BOUND_MS)
    // Positive control: npm's child runs the server, whose JVM names DATA_DIR.
    expect(processesMentioning(dir).filter(isJava)).toHaveLength(1)
    const finished = await stopWithSigterm(child)
    expect(finished.signal === 'SIGTERM' || finished.code !== null).toBe(true)
    // npm hands the signal on (the script execs node: no shell in between to swallow it): the server
    // stops itself and its Java, leaving nothing that names DATA_DIR.
    const deadline = Date.now() + STOP_BOUND_MS
    while (processesMentioning(dir).length > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200))
    expect(processesMentioning(dir)).toEqual([])
  }, SLOW_TEST_MS)

  it('on a terminal\'s Ctrl-C (SIGINT to its whole process group) writes what waits for the table before its Java stops', async () => {
    const dir = freshDataDir('ctrl-c')
    // A process group of its own, as a shell gives a foreground job: the SIGINT below reaches every member.
    const server = spawn(process.execPath, START_ARGS, { cwd: process.cwd(), env: testEnv({ DATA_DIR: dir, PORT: '0' }), detached: true, stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    server.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d))
    server.stderr!.setEncoding('utf8').on('data', (d: string) => (out += d))
    const exited = new Promise<number | null>((r) => server.once('close', (code) => r(code)))
    try {
      const deadline = Date.now() + START_BOUND_MS
      while (!/operator account /.test(out) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100))
      const endpoint = /listening on (https?:\/\/\S+\/)/.exec(out)?.[1]
      expect(endpoint, out).toBeDefined()
      // A refused exchange: its audit record waits (≤ 1 s) for the table copy when the signal comes.
      const refused = await fetch(`${endpoint}?Action=AssumeRoleWithOIDC&Version=2015-04-01&Format=JSON&OIDCProviderArn=acs:ram::1234567890123456:oidc-provider/x&RoleArn=acs:ram::1234567890123456:role/r&RoleSessionName=ctrl-c&OIDCToken=a.b.c`, { method: 'POST' })
      expect(refused.status).toBe(401)
      process.kill(-server.pid!, 'SIGINT')
      expect(await exited).toBe(0)
      expect(out).toContain('SIGINT received')
      expect(out).not.toContain('audit table copy dropping records')
      expect(processesMentioning(dir)).toEqual([])
    } finally {
      if (server.exitCode === null) process.kill(-server.pid!, 'SIGKILL')
    }
  }, SLOW_TEST_MS)

  it('started again on the same DATA_DIR, keeps the provider and the same root credentials', async () => {
    expect(provider, 'the first start must have created the provider').toBeDefined()
    const { child, endpoint } = await startService(testEnv({ DATA_DIR: dataDir, PORT: '0' }))
    expect(readFileSync(join(dataDir, 'root-credentials.json'), 'utf8')).toBe(firstCredentialsFile)
    const creds = readCredentials(dataDir)
    expect(child.stderr).toContain(`operator account ${creds.AccountId}`)

    const got = await callOverHttp(endpoint, credsOf(creds), 'GetOIDCProvider', IMS, { OIDCProviderName: 'survives-restart' })
    expect(got.status, JSON.stringify(got.body)).toBe(200)
    expect(got.body.OIDCProvider).toEqual(provider)

    expect((await stopWithSigterm(child)).code).toBe(0)
    expect(processesMentioning(dataDir)).toEqual([])
  }, SLOW_TEST_MS)

  it('started again with a ROOT_ACCOUNT_ID its root key does not belong to, says which setting to change and leaves nothing running', async () => {
    const creds = readCredentials(dataDir)
    const other = generateAccountId()
    const child = new Child(process.execPath, START_ARGS, testEnv({ DATA_DIR: dataDir, PORT: '0', ROOT_ACCOUNT_ID: other }))
    children.add(child)
    const finished = await child.waitForExit(START_BOUND_MS)
    expect(finished.code).toBe(1)
    expect(finished.stderr).toContain(`the root AccessKey ${creds.AccessKeyId} (${join(dataDir, 'root-credentials.json')}) already belongs to another account than ${other} (ROOT_ACCOUNT_ID)`)
    expect(finished.stderr).toContain('unset ROOT_ACCOUNT_ID')
    expect(processesMentioning(dataDir)).toEqual([])
    expect(existsSync(join(dataDir, 'npm-start.pid'))).toBe(false)
  }, SLOW_TEST_MS)
})

describe('npm start refuses what would break a running one, before starting anything', () => {
  it('refuses a second npm start on a DATA_DIR in use; the first keeps serving, and its stop frees DATA_DIR', async () => {
    const dataDir = freshDataDir('shared')
    const first = await startService(testEnv({ DATA_DIR: dataDir, PORT: '0' }))
    const second = new Child(process.execPath, START_ARGS, testEnv({ DATA_DIR: dataDir, PORT: '0' }))
    children.add(second)
    const refused = await second.waitForExit(STOP_BOUND_MS)
    expect(refused.code).toBe(1)
    expect(refused.stderr).toContain(`is in use by another npm start (pid ${first.child.process.pid})`)
    expect(refused.stderr).not.toContain('DynamoDB Local on')

    // Two engines on one set of files made the first answer InternalFailure from then on.
    const listed = await callOverHttp(first.endpoint, credsOf(readCredentials(dataDir)), 'ListOIDCProviders', IMS)
    expect(listed.status, JSON.stringify(listed.body)).toBe(200)
    expect((await stopWithSigterm(first.child)).code).toBe(0)
    expect(existsSync(join(dataDir, 'npm-start.pid'))).toBe(false)
  }, SLOW_TEST_MS)

  it('refuses a PORT in use at once, without starting DynamoDB Local', async () => {
    const taken = createServer()
    await new Promise<void>((r) => taken.listen(0, '127.0.0.1', () => r()))
    try {
      const port = (taken.address() as { port: number }).port
      const dataDir = freshDataDir('port-taken')
      const child = new Child(process.execPath, START_ARGS, testEnv({ DATA_DIR: dataDir, PORT: String(port) }))
      children.add(child)
      const finished = await child.waitForExit(STOP_BOUND_MS)
      expect(finished.code).toBe(1)
      expect(finished.stderr).toContain(`127.0.0.1:${port} is already in use`)
      expect(finished.stderr).not.toContain('DynamoDB Local on')
      expect(existsSync(join(dataDir, 'dynamodb'))).toBe(false)
    } finally {
      taken.close()
    }
  }, SLOW_TEST_MS)

  it('reports an invalid TOKEN_KEYS with the other invalid values, before starting anything', async () => {
    const dataDir = freshDataDir('bad-config')
    const child = new Child(process.execPath, START_ARGS, testEnv({ DATA_DIR: dataDir, PORT: 'abc', TOKEN_KEYS: 'not-a-key' }))
    children.add(child)
    const finished = await child.waitForExit(STOP_BOUND_MS)
    expect(finished.code).toBe(1)
    expect(finished.stderr).toContain('PORT')
    expect(finished.stderr).toContain('TOKEN_KEYS entry 1 is not <kid>:<key>')
    expect(finished.stderr).not.toContain('not-a-key')
    expect(existsSync(join(dataDir, 'dynamodb'))).toBe(false)
  }, SLOW_TEST_MS)
})

describe('the DATA_DIR lock', () => {
  it('takes over a lock whose process is gone, refuses one whose process runs, and releases only its own', async () => {
    const dataDir = freshDataDir('lock')
    const path = join(dataDir, 'npm-start.pid')
    // The largest pid Linux can hand out is below 2^22: nobody runs as 2^22 + 1.
    writeFileSync(path, `${2 ** 22 + 1}\n`)
    const release = await lockDataDir(dataDir)
    expect(readFileSync(path, 'utf8').trim()).toBe(String(process.pid))
    release()
    expect(existsSync(path)).toBe(false)

    writeFileSync(path, `${process.ppid}\n`) // a process that runs
    await expect(lockDataDir(dataDir)).rejects.toThrow(DataDirInUseError)
    await expect(lockDataDir(dataDir)).rejects.toThrow(`pid ${process.ppid}`)
    expect(readFileSync(path, 'utf8').trim()).toBe(String(process.ppid))
  })

  it('lets one of several processes taking over the same stale lock at once win, never two', async () => {
    // Each racer spins until a common moment after all have started, so that their takeovers overlap.
    const script = `import { lockDataDir } from './local/data-dir-lock.ts'
      const go = Number(process.argv[2]); while (Date.now() < go) {}
      try { await lockDataDir(process.argv[1]); process.stdout.write('WON'); await new Promise((r) => setTimeout(r, 400)) } catch { process.stdout.write('LOST') }`
    for (let round = 0; round < 3; round++) {
      const dataDir = freshDataDir('lock-race')
      writeFileSync(join(dataDir, 'npm-start.pid'), `${2 ** 22 + 1}\n`)
      const go = String(Date.now() + 2_500)
      const racers = Array.from({ length: 3 }, () => new Child(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script, dataDir, go], testEnv({})))
      for (const r of racers) children.add(r)
      const outcomes = (await Promise.all(racers.map((r) => r.waitForExit(STOP_BOUND_MS)))).map((f) => f.stdout)
      expect(outcomes.filter((o) => o === 'WON'), outcomes.join(',')).toHaveLength(1)
    }
  }, SLOW_TEST_MS)
})

describe('npm start configured by the environment', () => {
  it('uses ROOT_ACCOUNT_ID / ROOT_ACCESS_KEY_ID / ROOT_ACCESS_KEY_SECRET and writes no credentials file', async () => {
    const dataDir = freshDataDir('env-creds')
    const key = generateAccessKey()
    const accountId = generateAccountId()
    const { child, endpoint } = await startService(testEnv({
      DATA_DIR: dataDir,
      PORT: '0',
      ROOT_ACCOUNT_ID: accountId,
      ROOT_ACCESS_KEY_ID: key.accessKeyId,
      ROOT_ACCESS_KEY_SECRET: key.secret,
    }))
    expect(child.stderr).toContain(`operator account ${accountId}, AccessKeyId ${key.accessKeyId}`)
    expect(child.stderr).not.toContain(key.secret)

    const created = await callOverHttp(endpoint, { accessKeyId: key.accessKeyId, secret: key.secret }, 'CreateOIDCProvider', IMS, {
      OIDCProviderName: 'env-root',
      IssuerUrl: 'https://idp.env.example.com',
    })
    expect(created.status, JSON.stringify(created.body)).toBe(200)
    expect(created.body.OIDCProvider.Arn).toBe(`acs:ram::${accountId}:oidc-provider/env-root`)
    expect(existsSync(join(dataDir, 'root-credentials.json'))).toBe(false)

    expect((await stopWithSigterm(child)).code).toBe(0)
    expect(existsSync(join(dataDir, 'root-credentials.json'))).toBe(false)
    expect(processesMentioning(dataDir)).toEqual([])
  }, SLOW_TEST_MS)

  it('with DYNAMODB_ENDPOINT set, creates TABLE_NAME on that engine and starts no Java; with TOKEN_KEYS set, seals and unseals with those keys', async () => {
    const dataDir = freshDataDir('external-engine')
    const endpointOfEngine = inject('dynamodbEndpoint')
    const tableName = `npm-start-${randomBytes(4).toString('hex')}`
    const ring = createTokenKeyRing([generateTokenKey()])
    const { child, endpoint } = await startService(testEnv({ DATA_DIR: dataDir, PORT: '0', DYNAMODB_ENDPOINT: endpointOfEngine, TABLE_NAME: tableName, TOKEN_KEYS: formatTokenKeys([ring.current]) }))

    expect(descendantsOf(child.process.pid!).filter(isJava)).toEqual([])
    expect(processesMentioning(dataDir)).toEqual([])
    expect(existsSync(join(dataDir, 'dynamodb'))).toBe(false)
    expect(child.stderr).not.toContain('DynamoDB Local on')

    const creds = readCredentials(dataDir)
    const listed = await callOverHttp(endpoint, credsOf(creds), 'ListOIDCProviders', IMS)
    expect(listed.status, JSON.stringify(listed.body)).toBe(200)
    // The operator key lives in that table on that engine.
    const stores = openStores(loadConfig({ DYNAMODB_ENDPOINT: endpointOfEngine, TABLE_NAME: tableName }))
    expect(await stores.accounts.getAccessKey(creds.AccessKeyId as string)).toMatchObject({ accountId: creds.AccountId, operator: true })

    // The TOKEN_KEYS ring (parsed once, when the settings were checked) unseals a SecurityToken sealed
    // with it; no key file was generated in DATA_DIR.
    const session = mintCredentials({ accountId: creds.AccountId as string, roleName: 'deployer', roleId: '301234567890123456', roleArn: `acs:ram::${creds.AccountId}:role/deployer`, sessionName: 'npm-start', durationSeconds: 900, providerArn: `acs:ram::${creds.AccountId}:oidc-provider/ci`, sub: 'repo:octo/app', issuer: 'https://idp.example.com' }, ring, new Date())
    const caller = await callOverHttp(endpoint, { accessKeyId: session.AccessKeyId, secret: session.AccessKeySecret, securityToken: session.SecurityToken }, 'GetCallerIdentity', '2015-04-01')
    expect(caller.status, JSON.stringify(caller.body)).toBe(200)
    expect(caller.body.Arn).toBe(`acs:ram::${creds.AccountId}:assumed-role/deployer/npm-start`)
    expect(existsSync(join(dataDir, 'token-keys.json'))).toBe(false)

    expect((await stopWithSigterm(child)).code).toBe(0)
  }, SLOW_TEST_MS)

  it('without java on PATH and without DYNAMODB_ENDPOINT, prints one line naming Java and exits non-zero', async () => {
    const dataDir = freshDataDir('no-java')
    // A PATH holding only node (tsx's `#!/usr/bin/env node` needs it), so `java` cannot be found.
    const bin = join(scratch, 'node-only-bin')
    mkdirSync(bin, { recursive: true })
    if (!existsSync(join(bin, 'node'))) symlinkSync(process.execPath, join(bin, 'node'))
    const child = new Child(process.execPath, START_ARGS, testEnv({ DATA_DIR: dataDir, PORT: '0', PATH: bin }))
    children.add(child)
    const finished = await child.waitForExit(STOP_BOUND_MS)
    expect(finished.code).not.toBe(0)
    expect(finished.code).not.toBeNull()
    expect(finished.stdout).toBe('')
    const lines = finished.stderr.split('\n').filter((l) => l.trim() !== '')
    expect(lines, finished.stderr).toHaveLength(1)
    expect(lines[0]).toMatch(/Java/)
    expect(lines[0]).toContain('DYNAMODB_ENDPOINT')
    expect(existsSync(join(dataDir, 'root-credentials.json'))).toBe(false)
  }, SLOW_TEST_MS)
})
