// AssumeRoleWithOIDC through the whole chain: a local HTTPS IdP (test CA), a registered provider with
// the CA's thumbprint, a role, an exchange, and the credentials signing further calls.
import { request as httpRequest } from 'node:http'
import { UpdateCommand } from '@aws-sdk/lib-dynamodb'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { percentEncode } from '../../shared/signing/percent-encode.ts'
import { createExchangeFixture, RAM, STS, type ExchangeFixture } from '../support/exchange-fixture.ts'
import { makeSigningKey, type HttpsIdp, type TestSigningKey } from '../support/https-idp.ts'
import { IMS, startTestService, type TestService } from '../support/service.ts'
import type { TestPki } from '../support/test-ca.ts'

let now = new Date('2026-11-28T10:00:00Z')
const clock = () => now
let fx: ExchangeFixture
let svc: TestService
let idp: HttpsIdp
let pki: TestPki
let key: TestSigningKey
let account: string
const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url')
const idToken = (claims: Record<string, unknown>, k?: TestSigningKey, alg?: string, typ?: string) => fx.idToken(claims, { ...(k ? { key: k } : {}), ...(alg ? { alg } : {}), ...(typ ? { typ } : {}) })
const exchange = (params: Record<string, string>) => fx.exchange(params)
const trust = (sub: string) => fx.trustPolicy(sub)

beforeAll(async () => {
  fx = await createExchangeFixture({ clock, env: { CONFIG_CACHE_SECONDS: '5' } })
  ;({ svc, idp, pki, key, account } = fx)
})
afterAll(async () => {
  await fx?.close()
})

describe('AssumeRoleWithOIDC', () => {
  it('exchanges a valid token for credentials in the §1.3 shape', async () => {
    const token = idToken({})
    const { status, body } = await exchange({ OIDCToken: token, DurationSeconds: '1800' })
    expect(status).toBe(200)
    expect(Object.keys(body)).toEqual(['RequestId', 'Credentials', 'AssumedRoleUser', 'OIDCTokenInfo'])
    expect(body.RequestId).toMatch(/^[0-9A-F]{8}-[0-9A-F]{4}-4[0-9A-F]{3}-[89AB][0-9A-F]{3}-[0-9A-F]{12}$/)
    expect(Object.keys(body.Credentials)).toEqual(['AccessKeyId', 'AccessKeySecret', 'SecurityToken', 'Expiration'])
    expect(body.Credentials.AccessKeyId).toMatch(/^STS\.[1-9A-HJ-NP-Za-km-z]{24}$/)
    expect(body.Credentials.Expiration).toBe('2026-11-28T10:30:00Z')
    expect(body.AssumedRoleUser.Arn).toBe(`acs:ram::${account}:role/deployer/build-42`)
    expect(body.AssumedRoleUser.AssumedRoleId).toMatch(/^\d+:build-42$/)
    expect(body.OIDCTokenInfo).toEqual({
      Issuer: idp.issuer,
      Subject: 'repo:octo-org/app:ref:refs/heads/main',
      ClientIds: 'sts.aliyuncs.com',
      IssuanceTime: '2026-11-28T10:00:00Z',
      ExpirationTime: '2026-11-28T10:10:00Z',
      VerificationInfo: 'Success',
    })
    expect(JSON.stringify(body)).not.toContain(token)
  })

  it('issues credentials that sign GetCallerIdentity and the calls the role policy allows, and no others', async () => {
    const { body } = await exchange({ OIDCToken: idToken({}) })
    const creds = { accessKeyId: body.Credentials.AccessKeyId, secret: body.Credentials.AccessKeySecret, securityToken: body.Credentials.SecurityToken }
    const who = await svc.call('GetCallerIdentity', STS, {}, creds)
    expect(who.status).toBe(200)
    expect(who.body).toMatchObject({
      IdentityType: 'AssumedRoleUser',
      AccountId: account,
      Arn: `acs:ram::${account}:assumed-role/deployer/build-42`,
    })
    expect(who.body.PrincipalId).toBe(body.AssumedRoleUser.AssumedRoleId)
    expect((await svc.call('ListOIDCProviders', IMS, {}, creds)).status).toBe(200)
    const denied = await svc.call('DeleteOIDCProvider', IMS, { OIDCProviderName: 'ci' }, creds)
    expect(denied.status).toBe(403)
    expect(denied.body.Code).toBe('NoPermission')
    expect(denied.body.AccessDeniedDetail).toMatchObject({ AuthAction: 'ram:DeleteOIDCProvider', AuthPrincipalType: 'AssumedRoleUser', NoPermissionType: 'ImplicitDeny' })
  })

  it('narrows the credentials to the session policy', async () => {
    const policy = JSON.stringify({ Version: '1', Statement: [{ Effect: 'Allow', Action: 'ram:GetOIDCProvider', Resource: '*' }] })
    const { status, body } = await exchange({ OIDCToken: idToken({}), Policy: policy })
    expect(status).toBe(200)
    const creds = { accessKeyId: body.Credentials.AccessKeyId, secret: body.Credentials.AccessKeySecret, securityToken: body.Credentials.SecurityToken }
    expect((await svc.call('GetOIDCProvider', IMS, { OIDCProviderName: 'ci' }, creds)).status).toBe(200)
    const listed = await svc.call('ListOIDCProviders', IMS, {}, creds)
    expect(listed.status).toBe(403)
  })

  it('gives the OIDC provider actions the condition key ram:OidcIssuerUrl (spec §3): the requested IssuerUrl on CreateOIDCProvider, the stored provider\'s on the others', async () => {
    const allowed = 'https://allowed.example.com'
    const onIssuer = (effect: string, action: string | string[], operator: string) =>
      JSON.stringify({ Version: '1', Statement: [{ Effect: effect, Action: action, Resource: '*', Condition: { [operator]: { 'ram:OidcIssuerUrl': allowed } } }] })
    /** Credentials of a new role trusting the fixture's provider, with these policies attached. */
    const credentialsFor = async (roleName: string, attached: [type: 'System' | 'Custom', name: string, document?: string][], sessionPolicy?: string) => {
      expect((await svc.call('CreateRole', RAM, { RoleName: roleName, AssumeRolePolicyDocument: trust('repo:octo-org/*') })).status).toBe(200)
      for (const [type, name, document] of attached) {
        if (document) expect((await svc.call('CreatePolicy', RAM, { PolicyName: name, PolicyDocument: document })).status).toBe(200)
        expect((await svc.call('AttachPolicyToRole', RAM, { RoleName: roleName, PolicyType: type, PolicyName: name })).status).toBe(200)
      }
      const { status, body } = await exchange({ OIDCToken: idToken({}), RoleArn: `acs:ram::${account}:role/${roleName}`, ...(sessionPolicy ? { Policy: sessionPolicy } : {}) })
      expect(status).toBe(200)
      return { accessKeyId: body.Credentials.AccessKeyId, secret: body.Credentials.AccessKeySecret, securityToken: body.Credentials.SecurityToken }
    }
    const denial = (res: { status: number; body: Record<string, any> }) => [res.status, res.body.Code, res.body.AccessDeniedDetail?.NoPermissionType, res.body.AccessDeniedDetail?.PolicyType] // eslint-disable-line @typescript-eslint/no-explicit-any
    const other = { IssuerUrl: 'https://other.example.com' }

    // An Allow on the key holds for the allowed issuer only.
    const scoped = await credentialsFor('issuer-scoped', [['Custom', 'allowed-issuer-only', onIssuer('Allow', ['ram:CreateOIDCProvider', 'ram:GetOIDCProvider', 'ram:AddClientIdToOIDCProvider'], 'StringEquals')]])
    const created = await svc.call('CreateOIDCProvider', IMS, { OIDCProviderName: 'allowed', IssuerUrl: allowed }, scoped)
    expect([created.status, created.body.OIDCProvider?.IssuerUrl]).toEqual([200, allowed])
    expect(denial(await svc.call('CreateOIDCProvider', IMS, { OIDCProviderName: 'elsewhere', ...other }, scoped))).toEqual([403, 'NoPermission', 'ImplicitDeny', 'AccountLevelIdentityBasedPolicy'])
    expect((await svc.call('GetOIDCProvider', IMS, { OIDCProviderName: 'elsewhere' })).status).toBe(404)
    // The actions on a provider test its stored issuer: `ci` has the IdP's.
    expect((await svc.call('GetOIDCProvider', IMS, { OIDCProviderName: 'allowed' }, scoped)).status).toBe(200)
    expect((await svc.call('AddClientIdToOIDCProvider', IMS, { OIDCProviderName: 'allowed', ClientId: 'app' }, scoped)).status).toBe(200)
    expect(denial(await svc.call('GetOIDCProvider', IMS, { OIDCProviderName: 'ci' }, scoped))).toEqual([403, 'NoPermission', 'ImplicitDeny', 'AccountLevelIdentityBasedPolicy'])
    // A provider that does not exist has no issuer: the Allow does not hold (the root key gets the 404).
    expect(denial(await svc.call('GetOIDCProvider', IMS, { OIDCProviderName: 'ghost' }, scoped))).toEqual([403, 'NoPermission', 'ImplicitDeny', 'AccountLevelIdentityBasedPolicy'])

    // A Deny with StringNotEquals fires on any other issuer, and where there is none (fail closed).
    const fenced = await credentialsFor('issuer-fenced', [['System', 'AliyunRAMFullAccess'], ['Custom', 'no-other-issuers', onIssuer('Deny', 'ram:*OIDCProvider*', 'StringNotEquals')]])
    expect(denial(await svc.call('CreateOIDCProvider', IMS, { OIDCProviderName: 'elsewhere', ...other }, fenced))).toEqual([403, 'NoPermission', 'ExplicitDeny', 'AccountLevelIdentityBasedPolicy'])
    expect(denial(await svc.call('UpdateOIDCProvider', IMS, { OIDCProviderName: 'ci', NewDescription: 'changed' }, fenced))).toEqual([403, 'NoPermission', 'ExplicitDeny', 'AccountLevelIdentityBasedPolicy'])
    expect((await svc.call('GetOIDCProvider', IMS, { OIDCProviderName: 'ci' })).body.OIDCProvider.Description).toBe('')
    expect(denial(await svc.call('ListOIDCProviders', IMS, {}, fenced))).toEqual([403, 'NoPermission', 'ExplicitDeny', 'AccountLevelIdentityBasedPolicy'])
    expect((await svc.call('GetOIDCProvider', IMS, { OIDCProviderName: 'allowed' }, fenced)).status).toBe(200)
    expect((await svc.call('ListRoles', RAM, {}, fenced)).status).toBe(200)

    // A session policy testing the key gets the stored issuer too.
    const session = await credentialsFor('issuer-session', [['System', 'AliyunRAMFullAccess']], onIssuer('Allow', 'ram:GetOIDCProvider', 'StringEquals'))
    expect((await svc.call('GetOIDCProvider', IMS, { OIDCProviderName: 'allowed' }, session)).status).toBe(200)
    expect(denial(await svc.call('GetOIDCProvider', IMS, { OIDCProviderName: 'ci' }, session))).toEqual([403, 'NoPermission', 'ImplicitDeny', 'SessionPolicy'])

    expect((await svc.call('DeleteOIDCProvider', IMS, { OIDCProviderName: 'allowed' }, fenced)).status).toBe(200)
  })

  it('rejects a SecurityToken presented with another AccessKeyId, and a tampered one', async () => {
    const a = (await exchange({ OIDCToken: idToken({}) })).body.Credentials
    const b = (await exchange({ OIDCToken: idToken({}) })).body.Credentials
    const mixed = await svc.call('GetCallerIdentity', STS, {}, { accessKeyId: a.AccessKeyId, secret: a.AccessKeySecret, securityToken: b.SecurityToken })
    expect(mixed.body.Code).toBe('InvalidSecurityToken.MismatchWithAccessKey')
    const t = a.SecurityToken as string
    // One character of the ciphertext (the fourth part) changed: AES-GCM authentication fails.
    const at = t.split('.').slice(0, 3).join('.').length + 1 + 20
    const tampered = `${t.slice(0, at)}${t[at] === 'A' ? 'B' : 'A'}${t.slice(at + 1)}`
    const bad = await svc.call('GetCallerIdentity', STS, {}, { accessKeyId: a.AccessKeyId, secret: a.AccessKeySecret, securityToken: tampered })
    expect(bad.body.Code).toBe('InvalidSecurityToken.Malformed')
  })

  it.each([
    ['an expired token', () => idToken({ exp: Math.floor(now.getTime() / 1000) - 120 }), 'AuthenticationFail.OIDCToken.Expired'],
    ['a token for another audience', () => idToken({ aud: 'someone-else' }), 'AuthenticationFail.OIDCToken.AudienceNotMatch'],
    ['a token from another issuer', () => idToken({ iss: 'https://evil.example.com' }), 'AuthenticationFail.OIDCToken.IssuerNotMatch'],
    ['a token whose sub the trust policy does not allow', () => idToken({ sub: 'repo:other-org/app:ref:refs/heads/main' }), 'AuthenticationFail.NoPermission'],
    ['a token signed by an unknown key', () => idToken({}, makeSigningKey('k1')), 'AuthenticationFail.OIDCToken.InvalidSignature'],
    ['an HS256 token', () => `${b64({ alg: 'HS256' })}.${b64({ iss: idp.issuer })}.c2ln`, 'AuthenticationFail.OIDCToken.Invalid'],
  ])('rejects %s with its code and no credentials', async (_name, make, code) => {
    const { status, body } = await exchange({ OIDCToken: make() })
    expect(status).toBe(401)
    expect(body.Code).toBe(code)
    expect(body.Credentials).toBeUndefined()
  })

  it.each([
    [{ DurationSeconds: '899' }, 'InvalidParameter.DurationSeconds'],
    [{ DurationSeconds: '7201' }, 'InvalidParameter.DurationSeconds'],
    [{ RoleSessionName: 'x' }, 'InvalidParameter.RoleSessionName'],
    [{ Policy: '{"Version":"1","Statement":[{"Effect":"Maybe"}]}' }, 'InvalidParameter.PolicyGrammar'],
    [{ RoleArn: `acs:ram::${'1'.repeat(16)}:role/deployer` }, 'AuthenticationFail.NoPermission'],
    [{ RoleArn: 'not-an-arn' }, 'InvalidParameter.RoleArn.Format'],
  ])('rejects bad parameters %j with %s', async (params, code) => {
    const { status, body } = await exchange({ OIDCToken: idToken({}), ...params })
    expect(status).toBeGreaterThanOrEqual(400)
    expect(status).toBeLessThan(500)
    expect(body.Code).toBe(code)
  })

  it('checks the parameters\' format before the token (spec §1.4: step 1 before step 3)', async () => {
    for (const [params, code] of [
      [{ RoleArn: 'not-an-arn' }, 'InvalidParameter.RoleArn.Format'],
      [{ OIDCProviderArn: 'not-an-arn' }, 'InvalidParameter.OIDCProviderArn.Format'],
    ] as const) {
      const { status, body } = await exchange({ OIDCToken: '', ...params })
      expect([status, body.Code]).toEqual([400, code])
    }
  })

  it('checks the token\'s length with the parameters, before the provider is looked up (spec §1.1 4..20000, §1.4 step 1)', async () => {
    const unknownProvider = { OIDCProviderArn: `acs:ram::${account}:oidc-provider/nope` }
    for (const token of ['a.b', 'x'.repeat(20001)]) {
      const { status, body } = await exchange({ OIDCToken: token, ...unknownProvider })
      expect([status, body.Code], body.Message).toEqual([401, 'AuthenticationFail.OIDCToken.Invalid'])
      expect(body.Message).toContain('must be 4 to 20000 characters long')
    }
    // A token of a valid length is read only once the provider is known (step 2 before step 3).
    const { body } = await exchange({ OIDCToken: 'not.a.jwt', ...unknownProvider })
    expect([body.Code, body.Message]).toEqual(['AuthenticationFail.NoPermission', 'No such OIDC Provider registered.'])
  })

  it('answers a HEAD request without running the exchange (no credentials minted; audited as a refusal)', async () => {
    const query = Object.entries({
      Action: 'AssumeRoleWithOIDC', Version: STS, Format: 'JSON', OIDCProviderArn: `acs:ram::${account}:oidc-provider/ci`,
      RoleArn: `acs:ram::${account}:role/deployer`, RoleSessionName: 'head-request', OIDCToken: idToken({ jti: 'head-request' }),
    }).map(([k, v]) => `${k}=${percentEncode(v)}`).join('&')
    const res = await svc.app.inject({ method: 'HEAD', url: `/?${query}` })
    expect(res.statusCode).toBe(400)
    await svc.app.sts.audit.flush()
    const listed = await svc.call('ListAuditEvents', '2026-11-01', { MaxItems: 100 })
    const rows = listed.body.AuditEvents.AuditEvent as Array<Record<string, string>>
    const recorded = rows.filter((r) => r.RoleSessionName === 'head-request')
    expect(recorded.map((r) => [r.Outcome, r.ErrorCode, r.TokenId])).toEqual([['Failure', 'InvalidParameter', undefined]])
    // The same request as a GET is an exchange (the HEAD above was refused for its method alone).
    const get = await svc.app.inject({ method: 'GET', url: `/?${query}` })
    expect(get.statusCode, get.body).toBe(200)
  })

  it('rejects a missing role with EntityNotExist.Role', async () => {
    const { status, body } = await exchange({ OIDCToken: idToken({}), RoleArn: `acs:ram::${account}:role/nobody` })
    expect(status).toBe(404)
    expect(body.Code).toBe('EntityNotExist.Role')
  })
})

describe('token size on the wire', () => {
  // The sts SDK sends everything in the query string: the HTTP server's URL limit must admit the
  // largest token Alibaba accepts (20 000 characters), and nothing above the bound.
  function tokenOfLength(length: number): string {
    // base64url cannot produce every length from one part, so vary the payload and the header's typ.
    // A fixed jti: the default one is random, and its length varies from call to call.
    const jti = 'jti-token-size-test'
    const base = idToken({ pad: '', jti }).length
    const estimate = Math.floor(((length - base) * 3) / 4)
    for (let typ = 0; typ < 4; typ++) {
      for (let pad = estimate - 8; pad <= estimate + 8; pad++) {
        const t = idToken({ pad: 'x'.repeat(Math.max(0, pad)), jti }, key, 'RS256', 'JWT'.padEnd(3 + typ, 'X'))
        if (t.length === length) return t
      }
    }
    throw new Error(`no token of length ${length}`)
  }

  it('accepts a 20000-character token in the query string over real HTTP and refuses 20001', async () => {
    await svc.app.listen({ host: '127.0.0.1', port: 0 })
    const { port } = svc.app.server.address() as { port: number }
    const call = async (token: string) => {
      const query = Object.entries({
        Action: 'AssumeRoleWithOIDC', Version: STS, Format: 'json',
        OIDCProviderArn: `acs:ram::${account}:oidc-provider/ci`, RoleArn: `acs:ram::${account}:role/deployer`,
        RoleSessionName: 'long', OIDCToken: token,
      }).map(([k, v]) => `${k}=${percentEncode(v)}`).join('&')
      const res = await fetch(`http://127.0.0.1:${port}/?${query}`, { method: 'POST' })
      return { status: res.status, body: await res.json() as Record<string, any> } // eslint-disable-line @typescript-eslint/no-explicit-any
    }
    const ok = await call(tokenOfLength(20000))
    expect(ok.status).toBe(200)
    expect(ok.body.Credentials.AccessKeyId).toMatch(/^STS\./)
    const tooLong = await call(tokenOfLength(20001))
    expect(tooLong.status).toBe(401)
    expect(tooLong.body.Code).toBe('AuthenticationFail.OIDCToken.Invalid')
  })

  it('answers a request line over the 64 KiB head limit in the error envelope (431), not Fastify\'s own shape', async () => {
    if (!svc.app.server.listening) await svc.app.listen({ host: '127.0.0.1', port: 0 })
    const { port } = svc.app.server.address() as { port: number }
    const res = await fetch(`http://127.0.0.1:${port}/?Action=AssumeRoleWithOIDC&Version=${STS}&OIDCToken=${'x'.repeat(70_000)}`, { method: 'POST' })
    expect(res.status).toBe(431)
    const body = await res.json() as Record<string, string>
    expect(Object.keys(body)).toEqual(['RequestId', 'HostId', 'Code', 'Message', 'Recommend'])
    expect(body.Code).toBe('Request.HeadersTooLarge')
    expect(res.headers.get('x-acs-request-id')).toBe(body.RequestId)
  })

  it('refuses a repeated Content-Type over real HTTP, as API Gateway\'s joined one is refused on Lambda', async () => {
    if (!svc.app.server.listening) await svc.app.listen({ host: '127.0.0.1', port: 0 })
    const { port } = svc.app.server.address() as { port: number }
    const form = Object.entries({
      Action: 'AssumeRoleWithOIDC', Version: STS, Format: 'JSON', OIDCProviderArn: `acs:ram::${account}:oidc-provider/ci`,
      RoleArn: `acs:ram::${account}:role/deployer`, RoleSessionName: 'two-types', OIDCToken: idToken({}),
    }).map(([k, v]) => `${k}=${percentEncode(v)}`).join('&')
    const send = (types: string[]) => new Promise<{ status: number; body: Record<string, any> }>((resolve, reject) => { // eslint-disable-line @typescript-eslint/no-explicit-any
      const req = httpRequest({ host: '127.0.0.1', port, method: 'POST', path: '/' }, (res) => {
        const chunks: Buffer[] = []
        res.on('data', (c: Buffer) => chunks.push(c))
        res.on('end', () => resolve({ status: res.statusCode!, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) }))
      })
      req.on('error', reject)
      // An array sends one header line per value.
      req.setHeader('content-type', types)
      req.end(form)
    })
    const twice = await send(['application/x-www-form-urlencoded', 'text/plain'])
    expect([twice.status, twice.body.Code, twice.body.Message]).toEqual([400, 'InvalidParameter.Format', 'The header content-type is given more than once.'])
    const once = await send(['application/x-www-form-urlencoded'])
    expect(once.status, JSON.stringify(once.body)).toBe(200)
  })
})

describe('caches between exchanges', () => {
  it('serves 200 concurrent exchanges on a cold JWKS cache with one discovery and one JWKS fetch', async () => {
    const fresh = await startTestService({ clock, env: { ALLOW_PRIVATE_ISSUERS: 'true' }, fetchOptions: { ca: pki.root.certPem } })
    try {
      const acct = fresh.root.AccountId
      await fresh.call('CreateOIDCProvider', IMS, { OIDCProviderName: 'ci', IssuerUrl: idp.issuer, Fingerprints: pki.root.sha1, ClientIds: 'sts.aliyuncs.com' })
      await fresh.call('CreateRole', RAM, { RoleName: 'deployer', AssumeRolePolicyDocument: trust('*').replaceAll(account, acct) })
      idp.resetCounts()
      const form = (t: string) => `OIDCProviderArn=${percentEncode(`acs:ram::${acct}:oidc-provider/ci`)}&RoleArn=${percentEncode(`acs:ram::${acct}:role/deployer`)}&RoleSessionName=s1&OIDCToken=${t}`
      const results = await Promise.all(Array.from({ length: 200 }, () => fresh.app.inject({
        method: 'POST', url: `/?Version=${STS}&Action=AssumeRoleWithOIDC`, headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: form(idToken({})),
      })))
      expect(results.map((r) => r.statusCode)).toEqual(Array(200).fill(200))
      expect(idp.requests(idp.discoveryPath)).toBe(1)
      expect(idp.requests(idp.jwksPath)).toBe(1)
    } finally {
      await fresh.close()
    }
  })

  it('refuses a trust policy with a Resource, and still honours a role stored with one before that rule', async () => {
    const withResource = (doc: string) => {
      const d = JSON.parse(doc)
      d.Statement[0].Resource = `acs:ram::${account}:role/deployer`
      return JSON.stringify(d)
    }
    const created = await svc.call('CreateRole', RAM, { RoleName: 'scoped', AssumeRolePolicyDocument: withResource(trust('*')) })
    expect([created.status, created.body.Code]).toEqual([400, 'MalformedPolicyDocument'])
    expect(await svc.stores.roles.get(account, 'scoped')).toBeUndefined()
    // A role written before trust policies refused Resource: its stored document keeps working.
    const stored = (await svc.stores.roles.get(account, 'Deployer'))!
    const key = { pk: `ACCOUNT#${account}`, sk: `ROLE#deployer` }
    const table = svc.stores.table.table.getName()
    await svc.stores.documentClient.send(new UpdateCommand({ TableName: table, Key: key, UpdateExpression: 'SET trustPolicy = :t', ConditionExpression: 'attribute_exists(pk)', ExpressionAttributeValues: { ':t': withResource(stored.trustPolicy) } }))
    try {
      now = new Date(now.getTime() + 5000) // past the configuration cache
      expect((await exchange({ OIDCToken: idToken({}) })).status).toBe(200)
    } finally {
      await svc.stores.documentClient.send(new UpdateCommand({ TableName: table, Key: key, UpdateExpression: 'SET trustPolicy = :t', ExpressionAttributeValues: { ':t': stored.trustPolicy } }))
      now = new Date(now.getTime() + 5000)
    }
  })

  it('stops exchanges within the configuration cache bound after a client ID is removed', async () => {
    expect((await exchange({ OIDCToken: idToken({}) })).status).toBe(200)
    await svc.call('AddClientIdToOIDCProvider', IMS, { OIDCProviderName: 'ci', ClientId: 'other' })
    expect((await svc.call('RemoveClientIdFromOIDCProvider', IMS, { OIDCProviderName: 'ci', ClientId: 'sts.aliyuncs.com' })).status).toBe(200)
    now = new Date(now.getTime() + 5000) // the bound: CONFIG_CACHE_SECONDS=5
    const after = await exchange({ OIDCToken: idToken({}) })
    expect(after.body.Code).toBe('AuthenticationFail.OIDCToken.AudienceNotMatch')
    await svc.call('AddClientIdToOIDCProvider', IMS, { OIDCProviderName: 'ci', ClientId: 'sts.aliyuncs.com' })
    now = new Date(now.getTime() + 5000)
    expect((await exchange({ OIDCToken: idToken({}) })).status).toBe(200)
  })

  it('records every exchange, success and failure, without the token', async () => {
    const token = idToken({ jti: 'audit-me' })
    await exchange({ OIDCToken: token })
    await exchange({ OIDCToken: idToken({ aud: 'nope' }) })
    await svc.app.sts.audit.flush()
    const listed = await svc.call('ListAuditEvents', '2026-11-01', { MaxItems: 100 })
    expect(listed.status).toBe(200)
    const rows = listed.body.AuditEvents.AuditEvent as Array<Record<string, string>>
    const ok = rows.find((r) => r.TokenId === 'audit-me')
    expect(ok).toMatchObject({ Outcome: 'Success', RoleArn: `acs:ram::${account}:role/deployer`, RoleSessionName: 'build-42', SourceIp: '203.0.113.9', Subject: 'repo:octo-org/app:ref:refs/heads/main' })
    expect(rows.some((r) => r.Outcome === 'Failure' && r.ErrorCode === 'AuthenticationFail.OIDCToken.AudienceNotMatch')).toBe(true)
    expect(JSON.stringify(rows)).not.toContain(token)
  })

  it('pages ListAuditEvents through one day, also when the next page is asked for after midnight UTC', async () => {
    const saved = now
    try {
      now = new Date('2026-11-29T23:59:58Z')
      for (let i = 0; i < 3; i++) expect((await exchange({ OIDCToken: idToken({ aud: 'nope' }) })).status).toBe(401)
      await svc.app.sts.audit.flush()
      const first = await svc.call('ListAuditEvents', '2026-11-01', { MaxItems: 2 })
      expect(first.body).toMatchObject({ IsTruncated: true, Marker: expect.any(String) })
      now = new Date('2026-11-30T00:00:01Z')
      const second = await svc.call('ListAuditEvents', '2026-11-01', { MaxItems: 2, Marker: first.body.Marker })
      expect(second.status).toBe(200)
      expect(second.body.IsTruncated).toBe(false)
      const ids = [...first.body.AuditEvents.AuditEvent, ...second.body.AuditEvents.AuditEvent].map((r: { RequestId: string; Time: string }) => {
        expect(r.Time.startsWith('2026-11-29T23:59:58')).toBe(true)
        return r.RequestId
      })
      expect(new Set(ids).size).toBe(3)
      // A marker names its day: another Date with it is refused, as is a day that does not exist.
      const mismatch = await svc.call('ListAuditEvents', '2026-11-01', { Date: '2026-11-30', Marker: first.body.Marker })
      expect([mismatch.status, mismatch.body.Code]).toEqual([400, 'InvalidParameter.Marker.Format'])
      const noSuchDay = await svc.call('ListAuditEvents', '2026-11-01', { Date: '2024-02-30' })
      expect([noSuchDay.status, noSuchDay.body.Code]).toEqual([400, 'InvalidParameter.Date.Format'])
      expect((await svc.call('ListAuditEvents', '2026-11-01', { Date: '2024-02-29' })).status).toBe(200)
      // A crafted marker whose start key is not one this service hands out (empty, another day, no request id).
      const forged = (m: Record<string, string>) => Buffer.from(JSON.stringify(m)).toString('base64url')
      for (const m of [{ d: '2026-11-29', a: '' }, { d: '2026-11-29', a: '2026-11-28T10:00:00.000Z#X' }, { d: '2026-11-29', a: '2026-11-29T10:00:00.000Z#' }, { d: '2026-11-29', a: 'ACCOUNT#1' }]) {
        const res = await svc.call('ListAuditEvents', '2026-11-01', { Marker: forged(m) })
        expect([res.status, res.body.Code], JSON.stringify(m)).toEqual([400, 'InvalidParameter.Marker.Format'])
      }
    } finally {
      now = saved
    }
  })

  it('records what is known of a refused exchange: who presented a token the trust policy refused, the valid parameters of a bad request, and requests refused before they could be read', async () => {
    const saved = now
    try {
      now = new Date('2026-12-01T08:00:00Z') // a day of its own in the audit table (after the other tests' days: the rate limiter's clock only moves forward)
      const denied = await exchange({ OIDCToken: idToken({ sub: 'repo:other-org/app:ref:refs/heads/main', jti: 'denied-jti' }) })
      expect(denied.body.Code).toBe('AuthenticationFail.NoPermission')
      // The token's holder is not told which statement or condition refused it; the operator is (below).
      expect(denied.body.Message).toBe('There is no permission: the trust policy of the role does not allow this token.')
      const badDuration = await exchange({ OIDCToken: idToken({ jti: 'bad-duration' }), DurationSeconds: '5', RoleSessionName: 'short-lived' })
      expect(badDuration.body.Code).toBe('InvalidParameter.DurationSeconds')
      // Refused while the request is read (a parameter given twice): the action never ran.
      const form = `OIDCProviderArn=${percentEncode(`acs:ram::${account}:oidc-provider/ci`)}&RoleArn=${percentEncode(`acs:ram::${account}:role/deployer`)}&RoleSessionName=twice&OIDCToken=a.b.c&OIDCToken=d.e.f`
      const duplicated = await svc.app.inject({
        method: 'POST',
        url: `/?Version=${STS}&Action=AssumeRoleWithOIDC&Format=JSON`,
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        payload: form,
        remoteAddress: '198.51.100.77',
      })
      expect(duplicated.json().Code).toBe('InvalidParameter.OIDCToken.Duplicate')
      // Refused before the route (a body over the limit): only the query could be read.
      const tooLarge = await svc.app.inject({
        method: 'POST',
        url: `/?Version=${STS}&Action=AssumeRoleWithOIDC&RoleArn=${percentEncode(`acs:ram::${account}:role/deployer`)}`,
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        payload: `OIDCToken=${'x'.repeat(300 * 1024)}`,
      })
      expect([tooLarge.statusCode, tooLarge.json().Code]).toEqual([413, 'Request.TooLarge'])
      await svc.app.sts.audit.flush()

      const rows = (await svc.call('ListAuditEvents', '2026-11-01', { Date: '2026-12-01', MaxItems: 100 })).body.AuditEvents.AuditEvent as Array<Record<string, string>>
      const roleArn = `acs:ram::${account}:role/deployer`
      expect(rows.find((r) => r.ErrorCode === 'AuthenticationFail.NoPermission')).toMatchObject({
        Outcome: 'Failure',
        RoleArn: roleArn,
        RoleSessionName: 'build-42',
        Subject: 'repo:other-org/app:ref:refs/heads/main',
        TokenId: 'denied-jti',
        Reason: expect.stringMatching(/^no Allow statement applies: Statement\[0\]: condition String\w+ oidc:sub not satisfied$/),
      })
      expect(rows.filter((r) => r.Reason !== undefined)).toHaveLength(1)
      // The token was not verified: nothing of it is recorded, but the parameters that were valid are.
      const bad = rows.find((r) => r.ErrorCode === 'InvalidParameter.DurationSeconds')
      expect(bad).toMatchObject({ Outcome: 'Failure', RoleArn: roleArn, RoleSessionName: 'short-lived' })
      expect(bad).not.toHaveProperty('Subject')
      expect(bad).not.toHaveProperty('TokenId')
      expect(rows.find((r) => r.ErrorCode === 'InvalidParameter.OIDCToken.Duplicate')).toMatchObject({ Outcome: 'Failure', RoleArn: roleArn, RoleSessionName: 'twice', SourceIp: '198.51.100.77' })
      expect(rows.find((r) => r.ErrorCode === 'Request.TooLarge')).toMatchObject({ Outcome: 'Failure', RoleArn: roleArn })
      expect(rows).toHaveLength(4)
    } finally {
      now = saved
    }
  })
})

