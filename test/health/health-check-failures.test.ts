// Each way an IdP can fail the health check, with real local HTTPS IdPs: unreachable (refused, HTTP 5xx,
// hanging past the per-IdP deadline, untrusted chain), invalid-discovery, invalid-jwks, and a matched
// certificate expiring within the warning window. One hanging IdP does not stall the run.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { freePort } from '../../local/dynamodb-local.ts'
import { InProcessBus } from '../../shared/events/in-process-bus.ts'
import { runHealthCheck, type HealthCheckSettings } from '../../shared/services/health-check.ts'
import { makeSigningKey, startHttpsIdp, type HttpsIdp } from '../support/https-idp.ts'
import { startTestService, type TestService } from '../support/service.ts'
import { createRootCa, createTestPki, issueIntermediate, issueLeaf, type TestPki } from '../support/test-ca.ts'
import { OIDC_STS, recordingLogger, registerProvider } from './support.ts'

const DAY = 86_400_000
let pki: TestPki
let expiringPki: TestPki
let untrustedPki: TestPki
const idps: Record<string, HttpsIdp> = {}
let closedIssuer: string
let svc: TestService
let settings: HealthCheckSettings
const logger = recordingLogger()
const bus = new InProcessBus({ logger })
const fingerprintOf: Record<string, string> = {}

const health = async (name: string) => {
  const res = await svc.call('GetOIDCProviderHealth', OIDC_STS, { OIDCProviderName: name })
  expect(res.status, JSON.stringify(res.body)).toBe(200)
  return res.body.OIDCProviderHealth as Record<string, any> // eslint-disable-line @typescript-eslint/no-explicit-any
}

beforeAll(async () => {
  pki = await createTestPki('failures')
  untrustedPki = await createTestPki('untrusted')
  // A chain whose intermediate (the registered thumbprint) expires in 10 days.
  const root = await createRootCa('expiring Root CA')
  const intermediate = await issueIntermediate(root, 'expiring Intermediate CA', { notAfter: new Date(Date.now() + 10 * DAY + 3_600_000) })
  const leaf = await issueLeaf(intermediate, { notAfter: new Date(Date.now() + 9 * DAY) })
  expiringPki = { root, intermediate, leaf, leafAndIntermediatePem: leaf.certPem + intermediate.certPem }

  const keys = [makeSigningKey('k1').jwk]
  const start = async (name: string, p: TestPki = pki) => {
    idps[name] = await startHttpsIdp({ pki: p, keys, issuerPath: `/${name}` })
    fingerprintOf[name] = p.intermediate.sha1
  }
  await Promise.all(['good', 'hanging', 'noJwksUri', 'otherIssuer', 'badJwks', 'noKeys', 'down'].map((n) => start(n)))
  await start('expiring', expiringPki)
  await start('untrusted', untrustedPki)
  idps.hanging!.route(idps.hanging!.discoveryPath, { mode: 'hang' })
  idps.noJwksUri!.setDiscovery({ jwks_uri: undefined })
  idps.otherIssuer!.setDiscovery({ issuer: 'https://idp.elsewhere.example' })
  idps.badJwks!.route(idps.badJwks!.jwksPath, { body: 'this is not JSON' })
  idps.noKeys!.setKeys([])
  idps.down!.route(idps.down!.discoveryPath, { status: 503, body: { error: 'maintenance' } })
  closedIssuer = `https://127.0.0.1:${await freePort()}/closed`

  const ca = [pki.root.certPem, expiringPki.root.certPem]
  svc = await startTestService({ env: { ALLOW_PRIVATE_ISSUERS: 'true' }, fetchOptions: { ca } })
  settings = { concurrency: 3, idpTimeoutMs: 1_500, warningDays: 30, fetchOptions: { ca, allowPrivate: true } }
  for (const [name, idp] of Object.entries(idps)) {
    await registerProvider(svc, { account: svc.root.AccountId, name, issuer: idp.issuer, fingerprints: [fingerprintOf[name]!] })
  }
  await registerProvider(svc, { account: svc.root.AccountId, name: 'closed', issuer: closedIssuer, fingerprints: [pki.intermediate.sha1] })
})
afterAll(async () => {
  await svc?.close()
  await Promise.all(Object.values(idps).map((i) => i.close()))
})

/** A local IdP of its own (closed after the file) and a provider `name` registered for it. */
async function providerWithIdp(name: string): Promise<HttpsIdp> {
  const idp = (idps[name] = await startHttpsIdp({ pki, keys: [makeSigningKey('k1').jwk], issuerPath: `/${name}` }))
  await registerProvider(svc, { account: svc.root.AccountId, name, issuer: idp.issuer, fingerprints: [pki.intermediate.sha1] })
  return idp
}

/** A publisher that records one provider's announcements, or refuses them while `refusing()` says so. */
function providerPublisher(provider: string, refusing: () => boolean) {
  const announced: Record<string, unknown>[] = []
  const publisher = {
    publish: async (events: Parameters<typeof bus.publish>[0]) => {
      const mine = events.filter((e) => (e.detail as { providerName?: string }).providerName === provider)
      if (refusing()) return { published: events.length - mine.length, undelivered: mine }
      announced.push(...mine.map((e) => e.detail as Record<string, unknown>))
      return { published: events.length, undelivered: [] }
    },
  }
  return { announced, publisher }
}

describe('health check failure statuses', () => {
  it('gives each provider the status of its IdP\'s failure, within the per-IdP deadline', async () => {
    const summary = await runHealthCheck({ ...svc.stores, publisher: bus, logger }, settings)
    expect(summary).toMatchObject({ providers: 10, issuers: 10, errors: 0 })
    // The hanging IdP is cut by the per-IdP deadline (1.5 s), not the fetcher's own 5 s total timeout:
    // its Problem names the health check's budget (below).

    expect(await health('good')).toMatchObject({ Status: 'ok', KeyIds: 'k1' })
    expect(await health('hanging')).toMatchObject({ Status: 'unreachable', Problem: expect.stringContaining('within the health check\'s 1.5 s') })
    expect(await health('noJwksUri')).toMatchObject({ Status: 'invalid-discovery', Problem: expect.stringContaining('jwks_uri') })
    expect(await health('otherIssuer')).toMatchObject({ Status: 'invalid-discovery', Problem: expect.stringContaining('https://idp.elsewhere.example') })
    expect(await health('badJwks')).toMatchObject({ Status: 'invalid-jwks', Problem: expect.stringContaining('not valid JSON') })
    const noKeys = await health('noKeys')
    expect(noKeys).toMatchObject({ Status: 'invalid-jwks', Problem: expect.stringContaining('no usable signing key'), KeyIds: '' })
    // The chain was observed all the same.
    expect(noKeys.JwksEndpoint.MatchedFingerprint).toBe(pki.intermediate.sha1)
    expect(await health('down')).toMatchObject({ Status: 'unreachable', Problem: expect.stringContaining('status 503') })
    expect(await health('closed')).toMatchObject({ Status: 'unreachable' })
    // Not trusted by the trust store: unreachable, and the chain as sent is shown for the operator.
    const untrusted = await health('untrusted')
    expect(untrusted).toMatchObject({ Status: 'unreachable', Problem: expect.stringContaining('certificate chain') })
    expect(untrusted.DiscoveryEndpoint.LastSentFingerprint).toBe(untrustedPki.intermediate.sha1)
  })

  it('reports certificate-expiring with the days left when the matched certificate expires within the window', async () => {
    const expiring = await health('expiring')
    expect(expiring).toMatchObject({ Status: 'certificate-expiring', MatchedFingerprint: expiringPki.intermediate.sha1, CertificateExpiresInDays: 10 })
    expect(expiring.Problem).toContain('expiring Intermediate CA')
    expect(expiring.CertificateExpiration).toBe(expiringPki.intermediate.notAfter.toISOString().replace(/\.\d{3}Z$/, 'Z'))
    expect(bus.published('OIDC Provider Health Changed').map((e) => e.detail)).toContainEqual(expect.objectContaining({ providerName: 'expiring', status: 'certificate-expiring', expiresInDays: 10 }))
  })

  it('is ok with a warning window shorter than the days left', async () => {
    await runHealthCheck({ ...svc.stores, publisher: bus, logger }, { ...settings, warningDays: 7 })
    expect(await health('expiring')).toMatchObject({ Status: 'ok', CertificateExpiresInDays: 10 })
  })

  it('starts no further IdP once aborted, and writes nothing for them', async () => {
    const before = await svc.stores.health.get(svc.root.AccountId, 'good')
    const controller = new AbortController()
    controller.abort()
    const summary = await runHealthCheck({ ...svc.stores, publisher: bus, logger }, { ...settings, signal: controller.signal })
    expect(summary).toMatchObject({ issuers: 10, issuersSkipped: 10, errors: 0 })
    expect((await svc.stores.health.get(svc.root.AccountId, 'good'))?.checkedAt).toBe(before?.checkedAt)
  })

  it('checks never-checked IdPs first and publishes each IdP\'s events as soon as its records are written', async () => {
    idps.late = await startHttpsIdp({ pki, keys: [makeSigningKey('k1').jwk], issuerPath: '/late' })
    await registerProvider(svc, { account: svc.root.AccountId, name: 'late', issuer: idps.late.issuer, fingerprints: [pki.intermediate.sha1] })
    // One IdP at a time; the first publish stops the run: what it published cannot have waited for the end.
    const controller = new AbortController()
    const calls: string[][] = []
    const publisher = {
      publish: async (events: Parameters<typeof bus.publish>[0]) => {
        calls.push(events.map((e) => String((e.detail as { providerName?: string }).providerName)))
        controller.abort()
        return bus.publish(events)
      },
    }
    const summary = await runHealthCheck({ ...svc.stores, publisher, logger }, { ...settings, concurrency: 1, signal: controller.signal })
    expect(calls).toEqual([['late']])
    expect(summary).toMatchObject({ issuers: 11, issuersSkipped: 10, events: { published: 1, failed: 0 }, errors: 0 })
    expect(await health('late')).toMatchObject({ Status: 'ok' })
  })

  it('announces a status change the bus refused on the next run, once, with the status subscribers last heard', async () => {
    const blinking = await providerWithIdp('blinking')
    let refuse = false
    const { announced, publisher } = providerPublisher('blinking', () => refuse)
    const run = () => runHealthCheck({ ...svc.stores, publisher, logger }, settings)
    expect((await run()).errors).toBe(0)
    expect(announced).toEqual([expect.objectContaining({ previousStatus: 'unchecked', status: 'ok' })])

    // The IdP goes down and the bus refuses the announcement: the run fails (errors), the record is saved.
    blinking.route(blinking.discoveryPath, { status: 404, body: { error: 'gone' } })
    refuse = true
    expect((await run()).events.failed).toBe(1)
    expect(await svc.stores.health.get(svc.root.AccountId, 'blinking')).toMatchObject({ status: 'invalid-discovery', notifiedStatus: 'ok' })
    expect(announced).toHaveLength(1)

    // The next run, still down, announces the change subscribers never heard of, from the status they last heard.
    refuse = false
    expect((await run()).errors).toBe(0)
    expect(announced.slice(1)).toEqual([expect.objectContaining({ previousStatus: 'ok', status: 'invalid-discovery' })])
    expect(await svc.stores.health.get(svc.root.AccountId, 'blinking')).toMatchObject({ status: 'invalid-discovery', notifiedStatus: 'invalid-discovery' })
    // And then not again.
    await run()
    expect(announced).toHaveLength(2)

    // A change refused and undone before the next run: a refusal does not prove the event was not taken
    // (a timeout after EventBridge took it looks the same), so the status found is announced once more.
    blinking.route(blinking.discoveryPath, undefined)
    refuse = true
    await run()
    blinking.route(blinking.discoveryPath, { status: 404, body: { error: 'gone' } })
    refuse = false
    await run()
    expect(announced.slice(2)).toEqual([expect.objectContaining({ previousStatus: 'ok', status: 'invalid-discovery' })])
    await run()
    expect(announced).toHaveLength(3)
    blinking.route(blinking.discoveryPath, undefined)
  })

  it('announces the status it finds after an announcement whose delivery it could not record (the record written after publishing failed)', async () => {
    const doubtful = await providerWithIdp('doubtful')
    let refuse = false
    const { announced, publisher } = providerPublisher('doubtful', () => refuse)
    // The real client, made to fail the write that settles the record once its event was delivered.
    let failSettle = false
    const client = svc.stores.documentClient
    client.middlewareStack.add((next) => async (args) => {
      const item = (args.input as { Item?: Record<string, unknown> }).Item
      if (failSettle && item?.sk === 'OIDCHEALTH#doubtful' && item.announcing === undefined) throw Object.assign(new Error('throttled'), { name: 'ThrottlingException' })
      return next(args)
    }, { step: 'initialize', name: 'failSettle' })
    try {
      const run = () => runHealthCheck({ ...svc.stores, publisher, logger }, settings)
      await run()
      expect(announced).toEqual([expect.objectContaining({ previousStatus: 'unchecked', status: 'ok' })])
      // Down; the event goes out, but the record cannot be settled: the announcement stays in doubt.
      doubtful.route(doubtful.discoveryPath, { status: 404, body: { error: 'gone' } })
      failSettle = true
      expect((await run()).errors).toBeGreaterThan(0)
      expect(announced.slice(1)).toEqual([expect.objectContaining({ previousStatus: 'ok', status: 'invalid-discovery' })])
      expect(await svc.stores.health.get(svc.root.AccountId, 'doubtful')).toMatchObject({ status: 'invalid-discovery', notifiedStatus: 'ok', announcing: 'invalid-discovery' })
      // Back up before the next run: subscribers may have heard "invalid-discovery", so "ok" is announced
      // again; refused, the doubt is kept (not replaced by "ok", which they heard for certain) ...
      failSettle = false
      doubtful.route(doubtful.discoveryPath, undefined)
      refuse = true
      await run()
      expect(await svc.stores.health.get(svc.root.AccountId, 'doubtful')).toMatchObject({ status: 'ok', notifiedStatus: 'ok', announcing: 'invalid-discovery' })
      // ... so the run after that announces it, once.
      refuse = false
      expect((await run()).errors).toBe(0)
      expect(announced.slice(2)).toEqual([expect.objectContaining({ previousStatus: 'invalid-discovery', status: 'ok' })])
      const settled = await svc.stores.health.get(svc.root.AccountId, 'doubtful')
      expect(settled).toMatchObject({ status: 'ok', notifiedStatus: 'ok' })
      expect(settled).not.toHaveProperty('announcing')
      await run()
      expect(announced).toHaveLength(3)
    } finally {
      client.middlewareStack.remove('failSettle')
    }
  })

  it('treats a provider deleted and re-created under its name with another issuer as never checked', async () => {
    const first = (idps.rebornA = await startHttpsIdp({ pki, keys: [makeSigningKey('k1').jwk], issuerPath: '/reborn-a' }))
    const second = (idps.rebornB = await startHttpsIdp({ pki, keys: [makeSigningKey('k1').jwk], issuerPath: '/reborn-b' }))
    const { announced, publisher } = providerPublisher('reborn', () => false)
    const run = () => runHealthCheck({ ...svc.stores, publisher, logger }, settings)
    await registerProvider(svc, { account: svc.root.AccountId, name: 'reborn', issuer: first.issuer, fingerprints: [pki.intermediate.sha1] })
    await run()
    expect((await svc.call('DeleteOIDCProvider', '2019-08-15', { OIDCProviderName: 'reborn' })).status).toBe(200)
    await registerProvider(svc, { account: svc.root.AccountId, name: 'reborn', issuer: second.issuer, fingerprints: [pki.intermediate.sha1] })
    await run()
    expect(announced).toEqual([
      expect.objectContaining({ previousStatus: 'unchecked', status: 'ok', issuerUrl: first.issuer }),
      expect.objectContaining({ previousStatus: 'unchecked', status: 'ok', issuerUrl: second.issuer }),
    ])
    expect(await svc.stores.health.get(svc.root.AccountId, 'reborn')).toMatchObject({ issuerUrl: second.issuer, status: 'ok' })
  })

  it('tries an IdP once more after a transient failure before calling it unreachable', async () => {
    const flaky = await providerWithIdp('flaky')
    flaky.route(flaky.discoveryPath, { status: 503, body: { error: 'blip' } })
    const run = runHealthCheck({ ...svc.stores, publisher: bus, logger }, settings)
    // The first answer is a 503; the IdP is well again before the retry (a second later).
    while (flaky.requests(flaky.discoveryPath) === 0) await new Promise((r) => setTimeout(r, 10))
    flaky.route(flaky.discoveryPath, undefined)
    expect((await run).errors).toBe(0)
    expect(flaky.requests(flaky.discoveryPath)).toBe(2)
    expect(await health('flaky')).toMatchObject({ Status: 'ok' })
    // An IdP that keeps failing is still unreachable, after its one retry.
    expect(idps.down!.requests(idps.down!.discoveryPath)).toBeGreaterThanOrEqual(2)
    expect(await health('down')).toMatchObject({ Status: 'unreachable', Problem: expect.stringContaining('status 503') })
  })
})
