// The bench's world, set up once per run in the runner process: DynamoDB Local (in memory) with the
// counting pass-through in front, a table, a test PKI (root -> intermediate -> leaf via openssl), an
// HTTPS IdP on loopback serving discovery + a JWKS with an RS256 and an ES256 key, and an account with
// an OIDC provider (the intermediate's thumbprint) and a role trusting it, created through the service's
// own signed management API.

import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startDynamoDbLocal, type DynamoDbLocal } from '../../local/dynamodb-local.ts'
import { loadConfig } from '../../shared/config.ts'
import { formatTokenKeys, generateTokenKey, parseTokenKeys } from '../../shared/credentials/token-keys.ts'
import { createLogger } from '../../shared/log.ts'
import { managementActions } from '../../shared/management-app.ts'
import { bootstrapOperatorAccount, generateAccessKey, generateAccountId } from '../../shared/services/accounts.ts'
import { buildServiceApp } from '../../shared/service-app.ts'
import { ensureTable } from '../../shared/store/create-table.ts'
import { openStores } from '../../shared/store/stores.ts'
import { signRpcRequest } from '../../shared/signing/sign-request.ts'
import { makeSigningKey, startHttpsIdp, type HttpsIdp } from '../../test/support/https-idp.ts'
import { createTestPki } from '../../test/support/test-ca.ts'
import { type BenchContext, writeContext } from './context.ts'
import { startDdbCounter } from './ddb-counter.ts'

export interface Fixture {
  ctx: BenchContext
  contextFile: string
  dir: string
  idp: HttpsIdp
  close(): Promise<void>
}

const IMS = '2019-08-15'
const RAM = '2015-05-01'

export async function startFixture(log: (line: string) => void): Promise<Fixture> {
  const dir = mkdtempSync(join(tmpdir(), 'oidc-sts-bench-'))
  const cleanups: Array<() => Promise<void> | void> = [() => rmSync(dir, { recursive: true, force: true })]
  const close = async () => {
    for (const c of cleanups.reverse()) await Promise.resolve(c()).catch(() => undefined)
  }
  try {
    log('fixture: starting DynamoDB Local (in memory)')
    const engine: DynamoDbLocal = await startDynamoDbLocal({ inMemory: true })
    cleanups.push(() => engine.stop())
    const counter = await startDdbCounter(engine.endpoint)
    cleanups.push(() => counter.close())
    const tableName = `bench-${randomBytes(4).toString('hex')}`
    const region = 'us-east-1'
    const stores = openStores({ tableName, region, dynamodbEndpoint: engine.endpoint })
    await ensureTable(stores.documentClient, tableName)

    log('fixture: test PKI and HTTPS IdP')
    const pki = await createTestPki('oidc-sts bench')
    const caFile = join(dir, 'ca.pem')
    writeFileSync(caFile, pki.root.certPem)
    const rs = makeSigningKey('bench-rs256')
    const es = makeSigningKey('bench-es256', { type: 'ec', curve: 'P-256' })
    const idp = await startHttpsIdp({ pki, chain: 'leaf+intermediate', keys: [rs.jwk, es.jwk] })
    cleanups.push(() => idp.close())

    const accountId = generateAccountId()
    const key = generateAccessKey()
    await bootstrapOperatorAccount(stores.accounts, { AccountId: accountId, AccessKeyId: key.accessKeyId, AccessKeySecret: key.secret }, Date.now())
    const tokenKeys = formatTokenKeys([generateTokenKey()])
    const config = loadConfig({ TABLE_NAME: tableName, DYNAMODB_ENDPOINT: engine.endpoint, LOG_LEVEL: 'silent' })
    const admin = buildServiceApp({ config, stores, logger: createLogger('silent'), tokenKeys: parseTokenKeys(tokenKeys), actions: managementActions(), jwks: 'private' })
    await admin.ready()
    cleanups.push(() => admin.close())
    const call = async (action: string, version: string, params: Record<string, string | number>) => {
      const signed = signRpcRequest({ creds: { accessKeyId: key.accessKeyId, secret: key.secret }, action, version, params, host: 'localhost', date: new Date(), nonce: randomBytes(16).toString('hex') })
      const res = await admin.inject({ method: signed.method, url: signed.url, headers: signed.headers, payload: signed.body })
      if (res.statusCode !== 200) throw new Error(`fixture: ${action} answered ${res.statusCode}: ${res.body}`)
      return res.json() as Record<string, unknown>
    }
    const clientId = 'sts.aliyuncs.com'
    const providerName = 'bench-ci'
    const roleName = 'BenchDeployer'
    await call('CreateOIDCProvider', IMS, { OIDCProviderName: providerName, IssuerUrl: idp.issuer, Fingerprints: pki.intermediate.sha1, ClientIds: clientId })
    const trust = {
      Version: '1',
      Statement: [{
        Effect: 'Allow',
        Action: 'sts:AssumeRole',
        Principal: { Federated: `acs:ram::${accountId}:oidc-provider/${providerName}` },
        Condition: { StringEquals: { 'oidc:aud': clientId }, StringLike: { 'oidc:sub': 'repo:octo-org/*' } },
      }],
    }
    await call('CreateRole', RAM, { RoleName: roleName, AssumeRolePolicyDocument: JSON.stringify(trust), MaxSessionDuration: 43200 })
    await call('AttachPolicyToRole', RAM, { PolicyType: 'System', PolicyName: 'AliyunRAMReadOnlyAccess', RoleName: roleName })

    const ctx: BenchContext = {
      ddbEndpoint: engine.endpoint,
      countingEndpoint: counter.endpoint,
      tableName,
      region,
      tokenKeys,
      caFile,
      caPem: pki.root.certPem,
      issuer: idp.issuer,
      discoveryPath: idp.discoveryPath,
      jwksPath: idp.jwksPath,
      fingerprint: pki.intermediate.sha1,
      accountId,
      root: { accessKeyId: key.accessKeyId, secret: key.secret },
      providerName,
      providerArn: `acs:ram::${accountId}:oidc-provider/${providerName}`,
      roleName,
      roleArn: `acs:ram::${accountId}:role/${roleName.toLowerCase()}`,
      clientId,
      keys: {
        RS256: { kid: rs.kid, privatePem: rs.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string },
        ES256: { kid: es.kid, privatePem: es.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string },
      },
    }
    const contextFile = join(dir, 'context.json')
    writeContext(contextFile, ctx)
    idp.resetCounts()
    return { ctx, contextFile, dir, idp, close }
  } catch (e) {
    await close()
    throw e
  }
}
