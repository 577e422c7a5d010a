// Drives functions/management.ts, the Lambda entry, with an API Gateway HTTP API v2 event from events/,
// re-signed for the test's account and clock (the stored sample carries the spec's §5.4 example signature).
import { readFileSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { bootstrapOperatorAccount, generateAccessKey, generateAccountId } from '../../shared/services/accounts.ts'
import { formatTokenKeys, generateTokenKey } from '../../shared/credentials/token-keys.ts'
import { openStores } from '../../shared/store/stores.ts'
import { signRpc } from '../support/sign.ts'
import { createTestTable } from '../support/store.ts'

type Handler = (event: unknown, context: unknown) => Promise<{ statusCode: number; body: string; headers: Record<string, string> }>
const sample = JSON.parse(readFileSync(new URL('../../events/http-api-v2-create-oidc-provider.json', import.meta.url), 'utf8'))

let handler: Handler
const key = generateAccessKey()
const accountId = generateAccountId()

beforeAll(async () => {
  const { endpoint, tableName } = await createTestTable('lambda')
  process.env.TABLE_NAME = tableName
  process.env.DYNAMODB_ENDPOINT = endpoint
  process.env.LOG_LEVEL = 'silent'
  process.env.TOKEN_KEYS = formatTokenKeys([generateTokenKey()])
  const stores = openStores({ tableName, region: 'us-east-1', dynamodbEndpoint: endpoint })
  await bootstrapOperatorAccount(stores.accounts, { AccountId: accountId, AccessKeyId: key.accessKeyId, AccessKeySecret: key.secret }, Date.now())
  handler = (await import('../../functions/management.ts')).handler as unknown as Handler
})
afterAll(() => {
  delete process.env.TABLE_NAME
  delete process.env.DYNAMODB_ENDPOINT
  delete process.env.TOKEN_KEYS
})

function resign(event: typeof sample) {
  const params = Object.fromEntries(new URLSearchParams(event.rawQueryString))
  const signed = signRpc({ creds: { accessKeyId: key.accessKeyId, secret: key.secret }, action: event.headers['x-acs-action'], version: event.headers['x-acs-version'], params, host: event.headers.host })
  return {
    ...event,
    rawQueryString: signed.url.slice(2),
    headers: { ...event.headers, ...signed.headers },
    queryStringParameters: params,
  }
}

describe('functions/management.ts (Lambda, HTTP API v2 event)', () => {
  it('creates an OIDC provider from a signed API Gateway event', async () => {
    const res = await handler(resign(sample), {})
    expect(res.statusCode).toBe(200)
    const body = JSON.parse(res.body)
    expect(body.OIDCProvider).toMatchObject({
      OIDCProviderName: 'TestOIDCProvider',
      Arn: `acs:ram::${accountId}:oidc-provider/TestOIDCProvider`,
      Description: 'demo (OIDC) *test*',
    })
    expect(res.headers['x-acs-request-id']).toBe(body.RequestId)
  })

  it('rejects the stored sample as-is: its 2024 signature date is outside the 15-minute window', async () => {
    const res = await handler(sample, {})
    expect(res.statusCode).toBe(400)
    expect(JSON.parse(res.body).Code).toBe('InvalidTimeStamp.Expired')
  })

  it('refuses a parameter repeated in the raw query even though API Gateway merges it', async () => {
    const event = resign(sample)
    const res = await handler({ ...event, rawQueryString: `${event.rawQueryString}&OIDCProviderName=Other` }, {})
    expect(res.statusCode).toBe(400)
    expect(JSON.parse(res.body).Code).toBe('InvalidParameter.OIDCProviderName.Duplicate')
  })
})
