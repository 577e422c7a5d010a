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
import { silentServer } from '../support/silent-server.ts'
import { createTestTable } from '../support/store.ts'
import { createTestPki, type TestPki } from '../support/test-ca.ts'

const scratch = mkdtempSync(join(tmpdir(), 'oidc-sts-thumbprint-fn-'))
const schedule = new URL('../../events/schedule.json', import.meta.url).pathname
let bundle: string
let pki: TestPki
let idp: HttpsIdp
let stores: Stores
let env: NodeJS.ProcessEnv
let provider: (name: string, issuerUrl: string, fingerprints: string[]) => Promise<unknown>
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
  provider = (name: string, issuerUrl: string, fingerprints: string[]) =>
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

  it('stops publishing before the timeout when EventBridge stops answering, and fails with its own error; the announcement stays in doubt', async () => {
    // A bus endpoint that takes connections and never answers: each PutEvents attempt lasts the SDK's
    // 2 s requestTimeout, 3 SDK × 2 publisher attempts per batch, past the 5 s finish reserve.
    const silent = await silentServer()
    try {
      // A new provider (another issuer: one provider per issuer in an account; this IdP serves nothing
      // under it): its first status is announced, the others are unchanged since the first test.
      await provider('fresh', `${idp.issuer}/fresh`, [pki.intermediate.sha1])
      const { last, logs } = await invokeRaw(schedule, {
        EVENT_BUS_NAME: 'oidc-sts-test',
        AWS_ENDPOINT_URL_EVENTBRIDGE: silent.url,
        AWS_ACCESS_KEY_ID: 'test',
        AWS_SECRET_ACCESS_KEY: 'test',
        // IdPs start until 12 - 1 - 5 = 6 s before the end; publishing may run until 1 s before it.
        HEALTH_CHECK_IDP_TIMEOUT_SECONDS: '1',
        INVOKE_TIMEOUT_MS: '12000',
        INVOKE_KILL_AT_TIMEOUT: 'true',
      })
      // Its own error, not the simulated Lambda timeout (`TIMEOUT …`) that ended such runs before.
      expect(last).toMatch(/^ERROR /)
      expect(silent.connections).toBeGreaterThan(0)
      const finished = logs.find((l) => l.msg === 'thumbprint check finished') as { events: { published: number; failed: number } } | undefined
      expect(finished).toMatchObject({ issuersSkipped: 0, events: { published: 0, failed: expect.any(Number) } })
      // 1 when the first test ran before (fresh's announcement only), 3 when this test runs alone.
      const failed = finished!.events.failed
      expect(failed).toBeGreaterThan(0)
      expect(JSON.parse(last.slice(6))).toMatchObject({ message: expect.stringContaining(`(${failed} events not delivered;`) })
      const lost = logs.filter((l) => l.msg === 'event not delivered to EventBridge')
      expect(lost).toHaveLength(failed)
      expect(lost).toContainEqual(expect.objectContaining({ level: 'error', detail: expect.stringContaining('"providerName":"fresh"') }))
      // Written before publishing, and left in doubt: the next run announces it again.
      const fresh = await stores.health.get(accountId, 'fresh')
      expect(fresh).toMatchObject({ notifiedStatus: 'unchecked', announcing: fresh?.status })
    } finally {
      await silent.close()
    }
  }, 90_000)
})
