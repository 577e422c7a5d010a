// A JWKS within the fetch cap whose stored copy would not fit a DynamoDB item (400 KB), against DynamoDB
// Local and a local HTTPS IdP: the copy is left out as a normal outcome (logged once with its size), not
// a store failure that key refresh retries or that fails every health check run; token exchange then
// finds no copy and fetches from the IdP. And what parseJwks keeps of an RSA key is its minimal form.
import { createPublicKey, generateKeyPairSync, randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { InProcessBus } from '../../shared/events/in-process-bus.ts'
import { parseJwks } from '../../shared/oidc/discovery-jwks.ts'
import type { ChainEntry } from '../../shared/oidc/https-fetch-chain.ts'
import type { StoredJwksCopy } from '../../shared/oidc/jwks-cache-copy.ts'
import { runHealthCheck } from '../../shared/services/health-check.ts'
import { KeyRefresher } from '../../shared/services/key-refresh.ts'
import { jwksCopyItemBytes, MAX_JWKS_COPY_ITEM_BYTES } from '../../shared/store/jwks-copy-store.ts'
import { makeSigningKey, startHttpsIdp, type HttpsIdp } from '../support/https-idp.ts'
import { startTestService, type TestService } from '../support/service.ts'
import { createTestPki, type TestPki } from '../support/test-ca.ts'
import { exchange, idToken, recordingLogger, registerProvider } from '../health/support.ts'

const sample = (name: string) => JSON.parse(readFileSync(new URL(`../../events/${name}`, import.meta.url), 'utf8'))

// 99 keys with a 16384-bit modulus (the largest allowed) and 256-character kids of 3-byte characters:
// about 350 KB as served (under the 512 KB fetch cap), about 430 KB as a copy item (each kid twice).
const modulus = randomBytes(2048)
modulus[0]! |= 0x80
modulus[2047]! |= 1
const bigKeys = Array.from({ length: 99 }, (_, i) => ({ kty: 'RSA', n: modulus.toString('base64url'), e: 'AQAB', kid: `big${i}-`.padEnd(256, '€') }))
const k1 = makeSigningKey('k1')

let pki: TestPki
let idp: HttpsIdp
let svc: TestService
let account: string
let fetchOptions: { ca: string; allowPrivate: boolean }

beforeAll(async () => {
  pki = await createTestPki('copy-size')
  idp = await startHttpsIdp({ pki, keys: [k1.jwk, ...bigKeys] as never, issuerPath: '/big' })
  fetchOptions = { ca: pki.root.certPem, allowPrivate: true }
  svc = await startTestService({ env: { ALLOW_PRIVATE_ISSUERS: 'true' }, fetchOptions: { ca: pki.root.certPem } })
  account = svc.root.AccountId
  await registerProvider(svc, { account, name: 'big', issuer: idp.issuer, fingerprints: [pki.intermediate.sha1], role: 'deployer' })
})
afterAll(async () => {
  await svc?.close()
  await idp?.close()
})

const FP = 'b'.repeat(40)
const CHAIN: ChainEntry[] = [{ subject: 'CN=leaf', issuer: 'CN=ca', sha1: FP, notAfter: '', selfSigned: false }]
function copyOf(issuer: string, keys: unknown[], fetchedAt: number): StoredJwksCopy {
  return {
    issuer,
    jwksUri: `${issuer}/jwks`,
    jwks: { keys: keys as StoredJwksCopy['jwks']['keys'] },
    discoveryChain: CHAIN,
    jwksChain: CHAIN,
    matchedFingerprints: { discovery: FP, jwks: FP },
    lastSentSha1: { discovery: FP, jwks: FP },
    fetchedAt,
  }
}

describe('parseJwks', () => {
  it('keeps an RSA key\'s n and e in their minimal form: leading zero octets cannot inflate the stored copy', () => {
    const jwk = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({ format: 'jwk' }) as { n: string; e: string }
    const padded = (v: string, zeros: number) => Buffer.concat([Buffer.alloc(zeros), Buffer.from(v, 'base64url')]).toString('base64url')
    const parsed = parseJwks({ keys: [{ kty: 'RSA', kid: 'p', n: padded(jwk.n, 3000), e: padded(jwk.e, 100) }] })
    expect(parsed.usable[0]!.jwk).toEqual({ kty: 'RSA', kid: 'p', n: jwk.n, e: jwk.e })
    // The same key.
    expect(parsed.usable[0]!.key.export({ format: 'jwk' })).toEqual(createPublicKey({ key: { kty: 'RSA', ...jwk }, format: 'jwk' }).export({ format: 'jwk' }))
  })
})

describe('a JWKS copy too large for the table', () => {
  it('is not written (too-large, no store error), and an older copy stays', async () => {
    const store = svc.stores.jwksCopies
    const issuer = 'https://store.example'
    const now = Date.now()
    expect(await store.put(copyOf(issuer, [k1.jwk], now - 60_000), now)).toBe('stored')
    const big = copyOf(issuer, [k1.jwk, ...bigKeys], now)
    expect(await store.put(big, now)).toBe('too-large')
    expect(jwksCopyItemBytes(big)).toBeGreaterThan(MAX_JWKS_COPY_ITEM_BYTES)
    expect(await store.get(issuer)).toMatchObject({ fetchedAt: now - 60_000, keyIds: ['k1'] })
  })

  it('is too-large, not a store failure, when DynamoDB itself refuses the write for a size (here a partition key over 2 KB)', async () => {
    const now = Date.now()
    const issuer = `https://${'a'.repeat(3000)}.example`
    expect(jwksCopyItemBytes(copyOf(issuer, [k1.jwk], now))).toBeLessThan(MAX_JWKS_COPY_ITEM_BYTES)
    expect(await svc.stores.jwksCopies.put(copyOf(issuer, [k1.jwk], now), now)).toBe('too-large')
  })

  it('key refresh: the EventBridge event is processed (no throw, so no Lambda retry) and the stream record is not failed; logged with the issuer and size', async () => {
    const logger = recordingLogger()
    const refresher = new KeyRefresher({ ...svc.stores, logger }, { fetchOptions })
    const event = { ...sample('eventbridge-key-rotation.json'), detail: { issuer: idp.issuer, observedAt: new Date().toISOString() } }
    const result = await refresher.handleEventBridge(event)
    expect(result).toMatchObject({ status: 'processed', issuer: idp.issuer, outcome: 'too-large' })
    expect(logger.find('JWKS copy not stored: too large')).toEqual([
      expect.objectContaining({ level: 'warn', fields: expect.objectContaining({ issuer: idp.issuer, bytes: expect.any(Number), limit: MAX_JWKS_COPY_ITEM_BYTES }) }),
    ])
    expect(logger.find('JWKS copy not stored: too large')[0]!.fields.bytes).toBeGreaterThan(MAX_JWKS_COPY_ITEM_BYTES)

    const record = structuredClone(sample('dynamodb-stream-provider-insert.json').Records[0])
    record.dynamodb.Keys = { pk: { S: `ACCOUNT#${account}` }, sk: { S: 'OIDCPROVIDER#big' } }
    record.dynamodb.SequenceNumber = '100'
    record.dynamodb.ApproximateCreationDateTime = Math.floor(Date.now() / 1000) - 5
    expect(await refresher.handleStream({ Records: [record] })).toEqual({ batchItemFailures: [] })
    expect(logger.find('JWKS refresh failed in the store')).toEqual([])
    expect(await svc.stores.jwksCopies.get(idp.issuer)).toBeUndefined()
  })

  it('health check: not an error of the run (logged once as not stored); token exchange finds no copy and fetches from the IdP', async () => {
    for (let run = 0; run < 2; run++) {
      const logger = recordingLogger()
      const summary = await runHealthCheck({ ...svc.stores, publisher: new InProcessBus({ logger }), logger }, { concurrency: 2, idpTimeoutMs: 10_000, warningDays: 30, fetchOptions })
      expect(summary).toMatchObject({ errors: 0, copiesStored: 0, statuses: { ok: 1 } })
      expect(logger.find('JWKS copy not stored')).toEqual([])
      expect(logger.find('JWKS copy not stored: too large')).toEqual([expect.objectContaining({ level: 'warn', fields: expect.objectContaining({ issuer: idp.issuer }) })])
    }
    expect(await svc.stores.jwksCopies.get(idp.issuer)).toBeUndefined()

    const now = new Date()
    const res = await exchange(svc, account, 'big', 'deployer', idToken(idp.issuer, k1, now), now)
    expect(res.status, JSON.stringify(res.body)).toBe(200)
    expect(svc.app.sts.jwks.stats(idp.issuer)).toMatchObject({ storedCopyLoads: 1, storedCopiesApplied: 0, fetches: 1 })
  })
})
