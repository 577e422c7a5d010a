// When the store cannot be reached, signed calls answer 503 ServiceUnavailable promptly in the Alibaba
// error envelope, with a message that names no host, port, SDK or error text; the operator log keeps
// the cause. Authentication reads the store (AccessKey, nonce), so that is where the 503 arises.

import { createServer, connect, type Server, type Socket } from 'node:net'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { freePort } from '../../local/dynamodb-local.ts'
import { loadConfig } from '../../shared/config.ts'
import { createLogger } from '../../shared/log.ts'
import { managementActions } from '../../shared/management-app.ts'
import { bootstrapOperatorAccount, generateAccessKey, generateAccountId } from '../../shared/services/accounts.ts'
import { buildServiceApp } from '../../shared/service-app.ts'
import { AccountStore } from '../../shared/store/account-store.ts'
import { openStores } from '../../shared/store/stores.ts'
import { IMS, testTokenKeys } from '../support/service.ts'
import { signRpc, type Credentials } from '../support/sign.ts'
import { silentServer } from '../support/silent-server.ts'
import { createTestTable } from '../support/store.ts'

const ENVELOPE_KEYS = ['Code', 'HostId', 'Message', 'Recommend', 'RequestId']
/** Anything that would betray the backend or the code: addresses, SDK and error names, stack frames. */
const INTERNALS = /127\.0\.0\.1|localhost:\d|ECONN|ETIMEDOUT|socket|dynamo|smithy|aws|TimeoutError|ResourceNotFound|\bat .+:\d+|\.ts\b|node_modules/i

interface Service {
  call(action: string, params?: Record<string, string>, creds?: Credentials): Promise<{ status: number; body: Record<string, unknown>; raw: string }>
  inject: ReturnType<typeof buildServiceApp>['inject']
  logLines: string[]
  close(): Promise<void>
}

const opened: Service[] = []
afterEach(async () => {
  while (opened.length > 0) await opened.pop()!.close()
})

/** The production composition (config -> openStores -> buildServiceApp) against `endpoint`/`tableName`. */
async function serviceOn(endpoint: string, tableName: string, creds: Credentials): Promise<Service> {
  const config = loadConfig({ TABLE_NAME: tableName, DYNAMODB_ENDPOINT: endpoint, LOG_LEVEL: 'error' })
  const stores = openStores(config)
  const logLines: string[] = []
  const app = buildServiceApp({ config, stores, logger: createLogger('error', (l) => logLines.push(l)), actions: managementActions(), tokenKeys: testTokenKeys(), jwks: 'private' })
  await app.ready()
  const svc: Service = {
    async call(action, params = {}, as = creds) {
      const req = signRpc({ creds: as, action, version: IMS, params })
      const res = await app.inject({ method: req.method, url: req.url, headers: req.headers, payload: req.payload })
      return { status: res.statusCode, body: res.json(), raw: res.body }
    },
    inject: app.inject.bind(app),
    logLines,
    async close() {
      await app.close()
      stores.documentClient.destroy()
    },
  }
  opened.push(svc)
  return svc
}

const someCreds = (): Credentials => {
  const key = generateAccessKey()
  return { accessKeyId: key.accessKeyId, secret: key.secret }
}

function expectUnavailable(res: { status: number; body: Record<string, unknown>; raw: string }) {
  expect({ status: res.status, code: res.body.Code }).toEqual({ status: 503, code: 'ServiceUnavailable' })
  expect(Object.keys(res.body).sort()).toEqual(ENVELOPE_KEYS)
  expect(res.body.RequestId).toMatch(/^[0-9A-F-]{36}$/)
  expect(res.raw).not.toMatch(INTERNALS)
}

describe('a store nobody listens on', () => {
  it('answers a signed call with 503 ServiceUnavailable, no internals in the body, the cause in the operator log', async () => {
    const port = await freePort()
    const svc = await serviceOn(`http://127.0.0.1:${port}`, 'unreachable', someCreds())
    for (const [action, params] of [
      ['CreateOIDCProvider', { OIDCProviderName: 'p', IssuerUrl: 'https://idp.example.com' }],
      ['ListOIDCProviders', {}],
      ['GetOIDCProvider', { OIDCProviderName: 'p' }],
    ] as const) {
      expectUnavailable(await svc.call(action, params))
    }
    const logged = svc.logLines.map((l) => JSON.parse(l) as { code?: string; cause?: { code?: string } })
    expect(logged.length).toBeGreaterThan(0)
    expect(logged.every((l) => l.code === 'ServiceUnavailable')).toBe(true)
    expect(logged[0]!.cause?.code).toBe('ECONNREFUSED')
  })

  it('still answers what needs no store: GET /health, unknown actions, unsigned calls', async () => {
    const svc = await serviceOn(`http://127.0.0.1:${await freePort()}`, 'unreachable', someCreds())
    const health = await svc.inject({ method: 'GET', url: '/health' })
    expect(health.statusCode).toBe(200)
    expect((await svc.call('NoSuchAction')).body.Code).toBe('InvalidParameter')
    const unsigned = await svc.inject({ method: 'POST', url: `/?Action=ListOIDCProviders&Version=${IMS}` })
    expect({ status: unsigned.statusCode, code: unsigned.json().Code }).toEqual({ status: 400, code: 'IncompleteSignature' })
  })
})

describe('a store whose table is missing', () => {
  it('answers a signed call with 503 ServiceUnavailable (a deployment problem, not the caller\'s)', async () => {
    const { endpoint } = await createTestTable()
    const svc = await serviceOn(endpoint, 'no-such-table-here', someCreds())
    expectUnavailable(await svc.call('ListOIDCProviders'))
  })
})

/** A TCP relay to the run's DynamoDB Local that can be cut (listener closed, live sockets destroyed) and restored. */
class CuttableRelay {
  private server: Server | undefined
  private readonly sockets = new Set<Socket>()
  constructor(readonly port: number, private readonly upstreamPort: number) {}

  async open(): Promise<void> {
    const server = createServer((client) => {
      const upstream = connect(this.upstreamPort, '127.0.0.1')
      for (const s of [client, upstream]) {
        this.sockets.add(s)
        s.on('close', () => this.sockets.delete(s))
        s.on('error', () => { client.destroy(); upstream.destroy() })
      }
      client.pipe(upstream).pipe(client)
    })
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(this.port, '127.0.0.1', () => resolve())
    })
    this.server = server
  }

  async cut(): Promise<void> {
    const server = this.server
    this.server = undefined
    for (const s of this.sockets) s.destroy()
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()))
  }
}

describe('a store that goes away while the service runs', () => {
  let relay: CuttableRelay | undefined
  afterAll(async () => { await relay?.cut() })

  it('answers 503 ServiceUnavailable while it is gone and recovers without a restart when it is back', async () => {
    const { endpoint, tableName, documentClient, table } = await createTestTable()
    const upstreamPort = Number(new URL(endpoint).port)
    relay = new CuttableRelay(await freePort(), upstreamPort)
    await relay.open()

    const creds = someCreds()
    const accountId = generateAccountId()
    const svc = await serviceOn(`http://127.0.0.1:${relay.port}`, tableName, creds)
    await bootstrapOperatorAccount(new AccountStore(table), { AccountId: accountId, AccessKeyId: creds.accessKeyId, AccessKeySecret: creds.secret }, Date.now())

    const before = await svc.call('CreateOIDCProvider', { OIDCProviderName: 'before', IssuerUrl: 'https://before.example.com' })
    expect(before.status).toBe(200)

    await relay.cut()
    expectUnavailable(await svc.call('CreateOIDCProvider', { OIDCProviderName: 'during', IssuerUrl: 'https://during.example.com' }))
    expectUnavailable(await svc.call('ListOIDCProviders'))

    await relay.open()
    const list = await svc.call('ListOIDCProviders')
    expect(list.status).toBe(200)
    expect((list.body.OIDCProviders as { OIDCProvider: { OIDCProviderName: string }[] }).OIDCProvider.map((p) => p.OIDCProviderName)).toEqual(['before'])
    documentClient.destroy()
  })
})

describe('a store that accepts connections but never answers', () => {
  // shared/store/table.ts sets throwOnRequestTimeout: without it the SDK's NodeHttpHandler only logs
  // when requestTimeout elapses, and such a call would hang.
  it('answers 503 ServiceUnavailable instead of hanging', async () => {
    const blackHole = await silentServer()
    try {
      const svc = await serviceOn(blackHole.url, 'black-hole', someCreds())
      expectUnavailable(await svc.call('ListOIDCProviders'))
    } finally {
      await blackHole.close()
    }
  })
})
