// Key rotation with real parts: a local HTTPS IdP rotates its signing key; the key-rotation event makes
// key refresh store the new JWKS in DynamoDB Local; the service's JWKS cache (wired to that copy) then
// accepts a token with the new kid at once, although its unknown-kid refetch cooldown has not passed.
// Also: idempotent redelivery, cold containers reading the copy instead of the IdP, the table stream,
// and the health check emitting the event itself.
import { readFileSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DETAIL_TYPES, type KeyRotationDetail } from '../../shared/events/service-events.ts'
import { buildServiceApp } from '../../shared/service-app.ts'
import { startBackgroundJobs } from '../../shared/services/health-schedule.ts'
import { KeyRefresher } from '../../shared/services/key-refresh.ts'
import { stsActions } from '../../shared/services/sts-actions.ts'
import { loadConfig } from '../../shared/config.ts'
import { createLogger } from '../../shared/log.ts'
import { makeSigningKey, startHttpsIdp, type HttpsIdp, type TestSigningKey } from '../support/https-idp.ts'
import { startTestService, testTokenKeys, type TestService } from '../support/service.ts'
import { newRecordsFor, tableStreamRecords } from '../support/table-stream.ts'
import { createTestPki, type TestPki } from '../support/test-ca.ts'
import { exchange, idToken, recordingLogger, registerProvider } from '../health/support.ts'

const sample = (name: string) => JSON.parse(readFileSync(new URL(`../../events/${name}`, import.meta.url), 'utf8'))

let now = new Date()
const clock = () => now
const advance = (ms: number) => {
  now = new Date(now.getTime() + ms)
}
let pki: TestPki
let k1: TestSigningKey
let k2: TestSigningKey
let idp: HttpsIdp
let svc: TestService
let account: string
let refresher: KeyRefresher
const logger = recordingLogger()
let fetchOptions: { ca: string; allowPrivate: boolean }

function rotationEvent(issuer: string, at: Date, detail: Record<string, unknown> = {}) {
  const e = sample('eventbridge-key-rotation.json')
  return { ...e, time: at.toISOString().replace(/\.\d{3}Z$/, 'Z'), detail: { issuer, reason: 'key-ids-changed', ...detail } }
}

beforeAll(async () => {
  pki = await createTestPki('rotation')
  k1 = makeSigningKey('k1')
  k2 = makeSigningKey('k2')
  idp = await startHttpsIdp({ pki, keys: [k1.jwk] })
  fetchOptions = { ca: pki.root.certPem, allowPrivate: true }
  svc = await startTestService({ clock, env: { ALLOW_PRIVATE_ISSUERS: 'true' }, fetchOptions: { ca: pki.root.certPem } })
  account = svc.root.AccountId
  await registerProvider(svc, { account, name: 'ci', issuer: idp.issuer, fingerprints: [pki.intermediate.sha1], role: 'deployer' })
  refresher = new KeyRefresher({ ...svc.stores, logger }, { fetchOptions, now: () => now.getTime() })
})
afterAll(async () => {
  await svc?.close()
  await idp?.close()
})

describe('key rotation', () => {
  it('an event refreshes the stored JWKS and a token with the new kid is accepted at once, without waiting for the cooldown', async () => {
    expect((await exchange(svc, account, 'ci', 'deployer', idToken(idp.issuer, k1, now), now)).status).toBe(200)
    const cache = svc.app.sts.jwks
    expect(cache.stats(idp.issuer).fetches).toBe(1)

    idp.setKeys([k1.jwk, k2.jwk])
    advance(2_000) // well inside the 30 s unknown-kid cooldown
    const early = await exchange(svc, account, 'ci', 'deployer', idToken(idp.issuer, k2, now), now)
    expect(early.body.Code).toBe('AuthenticationFail.OIDCToken.InvalidSignature')
    expect(cache.stats(idp.issuer).fetches).toBe(1)

    advance(1_500)
    const jwksBefore = idp.requests(idp.jwksPath)
    const result = await refresher.handleEventBridge(rotationEvent(idp.issuer, now))
    expect(result).toMatchObject({ status: 'processed', issuer: idp.issuer, outcome: 'stored', keyIds: ['k1', 'k2'] })
    expect(idp.requests(idp.jwksPath)).toBe(jwksBefore + 1)
    const stored = await svc.stores.jwksCopies.get(idp.issuer)
    expect(stored?.keyIds).toEqual(['k1', 'k2'])

    const after = await exchange(svc, account, 'ci', 'deployer', idToken(idp.issuer, k2, now), now)
    expect(after.status, JSON.stringify(after.body)).toBe(200)
    // The cache took the stored copy: no network fetch of its own.
    expect(cache.stats(idp.issuer)).toMatchObject({ fetches: 1, storedCopiesApplied: 1 })
    expect(idp.requests(idp.jwksPath)).toBe(jwksBefore + 1)
  })

  it('is idempotent: the same event delivered again fetches nothing and changes nothing', async () => {
    const before = await svc.stores.jwksCopies.get(idp.issuer)
    const requests = idp.requests(idp.jwksPath)
    const again = await refresher.handleEventBridge(rotationEvent(idp.issuer, new Date(before!.fetchedAt - 2_000)))
    expect(again).toMatchObject({ status: 'processed', outcome: 'current' })
    expect(idp.requests(idp.jwksPath)).toBe(requests)
    expect(await svc.stores.jwksCopies.get(idp.issuer)).toEqual(before)
  })

  it('a cold container reads the stored copy before calling the IdP', async () => {
    const config = loadConfig({ TABLE_NAME: svc.stores.table.table.getName(), ALLOW_PRIVATE_ISSUERS: 'true', LOG_LEVEL: 'silent' })
    const cold = buildServiceApp({ config, stores: svc.stores, logger: createLogger('silent'), tokenKeys: testTokenKeys(), actions: stsActions, jwks: 'private', fetchOptions: { ca: pki.root.certPem }, clock })
    await cold.ready()
    try {
      const discovery = idp.requests(idp.discoveryPath)
      const jwks = idp.requests(idp.jwksPath)
      const res = await exchange({ app: cold }, account, 'ci', 'deployer', idToken(idp.issuer, k2, now), now)
      expect(res.status, JSON.stringify(res.body)).toBe(200)
      expect(cold.sts.jwks.stats(idp.issuer)).toMatchObject({ fetches: 0, storedCopyLoads: 1, storedCopiesApplied: 1 })
      expect([idp.requests(idp.discoveryPath), idp.requests(idp.jwksPath)]).toEqual([discovery, jwks])
    } finally {
      await cold.close()
    }
  })

  it('the table stream as DynamoDB Local writes it: keys only; a new provider stores its issuer\'s keys; a description change fetches nothing; fingerprints of a new CA do', async () => {
    const key = makeSigningKey('stream-k')
    const other = await startHttpsIdp({ pki, keys: [key.jwk], issuerPath: '/stream' })
    const newCa = await createTestPki('rotation-new-ca')
    // Real time: the records' ApproximateCreationDateTime is DynamoDB Local's clock.
    const streamLogger = recordingLogger()
    const streamed = new KeyRefresher({ ...svc.stores, logger: streamLogger }, { fetchOptions: { ca: [pki.root.certPem, newCa.root.certPem], allowPrivate: true } })
    const table = svc.stores.table.table.getName()
    const seen = new Set<string>()
    const records = () => newRecordsFor(table, 'OIDCPROVIDER#streamed', seen)
    try {
      await registerProvider(svc, { account, name: 'streamed', issuer: other.issuer, fingerprints: [pki.intermediate.sha1] })
      const insert = await records()
      expect(insert.map((r) => r.eventName)).toEqual(['INSERT'])
      // Keys only: no attribute of the item (of any item: AccessKey secrets included) is in the stream.
      expect(insert[0]!.dynamodb).toMatchObject({ StreamViewType: 'KEYS_ONLY', Keys: { pk: { S: `ACCOUNT#${account}` }, sk: { S: 'OIDCPROVIDER#streamed' } } })
      expect(Object.keys(insert[0]!.dynamodb).filter((k) => k.endsWith('Image'))).toEqual([])
      expect((await tableStreamRecords(table)).every((r) => r.dynamodb.NewImage === undefined && r.dynamodb.OldImage === undefined)).toBe(true)
      expect(await streamed.handleStream({ Records: insert })).toEqual({ batchItemFailures: [] })
      expect((await svc.stores.jwksCopies.get(other.issuer))?.keyIds).toEqual(['stream-k'])
      expect(other.requests(other.jwksPath)).toBe(1)

      // A description change: the stored copy still vouches for the provider's fingerprints.
      expect((await svc.call('UpdateOIDCProvider', '2019-08-15', { OIDCProviderName: 'streamed', NewDescription: 'changed' })).status).toBe(200)
      const describe = await records()
      expect(describe.map((r) => r.eventName)).toEqual(['MODIFY'])
      expect(await streamed.handleStream({ Records: describe })).toEqual({ batchItemFailures: [] })
      expect(other.requests(other.jwksPath)).toBe(1)
      expect(streamLogger.find('JWKS copy already current')).toEqual([expect.objectContaining({ fields: expect.objectContaining({ vouchesFor: [expect.objectContaining({ name: 'streamed' })] }) })])

      // The IdP moves to a new CA and the operator swaps the fingerprint: the copy's chains hold none of
      // the provider's fingerprints now, so it is fetched again, over the new chain.
      other.usePki(newCa)
      expect((await svc.call('AddFingerprintToOIDCProvider', '2019-08-15', { OIDCProviderName: 'streamed', Fingerprint: newCa.intermediate.sha1 })).status).toBe(200)
      expect((await svc.call('RemoveFingerprintFromOIDCProvider', '2019-08-15', { OIDCProviderName: 'streamed', Fingerprint: pki.intermediate.sha1 })).status).toBe(200)
      const swap = await records()
      expect(swap.map((r) => r.eventName)).toEqual(['MODIFY', 'MODIFY'])
      expect(await streamed.handleStream({ Records: swap })).toEqual({ batchItemFailures: [] })
      expect(other.requests(other.jwksPath)).toBe(2)
      expect((await svc.stores.jwksCopies.get(other.issuer))?.copy.jwksChain.map((c) => c.sha1)).toContain(newCa.intermediate.sha1)
      // Delivered again, the same records find the copy current.
      expect(await streamed.handleStream({ Records: swap })).toEqual({ batchItemFailures: [] })
      expect(other.requests(other.jwksPath)).toBe(2)

      // Deleted: the REMOVE needs nothing, and a late MODIFY names a provider that is gone.
      expect((await svc.call('DeleteOIDCProvider', '2019-08-15', { OIDCProviderName: 'streamed' })).status).toBe(200)
      const removal = await records()
      expect(removal.map((r) => r.eventName)).toEqual(['REMOVE'])
      expect(await streamed.handleStream({ Records: [...removal, ...describe] })).toEqual({ batchItemFailures: [] })
      expect(other.requests(other.jwksPath) + other.requests(other.discoveryPath)).toBe(4)
    } finally {
      await other.close()
    }
  })

  it('the table stream: a provider created and changed within one batch is refreshed once, as a creation', async () => {
    const other = await startHttpsIdp({ pki, keys: [makeSigningKey('pair-k').jwk], issuerPath: '/pair' })
    try {
      await registerProvider(svc, { account, name: 'pair', issuer: other.issuer, fingerprints: [pki.intermediate.sha1] })
      expect((await svc.call('UpdateOIDCProvider', '2019-08-15', { OIDCProviderName: 'pair', NewDescription: 'changed at once' })).status).toBe(200)
      const batch = await newRecordsFor(svc.stores.table.table.getName(), 'OIDCPROVIDER#pair', new Set())
      expect(batch.map((r) => r.eventName)).toEqual(['INSERT', 'MODIFY'])
      const pairLogger = recordingLogger()
      const streamed = new KeyRefresher({ ...svc.stores, logger: pairLogger }, { fetchOptions })
      expect(await streamed.handleStream({ Records: batch })).toEqual({ batchItemFailures: [] })
      expect(other.requests(other.jwksPath)).toBe(1)
      expect(pairLogger.find('JWKS copy stored')).toEqual([expect.objectContaining({ fields: expect.objectContaining({ issuer: other.issuer, keyIds: ['pair-k'] }) })])
    } finally {
      await other.close()
    }
  })

  it('the health check closes the loop: new key ids emit the key-rotation event, key refresh acts on it, the new kid works at once', async () => {
    const jobs = startBackgroundJobs({
      config: { healthCheckIntervalSeconds: 0, healthCheckConcurrency: 4, healthCheckIdpTimeoutMs: 15_000, certExpiryWarningDays: 30, allowPrivateIssuers: true },
      stores: svc.stores,
      logger,
      fetchOptions,
      now: () => now.getTime(),
    })
    try {
      advance(1_000)
      await jobs.runHealthCheck() // the baseline observation: k1, k2
      const k3 = makeSigningKey('k3')
      idp.setKeys([k2.jwk, k3.jwk])
      advance(2_000)
      const fetches = svc.app.sts.jwks.stats(idp.issuer).fetches
      await jobs.runHealthCheck()
      await jobs.bus.drain()
      const rotation = jobs.bus.published(DETAIL_TYPES.keyRotation).map((e) => e.detail as KeyRotationDetail)
      expect(rotation).toEqual([expect.objectContaining({ issuer: idp.issuer, reason: 'key-ids-changed', addedKeyIds: ['k3'], removedKeyIds: ['k1'] })])
      // Delivered in process to key refresh, which found the copy the check stored already current.
      expect(logger.find('JWKS copy already current').some((l) => l.fields.issuer === idp.issuer)).toBe(true)
      expect((await svc.stores.jwksCopies.get(idp.issuer))?.keyIds).toEqual(['k2', 'k3'])

      advance(1_500)
      const res = await exchange(svc, account, 'ci', 'deployer', idToken(idp.issuer, k3, now), now)
      expect(res.status, JSON.stringify(res.body)).toBe(200)
      expect(svc.app.sts.jwks.stats(idp.issuer).fetches).toBe(fetches)
    } finally {
      await jobs.stop()
    }
  })
})
