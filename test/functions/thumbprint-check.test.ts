// functions/thumbprint-check.ts as Lambda runs it: the esbuild bundle, loaded in a process of its own
// with a deployed-style environment (TABLE_NAME, the IdP's CA trusted through NODE_EXTRA_CA_CERTS),
// invoked with events/schedule.json. No EVENT_BUS_NAME: events go to the in-process bus (logged).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
// @ts-expect-error -- plain ESM build script without type declarations
import { bundleAll } from '../../build/bundle.mjs'
import { bootstrapOperatorAccount, generateAccessKey, generateAccountId } from '../../shared/services/accounts.ts'
import { openStores, type Stores } from '../../shared/store/stores.ts'
import { run, TSX, testEnv } from '../e2e/support/processes.ts'
import { makeSigningKey, startHttpsIdp, type HttpsIdp } from '../support/https-idp.ts'
import { createTestTable } from '../support/store.ts'
import { createTestPki, type TestPki } from '../support/test-ca.ts'

const scratch = mkdtempSync(join(tmpdir(), 'oidc-sts-thumbprint-fn-'))
const schedule = new URL('../../events/schedule.json', import.meta.url).pathname
let bundle: string
let pki: TestPki
let idp: HttpsIdp
let stores: Stores
let env: NodeJS.ProcessEnv
const accountId = generateAccountId()

/** The handler's outcome (`RESULT <json>` or `ERROR <json>`, the last stdout line) and its log lines. */
async function invokeRaw(event: string, extra: Record<string, string> = {}) {
  const finished = await run(TSX, ['test/deploy/invoke-handler.ts', bundle, event], { ...env, ...extra }, 60_000)
  const lines = finished.stdout.trim().split('\n')
  const last = lines.at(-1) ?? ''
  const logs = lines.slice(0, -1).flatMap((l) => {
    try {
      return [JSON.parse(l) as Record<string, unknown>]
    } catch {
      return []
    }
  })
  return { last, logs, stderr: finished.stderr }
}

async function invoke(event: string, extra: Record<string, string> = {}) {
  const { last, logs, stderr } = await invokeRaw(event, extra)
  if (!last.startsWith('RESULT ')) throw new Error(`the handler failed: ${last}\n${stderr}`)
  return { result: JSON.parse(last.slice(7)) as Record<string, any>, logs } // eslint-disable-line @typescript-eslint/no-explicit-any
}

beforeAll(async () => {
  bundle = (await bundleAll(process.cwd(), ['thumbprintCheck'], join(scratch, 'build'))).thumbprintCheck
  pki = await createTestPki('thumbprint-fn')
  writeFileSync(join(scratch, 'ca.pem'), pki.root.certPem)
  idp = await startHttpsIdp({ pki, keys: [makeSigningKey('k1').jwk] })
  const { endpoint, tableName } = await createTestTable('fn-health')
  stores = openStores({ tableName, region: 'us-east-1', dynamodbEndpoint: endpoint })
  const key = generateAccessKey()
  await bootstrapOperatorAccount(stores.accounts, { AccountId: accountId, AccessKeyId: key.accessKeyId, AccessKeySecret: key.secret }, Date.now())
  const provider = (name: string, issuerUrl: string, fingerprints: string[]) =>
    stores.providers.create({ accountId, name, issuerUrl, fingerprints, clientIds: ['sts.aliyuncs.com'], issuanceLimitTime: 12, description: '', createdAt: Date.now(), updatedAt: Date.now(), version: 1 })
  await provider('good', idp.issuer, [pki.intermediate.sha1])
  await provider('stale', `${idp.issuer}/`, [pki.root.sha1])
  env = testEnv({ TABLE_NAME: tableName, DYNAMODB_ENDPOINT: endpoint, AWS_REGION: 'us-east-1', ALLOW_PRIVATE_ISSUERS: 'true', LOG_LEVEL: 'info', NODE_EXTRA_CA_CERTS: join(scratch, 'ca.pem') })
  delete env.EVENT_BUS_NAME
}, 120_000)
afterAll(async () => {
  await idp?.close()
  rmSync(scratch, { recursive: true, force: true })
})

describe('functions/thumbprint-check.ts (bundled, scheduled event)', () => {
  it('checks every provider and records its health; status changes are published (logged on the in-process bus)', async () => {
    const { result, logs } = await invoke(schedule)
    expect(result).toMatchObject({ providers: 2, issuers: 2, issuersSkipped: 0, errors: 0, copiesStored: 1 })
    expect(result.statuses).toMatchObject({ ok: 1, 'invalid-discovery': 1 })
    expect(await stores.health.get(accountId, 'good')).toMatchObject({ status: 'ok', matchedFingerprint: pki.intermediate.sha1, keyIds: ['k1'] })
    // "https://…/" names another issuer than the IdP's discovery document: the exact comparison fails.
    expect(await stores.health.get(accountId, 'stale')).toMatchObject({ status: 'invalid-discovery' })
    const published = logs.filter((l) => l.msg === 'event published')
    expect(published.map((l) => l.detailType)).toEqual(['OIDC Provider Health Changed', 'OIDC Provider Health Changed'])
    expect(logs.find((l) => l.msg === 'thumbprint check finished')).toMatchObject({ level: 'info', providers: 2 })
    expect((await stores.jwksCopies.get(idp.issuer))?.keyIds).toEqual(['k1'])
  }, 90_000)

  it('starts no IdP when the invocation is about to time out, says so, and fails the invocation (the Errors alarm sees it)', async () => {
    const before = await stores.health.get(accountId, 'good')
    const { last, logs } = await invokeRaw(schedule, { INVOKE_TIMEOUT_MS: '1000' })
    expect(last.startsWith('ERROR ')).toBe(true)
    expect(JSON.parse(last.slice(6))).toMatchObject({ message: expect.stringContaining('ran out of time: 2 IdPs were not checked') })
    expect(logs.find((l) => l.msg === 'thumbprint check finished')).toMatchObject({ issuers: 2, issuersSkipped: 2, errors: 0 })
    expect(logs.some((l) => l.msg === 'health check stopped before every IdP was checked')).toBe(true)
    expect((await stores.health.get(accountId, 'good'))?.checkedAt).toBe(before?.checkedAt)
  }, 90_000)
})
