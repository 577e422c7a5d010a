// The thumbprint health check with real parts: a local HTTPS IdP (test CAs), providers of two accounts
// in DynamoDB Local, the in-process bus, the operator actions over signed RPC, and exchanges through
// the service. The IdP switches to a new CA mid-test; the check reports the fingerprint to add; once
// added, health is ok and exchanges work again.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { InProcessBus } from '../../shared/events/in-process-bus.ts'
import { DETAIL_TYPES, type HealthChangedDetail, type KeyRotationDetail } from '../../shared/events/service-events.ts'
import { runHealthCheck, type HealthCheckSettings } from '../../shared/services/health-check.ts'
import { injectExchange } from '../support/exchange-fixture.ts'
import { makeSigningKey, startHttpsIdp, type HttpsIdp, type TestSigningKey } from '../support/https-idp.ts'
import { IMS, startTestService, type TestService } from '../support/service.ts'
import { createTestPki, type TestPki } from '../support/test-ca.ts'
import { createAccount, exchange, idToken, OIDC_STS, recordingLogger, registerProvider } from './support.ts'

let now = new Date()
const clock = () => now
let pkiA: TestPki
let pkiB: TestPki
let key: TestSigningKey
let idp: HttpsIdp
let svc: TestService
let account: string
let other: Awaited<ReturnType<typeof createAccount>>
let third: Awaited<ReturnType<typeof createAccount>>
const logger = recordingLogger()
const bus = new InProcessBus({ logger })
let settings: HealthCheckSettings

const run = () => runHealthCheck({ ...svc.stores, publisher: bus, logger }, settings)
const health = async (name: string, creds = svc.rootCreds) => {
  const res = await svc.call('GetOIDCProviderHealth', OIDC_STS, { OIDCProviderName: name }, creds)
  expect(res.status, JSON.stringify(res.body)).toBe(200)
  return res.body.OIDCProviderHealth as Record<string, any> // eslint-disable-line @typescript-eslint/no-explicit-any
}
const changes = () => bus.published(DETAIL_TYPES.healthChanged).map((e) => e.detail as HealthChangedDetail)
const rotations = () => bus.published(DETAIL_TYPES.keyRotation).map((e) => e.detail as KeyRotationDetail)

beforeAll(async () => {
  ;[pkiA, pkiB] = await Promise.all([createTestPki('health-a'), createTestPki('health-b')])
  key = makeSigningKey('k1')
  idp = await startHttpsIdp({ pki: pkiA, chain: 'leaf+intermediate', keys: [key.jwk] })
  const ca = [pkiA.root.certPem, pkiB.root.certPem]
  svc = await startTestService({ clock, env: { ALLOW_PRIVATE_ISSUERS: 'true' }, fetchOptions: { ca } })
  settings = { concurrency: 4, idpTimeoutMs: 15_000, warningDays: 30, fetchOptions: { ca, allowPrivate: true }, now: () => now.getTime() }
  account = svc.root.AccountId
  other = await createAccount(svc)
  third = await createAccount(svc)
  // One IdP, three providers in three accounts (IssuerUrl is unique per account), each with its own fingerprints.
  await registerProvider(svc, { account, name: 'ci', issuer: idp.issuer, fingerprints: [pkiA.intermediate.sha1], role: 'deployer' })
  await registerProvider(svc, { account: other.accountId, name: 'shared', issuer: idp.issuer, fingerprints: [pkiA.root.sha1], creds: other.creds })
  await registerProvider(svc, { account: third.accountId, name: 'stale', issuer: idp.issuer, fingerprints: ['00'.repeat(20)], creds: third.creds })
})
afterAll(async () => {
  await svc?.close()
  await idp?.close()
})

describe('thumbprint health check', () => {
  it('answers unchecked before the first run', async () => {
    expect(await health('ci')).toEqual({ OIDCProviderName: 'ci', Arn: `acs:ram::${account}:oidc-provider/ci`, IssuerUrl: idp.issuer, Status: 'unchecked' })
  })

  it('fetches the IdP once for all providers of all accounts and evaluates each against its own fingerprints', async () => {
    idp.resetCounts()
    const summary = await run()
    expect(summary).toMatchObject({ providers: 3, issuers: 1, issuersSkipped: 0, errors: 0, copiesStored: 1 })
    expect(summary.statuses).toMatchObject({ ok: 2, 'fingerprint-mismatch': 1 })
    expect(idp.requests(idp.discoveryPath)).toBe(1)
    expect(idp.requests(idp.jwksPath)).toBe(1)

    const ci = await health('ci')
    expect(ci).toMatchObject({
      Status: 'ok',
      MatchedFingerprint: pkiA.intermediate.sha1,
      KeyIds: 'k1',
      CheckedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/),
      CertificateExpiresInDays: expect.any(Number),
    })
    expect(ci.CertificateExpiresInDays).toBeGreaterThan(170)
    expect(ci.FingerprintsToAdd).toBeUndefined()
    // The observed chain as node validated it (leaf, intermediate, the trust-store root), and the last one the server sends.
    expect(ci.JwksEndpoint.Certificates.Certificate.map((c: { Fingerprint: string }) => c.Fingerprint)).toEqual([pkiA.leaf.sha1, pkiA.intermediate.sha1, pkiA.root.sha1])
    expect(ci.JwksEndpoint.Certificates.Certificate[1]).toMatchObject({ Subject: expect.stringContaining('CN=health-a Intermediate CA'), NotAfter: expect.stringMatching(/Z$/), SelfSigned: false })
    expect(ci.JwksEndpoint).toMatchObject({ LastSentFingerprint: pkiA.intermediate.sha1, MatchedFingerprint: pkiA.intermediate.sha1 })
    expect(ci.DiscoveryEndpoint).toMatchObject({ Url: `${idp.issuer}/.well-known/openid-configuration`, LastSentFingerprint: pkiA.intermediate.sha1 })

    expect(await health('shared', other.creds)).toMatchObject({ Status: 'ok', MatchedFingerprint: pkiA.root.sha1 })
    expect(await health('stale', third.creds)).toMatchObject({ Status: 'fingerprint-mismatch', FingerprintsToAdd: pkiA.intermediate.sha1 })
    // First checks are status changes from "unchecked".
    expect(changes().map((c) => [c.providerName, c.previousStatus, c.status]).sort()).toEqual([
      ['ci', 'unchecked', 'ok'],
      ['shared', 'unchecked', 'ok'],
      ['stale', 'unchecked', 'fingerprint-mismatch'],
    ])
  })

  it('emits nothing when nothing changed', async () => {
    const before = bus.published().length
    now = new Date(now.getTime() + 60_000)
    await run()
    expect(bus.published()).toHaveLength(before)
  })

  it('keeps accounts apart: one account cannot read another\'s provider health', async () => {
    const res = await svc.call('GetOIDCProviderHealth', OIDC_STS, { OIDCProviderName: 'ci' }, other.creds)
    expect(res.status).toBe(404)
    expect(res.body.Code).toBe('EntityNotExist.OIDCProvider')
    const listed = await svc.call('ListOIDCProviderHealth', OIDC_STS, {}, other.creds)
    expect(listed.body.OIDCProviderHealths.OIDCProviderHealth.map((h: { OIDCProviderName: string }) => h.OIDCProviderName)).toEqual(['shared'])
  })

  it('after the IdP switches to a new CA: fingerprint-mismatch with the fingerprint to add; after AddFingerprintToOIDCProvider: ok, and exchanges work', async () => {
    expect((await exchange(svc, account, 'ci', 'deployer', idToken(idp.issuer, key, now), now)).status).toBe(200)
    const eventsBefore = bus.published().length

    idp.usePki(pkiB, 'leaf+intermediate')
    now = new Date(now.getTime() + 60_000)
    await run()
    const ci = await health('ci')
    expect(ci).toMatchObject({ Status: 'fingerprint-mismatch', FingerprintsToAdd: pkiB.intermediate.sha1 })
    expect(ci.Problem).toContain(pkiB.intermediate.sha1)
    expect(ci.JwksEndpoint.LastSentFingerprint).toBe(pkiB.intermediate.sha1)
    const newEvents = bus.published().slice(eventsBefore)
    const ciChange = newEvents.map((e) => e.detail as HealthChangedDetail).find((d) => d.providerName === 'ci')
    expect(ciChange).toMatchObject({ previousStatus: 'ok', status: 'fingerprint-mismatch', fingerprintsToAdd: [pkiB.intermediate.sha1], accountId: account })
    // The changed chain closes the loop with a key-rotation event.
    expect(rotations().at(-1)).toMatchObject({ issuer: idp.issuer, reason: 'chain-changed' })

    // Once the cached keys age out, exchanges fail as the check predicted.
    now = new Date(now.getTime() + 11 * 60_000)
    const broken = await exchange(svc, account, 'ci', 'deployer', idToken(idp.issuer, key, now), now)
    expect(broken.body.Code).toBe('AuthenticationFail.OIDCToken.PublicKeyFingerprintMismatch')

    // Add (the old one stays until the switch is confirmed, spec §6.5).
    const added = await svc.call('AddFingerprintToOIDCProvider', IMS, { OIDCProviderName: 'ci', Fingerprint: ci.FingerprintsToAdd })
    expect(added.status).toBe(200)
    // The stored observation re-evaluated against the new fingerprints: ok at once.
    expect(await health('ci')).toMatchObject({ Status: 'ok', MatchedFingerprint: pkiB.intermediate.sha1 })
    now = new Date(now.getTime() + 31_000) // past the cache's refetch cooldown after the failed exchange
    expect((await exchange(svc, account, 'ci', 'deployer', idToken(idp.issuer, key, now), now)).status).toBe(200)

    await run()
    expect(await health('ci')).toMatchObject({ Status: 'ok', StatusChangedAt: expect.any(String) })
    expect(changes().find((c) => c.providerName === 'ci' && c.previousStatus === 'fingerprint-mismatch')).toMatchObject({ status: 'ok' })
    // Remove the old fingerprint only now.
    expect((await svc.call('RemoveFingerprintFromOIDCProvider', IMS, { OIDCProviderName: 'ci', Fingerprint: pkiA.intermediate.sha1 })).status).toBe(200)
    expect(await health('ci')).toMatchObject({ Status: 'ok' })
  })

  it('lists an account\'s providers with their health, filtered by status and paged', async () => {
    // A second provider in the account, not checked yet.
    await registerProvider(svc, { account: other.accountId, name: 'zz-new', issuer: 'https://idp.unchecked.example', fingerprints: [], creds: other.creds })
    const all = await svc.call('ListOIDCProviderHealth', OIDC_STS, {}, other.creds)
    expect(all.status).toBe(200)
    expect(all.body.IsTruncated).toBe(false)
    expect(all.body.OIDCProviderHealths.OIDCProviderHealth.map((h: { OIDCProviderName: string; Status: string }) => [h.OIDCProviderName, h.Status])).toEqual([
      ['shared', 'fingerprint-mismatch'],
      ['zz-new', 'unchecked'],
    ])
    const unchecked = await svc.call('ListOIDCProviderHealth', OIDC_STS, { Status: 'unchecked' }, other.creds)
    expect(unchecked.body.OIDCProviderHealths.OIDCProviderHealth.map((h: { OIDCProviderName: string }) => h.OIDCProviderName)).toEqual(['zz-new'])
    const page1 = await svc.call('ListOIDCProviderHealth', OIDC_STS, { MaxItems: 1 }, other.creds)
    expect(page1.body).toMatchObject({ IsTruncated: true, Marker: expect.any(String) })
    expect(page1.body.OIDCProviderHealths.OIDCProviderHealth[0].OIDCProviderName).toBe('shared')
    const page2 = await svc.call('ListOIDCProviderHealth', OIDC_STS, { MaxItems: 1, Marker: page1.body.Marker }, other.creds)
    expect(page2.body.OIDCProviderHealths.OIDCProviderHealth[0].OIDCProviderName).toBe('zz-new')
    expect(page2.body.IsTruncated).toBe(false)
    const bad = await svc.call('ListOIDCProviderHealth', OIDC_STS, { Status: 'fine' }, other.creds)
    expect(bad.status).toBe(400)
    expect(bad.body.Code).toBe('InvalidParameter.Status.Format')
    // A marker names a provider: bounded like a provider's name (128), as ListOIDCProviders' is.
    for (const n of ['a'.repeat(129), '../x']) {
      const forged = await svc.call('ListOIDCProviderHealth', OIDC_STS, { Marker: Buffer.from(JSON.stringify({ n })).toString('base64url') }, other.creds)
      expect([forged.status, forged.body.Code]).toEqual([400, 'InvalidParameter.Marker.Format'])
    }
    expect((await svc.call('DeleteOIDCProvider', IMS, { OIDCProviderName: 'zz-new' }, other.creds)).status).toBe(200)
  })

  it('needs oidcsts:GetOIDCProviderHealth: a session limited to ram:GetOIDCProvider is refused', async () => {
    const policy = JSON.stringify({ Version: '1', Statement: [{ Effect: 'Allow', Action: 'ram:GetOIDCProvider', Resource: '*' }] })
    // The role has no permission policy: grant one that allows the health actions, then narrow the session.
    const grant = JSON.stringify({ Version: '1', Statement: [{ Effect: 'Allow', Action: ['oidcsts:GetOIDCProviderHealth', 'ram:GetOIDCProvider'], Resource: '*' }] })
    expect((await svc.call('CreatePolicy', '2015-05-01', { PolicyName: 'health-reader', PolicyDocument: grant })).status).toBe(200)
    expect((await svc.call('AttachPolicyToRole', '2015-05-01', { PolicyType: 'Custom', PolicyName: 'health-reader', RoleName: 'deployer' })).status).toBe(200)
    const token = idToken(idp.issuer, key, now)
    const full = await exchange(svc, account, 'ci', 'deployer', token, now)
    const creds = (b: Record<string, any>) => ({ accessKeyId: b.Credentials.AccessKeyId, secret: b.Credentials.AccessKeySecret, securityToken: b.Credentials.SecurityToken }) // eslint-disable-line @typescript-eslint/no-explicit-any
    expect((await svc.call('GetOIDCProviderHealth', OIDC_STS, { OIDCProviderName: 'ci' }, creds(full.body))).status).toBe(200)

    const form = { OIDCProviderArn: `acs:ram::${account}:oidc-provider/ci`, RoleArn: `acs:ram::${account}:role/deployer`, RoleSessionName: 'narrow', OIDCToken: idToken(idp.issuer, key, now), Policy: policy }
    const narrowed = await injectExchange(svc.app, form)
    expect(narrowed.statusCode).toBe(200)
    const denied = await svc.call('GetOIDCProviderHealth', OIDC_STS, { OIDCProviderName: 'ci' }, creds(narrowed.json()))
    expect(denied.status).toBe(403)
    expect(denied.body.Code).toBe('NoPermission')
    expect(denied.body.AccessDeniedDetail).toMatchObject({ AuthAction: 'oidcsts:GetOIDCProviderHealth' })
  })

  it('removes the health record of a deleted provider on the next run', async () => {
    expect((await svc.call('DeleteOIDCProvider', IMS, { OIDCProviderName: 'stale' }, third.creds)).status).toBe(200)
    expect(await svc.stores.health.get(third.accountId, 'stale')).toBeDefined()
    const summary = await run()
    expect(summary.orphansRemoved).toBe(1)
    expect(await svc.stores.health.get(third.accountId, 'stale')).toBeUndefined()
    const gone = await svc.call('GetOIDCProviderHealth', OIDC_STS, { OIDCProviderName: 'stale' }, third.creds)
    expect(gone.body.Code).toBe('EntityNotExist.OIDCProvider')
  })
})
