// Counting assertions behind BENCHMARKS.md (issue 6): DynamoDB requests per exchange and per call
// signed with STS credentials, and the batching of the in-process audit table copy. Counted with a middleware on
// the service's real DynamoDB client against DynamoDB Local; no timing is asserted.
import { PutItemCommand } from 'dynamodb-toolbox'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { countCommands } from '../../bench/lib/ddb-middleware.ts'
import { type AuditRecord, AuditSink, MAX_AUDIT_CLAIM_LENGTH } from '../../shared/audit/audit-log.ts'
import { createLogger } from '../../shared/log.ts'
import { AuditStore } from '../../shared/store/audit-store.ts'
import { createExchangeFixture, type ExchangeFixture, RAM, STS } from '../support/exchange-fixture.ts'
import { IMS } from '../support/service.ts'

const now = new Date()
let fx: ExchangeFixture
let table: ReturnType<typeof countCommands>

beforeAll(async () => {
  fx = await createExchangeFixture({ clock: () => now })
  table = countCommands(fx.svc.stores.documentClient)
})
afterAll(async () => {
  await fx?.close()
})

const record = (i: number, over: Partial<AuditRecord> = {}): AuditRecord => ({
  time: now.getTime(),
  requestId: `REQ-${i}-${Math.random()}`,
  accountId: fx.account,
  sourceIp: '203.0.113.7',
  outcome: 'Success',
  ...over,
})

describe('table requests (counts behind BENCHMARKS.md)', () => {
  it('a cold exchange reads its configuration; 50 warm ones read nothing and write the audit copy in 2 batches', async () => {
    table.reset()
    expect((await fx.exchange({ OIDCToken: fx.idToken() })).status).toBe(200)
    await fx.svc.app.sts.audit.flush()
    const cold = table.counts()
    expect(cold.GetItem).toBeGreaterThanOrEqual(2) // provider and role (and a look for a stored JWKS copy)
    expect(Object.keys(cold).filter((op) => op !== 'GetItem' && op !== 'BatchWriteItem')).toEqual([])

    table.reset()
    for (let i = 0; i < 50; i++) expect((await fx.exchange({ OIDCToken: fx.idToken() })).status).toBe(200)
    await fx.svc.app.sts.audit.flush()
    // 50 records: two full batches of 25, nothing else (the cold exchange's record was flushed above).
    expect(table.counts()).toEqual({ BatchWriteItem: 2 })
  })

  it('a token that fails verification costs no role read, whatever role it names', async () => {
    expect((await fx.exchange({ OIDCToken: fx.idToken() })).status).toBe(200) // provider and keys cached
    await fx.svc.app.sts.audit.flush()
    table.reset()
    for (let i = 0; i < 20; i++) {
      const token = fx.idToken()
      const forged = `${token.slice(0, token.lastIndexOf('.') + 1)}${'A'.repeat(342)}`
      const res = await fx.exchange({ OIDCToken: forged, RoleArn: `acs:ram::${fx.account}:role/made-up-${i}` })
      expect(res.body.Code).toBe('AuthenticationFail.OIDCToken.InvalidSignature')
    }
    await fx.svc.app.sts.audit.flush()
    expect(table.counts().GetItem ?? 0).toBe(0)
  })

  it('resolving STS credentials reads nothing: a GetCallerIdentity signed with them writes its nonce and that is all', async () => {
    const { body } = await fx.exchange({ OIDCToken: fx.idToken() })
    await fx.svc.app.sts.audit.flush()
    const creds = { accessKeyId: body.Credentials.AccessKeyId, secret: body.Credentials.AccessKeySecret, securityToken: body.Credentials.SecurityToken }
    for (let i = 0; i < 3; i++) {
      table.reset()
      const who = await fx.svc.call('GetCallerIdentity', STS, {}, creds)
      expect(who.status).toBe(200)
      expect(table.counts()).toEqual({ PutItem: 1 })
    }
  })
})

describe('condition keys that cost a read', () => {
  it('an OIDC provider action signed with STS credentials reads the stored provider\'s ram:OidcIssuerUrl only for a role whose policies test it', async () => {
    const credentials = async (roleName: string) => {
      const { body } = await fx.exchange({ OIDCToken: fx.idToken(), RoleArn: `acs:ram::${fx.account}:role/${roleName}` })
      await fx.svc.app.sts.audit.flush()
      return { accessKeyId: body.Credentials.AccessKeyId, secret: body.Credentials.AccessKeySecret, securityToken: body.Credentials.SecurityToken }
    }
    /** The table requests of a GetOIDCProvider once the role's policies are cached (for 5 s: the first call loads them). */
    const warmCounts = async (creds: Awaited<ReturnType<typeof credentials>>) => {
      expect((await fx.svc.call('GetOIDCProvider', IMS, { OIDCProviderName: 'ci' }, creds)).status).toBe(200)
      table.reset()
      expect((await fx.svc.call('GetOIDCProvider', IMS, { OIDCProviderName: 'ci' }, creds)).status).toBe(200)
      return table.counts()
    }
    // The fixture's role (AliyunRAMReadOnlyAccess): the nonce and the action's own read, nothing else.
    expect(await warmCounts(await credentials('deployer'))).toEqual({ PutItem: 1, GetItem: 1 })

    const issuer = fx.idp.issuer
    const document = JSON.stringify({ Version: '1', Statement: [{ Effect: 'Allow', Action: 'ram:GetOIDCProvider', Resource: '*', Condition: { StringEquals: { 'ram:OidcIssuerUrl': issuer } } }] })
    expect((await fx.svc.call('CreateRole', RAM, { RoleName: 'by-issuer', AssumeRolePolicyDocument: fx.trustPolicy('*') })).status).toBe(200)
    expect((await fx.svc.call('CreatePolicy', RAM, { PolicyName: 'by-issuer', PolicyDocument: document })).status).toBe(200)
    expect((await fx.svc.call('AttachPolicyToRole', RAM, { RoleName: 'by-issuer', PolicyType: 'Custom', PolicyName: 'by-issuer' })).status).toBe(200)
    // No read more: the condition's read of the provider's issuer is the action's own read.
    expect(await warmCounts(await credentials('by-issuer'))).toEqual({ PutItem: 1, GetItem: 1 })
  })
})

describe('audit table copy in process (npm start): AuditSink', () => {
  it('writes a full batch at once and a partial one after flushIntervalMs, never one write per record', async () => {
    const sink = new AuditSink({ logger: createLogger('silent'), store: fx.svc.stores.audit, flushIntervalMs: 300 })
    table.reset()
    for (let i = 0; i < 24; i++) sink.record(record(i))
    expect(sink.pending).toBe(24)
    sink.record(record(24)) // the 25th starts the write
    expect(sink.pending).toBe(25) // handed to the write, not yet in the table
    await expect.poll(() => sink.pending, { timeout: 5000 }).toBe(0)
    sink.record(record(25))
    await new Promise((r) => setTimeout(r, 100))
    expect(sink.pending).toBe(1) // not yet due
    await expect.poll(() => sink.pending, { timeout: 5000 }).toBe(0)
    await sink.flush()
    expect(table.counts()).toEqual({ BatchWriteItem: 2 })
  })

  it('writes the same items as the Audit entity would (the write path skips dynamodb-toolbox for speed)', () => {
    const store = new AuditStore(fx.svc.stores.table, 30) as unknown as {
      entity: { build: (c: typeof PutItemCommand) => { item: (r: object) => { params: () => { Item: Record<string, unknown> } } } }
      itemOf: (r: AuditRecord) => Record<string, unknown>
    }
    const full = record(1, { providerArn: 'acs:ram::1:oidc-provider/ci', roleArn: 'acs:ram::1:role/r', sessionName: 's', sub: 'x'.repeat(1500), jti: 'j'.repeat(1500), outcome: 'Failure', errorCode: 'AuthenticationFail.OIDCToken.Expired' })
    for (const r of [record(0), full]) {
      const iso = new Date(r.time).toISOString()
      const viaEntity = store.entity.build(PutItemCommand).item({
        ...r,
        sub: r.sub?.slice(0, MAX_AUDIT_CLAIM_LENGTH),
        jti: r.jti?.slice(0, MAX_AUDIT_CLAIM_LENGTH),
        day: iso.slice(0, 10),
        at: `${iso}#${r.requestId}`,
        expiresAt: Math.floor(r.time / 1000) + 30 * 86400,
      }).params().Item
      expect(store.itemOf(r)).toEqual(viaEntity)
    }
  })
})
