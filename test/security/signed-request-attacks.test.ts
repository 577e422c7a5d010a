// Attacks on signed requests at the HTTP app level (issue 7 item 4): app.inject and a real listener,
// the store-backed authenticator, a real token exchange for STS credentials. Each attack is refused with
// its code and nothing runs: the table is identical before and after (a Scan) and the provider list
// unchanged. Legitimate variants (reordered query, header case and whitespace on the wire, awkward
// values signed by the official SDK) are accepted. test/signing/* prove the verifier's rules one by
// one; this file proves the service applies them.

import { randomBytes } from 'node:crypto'
import http from 'node:http'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildCanonicalRequestV3, hashPayload, signV3, stringToSignV3 } from '../../shared/signing/acs3.ts'
import { percentEncode } from '../../shared/signing/percent-encode.ts'
import { formatUtc } from '../../shared/time.ts'
import { signV1, stringToSignV1 } from '../../shared/signing/v1.ts'
import { imsClient, ims, type ImsClient } from '../e2e/support/ims-sdk.ts'
import { createExchangeFixture, STS, type ExchangeFixture } from '../support/exchange-fixture.ts'
import { IMS } from '../support/service.ts'
import { signRpc, type Credentials, type SignedRequest } from '../support/sign.ts'
import { diffTables, expectErrorEnvelope, expectNothingWritten, scanTable } from './helpers.ts'

let fx: ExchangeFixture
let port = 0
let sessionA: Credentials
let sessionB: Credentials
let n = 0

beforeAll(async () => {
  fx = await createExchangeFixture()
  await fx.svc.app.listen({ host: '127.0.0.1', port: 0 })
  port = (fx.svc.app.server.address() as { port: number }).port
  const stsCreds = async () => {
    const { status, body } = await fx.exchange({ OIDCToken: fx.idToken() })
    expect(status, JSON.stringify(body)).toBe(200)
    return { accessKeyId: body.Credentials.AccessKeyId, secret: body.Credentials.AccessKeySecret, securityToken: body.Credentials.SecurityToken } as Credentials
  }
  sessionA = await stsCreds()
  sessionB = await stsCreds()
  await fx.svc.app.sts.audit.flush()
}, 60_000)
afterAll(async () => {
  await fx?.close()
})

const root = () => fx.svc.rootCreds
const fresh = () => `p-${++n}-${randomBytes(3).toString('hex')}`
const createParams = (name: string, extra: Record<string, string> = {}) => ({
  OIDCProviderName: name,
  IssuerUrl: `https://${name}.example.com`,
  Fingerprints: 'a'.repeat(40),
  ...extra,
})

interface Answer {
  status: number
  body: Record<string, any> // eslint-disable-line @typescript-eslint/no-explicit-any
}

async function inject(req: SignedRequest): Promise<Answer> {
  const res = await fx.svc.app.inject({ method: req.method, url: req.url, headers: req.headers, payload: req.payload })
  return { status: res.statusCode, body: res.json() }
}

async function providerNames(): Promise<string[]> {
  const res = await fx.svc.call('ListOIDCProviders', IMS, {})
  expect(res.status).toBe(200)
  return (res.body.OIDCProviders.OIDCProvider as Array<{ OIDCProviderName: string }>).map((p) => p.OIDCProviderName).sort()
}

/** Sends an attack; expects `status`/`code` and that nothing at all was written or executed. */
async function refused(req: SignedRequest, code: string, status = 400, send: (r: SignedRequest) => Promise<Answer> = inject): Promise<Answer> {
  await fx.svc.app.sts.audit.flush()
  const providers = await providerNames()
  const before = await scanTable(fx.svc.stores)
  const answer = await send(req)
  expect(answer.status, JSON.stringify(answer.body)).toBe(status)
  expectErrorEnvelope(answer.body)
  expect(answer.body.Code).toBe(code)
  expectNothingWritten(diffTables(before, await scanTable(fx.svc.stores)))
  expect(await providerNames()).toEqual(providers)
  return answer
}

const withUrl = (req: SignedRequest, url: string): SignedRequest => ({ ...req, url })
const withHeaders = (req: SignedRequest, headers: Record<string, string>): SignedRequest => ({ ...req, headers: { ...req.headers, ...headers } })
const authParts = (req: SignedRequest) => /^ACS3-HMAC-SHA256 Credential=([^,]+),SignedHeaders=([^,]+),Signature=([0-9a-f]{64})$/.exec(req.headers.authorization!)!
const withSignature = (req: SignedRequest, signature: string) => {
  const [, cred, signed] = authParts(req)
  return withHeaders(req, { authorization: `ACS3-HMAC-SHA256 Credential=${cred},SignedHeaders=${signed},Signature=${signature}` })
}

/** A V3 request signed over exactly these query PAIRS (duplicates included), as a careless client would. */
function signPairs(creds: Credentials, action: string, version: string, query: Array<[string, string]>): SignedRequest {
  const headers: Record<string, string> = {
    host: 'localhost',
    'x-acs-action': action,
    'x-acs-version': version,
    'x-acs-date': formatUtc(Date.now()),
    'x-acs-signature-nonce': randomBytes(16).toString('hex'),
    'x-acs-content-sha256': hashPayload(''),
  }
  const signed = Object.keys(headers).sort()
  const canonical = buildCanonicalRequestV3({ method: 'POST', path: '/', query, headers, hashedPayload: hashPayload('') }, signed)
  headers.authorization = `ACS3-HMAC-SHA256 Credential=${creds.accessKeyId},SignedHeaders=${signed.join(';')},Signature=${signV3(creds.secret, stringToSignV3(canonical))}`
  return { method: 'POST', url: `/?${query.map(([k, v]) => `${percentEncode(k)}=${percentEncode(v)}`).join('&')}`, headers, payload: '' }
}

/** Over a real TCP connection with node's client: header names sent exactly as given. */
function wire(req: SignedRequest, rename: (name: string) => string = (h) => h, revalue: (v: string) => string = (v) => v): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = {}
    for (const [k, v] of Object.entries(req.headers)) headers[rename(k)] = revalue(v)
    const r = http.request({ host: '127.0.0.1', port, method: req.method, path: req.url, headers }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) }))
    })
    r.on('error', reject)
    r.end(req.payload)
  })
}
const onTheWire = (creds: Credentials, action: string, version: string, params: Record<string, string>) =>
  signRpc({ creds, action, version, params, host: `127.0.0.1:${port}` })

/**
 * A V1 (HMAC-SHA1) request signed over exactly these parameters, with the action and version named in
 * the x-acs-action / x-acs-version headers only (which V1 does not sign).
 */
function signV1Without(creds: Credentials, params: Array<[string, string]>, action: string, version: string): SignedRequest {
  const common: Array<[string, string]> = [
    ['AccessKeyId', creds.accessKeyId],
    ['SignatureMethod', 'HMAC-SHA1'],
    ['SignatureVersion', '1.0'],
    ['SignatureNonce', randomBytes(16).toString('hex')],
    ['Timestamp', formatUtc(Date.now())],
    ['Format', 'JSON'],
    ...params,
  ]
  const all: Array<[string, string]> = [...common, ['Signature', signV1(creds.secret, stringToSignV1('POST', common))]]
  return { method: 'POST', url: `/?${all.map(([k, v]) => `${percentEncode(k)}=${percentEncode(v)}`).join('&')}`, headers: { host: 'localhost', 'x-acs-action': action, 'x-acs-version': version }, payload: '' }
}

describe('V1 signatures', () => {
  it('refuses a V1 request whose Action and Version are not among its signed parameters: an unsigned header would choose the action', async () => {
    const name = fresh()
    expect((await inject(signRpc({ creds: root(), action: 'CreateOIDCProvider', version: IMS, params: createParams(name) }))).status).toBe(200)
    // Signed by its client as a read of the provider; an on-path rewrite of the unsigned header makes it a delete.
    const answer = await refused(signV1Without(root(), [['OIDCProviderName', name]], 'DeleteOIDCProvider', IMS), 'IncompleteSignature')
    expect(answer.body.Message).toMatch(/Action parameter is missing/)
    expect((await fx.svc.call('GetOIDCProvider', IMS, { OIDCProviderName: name })).status).toBe(200)
  })
})

describe('replay', () => {
  it('executes a signed request once; the identical request again is SignatureNonceUsed and runs nothing', async () => {
    const name = fresh()
    const req = signRpc({ creds: root(), action: 'CreateOIDCProvider', version: IMS, params: createParams(name) })
    expect((await inject(req)).status).toBe(200)
    expect(await providerNames()).toContain(name)
    await refused(req, 'SignatureNonceUsed')
    // Over the real listener too, the second time on a new connection.
    const overTcp = onTheWire(root(), 'CreateOIDCProvider', IMS, createParams(fresh()))
    expect((await wire(overTcp)).status).toBe(200)
    await refused(overTcp, 'SignatureNonceUsed', 400, (r) => wire(r))
  })

  it('refuses a new request that reuses a nonce, even for another action', async () => {
    const nonce = randomBytes(16).toString('hex')
    expect((await inject(signRpc({ creds: root(), action: 'ListOIDCProviders', version: IMS, nonce }))).status).toBe(200)
    await refused(signRpc({ creds: root(), action: 'CreateOIDCProvider', version: IMS, params: createParams(fresh()), nonce }), 'SignatureNonceUsed')
  })

  it('does not let a refused request burn a nonce: the legitimate request with it still runs', async () => {
    const nonce = randomBytes(16).toString('hex')
    const name = fresh()
    const legit = signRpc({ creds: root(), action: 'CreateOIDCProvider', version: IMS, params: createParams(name), nonce })
    await refused(signRpc({ creds: { ...root(), secret: 'x'.repeat(40) }, action: 'CreateOIDCProvider', version: IMS, params: createParams(name), nonce }), 'SignatureDoesNotMatch')
    expect((await inject(legit)).status).toBe(200)
  })

  it('the nonce store itself refuses the same nonce twice (a replay is no SDK retry)', async () => {
    const now = new Date()
    const nonce = randomBytes(16).toString('hex')
    expect(await fx.svc.stores.nonces.consume('AKTEST', nonce, 60, now)).toBe(true)
    expect(await fx.svc.stores.nonces.consume('AKTEST', nonce, 60, now)).toBe(false)
  })

  it('a replay of STS-signed requests is refused the same way', async () => {
    const req = signRpc({ creds: sessionA, action: 'GetCallerIdentity', version: STS })
    expect((await inject(req)).status).toBe(200)
    await refused(req, 'SignatureNonceUsed')
  })
})

describe('dates', () => {
  const at = (offsetMs: number) => signRpc({ creds: root(), action: 'CreateOIDCProvider', version: IMS, params: createParams(fresh()), date: new Date(Date.now() + offsetMs) })

  it('refuses a request dated 16 minutes ago (stale) and 16 minutes ahead (future)', async () => {
    const stale = await refused(at(-16 * 60_000), 'InvalidTimeStamp.Expired')
    expect(stale.body.Message).toMatch(/stale/)
    const future = await refused(at(16 * 60_000), 'InvalidTimeStamp.Expired')
    expect(future.body.Message).toMatch(/future/)
  })

  it('refuses a year-old request even with a never-seen nonce, and a date in another format', async () => {
    await refused(at(-365 * 86_400_000), 'InvalidTimeStamp.Expired')
    const req = signRpc({ creds: root(), action: 'ListOIDCProviders', version: IMS })
    await refused(withHeaders(req, { 'x-acs-date': new Date().toUTCString() }), 'InvalidTimeStamp.Format')
    await refused(withHeaders(req, { 'x-acs-date': new Date().toISOString() }), 'InvalidTimeStamp.Format')
  })

  it('accepts the window edges a skewed client clock produces (14 minutes either way)', async () => {
    expect((await inject(at(-14 * 60_000))).status).toBe(200)
    expect((await inject(at(14 * 60_000))).status).toBe(200)
  })
})

describe('query parameters', () => {
  it('accepts the signed parameters in any order in the URL', async () => {
    const name = fresh()
    const req = signRpc({ creds: root(), action: 'CreateOIDCProvider', version: IMS, params: createParams(name, { Description: 'reordered', ClientIds: 'a,b' }) })
    const [path, query] = req.url.split('?') as [string, string]
    const reordered = query.split('&').reverse().join('&')
    expect(reordered).not.toBe(query)
    const res = await inject(withUrl(req, `${path}?${reordered}`))
    expect(res.status, JSON.stringify(res.body)).toBe(200)
    expect(res.body.OIDCProvider.Description).toBe('reordered')
  })

  it('refuses a parameter appended twice to a signed URL (ambiguous: which one was signed?)', async () => {
    const victim = fresh()
    const req = signRpc({ creds: root(), action: 'CreateOIDCProvider', version: IMS, params: createParams(victim) })
    await refused(withUrl(req, `${req.url}&OIDCProviderName=evil`), 'InvalidParameter.OIDCProviderName.Duplicate')
    await refused(withUrl(req, `${req.url}&OIDCProviderName=${victim}`), 'InvalidParameter.OIDCProviderName.Duplicate')
    // Spelled differently but the same after decoding.
    await refused(withUrl(req, `${req.url}&OIDCProvider%4Eame=evil`), 'InvalidParameter.OIDCProviderName.Duplicate')
  })

  it('refuses duplicates even when the client signed both copies', async () => {
    const name = fresh()
    const query: Array<[string, string]> = Object.entries(createParams(name))
    query.push(['Description', 'one'], ['Description', 'two'])
    await refused(signPairs(root(), 'CreateOIDCProvider', IMS, query), 'InvalidParameter.Description.Duplicate')
  })

  it('refuses a parameter given in the query and again in a form body', async () => {
    const name = fresh()
    const req = signRpc({ creds: root(), action: 'CreateOIDCProvider', version: IMS, params: createParams(name), form: { OIDCProviderName: 'evil' } })
    await refused(req, 'InvalidParameter.OIDCProviderName.Duplicate')
  })

  it('refuses an unsigned parameter added to the URL', async () => {
    const req = signRpc({ creds: root(), action: 'CreateOIDCProvider', version: IMS, params: createParams(fresh()) })
    await refused(withUrl(req, `${req.url}&Description=injected`), 'SignatureDoesNotMatch')
  })
})

describe('double encoding', () => {
  it('a value that is itself percent-encoded text is signed and stored as that literal text', async () => {
    for (const literal of ['%28', '%2528', '%', '%%', '%zz', '%E2%82%AC', '+', '%2B']) {
      const name = fresh()
      const req = signRpc({ creds: root(), action: 'CreateOIDCProvider', version: IMS, params: createParams(name, { Description: literal }) })
      const res = await inject(req)
      expect(res.status, `${literal}: ${JSON.stringify(res.body)}`).toBe(200)
      const got = await fx.svc.call('GetOIDCProvider', IMS, { OIDCProviderName: name })
      expect(got.body.OIDCProvider.Description).toBe(literal)
    }
  })

  it('refuses a value sent encoded once more or once less than it was signed', async () => {
    const name = fresh()
    // Signed as "(" and sent as %2528 (which decodes to the text "%28"), and the reverse.
    const signedParen = signRpc({ creds: root(), action: 'CreateOIDCProvider', version: IMS, params: createParams(name, { Description: '(' }) })
    expect(signedParen.url).toContain('Description=%28')
    await refused(withUrl(signedParen, signedParen.url.replace('Description=%28', 'Description=%2528')), 'SignatureDoesNotMatch')
    const signedLiteral = signRpc({ creds: root(), action: 'CreateOIDCProvider', version: IMS, params: createParams(name, { Description: '%28' }) })
    expect(signedLiteral.url).toContain('Description=%2528')
    await refused(withUrl(signedLiteral, signedLiteral.url.replace('Description=%2528', 'Description=%28')), 'SignatureDoesNotMatch')
    await refused(withUrl(signedLiteral, signedLiteral.url.replace('Description=%2528', 'Description=%252528')), 'SignatureDoesNotMatch')
  })

  it('reads "(" sent raw, %28 and %28 in lower-case hex alike (one decoded value, one signature)', async () => {
    for (const spelling of ['(', '%28']) {
      const name = fresh()
      const req = signRpc({ creds: root(), action: 'CreateOIDCProvider', version: IMS, params: createParams(name, { Description: '(x)' }) })
      const res = await inject(withUrl(req, req.url.replace('Description=%28x%29', `Description=${spelling}x%29`)))
      expect(res.status, JSON.stringify(res.body)).toBe(200)
    }
    const name = fresh()
    const req = signRpc({ creds: root(), action: 'CreateOIDCProvider', version: IMS, params: createParams(name, { Description: 'é' }) })
    expect((await inject(withUrl(req, req.url.replace('%C3%A9', '%c3%a9')))).status).toBe(200)
  })
})

describe('headers', () => {
  it('accepts header names in any case and values with surrounding spaces, as they arrive over HTTP', async () => {
    const variants: Array<[string, (h: string) => string, (v: string) => string]> = [
      ['Title-Case names', (h) => h.replace(/(^|-)([a-z])/g, (m) => m.toUpperCase()), (v) => v],
      ['UPPER-CASE names', (h) => h.toUpperCase(), (v) => v],
      ['values padded with spaces', (h) => h, (v) => `  ${v} `],
      ['values padded with tabs, names mixed', (h) => h.replace(/a/g, 'A'), (v) => `\t${v}\t`],
    ]
    for (const [what, rename, revalue] of variants) {
      const name = fresh()
      const res = await wire(onTheWire(root(), 'CreateOIDCProvider', IMS, createParams(name)), rename, revalue)
      expect(res.status, `${what}: ${JSON.stringify(res.body)}`).toBe(200)
      expect(res.body.OIDCProvider.OIDCProviderName).toBe(name)
    }
  })

  it('accepts an Authorization header with spaces after the commas (hand-written clients)', async () => {
    const req = onTheWire(root(), 'ListOIDCProviders', IMS, {})
    const [, cred, signed, sig] = authParts(req)
    const res = await wire(withHeaders(req, { authorization: `ACS3-HMAC-SHA256 Credential=${cred}, SignedHeaders=${signed}, Signature=${sig}` }))
    expect(res.status, JSON.stringify(res.body)).toBe(200)
  })

  it('refuses a changed signed header (host, action, version, date) with SignatureDoesNotMatch', async () => {
    const victim = fresh()
    expect((await fx.svc.call('CreateOIDCProvider', IMS, createParams(victim))).status).toBe(200)
    const get = signRpc({ creds: root(), action: 'GetOIDCProvider', version: IMS, params: { OIDCProviderName: victim } })
    // A signature for one action replayed against another: GetOIDCProvider -> DeleteOIDCProvider.
    await refused(withHeaders(get, { 'x-acs-action': 'DeleteOIDCProvider' }), 'SignatureDoesNotMatch')
    await refused(withHeaders(get, { host: 'ims.aliyuncs.com' }), 'SignatureDoesNotMatch')
    await refused(withHeaders(get, { 'x-acs-version': '2015-05-01', 'x-acs-action': 'DeleteRole' }), 'SignatureDoesNotMatch')
    await refused(withHeaders(get, { 'x-acs-date': formatUtc(Date.now() + 1000) }), 'SignatureDoesNotMatch')
    // The action named again in the query, disagreeing with the signed header.
    await refused(withUrl(get, `${get.url}&Action=DeleteOIDCProvider`), 'InvalidParameter')
    expect(await providerNames()).toContain(victim)
  })

  it('refuses an x-acs-* header that is sent but not signed, in particular x-acs-security-token', async () => {
    const req = signRpc({ creds: root(), action: 'ListOIDCProviders', version: IMS })
    const answer = await refused(withHeaders(req, { 'x-acs-security-token': sessionA.securityToken! }), 'IncompleteSignature')
    expect(answer.body.Message).toContain('x-acs-security-token')
    // STS credentials whose token rides along unsigned (signed as if long-term, token added after).
    const unsigned = signRpc({ creds: { accessKeyId: sessionA.accessKeyId, secret: sessionA.secret }, action: 'ListOIDCProviders', version: IMS })
    await refused(withHeaders(unsigned, { 'x-acs-security-token': sessionA.securityToken! }), 'IncompleteSignature')
    await refused(withHeaders(req, { 'x-acs-anything': '1' }), 'IncompleteSignature')
    await refused(withHeaders(signRpc({ creds: root(), action: 'CreateOIDCProvider', version: IMS, params: createParams(fresh()) }), { 'content-type': 'application/x-www-form-urlencoded' }), 'IncompleteSignature')
  })

  it('refuses a body changed after signing', async () => {
    const req = signRpc({ creds: root(), action: 'CreateOIDCProvider', version: IMS, form: createParams(fresh()) })
    await refused({ ...req, payload: req.payload.replace('p-', 'q-') }, 'SignatureDoesNotMatch')
  })
})

describe('security tokens', () => {
  it('signs with STS credentials (the baseline)', async () => {
    const res = await inject(signRpc({ creds: sessionA, action: 'GetCallerIdentity', version: STS }))
    expect(res.status, JSON.stringify(res.body)).toBe(200)
    expect(res.body.IdentityType).toBe('AssumedRoleUser')
  })

  it('refuses session A signing with session B\'s SecurityToken (MismatchWithAccessKey)', async () => {
    await refused(signRpc({ creds: { ...sessionA, securityToken: sessionB.securityToken! }, action: 'ListOIDCProviders', version: IMS }), 'InvalidSecurityToken.MismatchWithAccessKey')
    // Signed with B's secret under A's id: still A's id against B's token.
    await refused(signRpc({ creds: { accessKeyId: sessionA.accessKeyId, secret: sessionB.secret, securityToken: sessionB.securityToken! }, action: 'ListOIDCProviders', version: IMS }), 'InvalidSecurityToken.MismatchWithAccessKey')
  })

  it('refuses a SecurityToken presented with the root AccessKey, and an STS key without its token', async () => {
    await refused(signRpc({ creds: { ...root(), securityToken: sessionA.securityToken! }, action: 'ListOIDCProviders', version: IMS }), 'InvalidSecurityToken.MismatchWithAccessKey')
    await refused(signRpc({ creds: { accessKeyId: sessionA.accessKeyId, secret: sessionA.secret }, action: 'ListOIDCProviders', version: IMS }), 'InvalidSecurityToken.Malformed')
  })

  it('refuses a tampered, truncated or foreign SecurityToken as Malformed', async () => {
    const t = sessionA.securityToken!
    const flip = (s: string, i: number) => `${s.slice(0, i)}${s[i] === 'A' ? 'B' : 'A'}${s.slice(i + 1)}`
    for (const bad of [flip(t, t.length - 5), flip(t, t.length >> 1), t.slice(0, -1), `${t}A`, t.split('.').slice(0, 4).join('.'), 'x', fx.idToken()]) {
      await refused(signRpc({ creds: { ...sessionA, securityToken: bad }, action: 'ListOIDCProviders', version: IMS }), 'InvalidSecurityToken.Malformed')
    }
  })

  it('refuses an x-acs-accesskey-id that names another key than the Credential', async () => {
    const req = signRpc({ creds: sessionA, action: 'ListOIDCProviders', version: IMS })
    await refused(withHeaders(req, { 'x-acs-accesskey-id': sessionB.accessKeyId }), 'InvalidSecurityToken.MismatchWithAccessKey')
  })
})

describe('signatures', () => {
  const base = () => signRpc({ creds: root(), action: 'CreateOIDCProvider', version: IMS, params: createParams(fresh()) })

  it('refuses truncated, padded, upper-cased and empty signatures as IncompleteSignature', async () => {
    const req = base()
    const sig = authParts(req)[3]!
    for (const bad of [sig.slice(0, -1), sig.slice(0, 32), `${sig}0`, sig.toUpperCase(), `${sig.slice(0, -2)}==`]) {
      await refused(withSignature(req, bad), 'IncompleteSignature')
    }
    const [, cred, signed] = authParts(req)
    await refused(withHeaders(req, { authorization: `ACS3-HMAC-SHA256 Credential=${cred},SignedHeaders=${signed},Signature=` }), 'IncompleteSignature')
    await refused(withHeaders(req, { authorization: `ACS3-HMAC-SHA256 Credential=${cred},SignedHeaders=${signed}` }), 'IncompleteSignature')
    await refused(withHeaders(req, { authorization: 'ACS3-HMAC-SHA256' }), 'IncompleteSignature')
  })

  it('refuses a signature with one character changed, or made with another secret', async () => {
    const req = base()
    const sig = authParts(req)[3]!
    await refused(withSignature(req, `${sig.slice(0, -1)}${sig.endsWith('0') ? '1' : '0'}`), 'SignatureDoesNotMatch')
    // Another secret: the last character changed (to one it is not, or the "other" secret is the same one).
    const secret = root().secret
    await refused(signRpc({ creds: { ...root(), secret: `${secret.slice(0, -1)}${secret.endsWith('x') ? 'y' : 'x'}` }, action: 'ListOIDCProviders', version: IMS }), 'SignatureDoesNotMatch')
    await refused(signRpc({ creds: { accessKeyId: root().accessKeyId, secret: sessionA.secret }, action: 'ListOIDCProviders', version: IMS }), 'SignatureDoesNotMatch')
  })

  it('refuses an unknown AccessKeyId, and an unsigned request', async () => {
    await refused(signRpc({ creds: { accessKeyId: 'LTAI0000000000000000', secret: 'x'.repeat(30) }, action: 'ListOIDCProviders', version: IMS }), 'InvalidAccessKeyId.NotFound', 404)
    const req = base()
    const { authorization: _a, ...unsigned } = req.headers
    await refused({ ...req, headers: unsigned }, 'IncompleteSignature')
  })

  it('refuses a V1 request with a truncated Signature parameter', async () => {
    const url = `/?Action=ListOIDCProviders&Version=${IMS}&Format=JSON&AccessKeyId=${root().accessKeyId}&SignatureMethod=HMAC-SHA1&SignatureVersion=1.0&SignatureNonce=${randomBytes(8).toString('hex')}&Timestamp=${encodeURIComponent(formatUtc(Date.now()))}&Signature=${encodeURIComponent('AAAAAAAAAAAAAAAAAAAAAAAAAAA')}`
    await refused({ method: 'POST', url, headers: { host: 'localhost' }, payload: '' }, 'IncompleteSignature')
  })
})

describe('the official IMS SDK over a real listener: its canonicalisation of legitimate values is accepted', () => {
  let v3: ImsClient
  let v1: ImsClient
  beforeAll(() => {
    const opts = { endpoint: `127.0.0.1:${port}`, accessKeyId: root().accessKeyId, accessKeySecret: root().secret }
    v3 = imsClient(opts)
    v1 = imsClient({ ...opts, signatureAlgorithm: 'v2' })
  })

  async function roundTrip(client: ImsClient, description: string): Promise<void> {
    const name = fresh()
    const created = await client.createOIDCProvider(new ims.CreateOIDCProviderRequest({ OIDCProviderName: name, issuerUrl: `https://${name}.example.com`, fingerprints: 'b'.repeat(40), description }))
    expect(created.statusCode).toBe(200)
    const got = await client.getOIDCProvider(new ims.GetOIDCProviderRequest({ OIDCProviderName: name }))
    expect(got.body?.OIDCProvider?.description).toBe(description)
    // Keep the account under its provider quota.
    expect((await client.deleteOIDCProvider(new ims.DeleteOIDCProviderRequest({ OIDCProviderName: name }))).statusCode).toBe(200)
  }

  const AWKWARD = [
    "sub-delims !'()*",
    'spaces  and\ttab',
    'plus+sign and a+b=c',
    'tilde~and-unreserved_.~',
    'percent % and %25 and %2528 and %zz',
    'reserved :/?#[]@ &=;,$',
    'quotes "double" \'single\' `back`',
    'unicode: 中文 é ü ß — “quotes” …',
    'astral: 😀 𝄞 🇯🇵',
    'backslash \\ and <tags> {braces} |pipe| ^caret',
  ]

  it.each(AWKWARD.map((d) => [d] as const))('V3 (ACS3-HMAC-SHA256): %s', async (description) => {
    await roundTrip(v3, description)
  })

  it.each(AWKWARD.map((d) => [d] as const))('V1 (HMAC-SHA1): %s', async (description) => {
    await roundTrip(v1, description)
  })

  it('property: any printable Unicode description round-trips through both signature versions', async () => {
    await fc.assert(
      fc.asyncProperty(fc.string({ unit: 'grapheme', minLength: 1, maxLength: 30 }), fc.boolean(), async (description, legacy) => {
        await roundTrip(legacy ? v1 : v3, description)
      }),
      { numRuns: 40 },
    )
  })
})
