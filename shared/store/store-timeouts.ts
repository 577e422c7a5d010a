// How long a table request may take. No imports: the token-exchange cold path (exchange-stores.ts) and
// the deploy test (test/deploy/serverless-package.test.ts, which checks the arithmetic in serverless.yml
// against these values) read it without loading the AWS SDK.
//
// The defaults (connect 2 s, request 5 s, two attempts) serve every store client: npm start, the tests
// on DynamoDB Local, and the background functions. The two functions behind API Gateway answer within
// their Lambda timeout, itself within the HTTP API's integration timeout: on AWS their requests to
// DynamoDB (a GetItem, a small transaction: milliseconds) get a shorter per-attempt bound, so that a
// table that stops answering yields the code's own 503 ServiceUnavailable (and, for an exchange, its
// audit line) before either timeout cuts the request off.

/** Attempts per table request (the first and one retry), raw client and SDK client alike. */
export const STORE_ATTEMPTS = 2

/** The default per-attempt bounds (connection, and the whole request). */
const STORE_TIMEOUT_DEFAULTS = { connectTimeoutMs: 2_000, requestTimeoutMs: 5_000 } as const

/** Token exchange on AWS: provider, JWKS copy and role reads, signed calls' AccessKey read and nonce write. */
export const EXCHANGE_STORE_REQUEST_TIMEOUT_MS = 1_500

/** Management on AWS: its reads, writes and transactions (and the bootstrap writes of its cold start). */
export const MANAGEMENT_STORE_REQUEST_TIMEOUT_MS = 2_000

export interface StoreTimeouts {
  /** Bounds both the connection and the whole request, per attempt (ms). */
  requestTimeoutMs?: number
}

/**
 * `requestTimeoutMs` for a Lambda function talking to DynamoDB itself; the defaults when the table is
 * at a configured endpoint (DynamoDB Local: `serverless invoke local`, the tests), whose latency on a
 * developer's machine says nothing about DynamoDB's.
 */
export function deployedStoreTimeouts(dynamodbEndpoint: string | undefined, requestTimeoutMs: number): StoreTimeouts {
  return dynamodbEndpoint ? {} : { requestTimeoutMs }
}

export interface StoreBounds {
  /** Per attempt (ms). */
  connectTimeoutMs: number
  /** Per attempt (ms). */
  requestTimeoutMs: number
  maxAttempts: number
}

/**
 * The bounds of every table request, for the SDK client (table.ts) and the raw GetItem client
 * (exchange-stores.ts) alike: `requestTimeoutMs` (default 5 s) bounds the whole request, and the
 * connection no longer than it (default 2 s); STORE_ATTEMPTS attempts.
 */
export function storeBounds(timeouts: StoreTimeouts = {}): StoreBounds {
  const { requestTimeoutMs = STORE_TIMEOUT_DEFAULTS.requestTimeoutMs } = timeouts
  return {
    connectTimeoutMs: Math.min(requestTimeoutMs, STORE_TIMEOUT_DEFAULTS.connectTimeoutMs),
    requestTimeoutMs,
    maxAttempts: STORE_ATTEMPTS,
  }
}
