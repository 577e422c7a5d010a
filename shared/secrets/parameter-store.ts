// The secrets a deployed function needs, read once per container at cold start from SSM Parameter
// Store (SecureString, decrypted by SSM): the SecurityToken keys (TOKEN_KEYS_PARAMETER) and the
// bootstrap root AccessKey (ROOT_CREDENTIALS_PARAMETER). They never appear in the CloudFormation
// template or in the function's environment, only their parameter names do. Locally and in tests
// TOKEN_KEYS / ROOT_* from the environment are used instead. Errors name parameters, never values.

// On Lambda (credentials in the environment) GetParameters goes through the raw JSON-protocol client
// (shared/aws/raw-json-client.ts, which the exchange's GetItems use too): the AWS SDK's SSM client
// would add ~66 ms of loading to every cold start. Without environment credentials (a developer's
// profile, SSO...) the SDK client is imported on first use, so its chain finds them.
import type { SSMClient } from '@aws-sdk/client-ssm'
import { RawJsonClient, rawCredentials } from '../aws/raw-json-client.ts'
import { type Config, ConfigError, endpointProblem } from '../config.ts'
import { parseTokenKeys, type TokenKeyRing } from '../credentials/token-keys.ts'
import type { RootCredentials } from '../services/accounts.ts'

export interface DeployedSecrets {
  tokenKeys: TokenKeyRing
  /** The bootstrap account's AccessKey, when configured (management only). */
  root: RootCredentials | undefined
}

type SecretsConfig = Pick<Config, 'region' | 'tokenKeys' | 'tokenKeysParameter' | 'rootCredentialsParameter' | 'rootAccountId' | 'rootAccessKeyId' | 'rootAccessKeySecret'>

/** How SSM is reached; every member defaults to the deployed behaviour (tests set them). */
export interface SsmAccess {
  /** An AWS SDK SSM client: used instead of the raw client. */
  client?: Pick<SSMClient, 'send'>
  /** The environment: the raw client's credentials (Lambda's role credentials) and AWS_ENDPOINT_URL_SSM (default: the region's endpoint); default process.env. */
  env?: NodeJS.ProcessEnv
}

interface GetParametersOutput {
  Parameters?: Array<{ Name?: string; Value?: string }>
}

/**
 * SSM's bounds, its own and not the table's (store-timeouts.ts), for the raw client and the SDK client
 * alike: 2 s per attempt (connection and whole request), three attempts. The read runs in a function's init
 * phase, which Lambda cuts off after 10 s: SSM that stops answering costs at most 3 × 2 s plus the raw
 * client's backoff (under 0.1 s), so the init fails with an error naming SSM rather than Lambda's init
 * timeout (test/deploy/parameter-store.test.ts checks the sum). GetParameters answers in milliseconds.
 */
export const SSM_BOUNDS = { connectTimeoutMs: 2_000, requestTimeoutMs: 2_000, maxAttempts: 3 } as const

/** One GetParameters call (WithDecryption) for all names; a missing parameter is a ConfigError. */
export async function readSecureParameters(names: readonly string[], region: string, access: SsmAccess = {}): Promise<Map<string, string>> {
  if (names.length === 0) return new Map()
  const input = { Names: [...names], WithDecryption: true }
  const env = access.env ?? process.env
  const endpoint = env.AWS_ENDPOINT_URL_SSM || undefined
  // Checked before use: new URL() would throw a TypeError quoting the whole value (its `input`), a user:password@ included.
  const endpointInvalid = endpoint === undefined ? undefined : endpointProblem('AWS_ENDPOINT_URL_SSM', endpoint)
  if (endpointInvalid !== undefined) throw new ConfigError([endpointInvalid])
  const credentials = access.client ? undefined : rawCredentials(undefined, env)
  let out: GetParametersOutput
  if (credentials) {
    // SecureString values are at most 8 KB and GetParameters takes at most 10 names: 256 KiB bounds the answer.
    const ssm = new RawJsonClient({ service: 'ssm', targetPrefix: 'AmazonSSM', jsonVersion: '1.1', region, endpoint, credentials, ...SSM_BOUNDS, maxResponseBytes: 256 * 1024 })
    out = (await ssm.call('GetParameters', input)) as GetParametersOutput
  } else {
    const { GetParametersCommand, SSMClient } = await import('./ssm-client.ts')
    out = await (access.client ?? new SSMClient({
      region,
      maxAttempts: SSM_BOUNDS.maxAttempts,
      requestHandler: { connectionTimeout: SSM_BOUNDS.connectTimeoutMs, requestTimeout: SSM_BOUNDS.requestTimeoutMs, throwOnRequestTimeout: true },
    })).send(new GetParametersCommand(input))
  }
  const values = new Map<string, string>()
  for (const p of out.Parameters ?? []) if (typeof p.Name === 'string' && typeof p.Value === 'string') values.set(p.Name, p.Value)
  const missing = names.filter((n) => !values.has(n))
  if (missing.length > 0) throw new ConfigError(missing.map((n) => `SSM parameter ${n} does not exist or cannot be read by this function`))
  return values
}

function parseRootCredentials(value: string, source: string): RootCredentials {
  let v: unknown
  try {
    v = JSON.parse(value)
  } catch {
    throw new ConfigError([`${source} is not JSON {"AccountId","AccessKeyId","AccessKeySecret"}`])
  }
  const c = (v ?? {}) as Record<string, unknown>
  const problems: string[] = []
  if (typeof c.AccountId !== 'string' || !/^\d{16}$/.test(c.AccountId)) problems.push(`${source}: AccountId must be 16 decimal digits`)
  if (typeof c.AccessKeyId !== 'string' || !/^[A-Za-z0-9]{16,64}$/.test(c.AccessKeyId) || c.AccessKeyId.startsWith('STS')) problems.push(`${source}: AccessKeyId must be 16..64 letters and digits, not starting with STS`)
  if (typeof c.AccessKeySecret !== 'string' || c.AccessKeySecret.length < 20) problems.push(`${source}: AccessKeySecret must be at least 20 characters`)
  if (problems.length > 0) throw new ConfigError(problems)
  return { AccountId: c.AccountId as string, AccessKeyId: c.AccessKeyId as string, AccessKeySecret: c.AccessKeySecret as string }
}

/**
 * The token keys (TOKEN_KEYS, else the TOKEN_KEYS_PARAMETER SecureString) and, with `root`, the
 * bootstrap root credentials (ROOT_ACCOUNT_ID/ROOT_ACCESS_KEY_*, else ROOT_CREDENTIALS_PARAMETER).
 */
export async function loadDeployedSecrets(config: SecretsConfig, opts: { root: boolean; ssm?: SsmAccess }): Promise<DeployedSecrets> {
  const rootFromEnv = config.rootAccountId && config.rootAccessKeyId && config.rootAccessKeySecret
    ? { AccountId: config.rootAccountId, AccessKeyId: config.rootAccessKeyId, AccessKeySecret: config.rootAccessKeySecret }
    : undefined
  // The environment's values win (local mode, `serverless invoke local --env ...`): no SSM call for them.
  const names = [
    ...(config.tokenKeys === undefined && config.tokenKeysParameter !== undefined ? [config.tokenKeysParameter] : []),
    ...(opts.root && rootFromEnv === undefined && config.rootCredentialsParameter !== undefined ? [config.rootCredentialsParameter] : []),
  ]
  const values = await readSecureParameters(names, config.region, opts.ssm)
  const tokenKeysValue = config.tokenKeys ?? (config.tokenKeysParameter === undefined ? undefined : values.get(config.tokenKeysParameter))
  if (tokenKeysValue === undefined) throw new ConfigError(['TOKEN_KEYS or TOKEN_KEYS_PARAMETER must be set: the token keys seal and verify SecurityTokens'])
  const tokenKeys = parseTokenKeys(tokenKeysValue, config.tokenKeys === undefined ? `SSM parameter ${config.tokenKeysParameter}` : 'TOKEN_KEYS')
  let root: RootCredentials | undefined
  if (opts.root) {
    if (rootFromEnv !== undefined) root = rootFromEnv
    else if (config.rootCredentialsParameter !== undefined) root = parseRootCredentials(values.get(config.rootCredentialsParameter)!, `SSM parameter ${config.rootCredentialsParameter}`)
  }
  return { tokenKeys, root }
}
