// Converts AWS SDK failures into our error codes at the store boundary, and retries transaction
// conflicts: callers see ServiceUnavailable / Throttling / InternalError, never an SDK message.

import { ApiError, storeUnavailable } from '../errors.ts'

// TransactionInProgressException: an SDK retry of a transaction whose first attempt DynamoDB is still
// running (same ClientRequestToken); answered as a retry-later, like a conflict.
const THROTTLING = new Set(['ProvisionedThroughputExceededException', 'ThrottlingException', 'RequestLimitExceeded', 'TransactionInProgressException'])
const UNAVAILABLE = new Set([
  'ResourceNotFoundException', // table missing: a deployment/bootstrap problem, not the caller's
  'InternalServerError',
  'ServiceUnavailable',
  'TimeoutError',
  'RequestTimeout',
  'AbortError',
])
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'ENETUNREACH'])

export function toStoreError(e: unknown): ApiError {
  if (e instanceof ApiError) return e
  const err = e as { name?: string; code?: string; cause?: { code?: string }; $metadata?: unknown }
  const name = err?.name ?? ''
  const codes = cancellationCodes(e)
  if (THROTTLING.has(name) || name === 'TransactionConflictException' || (codes?.includes('TransactionConflict') ?? false)) {
    return new ApiError('Throttling', 'The storage backend is throttling requests; retry later.', { cause: e, retryAfterMs: 1000 })
  }
  if (UNAVAILABLE.has(name) || NETWORK_CODES.has(err?.code ?? '') || NETWORK_CODES.has(err?.cause?.code ?? '') || isNetworkError(e)) {
    return storeUnavailable(e)
  }
  return new ApiError('InternalError', 'An internal error occurred; please retry with the same RequestId reported to the operator.', { cause: e })
}

function isNetworkError(e: unknown): boolean {
  // The SDK's fetch/http handlers surface socket failures with varied shapes; none carry $metadata.httpStatusCode.
  const err = e as { $metadata?: { httpStatusCode?: number }; message?: string }
  if (err?.$metadata?.httpStatusCode) return false
  return /ECONNREFUSED|ECONNRESET|socket hang up|connect ETIMEDOUT|timed? ?out/i.test(err?.message ?? '')
}

export function isConditionalCheckFailed(e: unknown): e is { name: string; Item?: Record<string, unknown> } {
  return (e as { name?: string })?.name === 'ConditionalCheckFailedException'
}

/** Cancellation reason codes of a TransactionCanceledException, or undefined for other errors. */
export function cancellationCodes(e: unknown): string[] | undefined {
  const err = e as { name?: string; CancellationReasons?: { Code?: string }[] }
  if (err?.name !== 'TransactionCanceledException') return undefined
  return (err.CancellationReasons ?? []).map((r) => r.Code ?? 'None')
}

/** Cancellation reasons with the old item (raw AttributeValues) where one was asked for, or undefined for other errors. */
export function cancellationItems(e: unknown): (Record<string, unknown> | undefined)[] | undefined {
  const err = e as { name?: string; CancellationReasons?: { Item?: Record<string, unknown> }[] }
  if (err?.name !== 'TransactionCanceledException') return undefined
  return (err.CancellationReasons ?? []).map((r) => r.Item)
}

/**
 * Runs `attempt` again while DynamoDB reports a transaction conflict (another transaction touched
 * the same item, e.g. the account's quota counter): bounded attempts, exponential backoff with full jitter.
 */
export async function retryOnTransactionConflict<T>(attempt: () => Promise<T>, maxAttempts = 40): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await attempt()
    } catch (e) {
      const codes = cancellationCodes(e)
      const conflict = (e as { name?: string })?.name === 'TransactionConflictException' ||
        (codes !== undefined && codes.includes('TransactionConflict') && !codes.includes('ConditionalCheckFailed'))
      if (!conflict || i >= maxAttempts) throw e
      const base = Math.min(200, 5 * 2 ** Math.min(i, 6))
      await new Promise((r) => setTimeout(r, Math.random() * base))
    }
  }
}
