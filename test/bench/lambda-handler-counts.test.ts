// Counting assertions behind BENCHMARKS.md (issue 6) for the Lambda entry itself: functions/token-exchange.ts
// configured from the environment, its DynamoDB requests counted at the wire by a pass-through in front of
// DynamoDB Local (bench/lib/ddb-counter.ts), IdP requests by the IdP. No timing is asserted.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { type DdbCounter, diffCounts, startDdbCounter } from '../../bench/lib/ddb-counter.ts'
import { httpApiEvent } from '../../bench/lib/events.ts'
import { formatTokenKeys, generateTokenKey } from '../../shared/credentials/token-keys.ts'
import { getJwksCache } from '../../shared/oidc/jwks-cache.ts'
import { percentEncode } from '../../shared/signing/percent-encode.ts'
import { createExchangeFixture, type ExchangeFixture, STS } from '../support/exchange-fixture.ts'

type Handler = (event: unknown, context: unknown) => Promise<{ statusCode: number; body: string }>

let fx: ExchangeFixture
let counter: DdbCounter
let handler: Handler
const ENV = ['TABLE_NAME', 'DYNAMODB_ENDPOINT', 'TOKEN_KEYS', 'LOG_LEVEL', 'ALLOW_PRIVATE_ISSUERS', 'RATE_LIMIT_SOURCE_PER_SECOND', 'RATE_LIMIT_SOURCE_BURST'] as const

beforeAll(async () => {
  fx = await createExchangeFixture()
  counter = await startDdbCounter(inject('dynamodbEndpoint'))
  Object.assign(process.env, {
    TABLE_NAME: fx.svc.stores.table.table.getName(),
    DYNAMODB_ENDPOINT: counter.endpoint,
    TOKEN_KEYS: formatTokenKeys([generateTokenKey()]),
    LOG_LEVEL: 'silent',
    ALLOW_PRIVATE_ISSUERS: 'true',
    RATE_LIMIT_SOURCE_PER_SECOND: '100000',
    RATE_LIMIT_SOURCE_BURST: '100000',
  })
  // The module-scope JWKS cache takes the first caller's options: trust the test CA (a deployed
  // function gets it from NODE_EXTRA_CA_CERTS, which cannot be set after node has started).
  getJwksCache({ fetchOptions: { allowPrivate: true, ca: fx.pki.root.certPem } })
  handler = ((await import('../../functions/token-exchange.ts')) as unknown as { handler: Handler }).handler
})
afterAll(async () => {
  for (const name of ENV) delete process.env[name]
  await counter?.close()
  await fx?.close()
})

const event = (token: string, i: number) => {
  const query = Object.entries({
    Action: 'AssumeRoleWithOIDC', Version: STS, Format: 'JSON',
    OIDCProviderArn: `acs:ram::${fx.account}:oidc-provider/ci`, RoleArn: `acs:ram::${fx.account}:role/deployer`,
    RoleSessionName: `lambda-${i}`, OIDCToken: token,
  }).map(([k, v]) => `${k}=${percentEncode(v)}`).join('&')
  return httpApiEvent({ rawQueryString: query })
}

async function invoke(i: number) {
  const before = counter.counts()
  const res = await handler(event(fx.idToken(), i), {})
  expect(res.statusCode, res.body).toBe(200)
  return diffCounts(counter.counts(), before)
}

describe('functions/token-exchange.ts: table and IdP requests per invocation', () => {
  it('cold: reads its configuration and fetches the keys once; warm: no read, one audit batch per 25 exchanges', async () => {
    const idpBefore = fx.idp.requests(fx.idp.discoveryPath) + fx.idp.requests(fx.idp.jwksPath)
    const cold = await invoke(0)
    expect(cold.GetItem).toBeGreaterThanOrEqual(2) // provider and role (and a look for a stored JWKS copy)
    expect(Object.keys(cold)).toEqual(['GetItem']) // the audit record waits for its batch
    expect(fx.idp.requests(fx.idp.discoveryPath) + fx.idp.requests(fx.idp.jwksPath)).toBe(idpBefore + 2)

    const started = Date.now()
    const perInvocation = []
    for (let i = 1; i <= 24; i++) perInvocation.push(await invoke(i))
    const elapsedMs = Date.now() - started
    // The 25th record (invocation 24) fills the batch, written before that invocation returns.
    expect(perInvocation[23]).toMatchObject({ BatchWriteItem: 1 })
    const total = perInvocation.reduce<Record<string, number>>((acc, ops) => {
      for (const [k, v] of Object.entries(ops)) acc[k] = (acc[k] ?? 0) + v
      return acc
    }, {})
    expect(total.BatchWriteItem).toBe(1)
    // Reads only when the ≤ 5 s configuration cache expires (provider + role), never per exchange.
    expect(total.GetItem ?? 0).toBeLessThanOrEqual(2 * Math.floor(elapsedMs / 5000))
    expect(Object.keys(total).filter((op) => op !== 'BatchWriteItem' && op !== 'GetItem')).toEqual([])
    expect(fx.idp.requests(fx.idp.discoveryPath) + fx.idp.requests(fx.idp.jwksPath)).toBe(idpBefore + 2)
  })
})
