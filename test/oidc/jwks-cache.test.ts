// The module-scope JWKS cache: shared fetches, refetch budget, stale window, per-caller thumbprints, LRU, stored-copy seam.
import type { JsonWebKey } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ApiError } from '../../shared/errors.ts'
import { parseJwks } from '../../shared/oidc/discovery-jwks.ts'
import { type DiscoveryFailureKind, type IssuerKeys, OidcDiscoveryError, toApiError } from '../../shared/oidc/discovery.ts'
import type { ChainEntry } from '../../shared/oidc/https-fetch-chain.ts'
import { OidcFetchError } from '../../shared/oidc/https-fetch-error.ts'
import { STORED_COPY_MAX_SKEW_MS, toStoredJwksCopy } from '../../shared/oidc/jwks-cache-copy.ts'
import { getJwksCache, JWKS_CACHE_DEFAULTS, JwksCache, resetJwksCacheForTests } from '../../shared/oidc/jwks-cache.ts'
import { apiFailure } from '../support/errors.ts'
import { type HttpsIdp, makeSigningKey, startHttpsIdp } from '../support/https-idp.ts'
import { createTestPki, type TestPki } from '../support/test-ca.ts'

const ISSUER = 'https://idp.example'
const LEAF = 'a'.repeat(40)
const INTERMEDIATE = 'b'.repeat(40)
const ROOT = 'c'.repeat(40)
const OTHER = 'd'.repeat(40)
const CHAIN: ChainEntry[] = [LEAF, INTERMEDIATE, ROOT].map((sha1, i) => ({ subject: `CN=${i}`, issuer: `CN=${i + 1}`, sha1, notAfter: '', selfSigned: i === 2 }))

const k1 = makeSigningKey('k1')
const k2 = makeSigningKey('k2')
const e1 = makeSigningKey('e1', { type: 'ec' })

function issuerKeys(jwks: JsonWebKey[], fetchedAt = 0, chain: ChainEntry[] = CHAIN, issuer = ISSUER): IssuerKeys {
  const parsed = parseJwks({ keys: jwks })
  return {
    issuer,
    jwksUri: `${issuer}/jwks`,
    jwks: parsed.usable.map((k) => k.jwk),
    keys: new Map([...parsed.byKid].map(([kid, k]) => [kid, k.key])),
    usable: parsed.usable,
    byKid: parsed.byKid,
    skipped: parsed.skipped,
    discoveryChain: chain,
    jwksChain: chain,
    matchedFingerprints: { discovery: INTERMEDIATE, jwks: INTERMEDIATE },
    lastSentSha1: { discovery: INTERMEDIATE, jwks: INTERMEDIATE },
    fetchedAt,
  }
}

function failureOf(kind: DiscoveryFailureKind, chain?: ChainEntry[]): ApiError {
  const fetchKind = kind === 'issuer-mismatch' || kind === 'invalid-discovery' || kind === 'invalid-jwks' ? undefined : kind
  const fe = fetchKind && new OidcFetchError(fetchKind, `simulated ${kind}`, { url: `${ISSUER}/x`, host: 'idp.example', ...(chain ? { chain, lastSentSha1: chain[1]!.sha1 } : {}) })
  return toApiError(ISSUER, new OidcDiscoveryError(kind, 'discovery', `${ISSUER}/x`, `simulated ${kind}`, fe))
}

/** A fake IdP behind fetchKeys: answers from `serve`, enforcing the fingerprint gate like the real fetcher. */
function fakeIdp(initial: JsonWebKey[]) {
  const state = {
    jwks: initial,
    chain: CHAIN,
    fail: undefined as DiscoveryFailureKind | undefined,
    calls: 0,
    fingerprintsSeen: [] as string[][],
  }
  const fetchKeys = async (issuer: string, fps: readonly string[]) => {
    state.calls++
    state.fingerprintsSeen.push([...fps])
    await Promise.resolve()
    if (state.fail) throw failureOf(state.fail)
    if (!state.chain.some((c) => fps.includes(c.sha1))) throw failureOf('fingerprint-mismatch', state.chain)
    return issuerKeys(state.jwks, 0, state.chain, issuer)
  }
  return { state, fetchKeys }
}

function clock(start = 1_000_000) {
  const c = { t: start, now: () => c.t, advance: (ms: number) => (c.t += ms) }
  return c
}

describe('JwksCache with a real IdP', () => {
  let pki: TestPki
  let otherPki: TestPki
  let idp: HttpsIdp
  beforeAll(async () => {
    ;[pki, otherPki] = await Promise.all([createTestPki('Cache'), createTestPki('Cache Other')])
    idp = await startHttpsIdp({ pki, keys: [k1.jwk, e1.jwk] })
  })
  afterAll(async () => {
    await idp?.close()
  })
  const cacheFor = (now: () => number) => new JwksCache({ now, fetchOptions: { allowPrivate: true, ca: pki.root.certPem } })

  it('serves 200 concurrent lookups on a cold cache with one discovery and one JWKS request', async () => {
    idp.resetCounts()
    const cache = cacheFor(clock().now)
    const keys = await Promise.all(Array.from({ length: 200 }, (_, i) => cache.getKey(idp.issuer, [pki.intermediate.sha1], i % 2 ? 'k1' : 'e1', i % 2 ? 'RS256' : 'ES256')))
    expect(keys.filter((k) => k.asymmetricKeyType === 'rsa')).toHaveLength(100)
    expect(keys.filter((k) => k.asymmetricKeyType === 'ec')).toHaveLength(100)
    expect(idp.requests(idp.discoveryPath)).toBe(1)
    expect(idp.requests(idp.jwksPath)).toBe(1)
    expect(cache.stats(idp.issuer).fetches).toBe(1)
  })

  it('refetches at most once per cooldown under a flood of unknown kids', async () => {
    const c = clock()
    const cache = cacheFor(c.now)
    await cache.getKey(idp.issuer, [pki.intermediate.sha1], 'k1', 'RS256')
    idp.resetCounts()
    // Within the cooldown of the first fetch: no refetch at all.
    const early = await Promise.all(Array.from({ length: 1000 }, (_, i) => apiFailure(cache.getKey(idp.issuer, [pki.intermediate.sha1], `nope-${i}`, 'RS256'))))
    expect(early.every((e) => e.code === 'AuthenticationFail.OIDCToken.InvalidSignature')).toBe(true)
    expect(idp.requests(idp.jwksPath)).toBe(0)
    // After the cooldown: 1000 more (concurrent, then sequential) cost one refetch.
    c.advance(JWKS_CACHE_DEFAULTS.cooldownMs)
    await Promise.all(Array.from({ length: 1000 }, (_, i) => apiFailure(cache.getKey(idp.issuer, [pki.intermediate.sha1], `nope-${i}`, 'RS256'))))
    for (let i = 0; i < 1000; i++) await apiFailure(cache.getKey(idp.issuer, [pki.intermediate.sha1], `later-${i}`, 'RS256'))
    expect(idp.requests(idp.discoveryPath)).toBe(1)
    expect(idp.requests(idp.jwksPath)).toBe(1)
  })

  it('never lets a fetch done under one account\'s fingerprints vouch for another\'s', async () => {
    idp.resetCounts()
    const cache = cacheFor(clock().now)
    await expect(cache.getKey(idp.issuer, [pki.intermediate.sha1], 'k1', 'RS256')).resolves.toBeDefined()
    const e = await apiFailure(cache.getKey(idp.issuer, [otherPki.intermediate.sha1], 'k1', 'RS256'))
    expect(e.code).toBe('AuthenticationFail.OIDCToken.PublicKeyFingerprintMismatch')
    expect(e.message).toContain(pki.intermediate.sha1)
    // Account A still served from the cache; nothing refetched within the cooldown.
    await expect(cache.getKey(idp.issuer, [pki.root.sha1], 'k1', 'RS256')).resolves.toBeDefined()
    expect(idp.requests(idp.jwksPath)).toBe(1)
  })
})

describe('JwksCache rules (injected fetcher and clock)', () => {
  it('shares one in-flight fetch and keeps serving from memory while fresh', async () => {
    const idp = fakeIdp([k1.jwk])
    const c = clock()
    const cache = new JwksCache({ fetchKeys: idp.fetchKeys, now: c.now })
    await Promise.all(Array.from({ length: 50 }, () => cache.getKey(ISSUER, [INTERMEDIATE], 'k1', 'RS256')))
    c.advance(JWKS_CACHE_DEFAULTS.maxAgeMs - 1)
    await cache.getKey(ISSUER, [INTERMEDIATE], 'k1', 'RS256')
    expect(idp.state.calls).toBe(1)
  })

  it('stops trusting a key the IdP removed once the entry is older than maxAge', async () => {
    const idp = fakeIdp([k1.jwk, k2.jwk])
    const c = clock()
    const cache = new JwksCache({ fetchKeys: idp.fetchKeys, now: c.now })
    await cache.getKey(ISSUER, [INTERMEDIATE], 'k1', 'RS256')
    idp.state.jwks = [k2.jwk]
    c.advance(JWKS_CACHE_DEFAULTS.maxAgeMs - 1)
    await expect(cache.getKey(ISSUER, [INTERMEDIATE], 'k1', 'RS256')).resolves.toBeDefined()
    c.advance(1)
    const e = await apiFailure(cache.getKey(ISSUER, [INTERMEDIATE], 'k1', 'RS256'))
    expect(e.code).toBe('AuthenticationFail.OIDCToken.InvalidSignature')
    expect(e.message).toContain('"k1"')
    await expect(cache.getKey(ISSUER, [INTERMEDIATE], 'k2', 'RS256')).resolves.toBeDefined()
    expect(idp.state.calls).toBe(2)
  })

  it('serves known keys while the IdP is down, for staleMs after the last success, then fails closed', async () => {
    const idp = fakeIdp([k1.jwk])
    const c = clock()
    const cache = new JwksCache({ fetchKeys: idp.fetchKeys, now: c.now })
    await cache.getKey(ISSUER, [INTERMEDIATE], 'k1', 'RS256')
    idp.state.fail = 'unreachable'
    c.advance(JWKS_CACHE_DEFAULTS.maxAgeMs)
    await expect(cache.getKey(ISSUER, [INTERMEDIATE], 'k1', 'RS256')).resolves.toBeDefined()
    expect(idp.state.calls).toBe(2)
    // Penalty box: during the cooldown after a failure, no new attempt; stale keys keep serving.
    for (let i = 0; i < 100; i++) await cache.getKey(ISSUER, [INTERMEDIATE], 'k1', 'RS256')
    expect(idp.state.calls).toBe(2)
    c.advance(JWKS_CACHE_DEFAULTS.cooldownMs)
    await cache.getKey(ISSUER, [INTERMEDIATE], 'k1', 'RS256')
    expect(idp.state.calls).toBe(3)
    // The stale window is counted from the last successful fetch.
    c.t = 1_000_000 + JWKS_CACHE_DEFAULTS.staleMs
    const e = await apiFailure(cache.getKey(ISSUER, [INTERMEDIATE], 'k1', 'RS256'))
    expect(e.code).toBe('AuthenticationFail.OIDCToken.IssuerConfigurationBroken')
    expect(cache.stats(ISSUER).staleServed).toBeGreaterThan(100)
    // And recovers by itself once the IdP is back (after the penalty).
    idp.state.fail = undefined
    c.advance(JWKS_CACHE_DEFAULTS.cooldownMs)
    await expect(cache.getKey(ISSUER, [INTERMEDIATE], 'k1', 'RS256')).resolves.toBeDefined()
  })

  it.each(['fingerprint-mismatch', 'certificate-invalid', 'forbidden-address', 'issuer-mismatch'] as const)(
    'never falls back to stale keys after a %s',
    async (kind) => {
      const idp = fakeIdp([k1.jwk])
      const c = clock()
      const cache = new JwksCache({ fetchKeys: idp.fetchKeys, now: c.now })
      await cache.getKey(ISSUER, [INTERMEDIATE], 'k1', 'RS256')
      if (kind === 'fingerprint-mismatch') idp.state.chain = CHAIN.map((e) => ({ ...e, sha1: e.sha1.replace(/./g, 'e') }))
      else idp.state.fail = kind
      c.advance(JWKS_CACHE_DEFAULTS.maxAgeMs)
      const e = await apiFailure(cache.getKey(ISSUER, [INTERMEDIATE], 'k1', 'RS256'))
      expect(e.code).toBe(
        kind === 'fingerprint-mismatch'
          ? 'AuthenticationFail.OIDCToken.PublicKeyFingerprintMismatch'
          : kind === 'certificate-invalid'
            ? 'AuthenticationFail.OIDCToken.HttpsUrlInvalid'
            : 'AuthenticationFail.OIDCToken.IssuerConfigurationBroken',
      )
      expect(cache.stats(ISSUER).staleServed).toBe(0)
    },
  )

  it('remembers a failure of a cold entry for the cooldown (one IdP timeout per cooldown, not per request)', async () => {
    const idp = fakeIdp([k1.jwk])
    idp.state.fail = 'timeout'
    const c = clock()
    const cache = new JwksCache({ fetchKeys: idp.fetchKeys, now: c.now })
    for (let i = 0; i < 20; i++) {
      expect((await apiFailure(cache.getKey(ISSUER, [INTERMEDIATE], 'k1', 'RS256'))).code).toBe('AuthenticationFail.OIDCToken.IssuerConfigurationBroken')
    }
    expect(idp.state.calls).toBe(1)
    idp.state.fail = undefined
    c.advance(JWKS_CACHE_DEFAULTS.cooldownMs)
    await expect(cache.getKey(ISSUER, [INTERMEDIATE], 'k1', 'RS256')).resolves.toBeDefined()
    expect(idp.state.calls).toBe(2)
  })

  it('checks each caller\'s fingerprints against both chains the keys arrived over', async () => {
    const idp = fakeIdp([k1.jwk])
    const c = clock()
    const cache = new JwksCache({ fetchKeys: idp.fetchKeys, now: c.now })
    await cache.getKey(ISSUER, [ROOT], 'k1', 'RS256') // account A registered the root
    await cache.getKey(ISSUER, [LEAF, OTHER], 'k1', 'RS256') // account C the leaf
    const e = await apiFailure(cache.getKey(ISSUER, [OTHER], 'k1', 'RS256')) // account B: nothing in the chain
    expect(e.code).toBe('AuthenticationFail.OIDCToken.PublicKeyFingerprintMismatch')
    expect(idp.state.calls).toBe(1)
    // After the cooldown B may look again (the chain might have changed), once.
    c.advance(JWKS_CACHE_DEFAULTS.cooldownMs)
    expect((await apiFailure(cache.getKey(ISSUER, [OTHER], 'k1', 'RS256'))).code).toBe('AuthenticationFail.OIDCToken.PublicKeyFingerprintMismatch')
    expect((await apiFailure(cache.getKey(ISSUER, [OTHER], 'k1', 'RS256'))).code).toBe('AuthenticationFail.OIDCToken.PublicKeyFingerprintMismatch')
    expect(idp.state.calls).toBe(2)
    // B's mismatch did not poison the entry for A.
    await expect(cache.getKey(ISSUER, [ROOT], 'k1', 'RS256')).resolves.toBeDefined()
    expect(idp.state.calls).toBe(2)
  })

  it('requires the caller\'s fingerprint in the discovery chain AND the JWKS chain', async () => {
    const discoveryChain = CHAIN
    const jwksChain = CHAIN.map((e) => ({ ...e, sha1: e.sha1.replace(/./g, '9') }))
    const fetchKeys = async () => ({ ...issuerKeys([k1.jwk]), discoveryChain, jwksChain })
    const cache = new JwksCache({ fetchKeys, now: clock().now })
    expect((await apiFailure(cache.getKey(ISSUER, [INTERMEDIATE], 'k1', 'RS256'))).code).toBe('AuthenticationFail.OIDCToken.PublicKeyFingerprintMismatch')
    await expect(cache.getKey(ISSUER, [INTERMEDIATE, '9'.repeat(40)], 'k1', 'RS256')).resolves.toBeDefined()
  })

  it('lets a caller whose fingerprint is in the chain fetch even though another caller\'s fetch just failed on fingerprints', async () => {
    const idp = fakeIdp([k1.jwk])
    const cache = new JwksCache({ fetchKeys: idp.fetchKeys, now: clock().now })
    const [b, a] = await Promise.allSettled([cache.getKey(ISSUER, [OTHER], 'k1', 'RS256'), cache.getKey(ISSUER, [INTERMEDIATE], 'k1', 'RS256')])
    expect(b.status === 'rejected' && (b.reason as ApiError).code).toBe('AuthenticationFail.OIDCToken.PublicKeyFingerprintMismatch')
    expect(a.status).toBe('fulfilled')
    expect(idp.state.fingerprintsSeen).toEqual([[OTHER], [INTERMEDIATE]])
    // A third account with a wrong fingerprint is refused from what is known, no new fetch.
    expect((await apiFailure(cache.getKey(ISSUER, ['f'.repeat(40)], 'k1', 'RS256'))).code).toBe('AuthenticationFail.OIDCToken.PublicKeyFingerprintMismatch')
    expect(idp.state.calls).toBe(2)
  })

  it('keeps one refetch per cooldown when a wrong-fingerprint caller\'s fetch is shared with an unknown-kid caller', async () => {
    const idp = fakeIdp([k1.jwk])
    const c = clock()
    const cache = new JwksCache({ fetchKeys: idp.fetchKeys, now: c.now })
    await cache.getKey(ISSUER, [INTERMEDIATE], 'k1', 'RS256')
    for (let window = 0; window < 3; window++) {
      c.advance(JWKS_CACHE_DEFAULTS.cooldownMs)
      // Provider B (a wrong fingerprint) starts the window's refetch; provider A's unknown kid joins it.
      const [b, a] = await Promise.allSettled([cache.getKey(ISSUER, [OTHER], 'k1', 'RS256'), cache.getKey(ISSUER, [INTERMEDIATE], 'k9', 'RS256')])
      expect(b.status === 'rejected' && (b.reason as ApiError).code).toBe('AuthenticationFail.OIDCToken.PublicKeyFingerprintMismatch')
      // A is told its kid is unknown (from the keys it has), not that its fingerprint mismatched.
      expect(a.status === 'rejected' && (a.reason as ApiError).code).toBe('AuthenticationFail.OIDCToken.InvalidSignature')
    }
    expect(idp.state.calls).toBe(1 + 3)
    expect(idp.state.fingerprintsSeen.slice(1)).toEqual([[OTHER], [OTHER], [OTHER]])
  })

  it('does not let an older in-flight fetch overwrite a newer stored copy (ordering counter)', async () => {
    let release!: (k: IssuerKeys) => void
    const fetchKeys = () => new Promise<IssuerKeys>((r) => (release = r))
    const c = clock()
    const cache = new JwksCache({ fetchKeys, now: c.now })
    const pending = cache.getKey(ISSUER, [INTERMEDIATE], 'k1', 'RS256')
    await Promise.resolve()
    expect(cache.seed(ISSUER, toStoredJwksCopy(issuerKeys([k1.jwk, k2.jwk], c.t)))).toBe(true)
    release(issuerKeys([k1.jwk]))
    await expect(pending).resolves.toBeDefined()
    // k2 exists only in the seeded copy: served without any fetch although the older fetch finished last.
    await expect(cache.getKey(ISSUER, [INTERMEDIATE], 'k2', 'RS256')).resolves.toBeDefined()
  })

  it('evicts the least recently used issuer beyond maxIssuers', async () => {
    const idp = fakeIdp([k1.jwk])
    const cache = new JwksCache({ fetchKeys: idp.fetchKeys, now: clock().now, maxIssuers: 3 })
    for (const i of [1, 2, 3]) await cache.getKey(`https://idp${i}.example`, [INTERMEDIATE], 'k1', 'RS256')
    await cache.getKey('https://idp1.example', [INTERMEDIATE], 'k1', 'RS256') // touch 1: 2 is now the oldest
    await cache.getKey('https://idp4.example', [INTERMEDIATE], 'k1', 'RS256')
    expect(cache.issuers()).toEqual(['https://idp3.example', 'https://idp1.example', 'https://idp4.example'])
    expect(idp.state.calls).toBe(4)
    await cache.getKey('https://idp2.example', [INTERMEDIATE], 'k1', 'RS256')
    expect(idp.state.calls).toBe(5)
    expect(cache.issuers()).toHaveLength(3)
  })

  it('selects the single fitting key for a token without kid, and refuses a key that does not fit the alg without refetching', async () => {
    const idp = fakeIdp([k1.jwk, e1.jwk])
    const c = clock()
    const cache = new JwksCache({ fetchKeys: idp.fetchKeys, now: c.now })
    expect((await cache.getKey(ISSUER, [INTERMEDIATE], undefined, 'ES256')).asymmetricKeyType).toBe('ec')
    c.advance(JWKS_CACHE_DEFAULTS.cooldownMs)
    const e = await apiFailure(cache.getKey(ISSUER, [INTERMEDIATE], 'e1', 'RS256'))
    expect(e.code).toBe('AuthenticationFail.OIDCToken.InvalidSignature')
    expect(e.message).toMatch(/RS256 needs an EC key|needs an RSA|is for ES256/)
    expect(idp.state.calls).toBe(1)
  })

  it('does not echo unprintable or long kids', async () => {
    const idp = fakeIdp([k1.jwk])
    const cache = new JwksCache({ fetchKeys: idp.fetchKeys, now: clock().now })
    const e = await apiFailure(cache.getKey(ISSUER, [INTERMEDIATE], '\u0000../../etc/passwd', 'RS256'))
    expect(e.message).not.toContain('passwd')
    const long = await apiFailure(cache.getKey(ISSUER, [INTERMEDIATE], 'x'.repeat(5000), 'RS256'))
    expect(long.message.length).toBeLessThan(400)
  })
})

describe('JwksCache stored-copy seam (issue 5)', () => {
  it('reads the stored copy on a cold entry before the network', async () => {
    const idp = fakeIdp([k1.jwk])
    const c = clock()
    let loads = 0
    const cache = new JwksCache({
      fetchKeys: idp.fetchKeys,
      now: c.now,
      loadStoredCopy: async (issuer) => {
        loads++
        return toStoredJwksCopy(issuerKeys([k1.jwk], c.t - 1000, CHAIN, issuer))
      },
    })
    await Promise.all(Array.from({ length: 20 }, () => cache.getKey(ISSUER, [INTERMEDIATE], 'k1', 'RS256')))
    expect(loads).toBe(1)
    expect(idp.state.calls).toBe(0)
  })

  it('on an unknown kid, picks up a newer stored copy at once, without waiting for the refetch cooldown', async () => {
    const idp = fakeIdp([k1.jwk])
    const c = clock()
    let stored = toStoredJwksCopy(issuerKeys([k1.jwk], c.t))
    const cache = new JwksCache({ fetchKeys: idp.fetchKeys, now: c.now, loadStoredCopy: async () => stored })
    await cache.getKey(ISSUER, [INTERMEDIATE], 'k1', 'RS256')
    c.advance(2_000) // past storedCopyCooldownMs, well within the network cooldown
    stored = toStoredJwksCopy(issuerKeys([k1.jwk, k2.jwk], c.t))
    await expect(cache.getKey(ISSUER, [INTERMEDIATE], 'k2', 'RS256')).resolves.toBeDefined()
    expect(idp.state.calls).toBe(0)
    expect(cache.stats(ISSUER).storedCopiesApplied).toBe(2)
  })

  it('re-validates a stored copy: weak keys are skipped, a copy for another issuer or without chains is refused', async () => {
    const weak = makeSigningKey('weak', { type: 'rsa', modulusLength: 1024 })
    const c = clock()
    // A fresh copy and an IdP that cannot be reached: what getKey answers comes from the copy alone.
    const unreachable = async (): Promise<never> => {
      throw new Error('the IdP must not be asked')
    }
    const cache = new JwksCache({ fetchKeys: unreachable, now: c.now })
    const valid = toStoredJwksCopy(issuerKeys([k1.jwk], c.t))
    // As a table item could hold it: a 1024-bit key the writer would not have kept.
    const copy = { ...valid, jwks: { keys: [...valid.jwks.keys, weak.jwk as never] } }
    expect(cache.seed(ISSUER, copy)).toBe(true)
    await expect(cache.getKey(ISSUER, [INTERMEDIATE], 'k1', 'RS256')).resolves.toBeDefined()
    expect(cache.stats(ISSUER).fetches).toBe(0)
    // The weak key was skipped: its kid is unknown, so the one refetch is tried (and fails), never the key.
    const e = await apiFailure(cache.getKey(ISSUER, [INTERMEDIATE], 'weak', 'RS256'))
    expect(e.code).toBe('AuthenticationFail.OIDCToken.IssuerConfigurationBroken')
    expect(cache.stats(ISSUER).fetches).toBe(1)
    // Refusals, each on a cold cache so that nothing but the refused property can explain them.
    const cold = () => new JwksCache({ fetchKeys: unreachable, now: c.now })
    expect(cold().seed('https://other.example', copy)).toBe(false)
    expect(cold().seed(ISSUER, { ...copy, jwksChain: [] })).toBe(false)
    expect(cold().seed(ISSUER, { ...copy, discoveryChain: [] })).toBe(false)
  })

  it('refuses a copy stamped in the future beyond the allowed skew, and applies one within it only once', async () => {
    const idp = fakeIdp([k2.jwk]) // the IdP has removed k1
    const c = clock()
    let stored = toStoredJwksCopy(issuerKeys([k1.jwk, k2.jwk], c.t + STORED_COPY_MAX_SKEW_MS + 1))
    const cache = new JwksCache({ fetchKeys: idp.fetchKeys, now: c.now, loadStoredCopy: async () => stored })
    // Beyond the skew: not applied, the IdP is asked, k1 is unknown.
    expect((await apiFailure(cache.getKey(ISSUER, [INTERMEDIATE], 'k1', 'RS256'))).code).toBe('AuthenticationFail.OIDCToken.InvalidSignature')
    expect(cache.stats(ISSUER).storedCopiesApplied).toBe(0)

    // Within the skew (a writer 50 s ahead): applied on the cold start. An unknown kid 30 s later refetches,
    // and the IdP no longer has k1. The copy, still stamped after that fetch, must not bring k1 back at the
    // next unknown kid, however often it is read.
    const c2 = clock()
    const idp2 = fakeIdp([k2.jwk])
    const ahead = toStoredJwksCopy(issuerKeys([k1.jwk, k2.jwk], c2.t + 50_000))
    const cache2 = new JwksCache({ fetchKeys: idp2.fetchKeys, now: c2.now, loadStoredCopy: async () => ahead })
    await expect(cache2.getKey(ISSUER, [INTERMEDIATE], 'k1', 'RS256')).resolves.toBeDefined()
    c2.advance(30_000)
    expect((await apiFailure(cache2.getKey(ISSUER, [INTERMEDIATE], 'k3', 'RS256'))).code).toBe('AuthenticationFail.OIDCToken.InvalidSignature')
    expect(idp2.state.calls).toBe(1)
    for (let i = 0; i < 3; i++) {
      c2.advance(2_000)
      expect((await apiFailure(cache2.getKey(ISSUER, [INTERMEDIATE], 'k1', 'RS256'))).code).toBe('AuthenticationFail.OIDCToken.InvalidSignature')
    }
    expect(cache2.stats(ISSUER).storedCopiesApplied).toBe(1)
  })

  it('lets a caller whose fingerprint the cached keys do not carry fetch with its own, though another caller\'s fetch just failed', async () => {
    // The IdP moved to a new chain; provider A registered its fingerprint, the cache still holds the old chain.
    const idp = fakeIdp([k1.jwk])
    const c = clock()
    const cache = new JwksCache({ fetchKeys: idp.fetchKeys, now: c.now })
    await cache.getKey(ISSUER, [INTERMEDIATE], 'k1', 'RS256')
    idp.state.chain = CHAIN.map((e) => ({ ...e, sha1: e.sha1.replace(/./g, 'e') }))
    c.advance(JWKS_CACHE_DEFAULTS.cooldownMs)
    const [b, a] = await Promise.allSettled([cache.getKey(ISSUER, [OTHER], 'k1', 'RS256'), cache.getKey(ISSUER, ['e'.repeat(40)], 'k1', 'RS256')])
    expect(b.status === 'rejected' && (b.reason as ApiError).code).toBe('AuthenticationFail.OIDCToken.PublicKeyFingerprintMismatch')
    expect(a.status).toBe('fulfilled')
  })
})

describe('JwksCache stored copies from writers with skewed clocks', () => {
  const HOUR = 3_600_000

  it('never applies a copy it once refused as stamped in the future, even when real time comes within the skew of it', async () => {
    // A writer whose clock is 1 h ahead stored k1 + k2; nothing replaced it. The IdP then removes k1.
    const idp = fakeIdp([k1.jwk, k2.jwk])
    const c = clock()
    const table = toStoredJwksCopy(issuerKeys([k1.jwk, k2.jwk], c.t + HOUR))
    const cache = new JwksCache({ fetchKeys: idp.fetchKeys, now: c.now, loadStoredCopy: async () => table })
    await cache.getKey(ISSUER, [INTERMEDIATE], 'k1', 'RS256') // cold: the copy is refused, the IdP asked
    expect(cache.stats(ISSUER)).toMatchObject({ fetches: 1, storedCopiesApplied: 0 })
    idp.state.jwks = [k2.jwk]
    // Warm traffic refreshes from the IdP every maxAge; k1 is unknown.
    for (let m = 11; m < 60; m += 11) {
      c.advance(11 * 60_000)
      await cache.getKey(ISSUER, [INTERMEDIATE], 'k2', 'RS256')
    }
    // 59 min later the copy is within the skew of this clock. It still must not bring k1 back.
    c.t = table.fetchedAt - STORED_COPY_MAX_SKEW_MS + 1_000
    expect((await apiFailure(cache.getKey(ISSUER, [INTERMEDIATE], 'k1', 'RS256'))).code).toBe('AuthenticationFail.OIDCToken.InvalidSignature')
    c.advance(JWKS_CACHE_DEFAULTS.cooldownMs)
    expect((await apiFailure(cache.getKey(ISSUER, [INTERMEDIATE], 'k1', 'RS256'))).code).toBe('AuthenticationFail.OIDCToken.InvalidSignature')
    expect(cache.stats(ISSUER).storedCopiesApplied).toBe(0)
  })

  it('counts a copy as fetched at its stamp or its reading, the earlier: a removed key serves no longer than maxAge + the skew after the copy\'s fetch', async () => {
    // The IdP removed k1 just before this container's own fetch. A writer whose clock is 50 s ahead
    // fetched 10 s before that (k1 still published) and stored its copy: stamped 40 s after the fetch.
    const idp = fakeIdp([k2.jwk])
    const c = clock()
    let stored: ReturnType<typeof toStoredJwksCopy> | undefined
    const cache = new JwksCache({ fetchKeys: idp.fetchKeys, now: c.now, loadStoredCopy: async () => stored })
    await cache.getKey(ISSUER, [INTERMEDIATE], 'k2', 'RS256')
    const writerFetch = c.t - 10_000
    stored = toStoredJwksCopy(issuerKeys([k1.jwk, k2.jwk], writerFetch + 50_000))
    c.advance(2_000)
    const readAt = c.t
    // Stamped after the own fetch, so taken (that is how a rotated key works at once). Any container
    // reading the copy would trust k1 as long: what matters is for how long.
    await expect(cache.getKey(ISSUER, [INTERMEDIATE], 'k1', 'RS256')).resolves.toBeDefined()
    const cold = new JwksCache({ fetchKeys: idp.fetchKeys, now: c.now, loadStoredCopy: async () => stored })
    await expect(cold.getKey(ISSUER, [INTERMEDIATE], 'k1', 'RS256')).resolves.toBeDefined()
    expect(cold.stats(ISSUER)).toMatchObject({ fetches: 0, storedCopiesApplied: 1 })
    // Fresh until maxAge after min(stamp, reading): here the reading, 40 s before the stamp.
    c.t = readAt + JWKS_CACHE_DEFAULTS.maxAgeMs - 1
    await expect(cold.getKey(ISSUER, [INTERMEDIATE], 'k1', 'RS256')).resolves.toBeDefined()
    // No longer: at most maxAge + the skew after the copy's real fetch.
    c.t = Math.min(stored.fetchedAt, readAt) + JWKS_CACHE_DEFAULTS.maxAgeMs
    expect(c.t).toBeLessThanOrEqual(writerFetch + STORED_COPY_MAX_SKEW_MS + JWKS_CACHE_DEFAULTS.maxAgeMs)
    for (const cache_ of [cache, cold]) {
      expect((await apiFailure(cache_.getKey(ISSUER, [INTERMEDIATE], 'k1', 'RS256'))).code).toBe('AuthenticationFail.OIDCToken.InvalidSignature')
      expect(cache_.stats(ISSUER).storedCopiesApplied).toBe(1)
    }
  })

  it('still takes a copy stamped just after its own fetch at once (a rotation), without a fetch of its own', async () => {
    const idp = fakeIdp([k1.jwk])
    const c = clock()
    let stored: ReturnType<typeof toStoredJwksCopy> | undefined
    const cache = new JwksCache({ fetchKeys: idp.fetchKeys, now: c.now, loadStoredCopy: async () => stored })
    await cache.getKey(ISSUER, [INTERMEDIATE], 'k1', 'RS256')
    c.advance(3_000)
    stored = toStoredJwksCopy(issuerKeys([k1.jwk, k2.jwk], c.t))
    await expect(cache.getKey(ISSUER, [INTERMEDIATE], 'k2', 'RS256')).resolves.toBeDefined()
    expect(cache.stats(ISSUER)).toMatchObject({ fetches: 1, storedCopiesApplied: 1 })
    // A copy stamped at or before the own fetch is not newer: refused.
    const c2 = clock()
    const idp2 = fakeIdp([k1.jwk])
    const cache2 = new JwksCache({ fetchKeys: idp2.fetchKeys, now: c2.now, loadStoredCopy: async () => stored2 })
    let stored2: ReturnType<typeof toStoredJwksCopy> | undefined
    await cache2.getKey(ISSUER, [INTERMEDIATE], 'k1', 'RS256')
    stored2 = toStoredJwksCopy(issuerKeys([k1.jwk, k2.jwk], c2.t))
    c2.advance(2_000)
    expect((await apiFailure(cache2.getKey(ISSUER, [INTERMEDIATE], 'k2', 'RS256'))).code).toBe('AuthenticationFail.OIDCToken.InvalidSignature')
    expect(cache2.stats(ISSUER).storedCopiesApplied).toBe(0)
  })
})

describe('JwksCache memory bounds', () => {
  const issuer = (i: number) => `https://idp${i}.example`

  it('bounds the keys held by all issuers together (maxKeys), evicting the least recently used issuers', async () => {
    const weak = makeSigningKey('weak', { type: 'rsa', modulusLength: 1024 })
    const idp = fakeIdp([k1.jwk, k2.jwk, weak.jwk]) // a skipped key counts too: it is held (its kid and reason)
    const cache = new JwksCache({ fetchKeys: idp.fetchKeys, now: clock().now, maxKeys: 7 })
    expect(JWKS_CACHE_DEFAULTS.maxKeys).toBe(10_000)
    await cache.getKey(issuer(1), [INTERMEDIATE], 'k1', 'RS256')
    await cache.getKey(issuer(2), [INTERMEDIATE], 'k1', 'RS256')
    expect(cache.keyCount()).toBe(6)
    await cache.getKey(issuer(1), [INTERMEDIATE], 'k1', 'RS256') // touch 1: 2 is the least recently used
    await cache.getKey(issuer(3), [INTERMEDIATE], 'k1', 'RS256')
    expect(cache.issuers()).toEqual([issuer(1), issuer(3)])
    expect(cache.keyCount()).toBe(6)
    // A refresh that changes the number of keys is accounted for.
    const c = clock()
    const small = new JwksCache({ fetchKeys: idp.fetchKeys, now: c.now, maxKeys: 7 })
    await small.getKey(issuer(1), [INTERMEDIATE], 'k1', 'RS256')
    expect(small.keyCount()).toBe(3)
    idp.state.jwks = [k1.jwk]
    c.advance(JWKS_CACHE_DEFAULTS.maxAgeMs)
    await small.getKey(issuer(1), [INTERMEDIATE], 'k1', 'RS256')
    expect(small.keyCount()).toBe(1)
    // One JWKS larger than the whole budget still serves its issuer (alone).
    const tiny = new JwksCache({ fetchKeys: fakeIdp([k1.jwk, k2.jwk]).fetchKeys, now: clock().now, maxKeys: 1 })
    await tiny.getKey(issuer(1), [INTERMEDIATE], 'k1', 'RS256')
    await tiny.getKey(issuer(2), [INTERMEDIATE], 'k2', 'RS256')
    expect(tiny.issuers()).toEqual([issuer(2)])
  })

  it('keeps issuers without keys apart: unreachable issuers never evict one that has keys, nor its refetch budget', async () => {
    const c = clock()
    const victim = 'https://victim.example'
    let fetches = 0
    const good = fakeIdp([k1.jwk])
    const fetchKeys = async (iss: string, fps: readonly string[]) => {
      fetches++
      if (iss === victim) return good.fetchKeys(iss, fps)
      throw failureOf('unreachable')
    }
    const cache = new JwksCache({ fetchKeys, now: c.now, maxIssuers: 3 })
    await cache.getKey(victim, [INTERMEDIATE], 'k1', 'RS256')
    for (let i = 0; i < 20; i++) await apiFailure(cache.getKey(`https://nx-${i}.invalid`, [INTERMEDIATE], 'k1', 'RS256'))
    expect(fetches).toBe(21)
    expect(cache.issuers()).toEqual([victim])
    expect(cache.issuersWithoutKeys()).toHaveLength(3)
    // The victim's entry, with its cooldown: an unknown kid right after refetches nothing.
    await apiFailure(cache.getKey(victim, [INTERMEDIATE], 'nope', 'RS256'))
    expect(fetches).toBe(21)
    expect(cache.stats(victim).fetches).toBe(1)
  })

  it('drops entries that can no longer serve: failed ones once the failure is forgotten, others once past the stale window', async () => {
    const c = clock()
    const good = fakeIdp([k1.jwk])
    const fetchKeys = async (iss: string, fps: readonly string[]) => {
      if (iss.includes('nx-')) throw failureOf('unreachable')
      return good.fetchKeys(iss, fps)
    }
    const cache = new JwksCache({ fetchKeys, now: c.now })
    await cache.getKey(issuer(1), [INTERMEDIATE], 'k1', 'RS256')
    for (let i = 0; i < 5; i++) await apiFailure(cache.getKey(`https://nx-${i}.invalid`, [INTERMEDIATE], 'k1', 'RS256'))
    expect(cache.issuersWithoutKeys()).toHaveLength(5)
    // Within the cooldown the failures are still remembered (one IdP timeout per cooldown): kept.
    c.advance(JWKS_CACHE_DEFAULTS.cooldownMs - 1)
    await cache.getKey(issuer(2), [INTERMEDIATE], 'k1', 'RS256')
    expect(cache.issuersWithoutKeys()).toHaveLength(5)
    c.advance(1)
    await cache.getKey(issuer(3), [INTERMEDIATE], 'k1', 'RS256')
    expect(cache.issuersWithoutKeys()).toEqual([])
    expect(cache.issuers()).toEqual([issuer(1), issuer(2), issuer(3)])
    // Keys past both maxAge and the stale window serve nobody: dropped at the next insertion.
    c.advance(JWKS_CACHE_DEFAULTS.staleMs - JWKS_CACHE_DEFAULTS.cooldownMs - 1)
    await cache.getKey(issuer(3), [INTERMEDIATE], 'k1', 'RS256') // a refresh: issuer 1 can still serve stale
    expect(cache.issuers()).toEqual([issuer(1), issuer(2), issuer(3)])
    c.advance(1)
    await cache.getKey(issuer(3), [INTERMEDIATE], 'k1', 'RS256') // a warm lookup does no housekeeping
    expect(cache.issuers()).toEqual([issuer(1), issuer(2), issuer(3)])
    await cache.getKey(issuer(4), [INTERMEDIATE], 'k1', 'RS256')
    expect(cache.issuers()).toEqual([issuer(2), issuer(3), issuer(4)])
    expect(cache.keyCount()).toBe(3)
  })
})

describe('getJwksCache', () => {
  it('returns one module-scope instance until reset', () => {
    resetJwksCacheForTests()
    const a = getJwksCache({ maxAgeMs: 1000 })
    expect(getJwksCache()).toBe(a)
    expect(a.maxAgeMs).toBe(1000)
    resetJwksCacheForTests()
    expect(getJwksCache()).not.toBe(a)
    resetJwksCacheForTests()
  })
})
