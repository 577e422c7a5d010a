// The provider invariants hold under concurrent calls through the real app and DynamoDB Local: the
// per-account quota, name and IssuerUrl uniqueness, the client-ID and fingerprint limits, and list
// edits that neither lose an update nor remove the wrong element. Every call runs at once
// (Promise.all); outcomes are counted by code, then the stored state is read back.
//
// Why this file opens its own store client: DynamoDB Local executes requests about one at a time
// (~10 ms each, more when the machine is busy), so a burst of 130 signed calls (nonce put + key read
// + transaction each) queues for seconds. The production client (shared/store/table.ts) gives up
// after 2 s of connect-or-queue time (connectionTimeout also counts the wait for one of the SDK
// agent's 50 sockets), which turns the emulator's queue into spurious 503s. The invariants under
// test are the store's conditions, not the emulator's throughput: the client here is the same real
// SDK client with the same settings except time bounds long enough for the burst to drain.

import { DynamoDBClient } from '@aws-sdk/client-dynamodb'
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadConfig } from '../../shared/config.ts'
import { createLogger } from '../../shared/log.ts'
import { managementActions } from '../../shared/management-app.ts'
import { OIDC_STS_VERSION, bootstrapOperatorAccount, generateAccessKey, generateAccountId } from '../../shared/services/accounts.ts'
import { buildServiceApp } from '../../shared/service-app.ts'
import { AccountStore } from '../../shared/store/account-store.ts'
import { NonceStore } from '../../shared/store/nonce-store.ts'
import { OidcProviderStore } from '../../shared/store/oidc-provider-store.ts'
import { openStores, type Stores } from '../../shared/store/stores.ts'
import { defineTable } from '../../shared/store/table.ts'
import { PROVIDER_LIMITS } from '../../shared/validation/oidc-provider-rules.ts'
import { IMS, testTokenKeys } from '../support/service.ts'
import { signRpc, type Credentials } from '../support/sign.ts'
import { createTestTable } from '../support/store.ts'

interface BurstService {
  stores: Stores
  call(action: string, version: string, params?: Record<string, string | number>, creds?: Credentials): Promise<{ status: number; body: Record<string, any> }> // eslint-disable-line @typescript-eslint/no-explicit-any
  close(): Promise<void>
}

/** The full management app on a fresh table, its IMS stores on a client whose time bounds outlast a burst. */
async function startBurstTolerantService(): Promise<BurstService> {
  const { endpoint, tableName } = await createTestTable('burst')
  const config = loadConfig({ TABLE_NAME: tableName, DYNAMODB_ENDPOINT: endpoint, LOG_LEVEL: 'silent' })
  const client = new DynamoDBClient({
    region: config.region,
    endpoint,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts: 2,
    requestHandler: { connectionTimeout: 60_000, requestTimeout: 60_000, throwOnRequestTimeout: true },
  })
  const documentClient = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } })
  const table = defineTable(documentClient, tableName)
  // Every store the IMS actions and authentication use is on the patient client; the others (RAM)
  // are not called here.
  const stores: Stores = {
    ...openStores(config),
    documentClient,
    table,
    accounts: new AccountStore(table),
    providers: new OidcProviderStore(table),
    nonces: new NonceStore(table),
  }
  const key = generateAccessKey()
  const root = { AccountId: generateAccountId(), AccessKeyId: key.accessKeyId, AccessKeySecret: key.secret }
  await bootstrapOperatorAccount(stores.accounts, root, Date.now())
  const app = buildServiceApp({ config, stores, logger: createLogger('silent'), actions: managementActions(), tokenKeys: testTokenKeys(), jwks: 'private' })
  await app.ready()
  const rootCreds = { accessKeyId: root.AccessKeyId, secret: root.AccessKeySecret }
  return {
    stores,
    async call(action, version, params = {}, creds = rootCreds) {
      const req = signRpc({ creds, action, version, params })
      const res = await app.inject({ method: req.method, url: req.url, headers: req.headers, payload: req.payload })
      return { status: res.statusCode, body: res.json() }
    },
    async close() {
      await app.close()
      client.destroy()
    },
  }
}

let svc: BurstService
// The 130-call burst drains at the emulator's pace: seconds on an idle machine, more on a loaded one.
const BURST_TIMEOUT_MS = 120_000
beforeAll(async () => { svc = await startBurstTolerantService() })
afterAll(async () => { await svc?.close() })

interface Account {
  accountId: string
  creds: Credentials
}

/** A fresh account (operator CreateAccount), so each scenario starts from an empty quota. */
async function newAccount(): Promise<Account> {
  const res = await svc.call('CreateAccount', OIDC_STS_VERSION)
  expect(res.status).toBe(200)
  return { accountId: res.body.AccountId as string, creds: { accessKeyId: res.body.AccessKeyId as string, secret: res.body.AccessKeySecret as string } }
}

const call = (acct: Account, action: string, params: Record<string, string | number>) => svc.call(action, IMS, params, acct.creds)

/** Runs all calls at once; returns each outcome as "OK" or its error code, in call order. */
async function concurrently(calls: Array<() => ReturnType<BurstService['call']>>): Promise<string[]> {
  const results = await Promise.all(calls.map((c) => c()))
  return results.map((r) => (r.status === 200 ? 'OK' : `${r.status} ${r.body.Code as string}`))
}

function tally(outcomes: string[]): Record<string, number> {
  const out: Record<string, number> = {}
  for (const o of outcomes) out[o] = (out[o] ?? 0) + 1
  return out
}

async function listAll(acct: Account, pageSize: number): Promise<string[]> {
  const names: string[] = []
  let marker: string | undefined
  for (let page = 0; page < 50; page++) {
    const res = await call(acct, 'ListOIDCProviders', { MaxItems: pageSize, ...(marker ? { Marker: marker } : {}) })
    expect(res.status).toBe(200)
    names.push(...(res.body.OIDCProviders.OIDCProvider as { OIDCProviderName: string }[]).map((p) => p.OIDCProviderName))
    if (!res.body.IsTruncated) return names
    marker = res.body.Marker as string
  }
  throw new Error('paging did not end')
}

const providerCount = async (acct: Account) => (await svc.stores.accounts.getAccount(acct.accountId))?.providerCount

async function getProvider(acct: Account, name: string) {
  const res = await call(acct, 'GetOIDCProvider', { OIDCProviderName: name })
  expect(res.status).toBe(200)
  return res.body.OIDCProvider as { ClientIds: string; Fingerprints: string; IssuerUrl: string }
}

const split = (joined: string) => (joined === '' ? [] : joined.split(','))
const range = (n: number) => Array.from({ length: n }, (_, i) => i)
const hex40 = (i: number) => (i + 1).toString(16).padStart(40, 'a')

describe('the per-account provider quota under concurrent creates', () => {
  let acct: Account
  let created: string[]

  it('130 concurrent creates of distinct names and IssuerUrls give exactly 100 providers and 30 LimitExceeded.OIDCProvider', async () => {
    acct = await newAccount()
    const names = range(130).map((i) => `p-${String(i).padStart(3, '0')}`)
    const outcomes = await concurrently(names.map((n) => () => call(acct, 'CreateOIDCProvider', { OIDCProviderName: n, IssuerUrl: `https://${n}.example.com` })))
    expect(tally(outcomes)).toEqual({ OK: 100, '409 LimitExceeded.OIDCProvider': 30 })
    created = names.filter((_, i) => outcomes[i] === 'OK')

    const listed = await listAll(acct, 30)
    expect(listed).toHaveLength(100)
    expect(listed).toEqual([...created].sort())
    expect(await providerCount(acct)).toBe(PROVIDER_LIMITS.providersPerAccount)
  }, BURST_TIMEOUT_MS)

  it('a delete at the quota frees exactly one slot, even when 10 creates race for it', async () => {
    const victim = created[0]!
    expect((await call(acct, 'DeleteOIDCProvider', { OIDCProviderName: victim })).status).toBe(200)
    expect(await providerCount(acct)).toBe(99)
    const outcomes = await concurrently(range(10).map((i) => () => call(acct, 'CreateOIDCProvider', { OIDCProviderName: `late-${i}`, IssuerUrl: `https://late-${i}.example.com` })))
    expect(tally(outcomes)).toEqual({ OK: 1, '409 LimitExceeded.OIDCProvider': 9 })
    expect(await listAll(acct, 100)).toHaveLength(100)
    expect(await providerCount(acct)).toBe(100)
  })

  it('the deleted provider\'s IssuerUrl can be registered again after a slot frees', async () => {
    const victim = created[0]!
    expect((await call(acct, 'DeleteOIDCProvider', { OIDCProviderName: created[1]! })).status).toBe(200)
    const res = await call(acct, 'CreateOIDCProvider', { OIDCProviderName: 'reborn', IssuerUrl: `https://${victim}.example.com` })
    expect(res.status).toBe(200)
    expect(await providerCount(acct)).toBe(100)
  })
})

describe('concurrent deletes of the same provider', () => {
  it('give 1 success and EntityNotExist.OIDCProvider for the rest, and decrement the counter once', async () => {
    const acct = await newAccount()
    for (const n of ['keep', 'doomed']) {
      expect((await call(acct, 'CreateOIDCProvider', { OIDCProviderName: n, IssuerUrl: `https://${n}.example.com` })).status).toBe(200)
    }
    expect(await providerCount(acct)).toBe(2)
    const outcomes = await concurrently(range(15).map(() => () => call(acct, 'DeleteOIDCProvider', { OIDCProviderName: 'doomed' })))
    expect(tally(outcomes)).toEqual({ OK: 1, '404 EntityNotExist.OIDCProvider': 14 })
    expect(await providerCount(acct)).toBe(1)
    expect(await listAll(acct, 100)).toEqual(['keep'])
    // The issuer guard went with it: the URL is free again.
    expect((await call(acct, 'CreateOIDCProvider', { OIDCProviderName: 'again', IssuerUrl: 'https://doomed.example.com' })).status).toBe(200)
  })
})

describe('uniqueness under concurrent creates', () => {
  it('20 concurrent creates of the same name give 1 provider and EntityAlreadyExists.OIDCProvider, and leave the losers\' IssuerUrls free', async () => {
    const acct = await newAccount()
    const outcomes = await concurrently(range(20).map((i) => () => call(acct, 'CreateOIDCProvider', { OIDCProviderName: 'same', IssuerUrl: `https://idp-${i}.example.com` })))
    expect(tally(outcomes)).toEqual({ OK: 1, '409 EntityAlreadyExists.OIDCProvider': 19 })
    expect(await listAll(acct, 100)).toEqual(['same'])
    expect(await providerCount(acct)).toBe(1)
    const winner = outcomes.indexOf('OK')
    expect((await getProvider(acct, 'same')).IssuerUrl).toBe(`https://idp-${winner}.example.com`)
    const loser = winner === 0 ? 1 : 0
    expect((await call(acct, 'CreateOIDCProvider', { OIDCProviderName: 'other', IssuerUrl: `https://idp-${loser}.example.com` })).status).toBe(200)
  })

  it('20 concurrent creates of the same IssuerUrl under different names give 1 provider and EntityAlreadyExists.OIDCProvider.Url', async () => {
    const acct = await newAccount()
    const outcomes = await concurrently(range(20).map((i) => () => call(acct, 'CreateOIDCProvider', { OIDCProviderName: `name-${i}`, IssuerUrl: 'https://shared.example.com' })))
    expect(tally(outcomes)).toEqual({ OK: 1, '409 EntityAlreadyExists.OIDCProvider.Url': 19 })
    const winner = outcomes.indexOf('OK')
    expect(await listAll(acct, 100)).toEqual([`name-${winner}`])
    expect(await providerCount(acct)).toBe(1)
  })
})

describe('client-ID and fingerprint lists under concurrent edits', () => {
  let acct: Account
  beforeAll(async () => { acct = await newAccount() })

  const createProvider = async (name: string, extra: Record<string, string> = {}) => {
    const res = await call(acct, 'CreateOIDCProvider', { OIDCProviderName: name, IssuerUrl: `https://${name}.example.com`, ...extra })
    expect(res.status).toBe(200)
  }

  it('60 concurrent adds of distinct client IDs leave exactly 50, the other 10 get LimitExceeded.OIDCProvider.ClientId', async () => {
    await createProvider('adds')
    const ids = range(60).map((i) => `client-${i}`)
    const outcomes = await concurrently(ids.map((id) => () => call(acct, 'AddClientIdToOIDCProvider', { OIDCProviderName: 'adds', ClientId: id })))
    expect(tally(outcomes)).toEqual({ OK: 50, '409 LimitExceeded.OIDCProvider.ClientId': 10 })
    const stored = split((await getProvider(acct, 'adds')).ClientIds)
    expect(stored).toHaveLength(50)
    expect([...stored].sort()).toEqual(ids.filter((_, i) => outcomes[i] === 'OK').sort())
  })

  it('20 concurrent adds of the same client ID give 1 success and 19 EntityAlreadyExists.OIDCProvider.ClientId', async () => {
    await createProvider('same-add', { ClientIds: 'existing' })
    const outcomes = await concurrently(range(20).map(() => () => call(acct, 'AddClientIdToOIDCProvider', { OIDCProviderName: 'same-add', ClientId: 'sts.aliyuncs.com' })))
    expect(tally(outcomes)).toEqual({ OK: 1, '409 EntityAlreadyExists.OIDCProvider.ClientId': 19 })
    expect((await getProvider(acct, 'same-add')).ClientIds).toBe('existing,sts.aliyuncs.com')
  })

  it('30 concurrent removes of different client IDs all succeed and leave exactly the other 20, in order', async () => {
    const ids = range(50).map((i) => `c${String(i).padStart(2, '0')}`)
    await createProvider('removes', { ClientIds: ids.join(',') })
    // Every removal shifts the indices after it: spread the victims over the whole list.
    const victims = ids.filter((_, i) => i % 5 !== 0 && i % 5 !== 3).slice(0, 30)
    expect(victims).toHaveLength(30)
    const outcomes = await concurrently(victims.map((id) => () => call(acct, 'RemoveClientIdFromOIDCProvider', { OIDCProviderName: 'removes', ClientId: id })))
    expect(tally(outcomes)).toEqual({ OK: 30 })
    expect(split((await getProvider(acct, 'removes')).ClientIds)).toEqual(ids.filter((id) => !victims.includes(id)))
  })

  it('10 concurrent removes of the same client ID give 1 success and EntityNotExist.OIDCProvider.ClientId for the rest', async () => {
    await createProvider('same-remove', { ClientIds: 'a,b,c' })
    const outcomes = await concurrently(range(10).map(() => () => call(acct, 'RemoveClientIdFromOIDCProvider', { OIDCProviderName: 'same-remove', ClientId: 'b' })))
    expect(tally(outcomes)).toEqual({ OK: 1, '404 EntityNotExist.OIDCProvider.ClientId': 9 })
    expect((await getProvider(acct, 'same-remove')).ClientIds).toBe('a,c')
  })

  it('concurrent adds and removes of different client IDs lose none of either', async () => {
    const initial = range(30).map((i) => `old-${i}`)
    await createProvider('mixed', { ClientIds: initial.join(',') })
    const removed = initial.filter((_, i) => i % 2 === 1) // 15
    const added = range(20).map((i) => `new-${i}`) // 30 - 15 + 20 = 35 <= 50
    const outcomes = await concurrently([
      ...removed.map((id) => () => call(acct, 'RemoveClientIdFromOIDCProvider', { OIDCProviderName: 'mixed', ClientId: id })),
      ...added.map((id) => () => call(acct, 'AddClientIdToOIDCProvider', { OIDCProviderName: 'mixed', ClientId: id })),
    ])
    expect(tally(outcomes)).toEqual({ OK: 35 })
    const stored = split((await getProvider(acct, 'mixed')).ClientIds)
    expect([...stored].sort()).toEqual([...initial.filter((id) => !removed.includes(id)), ...added].sort())
    // Survivors of the original list keep their relative order.
    expect(stored.filter((id) => id.startsWith('old-'))).toEqual(initial.filter((id) => !removed.includes(id)))
  })

  it('8 concurrent adds of distinct fingerprints leave exactly 5, the other 3 get LimitExceeded.OIDCProvider.Fingerprint', async () => {
    await createProvider('fps')
    const fps = range(8).map(hex40)
    const outcomes = await concurrently(fps.map((fp) => () => call(acct, 'AddFingerprintToOIDCProvider', { OIDCProviderName: 'fps', Fingerprint: fp })))
    expect(tally(outcomes)).toEqual({ OK: 5, '409 LimitExceeded.OIDCProvider.Fingerprint': 3 })
    expect([...split((await getProvider(acct, 'fps')).Fingerprints)].sort()).toEqual(fps.filter((_, i) => outcomes[i] === 'OK').sort())
  })

  it('concurrent adds of one fingerprint in lower and upper case give 1 success and EntityAlreadyExists.OIDCProvider.Fingerprint', async () => {
    await createProvider('fp-case')
    const fp = 'abcdef0123456789abcdef0123456789abcdef01'
    const outcomes = await concurrently(range(10).map((i) => () => call(acct, 'AddFingerprintToOIDCProvider', { OIDCProviderName: 'fp-case', Fingerprint: i % 2 ? fp.toUpperCase() : fp })))
    expect(tally(outcomes)).toEqual({ OK: 1, '409 EntityAlreadyExists.OIDCProvider.Fingerprint': 9 })
    expect((await getProvider(acct, 'fp-case')).Fingerprints).toBe(fp)
  })

  it('adds racing a delete of the provider either succeed or get EntityNotExist.OIDCProvider, and leave no provider behind', async () => {
    await createProvider('vanishing')
    const outcomes = await concurrently([
      () => call(acct, 'DeleteOIDCProvider', { OIDCProviderName: 'vanishing' }),
      ...range(10).map((i) => () => call(acct, 'AddClientIdToOIDCProvider', { OIDCProviderName: 'vanishing', ClientId: `late-${i}` })),
    ])
    expect(outcomes[0]).toBe('OK')
    for (const o of outcomes.slice(1)) expect(['OK', '404 EntityNotExist.OIDCProvider']).toContain(o)
    const gone = await call(acct, 'GetOIDCProvider', { OIDCProviderName: 'vanishing' })
    expect(gone.body.Code).toBe('EntityNotExist.OIDCProvider')
  })
})
