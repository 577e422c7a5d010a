// Hostile IdPs at the EXCHANGE level (issue 7 items 2 and 3): two issuers registered in one account, one
// well-behaved and one misbehaving in a new way per case (each case gets its own IdP, so no cache or
// penalty box carries over). For every case: the documented AuthenticationFail.OIDCToken.* code, no
// credentials, the call resolves within the (small) fetch timeouts, and exchanges for the OTHER issuer
// run concurrently and keep succeeding. test/oidc/{https-fetch,discovery,jwks-cache}.test.ts prove the
// fetcher's decisions; this file proves the exchange inherits them.
//
// SSRF: with ALLOW_PRIVATE_ISSUERS=false, issuers at loopback / link-local / metadata / private
// addresses in many spellings (and a DNS name resolving to loopback) are refused with
// IssuerConfigurationBroken before any connection: the IdP listening there counts none.

import { sign } from 'node:crypto'
import { lookup as dnsLookup } from 'node:dns'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { freePort } from '../../local/dynamodb-local.ts'
import type { Resolver } from '../../shared/oidc/net-guard.ts'
import { injectExchange, RAM } from '../support/exchange-fixture.ts'
import { makeSigningKey, startHttpsIdp, type HttpsIdp, type TestSigningKey } from '../support/https-idp.ts'
import { IMS, startTestService, type TestService } from '../support/service.ts'
import { createTestPki, type TestPki } from '../support/test-ca.ts'
import { expectErrorEnvelope, expectNoCredentials } from './helpers.ts'

const BROKEN = 'AuthenticationFail.OIDCToken.IssuerConfigurationBroken'
const HTTPS_INVALID = 'AuthenticationFail.OIDCToken.HttpsUrlInvalid'
const MISMATCH = 'AuthenticationFail.OIDCToken.PublicKeyFingerprintMismatch'
const SIGNATURE = 'AuthenticationFail.OIDCToken.InvalidSignature'

/** Small on purpose: every hostile case must resolve on these, not on the 2 s / 5 s defaults. */
const CONNECT_TIMEOUT_MS = 1_000
const TOTAL_TIMEOUT_MS = 1_500
/** Generous: the point is that the call resolves, not how fast (CI machines are slow and shared). */
const BOUND_MS = 10_000

let pki: TestPki // trusted, its intermediate is registered
let otherPki: TestPki // trusted CA, thumbprint not registered
let roguePki: TestPki // not trusted at all
let svc: TestService
let goodIdp: HttpsIdp
const goodKey = makeSigningKey('good-1')
const badKey = makeSigningKey('bad-1')
const strangerKey = makeSigningKey('stranger')
const opened: HttpsIdp[] = []

beforeAll(async () => {
  ;[pki, otherPki, roguePki] = await Promise.all([createTestPki('hostile'), createTestPki('other'), createTestPki('rogue')])
  svc = await startTestService({
    env: { ALLOW_PRIVATE_ISSUERS: 'true' },
    fetchOptions: { ca: [pki.root.certPem, otherPki.root.certPem], connectTimeoutMs: CONNECT_TIMEOUT_MS, totalTimeoutMs: TOTAL_TIMEOUT_MS },
  })
  goodIdp = await idp(pki, [goodKey.jwk])
  await register(svc, 'good', goodIdp.issuer)
  const first = await exchange(svc, 'good', token(goodIdp.issuer, goodKey))
  expect(first.status, JSON.stringify(first.body)).toBe(200)
}, 120_000)
afterAll(async () => {
  for (const i of opened) await i.close()
  await svc?.close()
})

// Each IdP gets its own issuer path: the OS may hand a closed IdP's port to a new one, and IssuerUrls
// are unique per account.
let idpCount = 0
async function idp(p: TestPki, keys = [badKey.jwk]): Promise<HttpsIdp> {
  const i = await startHttpsIdp({ pki: p, keys, issuerPath: `/idp-${++idpCount}` })
  opened.push(i)
  return i
}

const trust = (account: string, provider: string) => JSON.stringify({
  Version: '1',
  Statement: [{ Effect: 'Allow', Action: 'sts:AssumeRole', Principal: { Federated: `acs:ram::${account}:oidc-provider/${provider}` }, Condition: { StringEquals: { 'oidc:aud': 'sts.aliyuncs.com' } } }],
})

async function register(s: TestService, name: string, issuer: string, fingerprint = pki.intermediate.sha1, withRole = true): Promise<void> {
  const created = await s.call('CreateOIDCProvider', IMS, { OIDCProviderName: name, IssuerUrl: issuer, Fingerprints: fingerprint, ClientIds: 'sts.aliyuncs.com' })
  expect(created.status, JSON.stringify(created.body)).toBe(200)
  if (!withRole) return
  const role = await s.call('CreateRole', RAM, { RoleName: name, AssumeRolePolicyDocument: trust(s.root.AccountId, name) })
  expect(role.status, JSON.stringify(role.body)).toBe(200)
}

function token(issuer: string, key: TestSigningKey, claims: Record<string, unknown> = {}): string {
  const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url')
  const iat = Math.floor(Date.now() / 1000)
  const input = `${b64({ alg: 'RS256', typ: 'JWT', kid: key.kid })}.${b64({ iss: issuer, sub: 'repo:octo-org/app', aud: 'sts.aliyuncs.com', iat, exp: iat + 600, ...claims })}`
  return `${input}.${sign('sha256', Buffer.from(input), key.privateKey).toString('base64url')}`
}

interface Answer {
  status: number
  body: Record<string, any> // eslint-disable-line @typescript-eslint/no-explicit-any
  raw: string
  ms: number
}

async function exchange(s: TestService, name: string, oidcToken: string): Promise<Answer> {
  const account = s.root.AccountId
  const started = performance.now()
  const res = await injectExchange(s.app, {
    OIDCProviderArn: `acs:ram::${account}:oidc-provider/${name}`,
    RoleArn: `acs:ram::${account}:role/${name}`,
    RoleSessionName: 'hostile-idp',
    OIDCToken: oidcToken,
  })
  return { status: res.statusCode, body: res.json(), raw: res.body, ms: performance.now() - started }
}

/** Runs `hostile` and, until it settles, good exchanges one after another (at least one). */
async function alongside(hostile: Promise<Answer>): Promise<{ hostile: Answer; good: Answer[] }> {
  let settled = false
  const watched = hostile.finally(() => {
    settled = true
  })
  const good: Answer[] = []
  do good.push(await exchange(svc, 'good', token(goodIdp.issuer, goodKey)))
  while (!settled)
  return { hostile: await watched, good }
}

interface HostileCase {
  name: string
  code: string
  /** The IdP's certificate (default: the trusted, registered PKI). */
  pki?: () => TestPki
  /** The fingerprint registered for the provider (default: the trusted intermediate). */
  fingerprint?: () => string
  /** Make the IdP misbehave; may return a different issuer URL to register (e.g. a closed port). */
  arrange(bad: HttpsIdp): void | string | Promise<void | string>
  /** Checked after the exchange. */
  verify?(bad: HttpsIdp, answer: Answer): void
}

const big = (bytes: number) => JSON.stringify({ keys: [badKey.jwk], pad: 'x'.repeat(bytes) })

const CASES: HostileCase[] = [
  // slowloris and size
  { name: 'slow headers on discovery (answers after a minute)', code: BROKEN, arrange: (b) => b.route(b.discoveryPath, { delayMs: 60_000 }) },
  { name: 'slow headers on the JWKS', code: BROKEN, arrange: (b) => b.route(b.jwksPath, { delayMs: 60_000 }) },
  { name: 'a discovery request that is never answered', code: BROKEN, arrange: (b) => b.route(b.discoveryPath, { mode: 'hang' }) },
  { name: 'slow body: headers at once, then one byte every 50 ms', code: BROKEN, arrange: (b) => b.route(b.jwksPath, { mode: 'slow-body', slowChunkMs: 50 }) },
  { name: 'slow body on discovery', code: BROKEN, arrange: (b) => b.route(b.discoveryPath, { mode: 'slow-body', slowChunkMs: 200 }) },
  { name: 'an endless JWKS', code: BROKEN, arrange: (b) => b.route(b.jwksPath, { mode: 'endless' }) },
  { name: 'an oversized JWKS (600 KiB)', code: BROKEN, arrange: (b) => b.route(b.jwksPath, { body: big(600 * 1024) }) },
  { name: 'an oversized discovery document (2 MiB)', code: BROKEN, arrange: (b) => b.route(b.discoveryPath, { body: JSON.stringify({ issuer: b.issuer, jwks_uri: b.origin + b.jwksPath, pad: 'x'.repeat(2 * 1024 * 1024) }) }) },
  { name: 'a JWKS with 101 keys', code: BROKEN, arrange: (b) => b.setKeys(Array.from({ length: 101 }, (_, i) => ({ ...badKey.jwk, kid: `k${i}` }))) },
  // redirects and URLs
  {
    name: 'discovery redirects to another host (the good IdP)',
    code: BROKEN,
    arrange: (b) => b.route(b.discoveryPath, { status: 302, headers: { location: `https://localhost:${goodIdp.port}${goodIdp.discoveryPath}` } }),
  },
  { name: 'the JWKS redirects to the metadata service', code: BROKEN, arrange: (b) => b.route(b.jwksPath, { status: 301, headers: { location: 'https://169.254.169.254/latest/meta-data/' } }) },
  {
    name: 'a plain http jwks_uri (never fetched)',
    code: BROKEN,
    arrange: (b) => b.setDiscovery({ jwks_uri: `http://127.0.0.1:${b.port}${b.jwksPath}` }),
    verify: (b) => expect(b.requests(b.jwksPath)).toBe(0),
  },
  { name: 'a jwks_uri with user information', code: BROKEN, arrange: (b) => b.setDiscovery({ jwks_uri: `https://user:pass@127.0.0.1:${b.port}${b.jwksPath}` }) },
  { name: 'a jwks_uri that is not a URL', code: BROKEN, arrange: (b) => b.setDiscovery({ jwks_uri: 'jwks' }) },
  { name: 'discovery names another issuer (the good one)', code: BROKEN, arrange: (b) => b.setDiscovery({ issuer: goodIdp.issuer }), verify: (b) => expect(b.requests(b.jwksPath)).toBe(0) },
  { name: 'discovery names the issuer with a trailing slash', code: BROKEN, arrange: (b) => b.setDiscovery({ issuer: `${b.issuer}/` }) },
  { name: 'discovery names the issuer with HTTPS upper-cased', code: BROKEN, arrange: (b) => b.setDiscovery({ issuer: b.issuer.replace('https:', 'HTTPS:') }) },
  { name: 'discovery without an issuer', code: BROKEN, arrange: (b) => b.setDiscovery({ issuer: undefined }) },
  // keys
  { name: 'duplicate kids: the token kid is published for two different keys', code: SIGNATURE, arrange: (b) => b.setKeys([badKey.jwk, { ...strangerKey.jwk, kid: badKey.kid }]) },
  { name: 'the key is published with use "enc"', code: SIGNATURE, arrange: (b) => b.setKeys([{ ...badKey.jwk, use: 'enc' }]) },
  { name: 'the key is published with key_ops ["encrypt"]', code: SIGNATURE, arrange: (b) => b.setKeys([{ ...badKey.jwk, key_ops: ['encrypt'] }]) },
  { name: 'the key is published for RS384 (the token is RS256)', code: SIGNATURE, arrange: (b) => b.setKeys([{ ...badKey.jwk, alg: 'RS384' }]) },
  { name: 'the key is published for HS256', code: SIGNATURE, arrange: (b) => b.setKeys([{ ...badKey.jwk, alg: 'HS256' }]) },
  { name: 'the key is published for ES256 although it is RSA', code: SIGNATURE, arrange: (b) => b.setKeys([{ ...badKey.jwk, alg: 'ES256' }]) },
  { name: 'the key is published with its private members (leaked)', code: SIGNATURE, arrange: (b) => b.setKeys([{ ...(badKey.privateKey.export({ format: 'jwk' }) as Record<string, unknown>), kid: badKey.kid, alg: 'RS256', use: 'sig' }]) },
  { name: 'a symmetric (oct) key under the kid', code: SIGNATURE, arrange: (b) => b.setKeys([{ kty: 'oct', k: Buffer.from('secret').toString('base64url'), kid: badKey.kid }]) },
  { name: 'a JWKS with no keys', code: SIGNATURE, arrange: (b) => b.setKeys([]) },
  { name: 'a JWKS without a keys array', code: BROKEN, arrange: (b) => b.route(b.jwksPath, { body: { key: badKey.jwk } }) },
  // errors and resets
  { name: '500 on discovery', code: BROKEN, arrange: (b) => b.route(b.discoveryPath, { status: 500, body: { error: 'boom' } }) },
  { name: '500 on the JWKS', code: BROKEN, arrange: (b) => b.route(b.jwksPath, { status: 500 }) },
  { name: '404 on discovery', code: BROKEN, arrange: (b) => b.route(b.discoveryPath, { status: 404 }) },
  { name: '503 with a huge body', code: BROKEN, arrange: (b) => b.route(b.discoveryPath, { status: 503, body: 'x'.repeat(4 * 1024 * 1024) }) },
  { name: 'a reset on discovery', code: BROKEN, arrange: (b) => b.route(b.discoveryPath, { mode: 'reset' }) },
  { name: 'a reset on the JWKS', code: BROKEN, arrange: (b) => b.route(b.jwksPath, { mode: 'reset' }) },
  { name: 'discovery that is not JSON', code: BROKEN, arrange: (b) => b.route(b.discoveryPath, { body: '<html>login</html>' }) },
  { name: 'a gzip-encoded JWKS (never requested)', code: BROKEN, arrange: (b) => b.route(b.jwksPath, { body: big(10), headers: { 'content-encoding': 'gzip' } }) },
  { name: 'a refused connection (nothing listens at the issuer)', code: BROKEN, arrange: async () => `https://127.0.0.1:${await freePort()}` },
  // certificate chains
  { name: 'a chain from a trusted CA whose thumbprint is not registered', code: MISMATCH, pki: () => otherPki, arrange: () => {} },
  { name: 'a chain from an untrusted CA, its own thumbprint registered', code: HTTPS_INVALID, pki: () => roguePki, fingerprint: () => roguePki.intermediate.sha1, arrange: () => {} },
  {
    name: 'the JWKS on a host whose chain does not carry the registered thumbprint',
    code: MISMATCH,
    arrange: async (b) => {
      const elsewhere = await idp(otherPki, [badKey.jwk])
      b.setDiscovery({ jwks_uri: `https://localhost:${elsewhere.port}${elsewhere.jwksPath}` })
    },
  },
]

let n = 0

describe('hostile IdPs through AssumeRoleWithOIDC, with a well-behaved issuer alongside', () => {
  it.each(CASES.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    const bad = await idp(c.pki?.() ?? pki)
    const issuer = (await c.arrange(bad)) ?? bad.issuer
    const name = `bad-${++n}`
    await register(svc, name, issuer, c.fingerprint?.() ?? pki.intermediate.sha1)
    const goodDiscoveryBefore = goodIdp.requests(goodIdp.discoveryPath)

    const { hostile, good } = await alongside(exchange(svc, name, token(issuer, badKey)))

    expect(hostile.status, hostile.raw.slice(0, 400)).toBe(401)
    expectErrorEnvelope(hostile.body)
    expect(hostile.body.Code).toBe(c.code)
    expectNoCredentials(hostile.body, hostile.raw)
    // Nothing the IdP sent comes back (no body echo), and the message stays short.
    expect(hostile.raw).not.toMatch(/boom|<html>|xxxxxxxxxx|login/)
    expect(hostile.body.Message.length).toBeLessThan(700)
    expect(hostile.ms).toBeLessThan(BOUND_MS)
    c.verify?.(bad, hostile)

    // The other issuer was served all along, and its IdP was never contacted on the hostile one's behalf.
    expect(good.length).toBeGreaterThan(0)
    for (const g of good) expect(g.status, g.raw.slice(0, 300)).toBe(200)
    expect(goodIdp.requests(goodIdp.discoveryPath)).toBe(goodDiscoveryBefore)

    // The failure is remembered (penalty box): a retry right away costs the IdP nothing more and
    // answers the same, at once.
    const seen = bad.connections
    const again = await exchange(svc, name, token(issuer, badKey))
    expect(again.body.Code).toBe(c.code)
    expect(again.ms).toBeLessThan(BOUND_MS)
    expect(bad.connections).toBe(seen)

    await bad.close()
  })

  it('a well-behaved issuer fetched for the first time is not held up by one that never answers', async () => {
    const hanging = await idp(pki)
    hanging.route(hanging.discoveryPath, { mode: 'hang' })
    const fresh = await idp(pki, [goodKey.jwk])
    await register(svc, 'hangs', hanging.issuer)
    await register(svc, 'fresh', fresh.issuer)
    const slow = exchange(svc, 'hangs', token(hanging.issuer, badKey))
    let slowSettled = false
    void slow.finally(() => { slowSettled = true })
    // Start the cold fetch of the other issuer while the first is stuck in its handshake budget.
    await new Promise((r) => setTimeout(r, 50))
    const quick = await exchange(svc, 'fresh', token(fresh.issuer, goodKey))
    // Answered while the other issuer's fetch was still waiting out its timeout, not queued behind it.
    expect(slowSettled).toBe(false)
    const stuck = await slow
    expect(quick.status, quick.raw.slice(0, 300)).toBe(200)
    expect(stuck.body.Code).toBe(BROKEN)
    expect(fresh.requests(fresh.discoveryPath)).toBe(1)
    await hanging.close()
  })

  it('thirty concurrent exchanges against a hanging IdP cost it one connection and all resolve', async () => {
    const hanging = await idp(pki)
    hanging.route(hanging.discoveryPath, { mode: 'hang' })
    await register(svc, 'flooded', hanging.issuer)
    const answers = await Promise.all(Array.from({ length: 30 }, () => exchange(svc, 'flooded', token(hanging.issuer, badKey))))
    for (const a of answers) expect(a.body.Code).toBe(BROKEN)
    expect(hanging.connections).toBe(1)
    expect(hanging.requests(hanging.discoveryPath)).toBe(1)
    await hanging.close()
  })
})

describe('SSRF through the exchange (ALLOW_PRIVATE_ISSUERS=false)', () => {
  let guarded: TestService
  let target: HttpsIdp
  let closed = 0
  // A DNS name an attacker controls that resolves to loopback / the metadata service; other names resolve normally.
  const resolver: Resolver = (hostname, options, callback) => {
    const fake: Record<string, string> = { 'idp.attacker.test': '127.0.0.1', 'meta.attacker.test': '100.100.100.200', 'mixed.attacker.test': '8.8.8.8' }
    const address = fake[hostname]
    if (address === undefined) return dnsLookup(hostname, options, callback)
    const addresses = hostname === 'mixed.attacker.test' ? [{ address, family: 4 }, { address: '10.1.2.3', family: 4 }] : [{ address, family: 4 }]
    return callback(null, addresses)
  }

  beforeAll(async () => {
    guarded = await startTestService({
      env: { ALLOW_PRIVATE_ISSUERS: 'false' },
      fetchOptions: { ca: pki.root.certPem, connectTimeoutMs: CONNECT_TIMEOUT_MS, totalTimeoutMs: TOTAL_TIMEOUT_MS, resolver },
    })
    // A real, well-behaved IdP on loopback: were the guard missing, the exchange would reach it.
    target = await idp(pki)
    closed = await freePort()
  }, 60_000)
  afterAll(async () => {
    await guarded?.close()
  })

  // Each case names the guard's reason for refusing (net-guard.ts ForbiddenAddressError: "the host <h> is
  // not allowed: its address is <reason>"): a timeout or a refused connection also gives
  // IssuerConfigurationBroken, so only this wording shows that the guard, not the network, said no.
  const LOOPBACK = /is not allowed: its address is a loopback address \(127\.0\.0\.0\/8\)/
  const LOOPBACK_ANY = /is not allowed: its address is (a loopback address \(127\.0\.0\.0\/8\)|the IPv6 loopback address \(::1\))/
  const spellings = (port: () => number): Array<[string, () => string, RegExp]> => [
    ['loopback', () => `https://127.0.0.1:${port()}`, LOOPBACK],
    ['loopback, another address of 127/8', () => `https://127.1.2.3:${port()}`, LOOPBACK],
    ['loopback in decimal', () => `https://2130706433:${port()}`, LOOPBACK],
    ['loopback in hex', () => `https://0x7f000001:${port()}`, LOOPBACK],
    ['loopback in octal', () => `https://0177.0.0.1:${port()}`, LOOPBACK],
    ['loopback shortened', () => `https://127.1:${port()}`, LOOPBACK],
    ['loopback as IPv4-mapped IPv6', () => `https://[::ffff:127.0.0.1]:${port()}`, /is not allowed: its address is a loopback address \(127\.0\.0\.0\/8\), as an IPv4-mapped IPv6 address/],
    ['loopback as IPv4-mapped IPv6 in hex', () => `https://[::ffff:7f00:1]:${port()}`, /is not allowed: its address is a loopback address \(127\.0\.0\.0\/8\), as an IPv4-mapped IPv6 address/],
    ['IPv6 loopback', () => `https://[::1]:${port()}`, /is not allowed: its address is the IPv6 loopback address \(::1\)/],
    ['localhost', () => `https://localhost:${port()}`, LOOPBACK_ANY],
    ['a DNS name resolving to loopback', () => `https://idp.attacker.test:${port()}`, LOOPBACK],
    ['unspecified 0.0.0.0', () => `https://0.0.0.0:${port()}`, /is not allowed: its address is a "this network" address \(0\.0\.0\.0\/8\)/],
  ]
  const elsewhere: Array<[string, () => string, RegExp]> = [
    ['the AWS/GCP metadata address', () => 'https://169.254.169.254', /is not allowed: its address is a cloud metadata address \(169\.254\.169\.254\)/],
    ['the AWS metadata address in decimal', () => 'https://2852039166', /is not allowed: its address is a cloud metadata address \(169\.254\.169\.254\)/],
    ['the Alibaba Cloud metadata address', () => 'https://100.100.100.200', /is not allowed: its address is the Alibaba Cloud metadata address \(100\.100\.100\.200\)/],
    ['a DNS name resolving to the Alibaba Cloud metadata address', () => 'https://meta.attacker.test', /is not allowed: its address is the Alibaba Cloud metadata address \(100\.100\.100\.200\)/],
    ['a DNS name resolving to a public and a private address', () => 'https://mixed.attacker.test', /is not allowed: its address is a private address \(10\.0\.0\.0\/8\)/],
    ['a private 10/8 address', () => 'https://10.0.0.1', /is not allowed: its address is a private address \(10\.0\.0\.0\/8\)/],
    ['a private 192.168/16 address', () => 'https://192.168.1.1', /is not allowed: its address is a private address \(192\.168\.0\.0\/16\)/],
    ['a private 172.16/12 address', () => 'https://172.16.0.1', /is not allowed: its address is a private address \(172\.16\.0\.0\/12\)/],
    ['carrier-grade NAT 100.64/10', () => 'https://100.64.0.1', /is not allowed: its address is a carrier-grade NAT address \(100\.64\.0\.0\/10\)/],
    ['IPv6 link-local', () => 'https://[fe80::1]', /is not allowed: its address is a link-local address \(fe80::\/10\)/],
    ['IPv6 unique-local', () => 'https://[fd00::1]', /is not allowed: its address is a unique local address \(fc00::\/7\)/],
  ]
  const all = [...spellings(() => target.port), ...elsewhere]
  const messages = new Map<string, string>()

  it.each(all.map(([what, url, reason], i) => [what, url, reason, i] as const))('refuses an issuer at %s before connecting', async (_what, url, reason, i) => {
    const issuer = url()
    const name = `ssrf-${i}`
    await register(guarded, name, issuer, pki.intermediate.sha1, false)
    const answer = await exchange(guarded, name, token(issuer, badKey))
    expect(answer.status, answer.raw.slice(0, 300)).toBe(401)
    expectErrorEnvelope(answer.body)
    expect(answer.body.Code).toBe(BROKEN)
    expect(answer.body.Message).toMatch(reason)
    expectNoCredentials(answer.body, answer.raw)
    expect(answer.ms).toBeLessThan(BOUND_MS)
    messages.set(issuer, answer.body.Message)
  })

  it('the IdP listening on loopback saw no connection at all', () => {
    expect(messages.size).toBe(all.length)
    expect(target.connections).toBe(0)
    expect(target.requests(target.discoveryPath)).toBe(0)
  })

  it('the answer does not reveal whether a port is open', async () => {
    const open = `https://127.0.0.1:${target.port}`
    const shut = `https://127.0.0.1:${closed}`
    await register(guarded, 'ssrf-closed', shut, pki.intermediate.sha1, false)
    const answer = await exchange(guarded, 'ssrf-closed', token(shut, badKey))
    expect(answer.body.Code).toBe(BROKEN)
    expect(String(answer.body.Message).replaceAll(String(closed), '<port>')).toBe(messages.get(open)!.replaceAll(String(target.port), '<port>'))
    expect(target.connections).toBe(0)
  })

  it('the same issuer is served when private issuers are allowed (the guard, not the IdP, refused)', async () => {
    const issuer = target.issuer // https://127.0.0.1:<port>/idp-<n>
    await register(svc, 'ssrf-allowed', issuer)
    const answer = await exchange(svc, 'ssrf-allowed', token(issuer, badKey))
    expect(answer.status, answer.raw.slice(0, 300)).toBe(200)
    expect(target.connections).toBeGreaterThan(0)
  })
})
