// A real OpenID provider (the oidc-provider package) over HTTPS with a test CA, an ID token from a real
// authorization code flow (login and consent forms, cookies, code redeemed at /token), and then only
// official Alibaba Cloud SDKs against a 127.0.0.1 listener of the service: IMS registers the IdP with
// the thumbprint an operator computes with openssl, RAM creates a role trusting it, STS
// AssumeRoleWithOIDC exchanges the token over HTTP, and GetCallerIdentity signed with the returned
// credentials names the assumed-role session.

import stsModule, * as sts from '@alicloud/sts20150401'
import ramModule, * as ram from '@alicloud/ram20150501'
import { $OpenApiUtil } from '@alicloud/openapi-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startTestService, type TestService } from '../support/service.ts'
import { createTestPki, type TestPki } from '../support/test-ca.ts'
import { ims, imsClient, sdkError } from './support/ims-sdk.ts'
import { lastSentCertificateSha1, startOidcIdp, type IdTokenResult, type OidcIdp } from './support/oidc-idp.ts'

// CommonJS modules with `exports.default = Client`: Node's ESM loader hands over module.exports (the
// class under `.default`), while vitest honours `__esModule` and hands over the class itself.
type StsClientClass = typeof stsModule.default
const StsClient: StsClientClass = (stsModule as unknown as { default?: StsClientClass }).default ?? (stsModule as unknown as StsClientClass)
type RamClientClass = typeof ramModule.default
const RamClient: RamClientClass = (ramModule as unknown as { default?: RamClientClass }).default ?? (ramModule as unknown as RamClientClass)

/** A client ID of our own (not sts.aliyuncs.com): registered as the provider's ClientIds, it is the token's aud. */
const CLIENT_ID = 'build-pipeline'
const SUBJECT = 'system:serviceaccount:prod:builder'
const SESSION = 'builder-run-1'

let pki: TestPki
let idp: OidcIdp
let svc: TestService
let host: string
let account: string
let signedIn: IdTokenResult

const stsClient = (extra: Record<string, unknown> = {}) => new StsClient(new $OpenApiUtil.Config({ endpoint: host, protocol: 'http', ...extra }))
const providerArn = () => `acs:ram::${account}:oidc-provider/prod-cluster`
const trust = (sub: string) => JSON.stringify({
  Version: '1',
  Statement: [{
    Effect: 'Allow',
    Action: 'sts:AssumeRole',
    Principal: { Federated: providerArn() },
    Condition: { StringEquals: { 'oidc:aud': CLIENT_ID, 'oidc:iss': idp.issuer }, StringLike: { 'oidc:sub': sub } },
  }],
})
const exchange = (roleName: string, token: string) => stsClient().assumeRoleWithOIDC(new sts.AssumeRoleWithOIDCRequest({
  OIDCProviderArn: providerArn(),
  roleArn: `acs:ram::${account}:role/${roleName}`,
  OIDCToken: token,
  roleSessionName: SESSION,
  durationSeconds: 900,
}))

beforeAll(async () => {
  pki = await createTestPki('oidc-provider e2e')
  idp = await startOidcIdp({ pki, clientId: CLIENT_ID, subject: SUBJECT })
  // The service trusts the test root for discovery and JWKS, and allows a loopback issuer.
  svc = await startTestService({ env: { ALLOW_PRIVATE_ISSUERS: 'true' }, fetchOptions: { ca: pki.root.certPem } })
  await svc.app.listen({ host: '127.0.0.1', port: 0 })
  const address = svc.app.server.address()
  if (typeof address !== 'object' || address === null) throw new Error('the test service has no TCP address')
  host = `127.0.0.1:${address.port}`
  account = svc.root.AccountId
  signedIn = await idp.signIn(SUBJECT)
})
afterAll(async () => {
  await svc?.close()
  await idp?.close()
})

describe('an ID token from oidc-provider, exchanged through the official SDKs', () => {
  it('comes from a real authorization code flow: login and consent forms, an RS256 token signed with the published key', () => {
    expect(signedIn.interactions).toEqual(['login', 'consent'])
    const header = JSON.parse(Buffer.from(signedIn.idToken.split('.')[0] ?? '', 'base64url').toString('utf8'))
    expect(header).toMatchObject({ alg: 'RS256', kid: idp.signingKey.kid })
    expect(signedIn.claims).toMatchObject({ iss: idp.issuer, sub: SUBJECT, aud: CLIENT_ID })
    expect((signedIn.claims.exp as number) - (signedIn.claims.iat as number)).toBe(600)
  })

  it('registers the IdP with the thumbprint of the last certificate it sends (the openssl recipe of spec §6.2): its intermediate', async () => {
    const thumbprint = await lastSentCertificateSha1(idp.issuer)
    expect(thumbprint).toBe(pki.intermediate.sha1)
    const imsSdk = imsClient({ endpoint: host, accessKeyId: svc.root.AccessKeyId, accessKeySecret: svc.root.AccessKeySecret })
    const created = await imsSdk.createOIDCProvider(new ims.CreateOIDCProviderRequest({
      OIDCProviderName: 'prod-cluster',
      issuerUrl: idp.issuer,
      fingerprints: thumbprint.toUpperCase(), // as Terraform examples write it; compared case-insensitively
      clientIds: CLIENT_ID,
      issuanceLimitTime: 12,
    }))
    expect(created.body?.OIDCProvider).toMatchObject({ arn: providerArn(), issuerUrl: idp.issuer, fingerprints: thumbprint, clientIds: CLIENT_ID })

    const ramSdk = new RamClient(new $OpenApiUtil.Config({ endpoint: host, accessKeyId: svc.root.AccessKeyId, accessKeySecret: svc.root.AccessKeySecret, protocol: 'http' }))
    const builder = await ramSdk.createRole(new ram.CreateRoleRequest({ roleName: 'ci-builder', assumeRolePolicyDocument: trust('system:serviceaccount:prod:*') }))
    expect(builder.body?.role?.arn).toBe(`acs:ram::${account}:role/ci-builder`)
    // A second role that trusts another service account only: the same token must not assume it.
    const deployer = await ramSdk.createRole(new ram.CreateRoleRequest({ roleName: 'ci-deployer', assumeRolePolicyDocument: trust('system:serviceaccount:prod:deployer') }))
    expect(deployer.statusCode).toBe(200)
  })

  it('exchanges the token over HTTP with the official STS client, whose credentials then sign GetCallerIdentity', async () => {
    const jwksFetchesBefore = idp.requests('/jwks')
    const res = await exchange('ci-builder', signedIn.idToken)
    expect(res.statusCode).toBe(200)
    const body = res.body!
    expect(body.credentials?.accessKeyId).toMatch(/^STS\./)
    expect(body.credentials?.accessKeySecret).toBeTruthy()
    expect(body.credentials?.securityToken).toBeTruthy()
    expect(Date.parse(body.credentials?.expiration ?? '') - Date.now()).toBeGreaterThan(800_000)
    expect(body.assumedRoleUser?.arn).toBe(`acs:ram::${account}:role/ci-builder/${SESSION}`)
    expect(body.OIDCTokenInfo).toMatchObject({ issuer: idp.issuer, subject: SUBJECT, clientIds: CLIENT_ID, verificationInfo: 'Success' })
    // The service read oidc-provider's real discovery document and fetched the JWKS it names.
    expect(idp.requests('/jwks')).toBe(jwksFetchesBefore + 1)

    const asRole = stsClient({
      accessKeyId: body.credentials?.accessKeyId,
      accessKeySecret: body.credentials?.accessKeySecret,
      securityToken: body.credentials?.securityToken,
    })
    const who = await asRole.getCallerIdentity()
    expect(who.statusCode).toBe(200)
    expect(who.body).toMatchObject({
      identityType: 'AssumedRoleUser',
      accountId: account,
      arn: `acs:ram::${account}:assumed-role/ci-builder/${SESSION}`,
      principalId: body.assumedRoleUser?.assumedRoleId,
    })
    expect(who.body?.roleId).toBe(body.assumedRoleUser?.assumedRoleId?.split(':')[0])
  })

  it('refuses the same token for a role whose trust policy names another subject, with the SDK error the official client raises', async () => {
    const error = await sdkError(exchange('ci-deployer', signedIn.idToken))
    expect(error.statusCode).toBe(401)
    expect(error.code).toBe('AuthenticationFail.NoPermission')
  })

  it('refuses a token whose signature was altered after the IdP issued it', async () => {
    const [h, p, s = ''] = signedIn.idToken.split('.')
    const flipped = `${s.slice(0, 10)}${s[10] === 'A' ? 'B' : 'A'}${s.slice(11)}`
    const error = await sdkError(exchange('ci-builder', `${h}.${p}.${flipped}`))
    expect(error.statusCode).toBe(401)
    expect(error.code).toBe('AuthenticationFail.OIDCToken.InvalidSignature')
  })
})
