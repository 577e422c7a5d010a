// The pure parts of the health check: evaluating fingerprints against an observation, detecting a
// rotation between observations, the bounded worker pool, and the status of each failure kind.
import { describe, expect, it } from 'vitest'
import type { ChainEntry } from '../../shared/oidc/https-fetch-chain.ts'
import { forEachBounded } from '../../shared/limits/for-each-bounded.ts'
import { MAX_KEY_IDS_SHOWN } from '../../shared/events/service-events.ts'
import { evaluateProviderHealth, type IssuerObservation, keyRotationDetail, observedChange, statusOfProblem } from '../../shared/services/health-evaluate.ts'

const NOW = Date.parse('2026-11-28T10:00:00Z')
const DAY = 86_400_000
const fp = (c: string) => c.repeat(40)
const cert = (sha1: string, subject: string, daysLeft: number, selfSigned = false): ChainEntry => ({ subject: `CN=${subject}`, issuer: 'CN=x', sha1, notAfter: new Date(NOW + daysLeft * DAY + 3_600_000).toISOString(), selfSigned })
const chain = [cert(fp('a'), 'leaf', 60), cert(fp('b'), 'intermediate', 400), cert(fp('c'), 'root', 3000, true)]

function observation(over: Partial<IssuerObservation> = {}): IssuerObservation {
  return {
    issuer: 'https://idp.example.com',
    observedAt: NOW,
    discovery: { url: 'https://idp.example.com/.well-known/openid-configuration', host: 'idp.example.com', chain, lastSentSha1: fp('b') },
    jwks: { url: 'https://keys.example.com/jwks', host: 'keys.example.com', chain, lastSentSha1: fp('b') },
    keyIds: ['k1'],
    keyCount: 1,
    skippedKeys: [],
    ...over,
  }
}

describe('evaluateProviderHealth', () => {
  it('is ok when a registered fingerprint is in both hosts\' chains, and reports the matched certificate\'s days left', () => {
    const ev = evaluateProviderHealth(observation(), [fp('b')], NOW, 30)
    expect(ev).toMatchObject({ status: 'ok', matchedFingerprint: fp('b'), matched: { discovery: fp('b'), jwks: fp('b') }, fingerprintsToAdd: [] })
    expect(ev.matchedCertificate).toMatchObject({ subject: 'CN=intermediate', expiresInDays: 400 })
  })

  it('is fingerprint-mismatch with the last certificate sent as the one to add; a provider without fingerprints too', () => {
    const ev = evaluateProviderHealth(observation(), [fp('d')], NOW, 30)
    expect(ev).toMatchObject({ status: 'fingerprint-mismatch', fingerprintsToAdd: [fp('b')] })
    expect(ev.problem).toContain('keys.example.com and of idp.example.com')
    expect(evaluateProviderHealth(observation(), [], NOW, 30)).toMatchObject({ status: 'fingerprint-mismatch', problem: expect.stringContaining('no registered fingerprint') })
  })

  it('asks for both hosts\' fingerprints when they differ and neither matches, JWKS host first', () => {
    const other = [cert(fp('e'), 'leaf2', 60), cert(fp('f'), 'intermediate2', 400)]
    const obs = observation({ jwks: { url: 'https://keys.example.com/jwks', host: 'keys.example.com', chain: other, lastSentSha1: fp('f') } })
    expect(evaluateProviderHealth(obs, [fp('d')], NOW, 30).fingerprintsToAdd).toEqual([fp('f'), fp('b')])
    // Registered for the discovery host only: the JWKS host's is missing.
    expect(evaluateProviderHealth(obs, [fp('b')], NOW, 30)).toMatchObject({ status: 'fingerprint-mismatch', fingerprintsToAdd: [fp('f')], matched: { discovery: fp('b') } })
  })

  it('is certificate-expiring when the matched certificate expires within the window, not for an unmatched leaf', () => {
    expect(evaluateProviderHealth(observation(), [fp('a')], NOW, 90)).toMatchObject({ status: 'certificate-expiring', matchedCertificate: { expiresInDays: 60 } })
    expect(evaluateProviderHealth(observation(), [fp('a')], NOW, 59).status).toBe('ok')
    // The leaf expires in 60 days, but the registered intermediate does not: ok.
    expect(evaluateProviderHealth(observation(), [fp('b')], NOW, 90).status).toBe('ok')
    expect(evaluateProviderHealth(observation(), [fp('b')], NOW + 380 * DAY, 30)).toMatchObject({ status: 'certificate-expiring', matchedCertificate: { expiresInDays: 20 } })
  })

  it('is unreachable once the matched certificate has expired (read after the check, or checks stopped), not expiring in negative days', () => {
    expect(evaluateProviderHealth(observation(), [fp('b')], NOW + 401 * DAY, 30)).toMatchObject({ status: 'unreachable', problem: expect.stringContaining('expired on'), matchedCertificate: { expiresInDays: -1 } })
    expect(evaluateProviderHealth(observation(), [fp('b')], NOW + 400 * DAY, 30).status).toBe('certificate-expiring')
    // Already expired when observed, yet the handshake validated: not what validation relied on.
    const stale = observation({ observedAt: NOW + 401 * DAY })
    expect(evaluateProviderHealth(stale, [fp('b')], NOW + 401 * DAY, 30).status).not.toBe('unreachable')
  })

  it('gives every provider the status of a failed observation', () => {
    const failed = (problem: IssuerObservation['problem']) => evaluateProviderHealth(observation({ problem }), [fp('b')], NOW, 30).status
    expect(failed({ kind: 'timeout', stage: 'discovery', message: 'm' })).toBe('unreachable')
    expect(failed({ kind: 'invalid-jwks', stage: 'jwks', message: 'm' })).toBe('invalid-jwks')
    expect(failed({ kind: 'issuer-mismatch', stage: 'discovery', message: 'm' })).toBe('invalid-discovery')
  })
})

describe('statusOfProblem', () => {
  it.each([
    ['unreachable', 'discovery', undefined, 'unreachable'],
    ['deadline', 'discovery', undefined, 'unreachable'],
    ['certificate-invalid', 'jwks', undefined, 'unreachable'],
    ['forbidden-address', 'jwks', undefined, 'unreachable'],
    ['bad-status', 'discovery', 503, 'unreachable'],
    ['bad-status', 'jwks', 429, 'unreachable'],
    ['bad-status', 'discovery', 404, 'invalid-discovery'],
    ['bad-status', 'jwks', 404, 'invalid-jwks'],
    ['redirect', 'jwks', 302, 'invalid-jwks'],
    ['bad-json', 'discovery', undefined, 'invalid-discovery'],
    ['not-https', 'jwks', undefined, 'invalid-discovery'],
    ['no-usable-key', 'jwks', undefined, 'invalid-jwks'],
    ['fingerprint-mismatch', 'jwks', undefined, 'fingerprint-mismatch'],
  ] as const)('%s at %s (HTTP %s) is %s', (kind, stage, httpStatus, status) => {
    expect(statusOfProblem({ kind, stage, message: '', ...(httpStatus ? { httpStatus } : {}) })).toBe(status)
  })
})

describe('observedChange', () => {
  it('names added and removed key ids, then a changed chain, and nothing otherwise', () => {
    const before = observation({ keyIds: ['k1', 'k2'] })
    expect(observedChange(before, observation({ keyIds: ['k2', 'k3'] }))).toEqual({ reason: 'key-ids-changed', addedKeyIds: ['k3'], removedKeyIds: ['k1'] })
    const renewed = [cert(fp('9'), 'leaf', 90), ...chain.slice(1)]
    expect(observedChange(before, observation({ keyIds: ['k1', 'k2'], jwks: { ...before.jwks!, chain: renewed } }))).toMatchObject({ reason: 'chain-changed' })
    expect(observedChange(before, observation({ keyIds: ['k2', 'k1'] }))).toBeUndefined()
    expect(observedChange(undefined, before)).toBeUndefined()
    expect(observedChange(before, observation({ problem: { kind: 'timeout', stage: 'discovery', message: '' } }))).toBeUndefined()
  })
})

describe('keyRotationDetail', () => {
  const issuer = 'https://idp.example.com'
  const at = new Date(NOW).toISOString()

  it('lists at most MAX_KEY_IDS_SHOWN kids each and counts the rest: 100 + 100 kids of 256 characters fit an EventBridge entry', () => {
    const kids = (p: string) => Array.from({ length: 100 }, (_, i) => `${p}${i}`.padEnd(256, '\u0001'))
    const detail = keyRotationDetail(issuer, NOW, { reason: 'key-ids-changed', addedKeyIds: kids('a'), removedKeyIds: kids('r') }, undefined)!
    expect(detail).toEqual({ issuer, reason: 'key-ids-changed', observedAt: at, addedKeyIds: kids('a').slice(0, MAX_KEY_IDS_SHOWN), addedKeyIdsNotShown: 100 - MAX_KEY_IDS_SHOWN, removedKeyIds: kids('r').slice(0, MAX_KEY_IDS_SHOWN), removedKeyIdsNotShown: 100 - MAX_KEY_IDS_SHOWN })
    expect(Buffer.byteLength(JSON.stringify(detail))).toBeLessThan(64 * 1024)
  })

  it('sends a pending rotation again as it was, alone; with a new change, the net of both', () => {
    const pending = { issuer, reason: 'key-ids-changed' as const, observedAt: '2026-11-27T10:00:00.000Z', addedKeyIds: ['k2'], removedKeyIds: ['k1'] }
    expect(keyRotationDetail(issuer, NOW, undefined, pending)).toBe(pending)
    expect(keyRotationDetail(issuer, NOW, undefined, undefined)).toBeUndefined()
    // k2 came and went unheard; k1 went, k3 came.
    expect(keyRotationDetail(issuer, NOW, { reason: 'key-ids-changed', addedKeyIds: ['k3'], removedKeyIds: ['k2'] }, pending)).toEqual({ issuer, reason: 'key-ids-changed', observedAt: at, addedKeyIds: ['k3'], removedKeyIds: ['k1'] })
    // A new chain after unheard kids: the kids are the news.
    expect(keyRotationDetail(issuer, NOW, { reason: 'chain-changed', addedKeyIds: [], removedKeyIds: [] }, pending)).toEqual({ issuer, reason: 'key-ids-changed', observedAt: at, addedKeyIds: ['k2'], removedKeyIds: ['k1'] })
    const chain = { issuer, reason: 'chain-changed' as const, observedAt: '2026-11-27T10:00:00.000Z' }
    expect(keyRotationDetail(issuer, NOW, { reason: 'chain-changed', addedKeyIds: [], removedKeyIds: [] }, chain)).toEqual({ issuer, reason: 'chain-changed', observedAt: at })
  })
})

describe('forEachBounded', () => {
  it('never runs more than the limit at once and runs every item', async () => {
    let active = 0
    let peak = 0
    const done: number[] = []
    await forEachBounded(Array.from({ length: 20 }, (_, i) => i), 3, async (i) => {
      active++
      peak = Math.max(peak, active)
      await new Promise((r) => setTimeout(r, 2))
      done.push(i)
      active--
    })
    expect(peak).toBe(3)
    expect(done.sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i))
  })

  it('skips the items not started when the signal aborts', async () => {
    const controller = new AbortController()
    const started: number[] = []
    const skipped = await forEachBounded([1, 2, 3, 4, 5], 1, async (i) => {
      started.push(i)
      if (i === 2) controller.abort()
    }, controller.signal)
    expect(started).toEqual([1, 2])
    expect(skipped).toBe(3)
  })
})
