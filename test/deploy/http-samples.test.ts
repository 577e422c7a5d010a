// The HTTP API v2 samples in events/ drive the two HTTP Lambda entries as API Gateway would: the
// management sample (re-signed for this test's account and clock) reads a provider's health, and the
// token-exchange sample (form body, as the credential providers send it) reaches the OIDC checks.
import { readFileSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { formatTokenKeys, generateTokenKey } from '../../shared/credentials/token-keys.ts'
import { bootstrapOperatorAccount, generateAccessKey, generateAccountId } from '../../shared/services/accounts.ts'
import { openStores } from '../../shared/store/stores.ts'
import { signRpc } from '../support/sign.ts'
import { createTestTable } from '../support/store.ts'

type Handler = (event: unknown, context: unknown) => Promise<{ statusCode: number; body: string }>
const sample = (name: string) => JSON.parse(readFileSync(new URL(`../../events/${name}`, import.meta.url), 'utf8'))
const key = generateAccessKey()
const accountId = generateAccountId()
let management: Handler
let tokenExchange: Handler

beforeAll(async () => {
  const { endpoint, tableName } = await createTestTable('samples')
  Object.assign(process.env, { TABLE_NAME: tableName, DYNAMODB_ENDPOINT: endpoint, LOG_LEVEL: 'silent', TOKEN_KEYS: formatTokenKeys([generateTokenKey()]) })
  const stores = openStores({ tableName, region: 'us-east-1', dynamodbEndpoint: endpoint })
  await bootstrapOperatorAccount(stores.accounts, { AccountId: accountId, AccessKeyId: key.accessKeyId, AccessKeySecret: key.secret }, Date.now())
  await stores.providers.create({ accountId, name: 'TestOIDCProvider', issuerUrl: 'https://idp.example.com', fingerprints: [], clientIds: ['sts.aliyuncs.com'], issuanceLimitTime: 12, description: '', createdAt: Date.now(), updatedAt: Date.now(), version: 1 })
  management = (await import('../../functions/management.ts')).handler as unknown as Handler
  tokenExchange = (await import('../../functions/token-exchange.ts')).handler as unknown as Handler
})
afterAll(() => {
  for (const k of ['TABLE_NAME', 'DYNAMODB_ENDPOINT', 'TOKEN_KEYS']) delete process.env[k]
})

describe('HTTP API v2 samples', () => {
  it('events/http-api-v2-get-oidc-provider-health.json, re-signed, reads the provider\'s health from the management function', async () => {
    const event = sample('http-api-v2-get-oidc-provider-health.json')
    const params = Object.fromEntries(new URLSearchParams(event.rawQueryString))
    const signed = signRpc({ creds: { accessKeyId: key.accessKeyId, secret: key.secret }, action: event.headers['x-acs-action'], version: event.headers['x-acs-version'], params, host: event.headers.host })
    const res = await management({ ...event, rawQueryString: signed.url.slice(2), headers: { ...event.headers, ...signed.headers } }, {})
    expect(res.statusCode, res.body).toBe(200)
    expect(JSON.parse(res.body).OIDCProviderHealth).toEqual({ OIDCProviderName: 'TestOIDCProvider', Arn: `acs:ram::${accountId}:oidc-provider/TestOIDCProvider`, IssuerUrl: 'https://idp.example.com', Status: 'unchecked' })
  })

  it('events/http-api-v2-assume-role-with-oidc.json reaches the exchange checks of the token-exchange function (its account has no such provider)', async () => {
    const res = await tokenExchange(sample('http-api-v2-assume-role-with-oidc.json'), {})
    expect(res.statusCode).toBe(401)
    expect(JSON.parse(res.body)).toMatchObject({ Code: 'AuthenticationFail.NoPermission', HostId: 'sts.aliyuncs.com' })
  })
})
