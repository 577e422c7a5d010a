// A stored JWKS copy stamped in the future (its writer's clock ahead), against DynamoDB Local: the next
// writer with a right clock replaces it (the health check's put, key refresh), key refresh does not take
// it for current, and a copy within the allowed skew still orders as before.
import { beforeAll, describe, expect, it } from 'vitest'
import type { JsonWebKey } from 'node:crypto'
import type { ChainEntry } from '../../shared/oidc/https-fetch-chain.ts'
import { fromStoredJwksCopy, STORED_COPY_MAX_SKEW_MS, type StoredJwksCopy } from '../../shared/oidc/jwks-cache-copy.ts'
import type { IssuerKeys } from '../../shared/oidc/discovery.ts'
import { KeyRefresher } from '../../shared/services/key-refresh.ts'
import { JwksCopyStore } from '../../shared/store/jwks-copy-store.ts'
import { makeSigningKey } from '../support/https-idp.ts'
import { createTestTable } from '../support/store.ts'
import { recordingLogger } from '../health/support.ts'

const FP = 'b'.repeat(40)
const CHAIN: ChainEntry[] = [{ subject: 'CN=leaf', issuer: 'CN=ca', sha1: FP, notAfter: '', selfSigned: false }]
const HOUR = 3_600_000
const k1 = makeSigningKey('k1')
const k2 = makeSigningKey('k2')

function copyOf(issuer: string, keys: JsonWebKey[], fetchedAt: number): StoredJwksCopy {
  return {
    issuer,
    jwksUri: `${issuer}/jwks`,
    jwks: { keys: keys as unknown as StoredJwksCopy['jwks']['keys'] },
    discoveryChain: CHAIN,
    jwksChain: CHAIN,
    matchedFingerprints: { discovery: FP, jwks: FP },
    lastSentSha1: { discovery: FP, jwks: FP },
    fetchedAt,
  }
}

let store: JwksCopyStore
beforeAll(async () => {
  store = new JwksCopyStore((await createTestTable('future-copy')).table)
})

describe('a JWKS copy stamped in the future', () => {
  it('is replaced by the next writer whose clock is right (put, as the health check stores)', async () => {
    const issuer = 'https://put.example'
    const now = Date.now()
    // A writer 1 h ahead: its put compares with its own clock, so it stores.
    expect(await store.put(copyOf(issuer, [k1.jwk, k2.jwk], now + HOUR), now + HOUR)).toBe('stored')
    // A right clock: the stored copy is more than the skew ahead of it, so it is replaced.
    expect(await store.put(copyOf(issuer, [k2.jwk], now), now)).toBe('stored')
    expect(await store.get(issuer)).toMatchObject({ fetchedAt: now, keyIds: ['k2'] })
  })

  it('within the skew, still only ever replaced by a newer copy', async () => {
    const issuer = 'https://within.example'
    const now = Date.now()
    expect(await store.put(copyOf(issuer, [k1.jwk, k2.jwk], now + STORED_COPY_MAX_SKEW_MS), now + STORED_COPY_MAX_SKEW_MS)).toBe('stored')
    expect(await store.put(copyOf(issuer, [k2.jwk], now), now)).toBe('superseded')
    expect(await store.put(copyOf(issuer, [k2.jwk], now + STORED_COPY_MAX_SKEW_MS + 1), now + 1)).toBe('stored')
    expect((await store.get(issuer))?.fetchedAt).toBe(now + STORED_COPY_MAX_SKEW_MS + 1)
  })

  it('is not current for key refresh: it fetches and replaces it', async () => {
    const issuer = 'https://refresh.example'
    const now = Date.now()
    expect(await store.put(copyOf(issuer, [k1.jwk, k2.jwk], now + HOUR), now + HOUR)).toBe('stored')
    let fetches = 0
    const logger = recordingLogger()
    const provider = { accountId: '1234567890123456', name: 'ci', issuerUrl: issuer, fingerprints: [FP] }
    const refresher = new KeyRefresher(
      { providerDirectory: { byIssuer: async () => [provider], get: async () => ({ kind: 'missing' as const }) }, jwksCopies: store, logger },
      {
        now: () => now,
        fetchKeys: async (iss) => {
          fetches++
          return fromStoredJwksCopy(iss, copyOf(iss, [k2.jwk], now)) as IssuerKeys
        },
      },
    )
    // An event observed a second ago: the future copy is "fetched after it" by its stamp, but not current.
    expect(await refresher.refreshIssuer(issuer, { fetchedSince: now - 1_000 }, [], 'announced')).toMatchObject({ outcome: 'stored', keyIds: ['k2'] })
    expect(fetches).toBe(1)
    expect(logger.find('JWKS copy stamped in the future: fetched again to replace it')).toHaveLength(1)
    expect(await store.get(issuer)).toMatchObject({ fetchedAt: now, keyIds: ['k2'] })
    // The copy it stored is current for the same trigger again.
    expect(await refresher.refreshIssuer(issuer, { fetchedSince: now - 1_000 }, [], 'announced')).toMatchObject({ outcome: 'current' })
    expect(fetches).toBe(1)
  })
})
