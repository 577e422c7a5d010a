// The official @alicloud/credentials OIDC role provider, set up the RRSA way (ALIBABA_CLOUD_ROLE_ARN,
// ALIBABA_CLOUD_OIDC_PROVIDER_ARN, ALIBABA_CLOUD_OIDC_TOKEN_FILE), gets working credentials from
// `npm start` serving HTTPS with TLS_CERT_FILE/TLS_KEY_FILE. The provider speaks HTTPS only, through its
// own HTTP client (httpx) that takes no CA option, so it runs in a child process trusting the service's
// test CA through NODE_EXTRA_CA_CERTS: the supported way for Node, and what a pod would do. The ID
// token comes from a real OpenID provider (oidc-provider) over HTTPS with a second, unrelated test CA.

import stsModule from '@alicloud/sts20150401'
import imsModule, * as ims from '@alicloud/ims20190815'
import ramModule, * as ram from '@alicloud/ram20150501'
import { $OpenApiUtil } from '@alicloud/openapi-core'
import { randomBytes } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { createTestPki, type TestPki } from '../support/test-ca.ts'
import { lastSentCertificateSha1, startOidcIdp, type OidcIdp } from './support/oidc-idp.ts'
import { Child, START_ARGS, run, testEnv } from './support/processes.ts'

// CommonJS modules with `exports.default = Client` (see test/e2e/support/ims-sdk.ts).
type StsClientClass = typeof stsModule.default
const StsClient: StsClientClass = (stsModule as unknown as { default?: StsClientClass }).default ?? (stsModule as unknown as StsClientClass)
type ImsClientClass = typeof imsModule.default
const ImsClient: ImsClientClass = (imsModule as unknown as { default?: ImsClientClass }).default ?? (imsModule as unknown as ImsClientClass)
type RamClientClass = typeof ramModule.default
const RamClient: RamClientClass = (ramModule as unknown as { default?: RamClientClass }).default ?? (ramModule as unknown as RamClientClass)

// DynamoDB Local is the run's shared engine (no JVM start here); a loaded runner still needs a margin.
const START_BOUND_MS = 60_000
const CHILD_BOUND_MS = 30_000
const SUBJECT = 'system:serviceaccount:payments:api'
const SESSION = 'rrsa-payments-api'

/**
 * What an application in a pod runs: the credentials client reads the role, the provider and the
 * token file from the RRSA variables; the endpoint is given explicitly as `stsEndpoint` (2.4.7 reads
 * no endpoint variable; the webhook's ALIBABA_CLOUD_STS_ENDPOINT is for apps to pass on). It then
 * hands the same Credential to an official SDK client, which signs GetCallerIdentity with it.
 */
const APP_SCRIPT = `
const Credential = require('@alicloud/credentials').default
const { Config } = require('@alicloud/credentials')
const Sts = require('@alicloud/sts20150401').default
const { $OpenApiUtil } = require('@alicloud/openapi-core')
;(async () => {
  const endpoint = process.env.ALIBABA_CLOUD_STS_ENDPOINT
  const credential = new Credential(new Config({ type: 'oidc_role_arn', stsEndpoint: endpoint }))
  const c = await credential.getCredential()
  const client = new Sts(new $OpenApiUtil.Config({ credential, endpoint, protocol: 'https' }))
  const who = await client.getCallerIdentity()
  process.stdout.write(JSON.stringify({
    credential: { accessKeyId: c.accessKeyId, accessKeySecret: c.accessKeySecret, securityToken: c.securityToken, type: c.type, providerName: c.providerName },
    callerIdentity: who.body,
  }))
})().catch((e) => {
  process.stderr.write(String((e && e.message) || e))
  process.exitCode = 1
})
`

const scratch = mkdtempSync(join(tmpdir(), 'oidc-sts-credentials-'))
const file = (name: string, content: string) => {
  const path = join(scratch, name)
  writeFileSync(path, content, { mode: 0o600 })
  return path
}

let servicePki: TestPki
let idpPki: TestPki
let idp: OidcIdp
let server: Child
let host: string
let account: string
let root: { AccessKeyId: string; AccessKeySecret: string }
let tokenFile: string
let serviceRootFile: string

/** Official SDK config for the HTTPS service: the client trusts the service's test CA through `ca`. */
const sdkConfig = (extra: Record<string, unknown> = {}) => new $OpenApiUtil.Config({ endpoint: host, protocol: 'https', ca: servicePki.root.certPem, ...extra })
const roleArn = () => `acs:ram::${account}:role/payments-api`
const providerArn = () => `acs:ram::${account}:oidc-provider/payments-cluster`

/** The pod's environment: the RRSA variables, the service CA for Node, nothing else of ours or of the host's Alibaba Cloud setup. */
function appEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env = testEnv({})
  for (const name of Object.keys(env)) if (name.startsWith('ALIBABA_CLOUD_') || name === 'NODE_EXTRA_CA_CERTS') delete env[name]
  return {
    ...env,
    ALIBABA_CLOUD_ROLE_ARN: roleArn(),
    ALIBABA_CLOUD_OIDC_PROVIDER_ARN: providerArn(),
    ALIBABA_CLOUD_OIDC_TOKEN_FILE: tokenFile,
    ALIBABA_CLOUD_ROLE_SESSION_NAME: SESSION,
    ALIBABA_CLOUD_STS_ENDPOINT: host,
    ...extra,
  }
}

beforeAll(async () => {
  // Two unrelated CAs: one for the service's HTTPS listener (trusted by the app), one for the IdP
  // (trusted by the service).
  ;[servicePki, idpPki] = await Promise.all([createTestPki('credentials e2e service'), createTestPki('credentials e2e idp')])
  idp = await startOidcIdp({ pki: idpPki, clientId: 'sts.aliyuncs.com', subject: SUBJECT })
  serviceRootFile = file('service-root.pem', servicePki.root.certPem)

  const dataDir = join(scratch, 'data')
  server = new Child(process.execPath, START_ARGS, testEnv({
    DATA_DIR: dataDir,
    PORT: '0',
    DYNAMODB_ENDPOINT: inject('dynamodbEndpoint'),
    TABLE_NAME: `credentials-e2e-${randomBytes(4).toString('hex')}`,
    TLS_CERT_FILE: file('service-cert.pem', servicePki.leafAndIntermediatePem),
    TLS_KEY_FILE: file('service-key.pem', servicePki.leaf.keyPem),
    ALLOW_PRIVATE_ISSUERS: 'true',
    NODE_EXTRA_CA_CERTS: file('idp-root.pem', idpPki.root.certPem),
  }))
  const [, port] = await server.waitForStderr(/listening on https:\/\/127\.0\.0\.1:(\d+)\//, START_BOUND_MS)
  await server.waitForStderr(/operator account [^\n]*\n/, START_BOUND_MS)
  host = `127.0.0.1:${port}`
  const creds = JSON.parse(readFileSync(join(dataDir, 'root-credentials.json'), 'utf8')) as { AccountId: string; AccessKeyId: string; AccessKeySecret: string }
  account = creds.AccountId
  root = creds

  // The operator's side, through the official SDKs over HTTPS: the IdP, then a role trusting it.
  const operator = { accessKeyId: root.AccessKeyId, accessKeySecret: root.AccessKeySecret }
  await new ImsClient(sdkConfig(operator)).createOIDCProvider(new ims.CreateOIDCProviderRequest({
    OIDCProviderName: 'payments-cluster',
    issuerUrl: idp.issuer,
    fingerprints: await lastSentCertificateSha1(idp.issuer),
    clientIds: 'sts.aliyuncs.com',
  }))
  await new RamClient(sdkConfig(operator)).createRole(new ram.CreateRoleRequest({
    roleName: 'payments-api',
    assumeRolePolicyDocument: JSON.stringify({
      Version: '1',
      Statement: [{
        Effect: 'Allow',
        Action: 'sts:AssumeRole',
        Principal: { Federated: providerArn() },
        Condition: { StringEquals: { 'oidc:aud': 'sts.aliyuncs.com', 'oidc:iss': idp.issuer, 'oidc:sub': SUBJECT } },
      }],
    }),
  }))

  // The projected token file a kubelet would maintain.
  tokenFile = file('token', (await idp.signIn(SUBJECT)).idToken)
}, 120_000)

afterAll(async () => {
  await server?.stop()
  await idp?.close()
  rmSync(scratch, { recursive: true, force: true })
})

describe('the official @alicloud/credentials OIDC role provider against npm start over HTTPS', () => {
  it('gets credentials from the RRSA environment (getCredential), and an SDK client configured with that Credential calls GetCallerIdentity', async () => {
    const result = await run(process.execPath, ['-e', APP_SCRIPT], appEnv({ NODE_EXTRA_CA_CERTS: serviceRootFile }), CHILD_BOUND_MS)
    expect(result.code, result.stderr).toBe(0)
    const out = JSON.parse(result.stdout)
    expect(out.credential).toMatchObject({
      accessKeyId: expect.stringMatching(/^STS\./),
      accessKeySecret: expect.any(String),
      securityToken: expect.any(String),
      type: 'oidc_role_arn',
      providerName: 'oidc_role_arn',
    })
    expect(out.callerIdentity).toMatchObject({
      identityType: 'AssumedRoleUser',
      accountId: account,
      arn: `acs:ram::${account}:assumed-role/payments-api/${SESSION}`,
    })

    // The credentials work outside that process too: the official STS client in this one, over HTTPS.
    const who = await new StsClient(sdkConfig({
      accessKeyId: out.credential.accessKeyId,
      accessKeySecret: out.credential.accessKeySecret,
      securityToken: out.credential.securityToken,
    })).getCallerIdentity()
    expect(who.body).toMatchObject({ identityType: 'AssumedRoleUser', arn: `acs:ram::${account}:assumed-role/payments-api/${SESSION}` })
  })

  it('verifies the service certificate: without the service CA in NODE_EXTRA_CA_CERTS the provider fails on TLS', async () => {
    const result = await run(process.execPath, ['-e', APP_SCRIPT], appEnv({}), CHILD_BOUND_MS)
    expect(result.code).toBe(1)
    expect(result.stderr).toMatch(/unable to get local issuer certificate|self[- ]signed certificate/i)
    expect(result.stdout).toBe('')
  })

  it('fails as the provider reports refusals, with the service\'s error body (never the token): here a token from an unregistered issuer', async () => {
    const other = await startOidcIdp({ pki: idpPki, clientId: 'sts.aliyuncs.com', subject: SUBJECT })
    try {
      const token = file('foreign-token', (await other.signIn(SUBJECT)).idToken)
      const result = await run(process.execPath, ['-e', APP_SCRIPT], appEnv({ NODE_EXTRA_CA_CERTS: serviceRootFile, ALIBABA_CLOUD_OIDC_TOKEN_FILE: token }), CHILD_BOUND_MS)
      expect(result.code).toBe(1)
      expect(result.stderr).toContain('get sts token failed with OIDC')
      expect(result.stderr).toContain('AuthenticationFail.OIDCToken.IssuerNotMatch')
      expect(result.stderr).not.toContain(readFileSync(token, 'utf8'))
    } finally {
      await other.close()
    }
  })
})
