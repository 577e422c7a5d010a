// The closed list of error codes the service answers with, and the error classes that carry them.
// Codes are Alibaba Cloud's where Alibaba documents one (the team's spec, alibaba-api.md, beside the checkout in ../shared/spec/); where the
// spec marks a code unconfirmed we chose one in the same family and list it in README.md ("Errors").

/** Fixed codes and their HTTP status. Parameter-rule codes are the families below. */
export const ERROR_STATUS = {
  // request shape
  InvalidParameter: 400, // unknown Action/Version, or a generic parameter problem
  'InvalidParameter.Format': 400,
  'Request.TooLarge': 413,
  'Request.HeadersTooLarge': 431, // the request line and headers over MAX_HEADER_BYTES (the local server; API Gateway has its own limits)
  // request authentication (signed actions)
  IncompleteSignature: 400, // unsigned request, or a malformed Authorization / signature parameter set
  'InvalidAccessKeyId.NotFound': 404,
  'InvalidAccessKeyId.Inactive': 403,
  SignatureDoesNotMatch: 400,
  SignatureNonceUsed: 400,
  'InvalidTimeStamp.Format': 400,
  'InvalidTimeStamp.Expired': 400,
  'InvalidSecurityToken.Malformed': 400,
  'InvalidSecurityToken.Expired': 400,
  'InvalidSecurityToken.MismatchWithAccessKey': 400,
  'InvalidSecurityToken.KeyNotFound': 400,
  // authorization and policies
  NoPermission: 403,
  MalformedPolicyDocument: 400,
  // IMS OIDC providers
  'EntityNotExist.OIDCProvider': 404,
  'EntityAlreadyExists.OIDCProvider': 409,
  'EntityAlreadyExists.OIDCProvider.Url': 409,
  'EntityAlreadyExists.OIDCProvider.ClientId': 409,
  'EntityAlreadyExists.OIDCProvider.Fingerprint': 409,
  'EntityNotExist.OIDCProvider.ClientId': 404,
  'EntityNotExist.OIDCProvider.Fingerprint': 404,
  'LimitExceeded.OIDCProvider': 409,
  'LimitExceeded.OIDCProvider.ClientId': 409,
  'LimitExceeded.OIDCProvider.Fingerprint': 409,
  // accounts (operator extension)
  'EntityAlreadyExists.Account': 409,
  // OIDC token checks (AssumeRoleWithOIDC, spec §1.4/§1.5); all 401 like Alibaba's AuthenticationFail.*
  'AuthenticationFail.NoPermission': 401, // no such provider, or the role's trust policy refuses the token
  'AuthenticationFail.OIDCToken.Invalid': 401,
  'AuthenticationFail.OIDCToken.InvalidSignature': 401,
  'AuthenticationFail.OIDCToken.Expired': 401,
  'AuthenticationFail.OIDCToken.IssuerNotMatch': 401,
  'AuthenticationFail.OIDCToken.AudienceNotMatch': 401,
  // Our choice (spec §1.4 step 9 leaves the code unconfirmed): `iat` older than the provider's IssuanceLimitTime.
  'AuthenticationFail.OIDCToken.IssuanceTimeLimitExceeded': 401,
  // OIDC discovery and JWKS fetch (spec §1.4 step 6, §6): IdP unreachable or broken, TLS chain invalid, no registered fingerprint in the chain.
  'AuthenticationFail.OIDCToken.IssuerConfigurationBroken': 401,
  'AuthenticationFail.OIDCToken.HttpsUrlInvalid': 401,
  'AuthenticationFail.OIDCToken.PublicKeyFingerprintMismatch': 401,
  // store and server
  Throttling: 429,
  'Throttling.User': 429, // AssumeRoleWithOIDC over its per-provider or per-source-address rate
  ServiceUnavailable: 503,
  InternalError: 500,
  // RAM 2015-05-01 roles, policies, attachments (spec §4.3)
  'InvalidParameter.PolicyType': 400,
  'EntityNotExist.Role': 404,
  'EntityNotExist.Policy': 404,
  'EntityNotExist.Role.Policy': 404, // detach of a policy that is not attached
  'EntityAlreadyExists.Role': 409,
  'EntityAlreadyExists.Policy': 409, // also a custom name equal to a system policy's (any case)
  'EntityAlreadyExists.Role.Policy': 409, // attach twice
  'DeleteConflict.Role.Policy': 409, // DeleteRole while policies are attached
  'DeleteConflict.Policy.Role': 409, // DeletePolicy while attached to a role (Alibaba: .User/.Group/.Version siblings)
  'DeleteConflict.Policy.System': 409, // DeletePolicy of a system policy (our code; Alibaba's is unconfirmed)
  'LimitExceeded.Role': 409,
  'LimitExceeded.Policy': 409,
  'LimitExceeded.Role.Policy': 409,
} as const

export type FixedErrorCode = keyof typeof ERROR_STATUS

/** Parameter-rule families: `MissingParameter.<Param>`, `InvalidParameter.<Param>.<Reason>`. */
export type ParameterErrorCode =
  | `MissingParameter.${string}`
  | `InvalidParameter.${string}`

export type ErrorCode = FixedErrorCode | ParameterErrorCode

export function statusOf(code: ErrorCode): number {
  const fixed = (ERROR_STATUS as Record<string, number>)[code]
  if (fixed !== undefined) return fixed
  if (code.startsWith('MissingParameter') || code.startsWith('InvalidParameter')) return 400
  return 500
}

/** Extra fields some errors carry in the envelope (e.g. AccessDeniedDetail on NoPermission). */
export type ErrorDetail = Record<string, unknown>

/**
 * Every error a client may see. `message` is sent to the client: it says which check failed and
 * never contains a secret, a token or an internal error text. `cause` stays server-side.
 */
export class ApiError extends Error {
  readonly code: ErrorCode
  readonly status: number
  readonly detail: ErrorDetail | undefined
  /** Milliseconds a throttled client should wait, sent as `x-acs-retry-after` (the unit the official SDKs read). */
  readonly retryAfterMs: number | undefined

  constructor(
    code: ErrorCode,
    message: string,
    options: { cause?: unknown; detail?: ErrorDetail; retryAfterMs?: number } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.name = 'ApiError'
    this.code = code
    this.status = statusOf(code)
    this.detail = options.detail
    this.retryAfterMs = options.retryAfterMs
  }
}

// Helpers named by how the caller reacts.
export const missingParameter = (param: string) =>
  new ApiError(`MissingParameter.${param}`, `The input parameter "${param}" that is mandatory for processing this request is not supplied.`)

export const invalidParameter = (param: string, reason: 'Length' | 'InvalidChars' | 'Format' | 'Value', message: string) =>
  new ApiError(`InvalidParameter.${param}.${reason}`, message)

export const storeUnavailable = (cause: unknown) =>
  new ApiError('ServiceUnavailable', 'The storage backend is temporarily unavailable; retry later.', { cause })
