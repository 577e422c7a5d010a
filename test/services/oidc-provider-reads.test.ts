// The table requests of GetOIDCProvider: one read of the stored provider per request, whether or not
// the caller's policies test ram:OidcIssuerUrl (the key's read is the answer's read), and no read kept
// from one request to the next. Counted with a middleware on the service's real DynamoDB client
// against DynamoDB Local.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { countCommands } from '../../bench/lib/ddb-middleware.ts'
import { createExchangeFixture, type ExchangeFixture, RAM } from '../support/exchange-fixture.ts'
import { IMS } from '../support/service.ts'
import type { Credentials } from '../support/sign.ts'

let fx: ExchangeFixture
let table: ReturnType<typeof countCommands>

beforeAll(async () => {
  fx = await createExchangeFixture()
  table = countCommands(fx.svc.stores.documentClient)
})
afterAll(async () => {
  await fx?.close()
})

/** STS credentials of a new role trusting the fixture's provider, with this custom policy attached. */
async function roleWith(roleName: string, statement: Record<string, unknown>): Promise<Credentials> {
  expect((await fx.svc.call('CreateRole', RAM, { RoleName: roleName, AssumeRolePolicyDocument: fx.trustPolicy('*') })).status).toBe(200)
  expect((await fx.svc.call('CreatePolicy', RAM, { PolicyName: roleName, PolicyDocument: JSON.stringify({ Version: '1', Statement: [statement] }) })).status).toBe(200)
  expect((await fx.svc.call('AttachPolicyToRole', RAM, { RoleName: roleName, PolicyType: 'Custom', PolicyName: roleName })).status).toBe(200)
  const { body } = await fx.exchange({ OIDCToken: fx.idToken(), RoleArn: `acs:ram::${fx.account}:role/${roleName}` })
  await fx.svc.app.sts.audit.flush()
  return { accessKeyId: body.Credentials.AccessKeyId, secret: body.Credentials.AccessKeySecret, securityToken: body.Credentials.SecurityToken }
}

/** A GetOIDCProvider's answer and its table requests, once the caller's key and role policies are cached (the first call loads them). */
async function warmGet(name: string, creds?: Credentials) {
  await fx.svc.call('GetOIDCProvider', IMS, { OIDCProviderName: name }, creds)
  table.reset()
  const res = await fx.svc.call('GetOIDCProvider', IMS, { OIDCProviderName: name }, creds)
  return { res, counts: table.counts() }
}

describe('GetOIDCProvider reads the stored provider once per request', () => {
  it('for a caller whose policy tests ram:OidcIssuerUrl: one GetItem serves the condition and the answer', async () => {
    const byIssuer = await roleWith('by-issuer', { Effect: 'Allow', Action: 'ram:GetOIDCProvider', Resource: '*', Condition: { StringEquals: { 'ram:OidcIssuerUrl': fx.idp.issuer } } })
    const { res, counts } = await warmGet('ci', byIssuer)
    expect([res.status, res.body.OIDCProvider?.IssuerUrl]).toEqual([200, fx.idp.issuer])
    // The nonce, and the provider read once (it was read twice: for the condition, then by the action).
    expect(counts).toEqual({ PutItem: 1, GetItem: 1 })

    // An unknown provider has no issuer: refused on that one read.
    const ghost = await warmGet('ghost', byIssuer)
    expect([ghost.res.status, ghost.res.body.Code]).toEqual([403, 'NoPermission'])
    expect(ghost.counts).toEqual({ PutItem: 1, GetItem: 1 })
  })

  it('for a caller whose policies never test the key, and for the root key: the action\'s own read only', async () => {
    const plain = await roleWith('plain-reader', { Effect: 'Allow', Action: 'ram:GetOIDCProvider', Resource: '*' })
    const asRole = await warmGet('ci', plain)
    expect(asRole.res.status).toBe(200)
    expect(asRole.counts).toEqual({ PutItem: 1, GetItem: 1 })

    const asRoot = await warmGet('ci')
    expect(asRoot.res.status).toBe(200)
    expect(asRoot.counts).toEqual({ PutItem: 1, GetItem: 1 }) // the nonce, and the action's read
  })

  it('keeps nothing from one request to the next: a caller testing the key sees each write at once', async () => {
    const reader = await roleWith('fresh-reader', { Effect: 'Allow', Action: 'ram:GetOIDCProvider', Resource: '*', Condition: { StringEquals: { 'ram:OidcIssuerUrl': fx.idp.issuer } } })
    for (const description of ['first', 'second']) {
      expect((await fx.svc.call('UpdateOIDCProvider', IMS, { OIDCProviderName: 'ci', NewDescription: description })).status).toBe(200)
      const got = await fx.svc.call('GetOIDCProvider', IMS, { OIDCProviderName: 'ci' }, reader)
      expect([got.status, got.body.OIDCProvider?.Description]).toEqual([200, description])
    }
  })
})
