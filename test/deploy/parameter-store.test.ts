// Secrets of the deployed functions from SSM Parameter Store (through the client seam): one decrypted
// GetParameters call at cold start, the environment's values first (local mode), and errors that name
// parameters, never values.
import type { GetParametersCommand } from '@aws-sdk/client-ssm'
import { describe, expect, it } from 'vitest'
import { ConfigError, loadConfig } from '../../shared/config.ts'
import { formatTokenKeys, generateTokenKey } from '../../shared/credentials/token-keys.ts'
import { loadDeployedSecrets } from '../../shared/secrets/parameter-store.ts'

const tokenKeys = formatTokenKeys([generateTokenKey(), generateTokenKey()])
const root = { AccountId: '1234567890123456', AccessKeyId: 'LTAI5tExampleKeyId000', AccessKeySecret: 'a'.repeat(30) }

function ssm(values: Record<string, string>) {
  const calls: GetParametersCommand['input'][] = []
  return {
    calls,
    send: async (c: GetParametersCommand) => {
      calls.push(c.input)
      const names = c.input.Names ?? []
      return { Parameters: names.filter((n) => n in values).map((n) => ({ Name: n, Type: 'SecureString', Value: values[n] })), InvalidParameters: names.filter((n) => !(n in values)) }
    },
  }
}
const deployed = (extra: Record<string, string> = {}) => loadConfig({ TOKEN_KEYS_PARAMETER: '/oidc-sts/test/token-keys', ROOT_CREDENTIALS_PARAMETER: '/oidc-sts/test/root-credentials', ...extra })

describe('loadDeployedSecrets', () => {
  it('reads both SecureStrings in one decrypted GetParameters call', async () => {
    const client = ssm({ '/oidc-sts/test/token-keys': tokenKeys, '/oidc-sts/test/root-credentials': JSON.stringify(root) })
    const secrets = await loadDeployedSecrets(deployed(), { root: true, client: client as never })
    expect(client.calls).toEqual([{ Names: ['/oidc-sts/test/token-keys', '/oidc-sts/test/root-credentials'], WithDecryption: true }])
    expect(secrets.tokenKeys.byKid.size).toBe(2)
    expect(secrets.root).toEqual(root)
  })

  it('token exchange asks for the token keys only', async () => {
    const client = ssm({ '/oidc-sts/test/token-keys': tokenKeys })
    const secrets = await loadDeployedSecrets(deployed(), { root: false, client: client as never })
    expect(client.calls).toEqual([{ Names: ['/oidc-sts/test/token-keys'], WithDecryption: true }])
    expect(secrets.root).toBeUndefined()
  })

  it('uses TOKEN_KEYS and ROOT_* from the environment, even with parameters configured, without calling SSM (local mode, invoke local)', async () => {
    const client = ssm({})
    const config = deployed({ TOKEN_KEYS: tokenKeys, ROOT_ACCOUNT_ID: root.AccountId, ROOT_ACCESS_KEY_ID: root.AccessKeyId, ROOT_ACCESS_KEY_SECRET: root.AccessKeySecret })
    const secrets = await loadDeployedSecrets(config, { root: true, client: client as never })
    expect(client.calls).toEqual([])
    expect(secrets.root).toEqual(root)
  })

  it('names a missing parameter', async () => {
    const err = await loadDeployedSecrets(deployed(), { root: true, client: ssm({ '/oidc-sts/test/token-keys': tokenKeys }) as never }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(ConfigError)
    expect((err as ConfigError).problems).toEqual(['SSM parameter /oidc-sts/test/root-credentials does not exist or cannot be read by this function'])
  })

  it('refuses malformed values without repeating them', async () => {
    const secret = 'not-a-key-but-secret-looking-0123456789'
    const bad = await loadDeployedSecrets(deployed(), { root: true, client: ssm({ '/oidc-sts/test/token-keys': `k1:${secret}`, '/oidc-sts/test/root-credentials': JSON.stringify(root) }) as never }).catch((e: unknown) => e)
    expect(bad).toBeInstanceOf(ConfigError)
    expect((bad as Error).message).toContain('SSM parameter /oidc-sts/test/token-keys')
    expect((bad as Error).message).not.toContain(secret)
    const badRoot = await loadDeployedSecrets(deployed(), { root: true, client: ssm({ '/oidc-sts/test/token-keys': tokenKeys, '/oidc-sts/test/root-credentials': '{"AccountId":"12"}' }) as never }).catch((e: unknown) => e)
    expect((badRoot as ConfigError).problems).toEqual([
      'SSM parameter /oidc-sts/test/root-credentials: AccountId must be 16 decimal digits',
      'SSM parameter /oidc-sts/test/root-credentials: AccessKeyId must be 16..64 letters and digits, not starting with STS',
      'SSM parameter /oidc-sts/test/root-credentials: AccessKeySecret must be at least 20 characters',
    ])
  })

  it('refuses to start without token keys', async () => {
    await expect(loadDeployedSecrets(loadConfig({}), { root: false, client: ssm({}) as never })).rejects.toThrow(/TOKEN_KEYS or TOKEN_KEYS_PARAMETER must be set/)
  })

  it('validates parameter names in the configuration', () => {
    expect(() => loadConfig({ TOKEN_KEYS_PARAMETER: 'has spaces' })).toThrow(/TOKEN_KEYS_PARAMETER must be an SSM parameter name/)
  })
})
