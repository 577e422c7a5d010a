// Secrets never reach the logs (issue 7 item 8): the service is built with a DEBUG logger whose every
// line is captured, then driven through everything that handles a secret — a successful exchange,
// failed exchanges, root-signed and STS-signed management calls (good, badly signed, with a foreign or
// tampered SecurityToken), a legacy V1-signed call, CreateAccount — and no line may contain an OIDC
// token or its signature, an AccessKeySecret, a SecurityToken (or any 40-character slice of one), a
// request signature, or an Authorization header value.

import { randomBytes, sign } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createLogger } from '../../shared/log.ts'
import { OIDC_STS_VERSION } from '../../shared/services/accounts.ts'
import { percentEncode } from '../../shared/signing/percent-encode.ts'
import { signV1, stringToSignV1 } from '../../shared/signing/v1.ts'
import { formatUtc } from '../../shared/time.ts'
import { RAM, STS } from '../support/exchange-fixture.ts'
import { makeSigningKey, startHttpsIdp, type HttpsIdp } from '../support/https-idp.ts'
import { IMS, type TestService } from '../support/service.ts'
import { signRpc, type Credentials, type SignedRequest } from '../support/sign.ts'
import { createTestPki } from '../support/test-ca.ts'
import { startTestService } from '../support/service.ts'

const lines: string[] = []
let svc: TestService
let idp: HttpsIdp
const key = makeSigningKey('k1')

/** Everything that must never be logged, with a label for the failure message. */
const secrets: Array<{ what: string; value: string }> = []
/** Long secrets also must not appear in part: every 40-character slice of these is checked. */
const sliced: Array<{ what: string; value: string }> = []

const remember = (what: string, value: string | undefined, slices = false) => {
  if (value === undefined || value === '') return
  secrets.push({ what, value })
  if (slices) sliced.push({ what, value })
}

beforeAll(async () => {
  const pki = await createTestPki('logs')
  idp = await startHttpsIdp({ pki, keys: [key.jwk] })
  svc = await startTestService({
    logger: createLogger('debug', (line) => lines.push(line)),
    env: { ALLOW_PRIVATE_ISSUERS: 'true' },
    fetchOptions: { ca: pki.root.certPem },
  })
  remember('root AccessKeySecret', svc.root.AccessKeySecret)
  const account = svc.root.AccountId
  const created = await svc.call('CreateOIDCProvider', IMS, { OIDCProviderName: 'ci', IssuerUrl: idp.issuer, Fingerprints: pki.intermediate.sha1, ClientIds: 'sts.aliyuncs.com' })
  expect(created.status).toBe(200)
  const trust = JSON.stringify({ Version: '1', Statement: [{ Effect: 'Allow', Action: 'sts:AssumeRole', Principal: { Federated: `acs:ram::${account}:oidc-provider/ci` } }] })
  expect((await svc.call('CreateRole', RAM, { RoleName: 'deployer', AssumeRolePolicyDocument: trust })).status).toBe(200)
  expect((await svc.call('AttachPolicyToRole', RAM, { PolicyType: 'System', PolicyName: 'AliyunRAMReadOnlyAccess', RoleName: 'deployer' })).status).toBe(200)
}, 60_000)
afterAll(async () => {
  await svc?.close()
  await idp?.close()
})

function idToken(claims: Record<string, unknown> = {}, header: Record<string, unknown> = {}): string {
  const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url')
  const iat = Math.floor(Date.now() / 1000)
  const input = `${b64({ alg: 'RS256', typ: 'JWT', kid: 'k1', ...header })}.${b64({ iss: idp.issuer, sub: 'repo:octo-org/app', aud: 'sts.aliyuncs.com', iat, exp: iat + 600, jti: randomBytes(8).toString('hex'), ...claims })}`
  const token = `${input}.${sign('sha256', Buffer.from(input), key.privateKey).toString('base64url')}`
  return token
}

function rememberToken(what: string, token: string) {
  remember(what, token)
  const signature = token.split('.')[2]
  if (signature) remember(`${what}: signature segment`, signature, true)
}

async function exchange(token: string, where: 'form' | 'query' = 'form') {
  const account = svc.root.AccountId
  const params = Object.entries({ OIDCProviderArn: `acs:ram::${account}:oidc-provider/ci`, RoleArn: `acs:ram::${account}:role/deployer`, RoleSessionName: 'logs', OIDCToken: token })
    .map(([k, v]) => `${percentEncode(k)}=${percentEncode(v)}`).join('&')
  const res = await svc.app.inject({
    method: 'POST',
    url: `/?Version=${STS}&Action=AssumeRoleWithOIDC${where === 'query' ? `&${params}` : ''}`,
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    payload: where === 'form' ? params : '',
  })
  return { status: res.statusCode, body: res.json() }
}

async function signed(creds: Credentials, action: string, version: string, params: Record<string, string> = {}, tamper?: (r: SignedRequest) => SignedRequest) {
  let req = signRpc({ creds, action, version, params })
  if (tamper) req = tamper(req)
  remember(`Authorization header of ${action}`, req.headers.authorization)
  remember(`signature of ${action}`, /Signature=([0-9a-f]{64})/.exec(req.headers.authorization ?? '')?.[1])
  const res = await svc.app.inject({ method: req.method, url: req.url, headers: req.headers, payload: req.payload })
  return { status: res.statusCode, body: res.json() }
}

function stsCredentials(body: Record<string, any>): Credentials { // eslint-disable-line @typescript-eslint/no-explicit-any
  const c = body.Credentials
  remember('STS AccessKeySecret', c.AccessKeySecret)
  remember('SecurityToken', c.SecurityToken, true)
  return { accessKeyId: c.AccessKeyId, secret: c.AccessKeySecret, securityToken: c.SecurityToken }
}

/** The leaks in `logLines`: full values, and 40-character slices of the long ones. */
function leaks(logLines: readonly string[]): string[] {
  const found: string[] = []
  for (const line of logLines) {
    // JSON escaping must not hide a value: check the line as written and its decoded strings.
    const texts = [line, ...decodedStrings(line)]
    for (const { what, value } of secrets) if (texts.some((t) => t.includes(value))) found.push(`${what} in ${line.slice(0, 120)}`)
    for (const { what, value } of sliced) {
      for (let i = 0; i + 40 <= value.length; i++) {
        const slice = value.slice(i, i + 40)
        if (texts.some((t) => t.includes(slice))) {
          found.push(`a 40-character slice of ${what} in ${line.slice(0, 120)}`)
          break
        }
      }
    }
  }
  return found
}

function decodedStrings(line: string): string[] {
  const out: string[] = []
  const walk = (v: unknown) => {
    if (typeof v === 'string') out.push(v)
    else if (Array.isArray(v)) v.forEach(walk)
    else if (v && typeof v === 'object') Object.values(v).forEach(walk)
  }
  try {
    walk(JSON.parse(line))
  } catch {
    // not JSON: the raw line is checked anyway
  }
  return out
}

describe('no secrets in logs, at level debug', () => {
  it('drives every secret-handling path', async () => {
    // A successful exchange, in the form body and in the query string (as the STS SDK sends it).
    const good = idToken()
    rememberToken('OIDC token (accepted)', good)
    const ok = await exchange(good)
    expect(ok.status, JSON.stringify(ok.body)).toBe(200)
    const a = stsCredentials(ok.body)
    const viaQuery = idToken()
    rememberToken('OIDC token (accepted, in the query)', viaQuery)
    const ok2 = await exchange(viaQuery, 'query')
    expect(ok2.status, JSON.stringify(ok2.body)).toBe(200)
    const b = stsCredentials(ok2.body)

    // Failed exchanges: bad signature, expired, unknown kid, alg none, garbage.
    const t = idToken()
    const badSignature = `${t.slice(0, -6)}${t.slice(-6) === 'AAAAAA' ? 'BBBBBB' : 'AAAAAA'}`
    const expired = idToken({ iat: Math.floor(Date.now() / 1000) - 7200, exp: Math.floor(Date.now() / 1000) - 3600 })
    const unknownKid = idToken({}, { kid: 'nope' })
    const none = `${Buffer.from('{"alg":"none"}').toString('base64url')}.${t.split('.')[1]}.${t.split('.')[2]}`
    for (const [what, token, code] of [
      ['bad signature', badSignature, 'AuthenticationFail.OIDCToken.InvalidSignature'],
      ['expired', expired, 'AuthenticationFail.OIDCToken.Expired'],
      ['unknown kid', unknownKid, 'AuthenticationFail.OIDCToken.InvalidSignature'],
      ['alg none', none, 'AuthenticationFail.OIDCToken.Invalid'],
    ] as const) {
      rememberToken(`OIDC token (${what})`, token)
      const res = await exchange(token)
      expect(res.body.Code, what).toBe(code)
    }

    // Root-signed management calls, good and bad.
    const root = svc.rootCreds
    expect((await signed(root, 'ListOIDCProviders', IMS)).status).toBe(200)
    expect((await signed(root, 'CreateOIDCProvider', IMS, { OIDCProviderName: 'other', IssuerUrl: 'https://other.example.com', Fingerprints: 'a'.repeat(40) })).status).toBe(200)
    expect((await signed({ ...root, secret: `${root.secret}x` }, 'ListOIDCProviders', IMS)).body.Code).toBe('SignatureDoesNotMatch')
    expect((await signed(root, 'ListOIDCProviders', IMS, {}, (r) => ({ ...r, headers: { ...r.headers, 'x-acs-security-token': a.securityToken! } }))).body.Code).toBe('IncompleteSignature')

    // STS-signed calls: allowed, denied, badly signed, foreign and tampered SecurityToken, missing token.
    expect((await signed(a, 'GetCallerIdentity', STS)).status).toBe(200)
    expect((await signed(a, 'ListOIDCProviders', IMS)).status).toBe(200)
    expect((await signed(a, 'DeleteOIDCProvider', IMS, { OIDCProviderName: 'other' })).body.Code).toBe('NoPermission')
    expect((await signed({ ...a, secret: `${a.secret}x` }, 'GetCallerIdentity', STS)).body.Code).toBe('SignatureDoesNotMatch')
    expect((await signed({ ...a, securityToken: b.securityToken! }, 'GetCallerIdentity', STS)).body.Code).toBe('InvalidSecurityToken.MismatchWithAccessKey')
    const tampered = `${a.securityToken!.slice(0, -4)}${a.securityToken!.endsWith('AAAA') ? 'BBBB' : 'AAAA'}`
    expect((await signed({ ...a, securityToken: tampered }, 'GetCallerIdentity', STS)).body.Code).toBe('InvalidSecurityToken.Malformed')
    expect((await signed({ accessKeyId: a.accessKeyId, secret: a.secret }, 'GetCallerIdentity', STS)).body.Code).toBe('InvalidSecurityToken.Malformed')

    // A legacy V1 (HMAC-SHA1) call: the signature travels as a query parameter.
    const v1Params: Array<[string, string]> = [
      ['Action', 'ListOIDCProviders'], ['Version', IMS], ['Format', 'JSON'], ['AccessKeyId', root.accessKeyId], ['SignatureMethod', 'HMAC-SHA1'],
      ['SignatureVersion', '1.0'], ['SignatureNonce', randomBytes(8).toString('hex')], ['Timestamp', formatUtc(Date.now())],
    ]
    const v1Signature = signV1(root.secret, stringToSignV1('POST', v1Params))
    remember('V1 Signature parameter', v1Signature)
    const v1 = await svc.app.inject({ method: 'POST', url: `/?${[...v1Params, ['Signature', v1Signature] as [string, string]].map(([k, v]) => `${percentEncode(k)}=${percentEncode(v)}`).join('&')}`, headers: { host: 'localhost' } })
    expect(v1.statusCode, v1.body).toBe(200)

    // CreateAccount hands out a new long-term secret.
    const account = await signed(root, 'CreateAccount', OIDC_STS_VERSION)
    expect(account.status, JSON.stringify(account.body)).toBe(200)
    remember('new account AccessKeySecret', account.body.AccessKeySecret)
    expect((await signed({ accessKeyId: account.body.AccessKeyId, secret: account.body.AccessKeySecret }, 'ListOIDCProviders', IMS)).status).toBe(200)

    await svc.app.sts.audit.flush()

    // Store faults whose error text echoes request content (as some SDK messages do): the 5xx paths and
    // the audit writer log the fault, never its message. The real stores run and their requests reach
    // DynamoDB Local; a middleware on the real client turns each completed request into this error.
    const dc = svc.stores.documentClient
    const poisoned = Object.assign(new Error(`ValidationException: item ${svc.root.AccessKeySecret} / ${a.securityToken} could not be written`), { name: 'ValidationException', $fault: 'client', $metadata: {} })
    let poisonedRequests = 0
    dc.middlewareStack.add(
      (next) => async (args) => {
        await next(args)
        poisonedRequests++
        throw poisoned
      },
      { step: 'initialize', name: 'poisonedStoreFault' },
    )
    const from = lines.length
    try {
      const fresh = await signed(svc.rootCreds, 'ListRoles', RAM, {}, (r) => ({ ...r, headers: { ...r.headers } }))
      expect(fresh.status).toBeGreaterThanOrEqual(500)
      const failedExchange = idToken()
      rememberToken('OIDC token (during a store fault)', failedExchange)
      await exchange(failedExchange)
      await svc.app.sts.audit.flush()
    } finally {
      dc.middlewareStack.remove('poisonedStoreFault')
    }
    expect(poisonedRequests).toBeGreaterThan(0)
    // The fault was logged (and the leak check below reads these lines): the 5xx, and the audit copy.
    const during = lines.slice(from).map((l) => JSON.parse(l) as { level: string; msg: string })
    expect(during.some((m) => m.level === 'error' && m.msg === 'request failed')).toBe(true)
    expect(during.some((m) => m.level === 'warn' && m.msg.startsWith('audit table copy dropping records: a table write failed'))).toBe(true)
  })

  it('logged something at every level it uses (the capture works)', () => {
    const messages = lines.map((l) => JSON.parse(l) as { level: string; msg: string })
    expect(messages.some((m) => m.msg === 'audit')).toBe(true)
    expect(messages.some((m) => m.msg === 'request')).toBe(true)
    expect(messages.some((m) => m.msg === 'request rejected')).toBe(true)
    expect(secrets.length).toBeGreaterThan(20)
  })

  it('no line contains a token, a secret, a SecurityToken (or a 40-character slice), a signature or an Authorization header', () => {
    expect(leaks(lines)).toEqual([])
  })

  it('the check itself finds a planted secret, whole, sliced or JSON-escaped', () => {
    const st = sliced.find((s) => s.what === 'SecurityToken')!.value
    expect(leaks([JSON.stringify({ msg: 'x', note: `prefix ${st.slice(100, 140)} suffix` })])).toHaveLength(1)
    expect(leaks([JSON.stringify({ msg: 'x', v: svc.root.AccessKeySecret })]).length).toBeGreaterThan(0)
    expect(leaks([JSON.stringify({ msg: 'x', v: `"${secrets.find((s) => s.what.startsWith('Authorization'))!.value}"` })]).length).toBeGreaterThan(0)
  })

  it('the logger itself redacts sensitive field names and cuts long values (second line of defence)', () => {
    const captured: string[] = []
    const log = createLogger('debug', (l) => captured.push(l))
    const st = sliced.find((s) => s.what === 'SecurityToken')!.value
    log.debug('x', { securityToken: st, AccessKeySecret: svc.root.AccessKeySecret, authorization: 'ACS3-HMAC-SHA256 Credential=x', oidcToken: 'a.b.c', signature: 'f'.repeat(64), Password: 'p' })
    log.info('y', { opaque: st })
    expect(leaks(captured.slice(0, 1))).toEqual([])
    const first = JSON.parse(captured[0]!) as Record<string, unknown>
    for (const k of ['securityToken', 'AccessKeySecret', 'authorization', 'oidcToken', 'signature', 'Password']) expect(first[k]).toBe('[redacted]')
    // An opaque long value under an innocent name is cut to 64 characters: a 40-character slice can
    // still show (the first line of defence is that call sites never pass secrets).
    expect(String((JSON.parse(captured[1]!) as Record<string, unknown>).opaque).length).toBeLessThan(st.length)
  })

  it('redacts nested fields too (an event detail, a list of objects), and leaves dates as dates', () => {
    const captured: string[] = []
    const log = createLogger('debug', (l) => captured.push(l))
    const at = new Date('2026-11-29T10:00:00Z')
    log.warn('nested', { detail: { AccessKeySecret: svc.root.AccessKeySecret, inner: [{ securityToken: 'st-value' }] }, at })
    expect(leaks(captured)).toEqual([])
    expect(JSON.parse(captured[0]!)).toMatchObject({ detail: { AccessKeySecret: '[redacted]', inner: [{ securityToken: '[redacted]' }] }, at: '2026-11-29T10:00:00.000Z' })
    expect(captured[0]).not.toContain('st-value')
    // A cycle is written once, not walked again (nor thrown on, as JSON.stringify would).
    const cyclic: Record<string, unknown> = { name: 'c' }
    for (let i = 0; i < 60; i++) cyclic[`k${i}`] = cyclic
    log.info('cycle', { cyclic })
    expect(JSON.parse(captured[1]!).cyclic).toMatchObject({ name: 'c', k0: '[seen]', k59: '[seen]' })
  })
})
