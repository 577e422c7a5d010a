// `npm start` (local/start.ts) runs the deployed triggers in process: the thumbprint health check at
// start and every HEALTH_CHECK_INTERVAL_SECONDS, key refresh on provider changes (the table stream on
// AWS), and it still stops promptly on SIGTERM. A child process against the run's DynamoDB Local and a
// local HTTPS IdP whose CA the child trusts through NODE_EXTRA_CA_CERTS.
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { generateAccessKey, generateAccountId } from '../../shared/services/accounts.ts'
import { callOverHttp } from '../e2e/support/http-rpc.ts'
import { Child, START_ARGS, testEnv } from '../e2e/support/processes.ts'
import { makeSigningKey, startHttpsIdp, type HttpsIdp } from '../support/https-idp.ts'
import { createTestPki, type TestPki } from '../support/test-ca.ts'
import { OIDC_STS } from './support.ts'

const scratch = mkdtempSync(join(tmpdir(), 'oidc-sts-start-health-'))
let pki: TestPki
let idp: HttpsIdp
let child: Child | undefined

/** The child's structured log lines so far (stdout, one JSON object per line). */
function logLines(c: Child): Record<string, unknown>[] {
  return c.stdout.split('\n').flatMap((l) => {
    try {
      return [JSON.parse(l) as Record<string, unknown>]
    } catch {
      return []
    }
  })
}

/** Resolves once `predicate` holds for the child's log lines (event-driven, bounded). */
function waitForLog(c: Child, predicate: (lines: Record<string, unknown>[]) => boolean, timeoutMs = 30_000): Promise<void> {
  return new Promise((resolve, reject) => {
    const check = () => {
      if (predicate(logLines(c))) finish(resolve)
    }
    const timer = setTimeout(() => finish(() => reject(new Error(`log condition not met within ${timeoutMs} ms; stdout:\n${c.stdout.slice(-4000)}\nstderr:\n${c.stderr}`))), timeoutMs)
    let done = false
    const finish = (settle: () => void) => {
      if (done) return
      done = true
      clearTimeout(timer)
      c.process.stdout?.off('data', check)
      settle()
    }
    c.process.stdout?.on('data', check)
    check()
  })
}
const finishedRuns = (lines: Record<string, unknown>[]) => lines.filter((l) => l.msg === 'thumbprint check finished')

beforeAll(async () => {
  pki = await createTestPki('npm-start-health')
  writeFileSync(join(scratch, 'ca.pem'), pki.root.certPem)
  idp = await startHttpsIdp({ pki, keys: [makeSigningKey('k1').jwk] })
})
afterAll(async () => {
  await child?.stop()
  await idp?.close()
  rmSync(scratch, { recursive: true, force: true })
})

describe('npm start: health check and key refresh in process', () => {
  it('checks at start and every interval, refreshes keys when a provider is created, and stops on SIGTERM', async () => {
    const key = generateAccessKey()
    const creds = { accessKeyId: key.accessKeyId, secret: key.secret }
    child = new Child(process.execPath, START_ARGS, testEnv({
      DATA_DIR: join(scratch, 'data'),
      PORT: '0',
      DYNAMODB_ENDPOINT: inject('dynamodbEndpoint'),
      TABLE_NAME: `start-health-${randomBytes(4).toString('hex')}`,
      ROOT_ACCOUNT_ID: generateAccountId(),
      ROOT_ACCESS_KEY_ID: key.accessKeyId,
      ROOT_ACCESS_KEY_SECRET: key.secret,
      ALLOW_PRIVATE_ISSUERS: 'true',
      HEALTH_CHECK_INTERVAL_SECONDS: '2',
      LOG_LEVEL: 'info',
      NODE_EXTRA_CA_CERTS: join(scratch, 'ca.pem'),
    }))
    const [, endpoint] = await child.waitForStderr(/listening on (https?:\/\/\S+\/)\n/, 60_000)
    // The check at start (no provider yet).
    await waitForLog(child, (l) => finishedRuns(l).length >= 1)
    expect(finishedRuns(logLines(child))[0]).toMatchObject({ providers: 0, errors: 0 })

    const created = await callOverHttp(endpoint!, creds, 'CreateOIDCProvider', '2019-08-15', { OIDCProviderName: 'local', IssuerUrl: idp.issuer, Fingerprints: pki.intermediate.sha1, ClientIds: 'sts.aliyuncs.com' })
    expect(created.status, JSON.stringify(created.body)).toBe(200)
    // The provider change is delivered in process to key refresh, which stores the JWKS.
    await waitForLog(child!, (l) => l.some((x) => x.msg === 'JWKS copy stored' && x.issuer === idp.issuer && x.reason === 'provider-changed'))
    // A later scheduled run sees the provider.
    await waitForLog(child!, (l) => finishedRuns(l).some((r) => r.providers === 1))
    const health = await callOverHttp(endpoint!, creds, 'GetOIDCProviderHealth', OIDC_STS, { OIDCProviderName: 'local' })
    expect(health.body.OIDCProviderHealth).toMatchObject({ Status: 'ok', MatchedFingerprint: pki.intermediate.sha1, KeyIds: 'k1' })
    expect(logLines(child).filter((l) => l.msg === 'event published').map((l) => [l.detailType, (l.detail as { status?: string }).status])).toContainEqual(['OIDC Provider Health Changed', 'ok'])

    child.process.kill('SIGTERM')
    const finished = await child.waitForExit(30_000)
    expect(finished.code).toBe(0)
    expect(finished.stderr).toContain('SIGTERM received')
    child = undefined
  }, 120_000)
})
