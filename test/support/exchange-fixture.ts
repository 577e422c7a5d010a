// A ready-to-exchange world for one test file: a local HTTPS IdP (test CA), a service trusting that CA,
// an OIDC provider `ci` registered with the intermediate's thumbprint, and a role `deployer` trusting it.
// And the exchange request itself (injectExchange), for tests that build their own world.

import { sign as cryptoSign } from 'node:crypto'
import { percentEncode } from '../../shared/signing/percent-encode.ts'
import { makeSigningKey, startHttpsIdp, type HttpsIdp, type TestSigningKey } from './https-idp.ts'
import { IMS, startTestService, type TestService } from './service.ts'
import { createTestPki, type TestPki } from './test-ca.ts'

export const RAM = '2015-05-01'
export const STS = '2015-04-01'

export interface ExchangeFixture {
  svc: TestService
  idp: HttpsIdp
  pki: TestPki
  key: TestSigningKey
  account: string
  /** An RS256 ID token from the IdP for `sts.aliyuncs.com`, valid for 10 minutes from the clock. */
  idToken(claims?: Record<string, unknown>, opts?: { key?: TestSigningKey; alg?: string; typ?: string; header?: Record<string, unknown> }): string
  /** AssumeRoleWithOIDC as the credentials provider sends it (form body), through app.inject. */
  exchange(params: Record<string, string>, remoteAddress?: string): Promise<{ status: number; body: Record<string, any>; headers: Record<string, unknown> }> // eslint-disable-line @typescript-eslint/no-explicit-any
  trustPolicy(subPattern: string): string
  close(): Promise<void>
}

const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url')

export interface ExchangeRequestOptions {
  /** The Timestamp query parameter (the SDKs send one); none when absent. */
  timestamp?: Date
  /** The caller's address (the per-source rate limit counts it); inject's own when absent. */
  remoteAddress?: string
  /** Where the parameters go: the form body (default), or the query string with an empty body. */
  in?: 'form' | 'query'
}

/** AssumeRoleWithOIDC through app.inject(), unsigned: as the credential providers send it (the parameters percent-encoded in a form body) or, `in: 'query'`, as the STS SDK does. */
export function injectExchange(app: TestService['app'], params: Record<string, string>, opts: ExchangeRequestOptions = {}) {
  const encoded = Object.entries(params).map(([k, v]) => `${percentEncode(k)}=${percentEncode(v)}`).join('&')
  const common = `Version=${STS}&Action=AssumeRoleWithOIDC&Format=JSON${opts.timestamp ? `&Timestamp=${encodeURIComponent(opts.timestamp.toISOString())}` : ''}`
  const inQuery = opts.in === 'query'
  return app.inject({
    method: 'POST',
    url: inQuery ? `/?${common}&${encoded}` : `/?${common}`,
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    payload: inQuery ? '' : encoded,
    ...(opts.remoteAddress ? { remoteAddress: opts.remoteAddress } : {}),
  })
}

export async function createExchangeFixture(opts: { clock?: () => Date; env?: Record<string, string> } = {}): Promise<ExchangeFixture> {
  const clock = opts.clock ?? (() => new Date())
  const pki = await createTestPki('exchange')
  const key = makeSigningKey('k1')
  const idp = await startHttpsIdp({ pki, chain: 'leaf+intermediate', keys: [key.jwk] })
  const svc = await startTestService({ clock, env: { ALLOW_PRIVATE_ISSUERS: 'true', ...opts.env }, fetchOptions: { ca: pki.root.certPem } })
  const account = svc.root.AccountId

  const trustPolicy = (sub: string) => JSON.stringify({
    Version: '1',
    Statement: [{
      Effect: 'Allow',
      Action: 'sts:AssumeRole',
      Principal: { Federated: `acs:ram::${account}:oidc-provider/ci` },
      Condition: { StringEquals: { 'oidc:aud': 'sts.aliyuncs.com' }, StringLike: { 'oidc:sub': sub } },
    }],
  })

  const created = await svc.call('CreateOIDCProvider', IMS, { OIDCProviderName: 'ci', IssuerUrl: idp.issuer, Fingerprints: pki.intermediate.sha1, ClientIds: 'sts.aliyuncs.com' })
  if (created.status !== 200) throw new Error(`fixture: CreateOIDCProvider ${JSON.stringify(created.body)}`)
  const role = await svc.call('CreateRole', RAM, { RoleName: 'Deployer', AssumeRolePolicyDocument: trustPolicy('repo:octo-org/*'), MaxSessionDuration: 7200 })
  if (role.status !== 200) throw new Error(`fixture: CreateRole ${JSON.stringify(role.body)}`)
  const attached = await svc.call('AttachPolicyToRole', RAM, { PolicyType: 'System', PolicyName: 'AliyunRAMReadOnlyAccess', RoleName: 'Deployer' })
  if (attached.status !== 200) throw new Error(`fixture: AttachPolicyToRole ${JSON.stringify(attached.body)}`)

  const idToken: ExchangeFixture['idToken'] = (claims = {}, o = {}) => {
    const k = o.key ?? key
    const alg = o.alg ?? 'RS256'
    const header = b64({ alg, kid: k.kid, typ: o.typ ?? 'JWT', ...o.header })
    const iat = Math.floor(clock().getTime() / 1000)
    const payload = b64({ iss: idp.issuer, sub: 'repo:octo-org/app:ref:refs/heads/main', aud: 'sts.aliyuncs.com', iat, exp: iat + 600, jti: `j-${Math.random()}`, ...claims })
    const input = `${header}.${payload}`
    const ec = alg.startsWith('ES')
    const sig = cryptoSign('sha256', Buffer.from(input), ec ? { key: k.privateKey, dsaEncoding: 'ieee-p1363' } : k.privateKey)
    return `${input}.${sig.toString('base64url')}`
  }

  const exchange: ExchangeFixture['exchange'] = async (params, remoteAddress = '203.0.113.9') => {
    const res = await injectExchange(svc.app, {
      OIDCProviderArn: `acs:ram::${account}:oidc-provider/ci`,
      RoleArn: `acs:ram::${account}:role/deployer`,
      RoleSessionName: 'build-42',
      ...params,
    }, { timestamp: clock(), remoteAddress })
    return { status: res.statusCode, body: res.json(), headers: res.headers }
  }

  return {
    svc, idp, pki, key, account, idToken, exchange, trustPolicy,
    close: async () => {
      await svc.close()
      await idp.close()
    },
  }
}
