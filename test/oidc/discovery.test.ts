// Discovery + JWKS fetch against a local HTTPS IdP, and how each failure maps to an AuthenticationFail.OIDCToken code.
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { discoveryFailureOf, discoveryUrlOf, type DiscoveryOptions, fetchIssuerKeys } from '../../shared/oidc/discovery.ts'
import { fetchHttpsJson } from '../../shared/oidc/https-fetch.ts'
import { apiFailure } from '../support/errors.ts'
import { type HttpsIdp, makeSigningKey, startHttpsIdp } from '../support/https-idp.ts'
import { createTestPki, type TestPki } from '../support/test-ca.ts'

let pki: TestPki
let otherPki: TestPki
let idp: HttpsIdp
let opts: DiscoveryOptions
let fps: string[]

const rsa = makeSigningKey('rsa-1')
const ec = makeSigningKey('ec-1', { type: 'ec' })
const weak = makeSigningKey('weak', { type: 'rsa', modulusLength: 1024 })

beforeAll(async () => {
  ;[pki, otherPki] = await Promise.all([createTestPki('Disco'), createTestPki('Elsewhere')])
  idp = await startHttpsIdp({ pki, keys: [rsa.jwk, ec.jwk] })
  opts = { allowPrivate: true, ca: [pki.root.certPem, otherPki.root.certPem], totalTimeoutMs: 500, connectTimeoutMs: 500 }
  fps = [pki.intermediate.sha1]
})
afterAll(async () => {
  await idp?.close()
})
afterEach(() => {
  idp.setKeys([rsa.jwk, ec.jwk])
  idp.setDiscovery({ issuer: idp.issuer, jwks_uri: idp.origin + idp.jwksPath })
  idp.route(idp.discoveryPath, undefined)
  idp.route(idp.jwksPath, undefined)
})

describe('discoveryUrlOf', () => {
  it('removes exactly one trailing slash from the issuer', () => {
    expect(discoveryUrlOf('https://idp.example')).toBe('https://idp.example/.well-known/openid-configuration')
    expect(discoveryUrlOf('https://idp.example/')).toBe('https://idp.example/.well-known/openid-configuration')
    expect(discoveryUrlOf('https://idp.example/realms/a/')).toBe('https://idp.example/realms/a/.well-known/openid-configuration')
    expect(discoveryUrlOf('https://idp.example//')).toBe('https://idp.example//.well-known/openid-configuration')
  })
})

describe('fetchIssuerKeys', () => {
  it('fetches discovery then the JWKS and returns node KeyObjects by kid with both chains', async () => {
    idp.resetCounts()
    const before = Date.now()
    const keys = await fetchIssuerKeys(idp.issuer, fps, opts)
    expect(keys.issuer).toBe(idp.issuer)
    expect(keys.jwksUri).toBe(idp.origin + idp.jwksPath)
    expect([...keys.keys.keys()]).toEqual(['rsa-1', 'ec-1'])
    expect(keys.keys.get('rsa-1')?.asymmetricKeyType).toBe('rsa')
    expect(keys.jwks).toHaveLength(2)
    expect(keys.discoveryChain.map((c) => c.sha1)).toEqual([pki.leaf.sha1, pki.intermediate.sha1, pki.root.sha1])
    expect(keys.jwksChain.map((c) => c.sha1)).toEqual([pki.leaf.sha1, pki.intermediate.sha1, pki.root.sha1])
    expect(keys.matchedFingerprints).toEqual({ discovery: pki.intermediate.sha1, jwks: pki.intermediate.sha1 })
    expect(keys.fetchedAt).toBeGreaterThanOrEqual(before)
    expect(idp.requests(idp.discoveryPath)).toBe(1)
    expect(idp.requests(idp.jwksPath)).toBe(1)
  })

  it('fetches discovery and a JWKS on the same host over one connection, thumbprint checked for each, and closes it', async () => {
    idp.resetCounts()
    const keys = await fetchIssuerKeys(idp.issuer, fps, opts)
    expect(idp.requests(idp.discoveryPath)).toBe(1)
    expect(idp.requests(idp.jwksPath)).toBe(1)
    expect(idp.connections).toBe(1)
    expect(idp.resumedSessions).toBe(0)
    expect(keys.matchedFingerprints).toEqual({ discovery: pki.intermediate.sha1, jwks: pki.intermediate.sha1 })
    // Nothing outlives the fetch: the next fetch connects (and is checked) anew.
    await vi.waitFor(() => expect(idp.openConnections).toBe(0))
    await fetchIssuerKeys(idp.issuer, fps, opts)
    expect(idp.connections).toBe(2)
  })

  it('works for an issuer with a path and a trailing slash when the document names it exactly', async () => {
    const server = await startHttpsIdp({ pki, issuerPath: '/realms/demo', keys: [rsa.jwk] })
    try {
      const issuer = `${server.issuer}/`
      server.setDiscovery({ issuer })
      const keys = await fetchIssuerKeys(issuer, fps, opts)
      expect([...keys.keys.keys()]).toEqual(['rsa-1'])
      expect(server.requests('/realms/demo/.well-known/openid-configuration')).toBe(1)
    } finally {
      await server.close()
    }
  })

  it.each([
    ['a trailing slash', (i: string) => `${i}/`],
    ['different case', (i: string) => i.replace('https', 'HTTPS')],
    ['another host', () => 'https://evil.example'],
  ])('refuses a discovery document whose issuer differs by %s', async (_what, change) => {
    idp.setDiscovery({ issuer: change(idp.issuer) })
    idp.resetCounts()
    const e = await apiFailure(fetchIssuerKeys(idp.issuer, fps, opts))
    expect(e.code).toBe('AuthenticationFail.OIDCToken.IssuerConfigurationBroken')
    expect(e.message).toMatch(new RegExp(`^Get public keys from OIDC Provider failed, the issuer is ${idp.issuer.replace(/[.]/g, '\\.')}\\. The discovery document names the issuer`))
    expect(discoveryFailureOf(e)).toMatchObject({ kind: 'issuer-mismatch', stage: 'discovery' })
    expect(idp.requests(idp.jwksPath)).toBe(0)
  })

  it('refuses a plain http jwks_uri without fetching it', async () => {
    idp.setDiscovery({ jwks_uri: `http://127.0.0.1:${idp.port}${idp.jwksPath}` })
    idp.resetCounts()
    const e = await apiFailure(fetchIssuerKeys(idp.issuer, fps, opts))
    expect(e.code).toBe('AuthenticationFail.OIDCToken.IssuerConfigurationBroken')
    expect(discoveryFailureOf(e)).toMatchObject({ kind: 'not-https', stage: 'jwks' })
    expect(idp.requests(idp.jwksPath)).toBe(0)
  })

  it('refuses a discovery document without jwks_uri', async () => {
    idp.setDiscovery({ jwks_uri: undefined })
    const e = await apiFailure(fetchIssuerKeys(idp.issuer, fps, opts))
    expect(discoveryFailureOf(e)).toMatchObject({ kind: 'invalid-discovery' })
  })

  it('puts the jwks_uri host through the SSRF guard too', async () => {
    // Discovery is answered locally; the JWKS fetch goes through the real fetcher with the guard on.
    const fetchJson: DiscoveryOptions['fetchJson'] = async (url, o) =>
      url.endsWith('/.well-known/openid-configuration')
        ? { status: 200, json: { issuer: 'https://idp.example', jwks_uri: 'https://169.254.169.254/latest/meta-data/jwks' }, chain: [], matchedFingerprint: fps[0]!, lastSentSha1: fps[0]!, lastSentExact: false }
        : fetchHttpsJson(url, o)
    const e = await apiFailure(fetchIssuerKeys('https://idp.example', fps, { allowPrivate: false, fetchJson }))
    expect(e.code).toBe('AuthenticationFail.OIDCToken.IssuerConfigurationBroken')
    expect(discoveryFailureOf(e)).toMatchObject({ kind: 'forbidden-address', stage: 'jwks' })
    expect(e.message).toContain('metadata')
  })

  it('requires a registered fingerprint in the chain of the JWKS host as well', async () => {
    const jwksHost = await startHttpsIdp({ pki: otherPki, keys: [rsa.jwk] })
    try {
      idp.setDiscovery({ jwks_uri: jwksHost.origin + jwksHost.jwksPath })
      const e = await apiFailure(fetchIssuerKeys(idp.issuer, fps, opts))
      expect(e.code).toBe('AuthenticationFail.OIDCToken.PublicKeyFingerprintMismatch')
      const f = discoveryFailureOf(e)!
      expect(f).toMatchObject({ kind: 'fingerprint-mismatch', stage: 'jwks', lastSentSha1: otherPki.intermediate.sha1 })
      expect(f.chain?.map((c) => c.sha1)).toContain(otherPki.root.sha1)
      const ok = await fetchIssuerKeys(idp.issuer, [pki.intermediate.sha1, otherPki.intermediate.sha1], opts)
      expect(ok.matchedFingerprints).toEqual({ discovery: pki.intermediate.sha1, jwks: otherPki.intermediate.sha1 })
    } finally {
      await jwksHost.close()
    }
  })

  it('maps a mismatch on the discovery host to PublicKeyFingerprintMismatch naming the fingerprint to add', async () => {
    const e = await apiFailure(fetchIssuerKeys(idp.issuer, [otherPki.root.sha1], opts))
    expect(e.code).toBe('AuthenticationFail.OIDCToken.PublicKeyFingerprintMismatch')
    expect(e.status).toBe(401)
    expect(e.message).toContain(pki.intermediate.sha1)
    expect(discoveryFailureOf(e)).toMatchObject({ kind: 'fingerprint-mismatch', stage: 'discovery' })
  })

  it('maps an untrusted chain to HttpsUrlInvalid', async () => {
    const e = await apiFailure(fetchIssuerKeys(idp.issuer, fps, { ...opts, ca: otherPki.root.certPem }))
    expect(e.code).toBe('AuthenticationFail.OIDCToken.HttpsUrlInvalid')
    expect(e.message).toMatch(/^Invoke url failed due to certificate chain validation/)
  })

  it.each([
    ['a 500 on discovery', () => idp.route(idp.discoveryPath, { status: 500, body: { secret: 'body-marker-1' } }), 'bad-status', 'discovery'],
    ['a redirect on the JWKS', () => idp.route(idp.jwksPath, { status: 301, headers: { location: 'https://169.254.169.254/' } }), 'redirect', 'jwks'],
    ['a reset on the JWKS', () => idp.route(idp.jwksPath, { mode: 'reset' }), 'unreachable', 'jwks'],
    ['a hanging discovery', () => idp.route(idp.discoveryPath, { mode: 'hang' }), 'timeout', 'discovery'],
    ['an endless JWKS', () => idp.route(idp.jwksPath, { mode: 'endless' }), 'too-large', 'jwks'],
    ['a JWKS that is not JSON', () => idp.route(idp.jwksPath, { body: 'body-marker-2 <html>' }), 'bad-json', 'jwks'],
    ['a JWKS without keys', () => idp.route(idp.jwksPath, { body: { body: 'body-marker-3' } }), 'invalid-jwks', 'jwks'],
    ['a JWKS with 101 keys', () => idp.setKeys(Array.from({ length: 101 }, () => rsa.jwk)), 'invalid-jwks', 'jwks'],
  ])('maps %s to IssuerConfigurationBroken without echoing the body', async (_what, arrange, kind, stage) => {
    arrange()
    const e = await apiFailure(fetchIssuerKeys(idp.issuer, fps, { ...opts, maxBodyBytes: 64 * 1024 }))
    expect(e.code).toBe('AuthenticationFail.OIDCToken.IssuerConfigurationBroken')
    expect(e.message.startsWith(`Get public keys from OIDC Provider failed, the issuer is ${idp.issuer}. `)).toBe(true)
    expect(e.message).not.toMatch(/body-marker/)
    expect(discoveryFailureOf(e)).toMatchObject({ kind, stage })
  })

  it('bounds discovery and JWKS together by one total timeout', async () => {
    idp.route(idp.discoveryPath, { delayMs: 250, body: { issuer: idp.issuer, jwks_uri: idp.origin + idp.jwksPath } })
    idp.route(idp.jwksPath, { delayMs: 250, body: { keys: [rsa.jwk] } })
    await expect(fetchIssuerKeys(idp.issuer, fps, { ...opts, totalTimeoutMs: 2_000 })).resolves.toBeDefined()
    const e = await apiFailure(fetchIssuerKeys(idp.issuer, fps, { ...opts, totalTimeoutMs: 400 }))
    const failure = discoveryFailureOf(e)
    expect(failure).toMatchObject({ kind: 'timeout', stage: 'jwks' })
    // The JWKS got what the discovery (delayed 250 ms) left of the 400 ms, not a budget of its own.
    const jwksBudgetMs = Number(/did not deliver the document within (\d+) ms$/.exec(failure!.message)?.[1])
    expect(jwksBudgetMs).toBeGreaterThanOrEqual(1)
    expect(jwksBudgetMs).toBeLessThanOrEqual(400 - 250)
  })

  it('words a refused connection and a timeout alike', async () => {
    idp.route(idp.discoveryPath, { mode: 'hang' })
    const timedOut = await apiFailure(fetchIssuerKeys(idp.issuer, fps, opts))
    idp.route(idp.discoveryPath, { mode: 'reset' })
    const reset = await apiFailure(fetchIssuerKeys(idp.issuer, fps, opts))
    expect(discoveryFailureOf(timedOut)?.kind).toBe('timeout')
    expect(discoveryFailureOf(reset)?.kind).toBe('unreachable')
    expect(reset.message).toBe(timedOut.message)
  })

  it('keeps usable keys and records why weak, duplicate and mis-declared keys were skipped', async () => {
    idp.setKeys([
      rsa.jwk,
      weak.jwk,
      { ...rsa.jwk, kid: 'e-one', e: 'AQ' },
      { ...rsa.jwk, kid: 'e-even', e: 'AQAA' },
      { ...ec.jwk, kid: 'dup' },
      { ...rsa.jwk, kid: 'dup' },
      { ...rsa.jwk, kid: 'enc', use: 'enc' },
      { ...rsa.jwk, kid: 'hs', alg: 'HS256' },
      { ...ec.jwk, kid: 'es-wrong', alg: 'RS256' },
    ])
    const keys = await fetchIssuerKeys(idp.issuer, fps, opts)
    expect([...keys.keys.keys()]).toEqual(['rsa-1'])
    expect(keys.skipped.map((s) => s.kid)).toEqual(['weak', 'e-one', 'e-even', 'dup', 'dup', 'enc', 'hs', 'es-wrong'])
  })
})
