// The only reader of the service's settings from process.env (the AWS credential and SSM endpoint variables
// are read where they are used: aws/raw-json-client.ts, secrets/parameter-store.ts): every setting
// validated once, frozen, and every bad key reported at once.

export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent'

export interface Config {
  readonly host: string
  readonly port: number
  readonly dataDir: string
  /** DynamoDB endpoint to use instead of starting DynamoDB Local (local mode), or of AWS's (tests). */
  readonly dynamodbEndpoint: string | undefined
  readonly region: string
  readonly tableName: string
  readonly rootAccountId: string | undefined
  readonly rootAccessKeyId: string | undefined
  readonly rootAccessKeySecret: string | undefined
  readonly allowPrivateIssuers: boolean
  readonly tlsCertFile: string | undefined
  readonly tlsKeyFile: string | undefined
  readonly logLevel: LogLevel
  /** Accepted clock skew of signed requests, seconds (design.md: 15 minutes). */
  readonly signatureWindowSeconds: number
  /** `<kid>:<base64url key>,...` sealing SecurityTokens (current first); unset locally = generated file. */
  readonly tokenKeys: string | undefined
  /** Clock leeway for OIDC token exp/nbf/iat checks, seconds. */
  readonly jwtLeewaySeconds: number
  /** How long provider and role configuration may be reused per container, ms (≤ 5 s). */
  readonly configCacheMs: number
  /** JWKS cache: fresh for maxAge, unknown-kid refetch cooldown, stale-if-unreachable window (ms). */
  readonly jwksMaxAgeMs: number
  readonly jwksCooldownMs: number
  readonly jwksStaleMs: number
  /** Days an audit record stays in the table (TTL). */
  readonly auditRetentionDays: number
  /** AssumeRoleWithOIDC limits per container (token buckets): per OIDC provider and per source address. */
  readonly rateLimits: {
    perProvider: { ratePerSecond: number; burst: number }
    perSource: { ratePerSecond: number; burst: number }
  }
  /** Local mode: seconds between thumbprint health checks (also one at start); 0 turns the local schedule off. */
  readonly healthCheckIntervalSeconds: number
  /** A matched certificate expiring within this many days makes a provider `certificate-expiring`. */
  readonly certExpiryWarningDays: number
  /** IdPs checked at once by one health-check run. */
  readonly healthCheckConcurrency: number
  /** The most one IdP (discovery + JWKS + chain probes) may take in a health-check run, ms. */
  readonly healthCheckIdpTimeoutMs: number
  /** EventBridge bus the service publishes to (AWS); unset = the in-process bus (local mode). */
  readonly eventBusName: string | undefined
  /** SSM SecureString holding TOKEN_KEYS (AWS): read at cold start, never an environment value. */
  readonly tokenKeysParameter: string | undefined
  /** SSM SecureString holding the bootstrap root AccessKey as {"AccountId","AccessKeyId","AccessKeySecret"}. */
  readonly rootCredentialsParameter: string | undefined
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  - ${problems.join('\n  - ')}`)
    this.name = 'ConfigError'
  }
}

const LOG_LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error', 'silent']

/**
 * Why `value` cannot be the endpoint setting `name` (an http(s) URL of a host, an optional port and
 * path), or undefined. A URL may carry a credential (`https://user:password@host`, a signed query):
 * the value is quoted only as its scheme and host, and not at all when it is no URL. An endpoint
 * with a user name or password is refused (nothing would send them: the AWS clients sign requests).
 */
export function endpointProblem(name: string, value: string): string | undefined {
  const expected = 'an http(s) URL such as http://127.0.0.1:8000'
  let url: URL
  try {
    // new URL() would drop tabs and newlines and trim spaces: a value with any is refused instead.
    if (/\s/.test(value)) throw new TypeError('whitespace')
    url = new URL(value)
  } catch {
    return `${name} must be ${expected} (the value is not a URL; not shown, as it may hold a credential)`
  }
  const shown = `"${url.protocol}//${url.host}"`
  if (url.username !== '' || url.password !== '') return `${name} must not carry a user name or password (user:password@); the endpoint is ${shown} without them`
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return `${name} must be ${expected} (got ${shown})`
  if (url.search !== '' || url.hash !== '' || /[?#]/.test(value)) return `${name} must not carry a query or fragment (got ${shown} with one)`
  return undefined
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const problems: string[] = []
  const str = (name: string, fallback: string) => {
    const v = env[name]
    return v === undefined || v === '' ? fallback : v
  }
  const opt = (name: string) => {
    const v = env[name]
    return v === undefined || v === '' ? undefined : v
  }
  const int = (name: string, fallback: number, min: number, max: number) => {
    const raw = opt(name)
    if (raw === undefined) return fallback
    const n = Number(raw)
    if (!/^\d+$/.test(raw) || n < min || n > max) {
      problems.push(`${name} must be an integer in ${min}..${max} (got "${raw}")`)
      return fallback
    }
    return n
  }
  const bool = (name: string, fallback: boolean) => {
    const raw = opt(name)
    if (raw === undefined) return fallback
    if (raw === 'true' || raw === '1') return true
    if (raw === 'false' || raw === '0') return false
    problems.push(`${name} must be true or false (got "${raw}")`)
    return fallback
  }

  const rootAccountId = opt('ROOT_ACCOUNT_ID')
  if (rootAccountId !== undefined && !/^\d{16}$/.test(rootAccountId)) {
    problems.push('ROOT_ACCOUNT_ID must be 16 decimal digits')
  }
  const rootAccessKeyId = opt('ROOT_ACCESS_KEY_ID')
  const rootAccessKeySecret = opt('ROOT_ACCESS_KEY_SECRET')
  if ((rootAccessKeyId === undefined) !== (rootAccessKeySecret === undefined)) {
    problems.push('ROOT_ACCESS_KEY_ID and ROOT_ACCESS_KEY_SECRET must be set together')
  }
  if (rootAccessKeyId !== undefined && !/^[A-Za-z0-9]{16,64}$/.test(rootAccessKeyId)) {
    problems.push('ROOT_ACCESS_KEY_ID must be 16..64 letters and digits')
  }
  if (rootAccessKeyId?.startsWith('STS.')) problems.push('ROOT_ACCESS_KEY_ID must not start with "STS."')
  if (rootAccessKeySecret !== undefined && rootAccessKeySecret.length < 20) {
    problems.push('ROOT_ACCESS_KEY_SECRET must be at least 20 characters')
  }
  const dynamodbEndpoint = opt('DYNAMODB_ENDPOINT')
  const endpointInvalid = dynamodbEndpoint === undefined ? undefined : endpointProblem('DYNAMODB_ENDPOINT', dynamodbEndpoint)
  if (endpointInvalid !== undefined) problems.push(endpointInvalid)
  const logLevel = str('LOG_LEVEL', 'info') as LogLevel
  if (!LOG_LEVELS.includes(logLevel)) problems.push(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}`)
  const tlsCertFile = opt('TLS_CERT_FILE')
  const tlsKeyFile = opt('TLS_KEY_FILE')
  if ((tlsCertFile === undefined) !== (tlsKeyFile === undefined)) {
    problems.push('TLS_CERT_FILE and TLS_KEY_FILE must be set together')
  }
  const eventBusName = opt('EVENT_BUS_NAME')
  if (eventBusName !== undefined && !/^(arn:[\w-]+:events:[\w-]+:\d{12}:event-bus\/)?[A-Za-z0-9._\-/]{1,256}$/.test(eventBusName)) {
    problems.push('EVENT_BUS_NAME must be an event bus name or ARN')
  }
  const parameter = (name: string) => {
    const v = opt(name)
    if (v !== undefined && !/^[A-Za-z0-9_.\-/]{1,2048}$/.test(v)) problems.push(`${name} must be an SSM parameter name such as /oidc-sts/prod/token-keys`)
    return v
  }
  const tokenKeysParameter = parameter('TOKEN_KEYS_PARAMETER')
  const rootCredentialsParameter = parameter('ROOT_CREDENTIALS_PARAMETER')
  const tableName = str('TABLE_NAME', 'oidc-sts')
  if (!/^[A-Za-z0-9_.-]{3,255}$/.test(tableName)) problems.push('TABLE_NAME must be 3..255 of [A-Za-z0-9_.-]')

  const config: Config = {
    host: str('HOST', '127.0.0.1'),
    port: int('PORT', 8080, 0, 65535),
    dataDir: str('DATA_DIR', '.data'),
    dynamodbEndpoint,
    region: str('AWS_REGION', str('AWS_DEFAULT_REGION', 'us-east-1')),
    tableName,
    rootAccountId,
    rootAccessKeyId,
    rootAccessKeySecret,
    allowPrivateIssuers: bool('ALLOW_PRIVATE_ISSUERS', false),
    tlsCertFile,
    tlsKeyFile,
    logLevel,
    signatureWindowSeconds: int('SIGNATURE_WINDOW_SECONDS', 900, 60, 3600),
    tokenKeys: opt('TOKEN_KEYS'),
    jwtLeewaySeconds: int('JWT_LEEWAY_SECONDS', 60, 0, 300),
    configCacheMs: int('CONFIG_CACHE_SECONDS', 5, 0, 5) * 1000,
    jwksMaxAgeMs: int('JWKS_MAX_AGE_SECONDS', 600, 10, 86400) * 1000,
    jwksCooldownMs: int('JWKS_COOLDOWN_SECONDS', 30, 1, 3600) * 1000,
    jwksStaleMs: int('JWKS_STALE_SECONDS', 3600, 0, 86400) * 1000,
    auditRetentionDays: int('AUDIT_RETENTION_DAYS', 90, 1, 3650),
    rateLimits: {
      perProvider: { ratePerSecond: int('RATE_LIMIT_PROVIDER_PER_SECOND', 200, 1, 1_000_000), burst: int('RATE_LIMIT_PROVIDER_BURST', 400, 1, 1_000_000) },
      perSource: { ratePerSecond: int('RATE_LIMIT_SOURCE_PER_SECOND', 20, 1, 1_000_000), burst: int('RATE_LIMIT_SOURCE_BURST', 60, 1, 1_000_000) },
    },
    healthCheckIntervalSeconds: int('HEALTH_CHECK_INTERVAL_SECONDS', 300, 0, 86400),
    certExpiryWarningDays: int('CERT_EXPIRY_WARNING_DAYS', 30, 1, 365),
    healthCheckConcurrency: int('HEALTH_CHECK_CONCURRENCY', 8, 1, 64),
    healthCheckIdpTimeoutMs: int('HEALTH_CHECK_IDP_TIMEOUT_SECONDS', 20, 1, 120) * 1000,
    eventBusName,
    tokenKeysParameter,
    rootCredentialsParameter,
  }
  if (problems.length > 0) throw new ConfigError(problems)
  return Object.freeze(config)
}
