// Secrets of the deployed functions from SSM Parameter Store: one decrypted GetParameters call at cold
// start, the environment's values first (local mode), errors that name parameters, never values. The
// deployed path is the raw JSON-protocol client (no AWS SDK at cold start), checked against a local
// HTTP server speaking SSM's protocol that verifies each request's SigV4 signature with the SDK's own
// signer; the AWS SDK's SSMClient (the fallback without environment credentials) talks to the same server.
import { inspect } from 'node:util'
import { SSMClient } from '@aws-sdk/client-ssm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ConfigError, loadConfig } from '../../shared/config.ts'
import { formatTokenKeys, generateTokenKey } from '../../shared/credentials/token-keys.ts'
import { loadDeployedSecrets, SSM_BOUNDS, type SsmAccess } from '../../shared/secrets/parameter-store.ts'
import { LocalSsm } from '../support/local-ssm.ts'
import { silentServer } from '../support/silent-server.ts'

const tokenKeys = formatTokenKeys([generateTokenKey(), generateTokenKey()])
const root = { AccountId: '1234567890123456', AccessKeyId: 'LTAI5tExampleKeyId000', AccessKeySecret: 'a'.repeat(30) }
const REGION = 'eu-central-1'
const lambdaEnv = { AWS_ACCESS_KEY_ID: 'ASIAEXAMPLEKEY000001', AWS_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY0', AWS_SESSION_TOKEN: 'IQoJb3JpZ2luX2VjEXAMPLE+session/token=' }

const ssm = new LocalSsm(REGION, { accessKeyId: lambdaEnv.AWS_ACCESS_KEY_ID, secretAccessKey: lambdaEnv.AWS_SECRET_ACCESS_KEY, sessionToken: lambdaEnv.AWS_SESSION_TOKEN })
beforeAll(() => ssm.start())
afterAll(() => ssm.close())
const raw = (): SsmAccess => ({ env: { ...lambdaEnv, AWS_ENDPOINT_URL_SSM: ssm.endpoint } })
const deployed = (extra: Record<string, string> = {}) => loadConfig({ AWS_REGION: REGION, TOKEN_KEYS_PARAMETER: '/oidc-sts/test/token-keys', ROOT_CREDENTIALS_PARAMETER: '/oidc-sts/test/root-credentials', ...extra })

describe('loadDeployedSecrets', () => {
  it('reads both SecureStrings in one decrypted GetParameters call, signed with the Lambda role credentials (SigV4, session token)', async () => {
    ssm.reset({ '/oidc-sts/test/token-keys': tokenKeys, '/oidc-sts/test/root-credentials': JSON.stringify(root) })
    const secrets = await loadDeployedSecrets(deployed(), { root: true, ssm: raw() })
    expect(ssm.received).toEqual([{
      target: 'AmazonSSM.GetParameters',
      contentType: 'application/x-amz-json-1.1',
      body: { Names: ['/oidc-sts/test/token-keys', '/oidc-sts/test/root-credentials'], WithDecryption: true },
      signatureValid: true,
    }])
    expect(secrets.tokenKeys.byKid.size).toBe(2)
    expect(secrets.root).toEqual(root)
  })

  it('token exchange asks for the token keys only', async () => {
    ssm.reset({ '/oidc-sts/test/token-keys': tokenKeys })
    const secrets = await loadDeployedSecrets(deployed(), { root: false, ssm: raw() })
    expect(ssm.received.map((r) => r.body)).toEqual([{ Names: ['/oidc-sts/test/token-keys'], WithDecryption: true }])
    expect(secrets.root).toBeUndefined()
  })

  it('the AWS SDK client (used without environment credentials) reads the same values from the same service', async () => {
    ssm.reset({ '/oidc-sts/test/token-keys': tokenKeys, '/oidc-sts/test/root-credentials': JSON.stringify(root) })
    const client = new SSMClient({ region: REGION, endpoint: ssm.endpoint, credentials: { accessKeyId: lambdaEnv.AWS_ACCESS_KEY_ID, secretAccessKey: lambdaEnv.AWS_SECRET_ACCESS_KEY } })
    const viaSdk = await loadDeployedSecrets(deployed(), { root: true, ssm: { client } })
    ssm.reset({ '/oidc-sts/test/token-keys': tokenKeys, '/oidc-sts/test/root-credentials': JSON.stringify(root) })
    const viaRaw = await loadDeployedSecrets(deployed(), { root: true, ssm: raw() })
    expect([...viaSdk.tokenKeys.byKid.keys()]).toEqual([...viaRaw.tokenKeys.byKid.keys()])
    expect(viaSdk.root).toEqual(viaRaw.root)
    client.destroy()
  })

  it('retries throttling and server errors (3 attempts), then answers', async () => {
    ssm.reset({ '/oidc-sts/test/token-keys': tokenKeys })
    ssm.failures = [{ status: 400, type: 'ThrottlingException', message: 'Rate exceeded' }, { status: 500, type: 'InternalServerError', message: 'oops' }]
    const secrets = await loadDeployedSecrets(deployed(), { root: false, ssm: raw() })
    expect(ssm.received).toHaveLength(3)
    expect(secrets.tokenKeys.byKid.size).toBe(2)
  })

  it('fails with the SDK-shaped error name, without repeating the service message, and does not retry a denial', async () => {
    ssm.reset({ '/oidc-sts/test/token-keys': tokenKeys })
    ssm.failures = [{ status: 400, type: 'AccessDeniedException', message: 'User arn:aws:sts::123456789012:assumed-role/x is not authorized to perform ssm:GetParameters on /oidc-sts/test/token-keys' }]
    const err = (await loadDeployedSecrets(deployed(), { root: false, ssm: raw() }).catch((e: unknown) => e)) as Error & { $metadata?: { httpStatusCode: number } }
    expect(err.name).toBe('AccessDeniedException')
    expect(err.$metadata?.httpStatusCode).toBe(400)
    expect(err.message).not.toContain('assumed-role')
    expect(ssm.received).toHaveLength(1)
  })

  it('gives up on SSM that accepts connections and never answers within Lambda\'s 10 s init limit', async () => {
    // The raw client's backoff between attempts is under 25 * 2^(attempt-1) ms (shared/aws/raw-json-client.ts).
    const backoffMs = Array.from({ length: SSM_BOUNDS.maxAttempts - 1 }, (_, i) => 25 * 2 ** i).reduce((a, b) => a + b, 0)
    expect(SSM_BOUNDS.maxAttempts * Math.max(SSM_BOUNDS.requestTimeoutMs, SSM_BOUNDS.connectTimeoutMs) + backoffMs).toBeLessThan(10_000)
    const silent = await silentServer()
    try {
      const access = { env: { ...lambdaEnv, AWS_ENDPOINT_URL_SSM: silent.url } }
      const err = (await loadDeployedSecrets(deployed(), { root: false, ssm: access }).catch((e: unknown) => e)) as Error
      expect(err.name).toBe('TimeoutError')
      // Every attempt connected and waited its request bound.
      expect(silent.connections).toBe(SSM_BOUNDS.maxAttempts)
    } finally {
      await silent.close()
    }
  }, 15_000)

  it('uses TOKEN_KEYS and ROOT_* from the environment, even with parameters configured, without calling SSM (local mode, invoke local)', async () => {
    ssm.reset({})
    const config = deployed({ TOKEN_KEYS: tokenKeys, ROOT_ACCOUNT_ID: root.AccountId, ROOT_ACCESS_KEY_ID: root.AccessKeyId, ROOT_ACCESS_KEY_SECRET: root.AccessKeySecret })
    const secrets = await loadDeployedSecrets(config, { root: true, ssm: raw() })
    expect(ssm.received).toEqual([])
    expect(secrets.root).toEqual(root)
  })

  it('names a missing parameter', async () => {
    ssm.reset({ '/oidc-sts/test/token-keys': tokenKeys })
    const err = await loadDeployedSecrets(deployed(), { root: true, ssm: raw() }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(ConfigError)
    expect((err as ConfigError).problems).toEqual(['SSM parameter /oidc-sts/test/root-credentials does not exist or cannot be read by this function'])
  })

  it('refuses malformed values without repeating them', async () => {
    const secret = 'not-a-key-but-secret-looking-0123456789'
    ssm.reset({ '/oidc-sts/test/token-keys': `k1:${secret}`, '/oidc-sts/test/root-credentials': JSON.stringify(root) })
    const bad = await loadDeployedSecrets(deployed(), { root: true, ssm: raw() }).catch((e: unknown) => e)
    expect(bad).toBeInstanceOf(ConfigError)
    expect((bad as Error).message).toContain('SSM parameter /oidc-sts/test/token-keys')
    expect((bad as Error).message).not.toContain(secret)
    ssm.reset({ '/oidc-sts/test/token-keys': tokenKeys, '/oidc-sts/test/root-credentials': '{"AccountId":"12"}' })
    const badRoot = await loadDeployedSecrets(deployed(), { root: true, ssm: raw() }).catch((e: unknown) => e)
    expect((badRoot as ConfigError).problems).toEqual([
      'SSM parameter /oidc-sts/test/root-credentials: AccountId must be 16 decimal digits',
      'SSM parameter /oidc-sts/test/root-credentials: AccessKeyId must be 16..64 letters and digits, not starting with STS',
      'SSM parameter /oidc-sts/test/root-credentials: AccessKeySecret must be at least 20 characters',
    ])
  })

  it('refuses to start without token keys', async () => {
    await expect(loadDeployedSecrets(loadConfig({}), { root: false, ssm: raw() })).rejects.toThrow(/TOKEN_KEYS or TOKEN_KEYS_PARAMETER must be set/)
  })

  it('refuses an AWS_ENDPOINT_URL_SSM that is no URL or carries a user name or password, without quoting the credential', async () => {
    const secret = 'endpoint-Pa55word-0123456789'
    ssm.reset({ '/oidc-sts/test/token-keys': tokenKeys })
    for (const endpoint of [`http://[${secret}`, `http://admin:${secret}@127.0.0.1:1`, `${ssm.endpoint}/?X-Amz-Signature=${secret}`]) {
      const err = await loadDeployedSecrets(deployed(), { root: false, ssm: { env: { ...lambdaEnv, AWS_ENDPOINT_URL_SSM: endpoint } } }).catch((e: unknown) => e)
      expect(err, endpoint).toBeInstanceOf(ConfigError)
      expect((err as ConfigError).problems[0]).toMatch(/^AWS_ENDPOINT_URL_SSM must/)
      // Nowhere on the error: a TypeError from new URL() would carry the whole value as its `input`.
      expect(inspect(err, { depth: 5 })).not.toContain(secret)
    }
    expect(ssm.received).toEqual([])
  })

  it('validates parameter names in the configuration', () => {
    expect(() => loadConfig({ TOKEN_KEYS_PARAMETER: 'has spaces' })).toThrow(/TOKEN_KEYS_PARAMETER must be an SSM parameter name/)
  })
})
