// The key-rotation event is announced at least once, as status changes are: one the bus did not take
// stays on the issuer's health records (DynamoDB Local) and is announced again by the next run, even
// while the IdP is down, with a newer change folded in; once delivered, it is not sent again.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DETAIL_TYPES, type EventPublisher, type KeyRotationDetail, type ServiceEvent } from '../../shared/events/service-events.ts'
import { runHealthCheck, type HealthCheckSettings } from '../../shared/services/health-check.ts'
import { makeSigningKey, startHttpsIdp, type HttpsIdp } from '../support/https-idp.ts'
import { startTestService, type TestService } from '../support/service.ts'
import { createTestPki, type TestPki } from '../support/test-ca.ts'
import { createAccount, recordingLogger, registerProvider } from './support.ts'

let pki: TestPki
let idp: HttpsIdp
let svc: TestService
let other: Awaited<ReturnType<typeof createAccount>>
let settings: HealthCheckSettings
const logger = recordingLogger()
const keys = Object.fromEntries(['k1', 'k2', 'k3', 'k4', 'k5'].map((k) => [k, makeSigningKey(k).jwk]))
const serve = (...kids: string[]) => idp.setKeys(kids.map((k) => keys[k]!))

// Takes every event but key-rotation events while `refusing`; records the rotations it takes.
let refusing = false
const rotations: KeyRotationDetail[] = []
const publisher: EventPublisher = {
  publish: async (events: readonly ServiceEvent[]) => {
    const refused = refusing ? events.filter((e) => e.detailType === DETAIL_TYPES.keyRotation) : []
    for (const e of events) if (e.detailType === DETAIL_TYPES.keyRotation && !refused.includes(e)) rotations.push(e.detail as KeyRotationDetail)
    return { published: events.length - refused.length, undelivered: refused }
  },
}
const run = () => runHealthCheck({ ...svc.stores, publisher, logger }, settings)
const pendingOn = async () => Promise.all([
  svc.stores.health.get(svc.root.AccountId, 'ci').then((r) => r?.announcingRotation),
  svc.stores.health.get(other.accountId, 'shared').then((r) => r?.announcingRotation),
])

beforeAll(async () => {
  pki = await createTestPki('rotation-announce')
  idp = await startHttpsIdp({ pki, keys: [keys.k1!] })
  svc = await startTestService({ env: { ALLOW_PRIVATE_ISSUERS: 'true' } })
  settings = { concurrency: 2, idpTimeoutMs: 5_000, warningDays: 30, fetchOptions: { ca: pki.root.certPem, allowPrivate: true } }
  other = await createAccount(svc)
  await registerProvider(svc, { account: svc.root.AccountId, name: 'ci', issuer: idp.issuer, fingerprints: [pki.intermediate.sha1] })
  await registerProvider(svc, { account: other.accountId, name: 'shared', issuer: idp.issuer, fingerprints: [pki.intermediate.sha1], creds: other.creds })
})
afterAll(async () => {
  await svc?.close()
  await idp?.close()
})

describe('the key-rotation event', () => {
  it('is announced again by the next run when the bus did not take it, then not again', async () => {
    expect((await run()).errors).toBe(0) // the baseline observation: k1
    serve('k2')
    refusing = true
    expect((await run()).events).toEqual({ published: 0, failed: 1 })
    expect(rotations).toEqual([])
    const [onCi, onShared] = await pendingOn()
    expect(onCi).toMatchObject({ issuer: idp.issuer, reason: 'key-ids-changed', addedKeyIds: ['k2'], removedKeyIds: ['k1'] })
    expect(onShared).toEqual(onCi)

    refusing = false
    const summary = await run()
    expect(summary).toMatchObject({ errors: 0, events: { published: 1, failed: 0 } })
    // As it was sent: observed by the run that saw the change.
    expect(rotations).toEqual([onCi])
    expect(await pendingOn()).toEqual([undefined, undefined])
    await run()
    expect(rotations).toHaveLength(1)
  })

  it('is announced again while the IdP is down', async () => {
    serve('k2', 'k3')
    refusing = true
    await run()
    idp.route(idp.discoveryPath, { status: 404, body: { error: 'gone' } })
    refusing = false
    try {
      await run()
    } finally {
      idp.route(idp.discoveryPath, undefined)
    }
    expect(rotations.slice(1)).toEqual([expect.objectContaining({ reason: 'key-ids-changed', addedKeyIds: ['k3'] })])
    expect(await pendingOn()).toEqual([undefined, undefined])
    await run() // back up: compared with the failed observation, no change is announced
    expect(rotations).toHaveLength(2)
  })

  it('tells a change found while one is still to be announced together with it, net', async () => {
    await run() // the baseline: k2, k3
    serve('k3', 'k4')
    refusing = true
    await run()
    expect((await pendingOn())[0]).toMatchObject({ addedKeyIds: ['k4'], removedKeyIds: ['k2'] })
    // k4 goes again before subscribers heard of it: they learn that k2 went and k5 came.
    serve('k3', 'k5')
    refusing = false
    const before = Date.now()
    await run()
    expect(rotations.slice(2)).toEqual([{ issuer: idp.issuer, reason: 'key-ids-changed', observedAt: expect.any(String), addedKeyIds: ['k5'], removedKeyIds: ['k2'] }])
    expect(Date.parse(rotations[2]!.observedAt!)).toBeGreaterThanOrEqual(before)
    expect(await pendingOn()).toEqual([undefined, undefined])
  })
})
