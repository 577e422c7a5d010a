// The store boundary's error conversion and transaction-conflict retry, fed the SDK's own exception
// classes (real values, no mocked client): callers only ever see our codes, never SDK text.

import {
  ConditionalCheckFailedException,
  ProvisionedThroughputExceededException,
  ResourceNotFoundException,
  TransactionCanceledException,
  TransactionConflictException,
  TransactionInProgressException,
} from '@aws-sdk/client-dynamodb'
import { describe, expect, it } from 'vitest'
import { ApiError } from '../../shared/errors.ts'
import { cancellationCodes, isConditionalCheckFailed, retryOnTransactionConflict, toStoreError } from '../../shared/store/store-errors.ts'

const meta = { $metadata: { httpStatusCode: 400 } }
const canceled = (...codes: string[]) =>
  new TransactionCanceledException({ message: `Transaction cancelled, please refer cancellation reasons for specific reasons [${codes.join(', ')}]`, ...meta, CancellationReasons: codes.map((Code) => ({ Code })) })
const networkError = (code: string) => Object.assign(new Error(`connect ${code} 127.0.0.1:8000`), { code })

describe('toStoreError', () => {
  it('passes our own errors through unchanged', () => {
    const own = new ApiError('EntityNotExist.OIDCProvider', 'gone')
    expect(toStoreError(own)).toBe(own)
  })

  it.each([
    ['ProvisionedThroughputExceededException', new ProvisionedThroughputExceededException({ message: 'slow down', ...meta })],
    ['TransactionConflictException', new TransactionConflictException({ message: 'conflict', ...meta })],
    ['a cancellation by TransactionConflict', canceled('None', 'TransactionConflict')],
    // An SDK retry of a transaction DynamoDB is still running (same ClientRequestToken).
    ['TransactionInProgressException', new TransactionInProgressException({ message: 'in progress', ...meta })],
  ])('maps %s to 429 Throttling with a retry hint', (_what, e) => {
    const err = toStoreError(e)
    expect({ code: err.code, status: err.status, retryAfterMs: err.retryAfterMs }).toEqual({ code: 'Throttling', status: 429, retryAfterMs: 1000 })
    expect(err.cause).toBe(e)
  })

  it.each([
    ['a missing table', new ResourceNotFoundException({ message: 'Cannot do operations on a non-existent table', ...meta })],
    ['a refused connection', networkError('ECONNREFUSED')],
    ['a reset connection', networkError('ECONNRESET')],
    ['an unknown host', networkError('ENOTFOUND')],
    ['a wrapped network error', Object.assign(new Error('fetch failed'), { cause: { code: 'ECONNREFUSED' } })],
    ['an SDK timeout', Object.assign(new Error('the request socket did not establish a connection'), { name: 'TimeoutError' })],
    ['a socket hang up', new Error('socket hang up')],
  ])('maps %s to 503 ServiceUnavailable', (_what, e) => {
    const err = toStoreError(e)
    expect({ code: err.code, status: err.status }).toEqual({ code: 'ServiceUnavailable', status: 503 })
  })

  it.each([
    ['an unexpected SDK error', new ConditionalCheckFailedException({ message: 'The conditional request failed', ...meta })],
    ['a cancellation the caller did not interpret', canceled('ConditionalCheckFailed')],
    ['a plain Error', new Error('boom at /work/main/shared/store/x.ts:1:1')],
    ['a non-error value', 'weird'],
  ])('maps %s to 500 InternalError', (_what, e) => {
    expect(toStoreError(e).code).toBe('InternalError')
  })

  it('never repeats the SDK\'s message, a host or a stack frame to the client', () => {
    for (const e of [networkError('ECONNREFUSED'), canceled('TransactionConflict'), new Error('boom at /x.ts:1:1'), new ResourceNotFoundException({ message: 'Cannot do operations on a non-existent table oidc-sts', ...meta })]) {
      expect(toStoreError(e).message).not.toMatch(/127\.0\.0\.1|ECONN|table oidc-sts|\.ts:\d|cancellation reasons|non-existent/i)
    }
  })
})

describe('cancellationCodes / isConditionalCheckFailed', () => {
  it('reads the reason code of each transaction item, "None" where absent', () => {
    const e = new TransactionCanceledException({ message: 'x', ...meta, CancellationReasons: [{ Code: 'None' }, {}, { Code: 'ConditionalCheckFailed' }] })
    expect(cancellationCodes(e)).toEqual(['None', 'None', 'ConditionalCheckFailed'])
  })

  it('is undefined for anything but a cancelled transaction', () => {
    expect(cancellationCodes(new ConditionalCheckFailedException({ message: 'x', ...meta }))).toBeUndefined()
    expect(cancellationCodes(undefined)).toBeUndefined()
  })

  it('recognises a failed condition of a single write only', () => {
    expect(isConditionalCheckFailed(new ConditionalCheckFailedException({ message: 'x', ...meta }))).toBe(true)
    expect(isConditionalCheckFailed(canceled('ConditionalCheckFailed'))).toBe(false)
  })
})

describe('retryOnTransactionConflict', () => {
  const failingTimes = (n: number, error: () => unknown) => {
    let calls = 0
    return {
      get calls() { return calls },
      attempt: async () => {
        calls++
        if (calls <= n) throw error()
        return 'done'
      },
    }
  }

  it('runs the attempt again after a conflict and returns its result', async () => {
    const op = failingTimes(2, () => canceled('None', 'TransactionConflict', 'None'))
    await expect(retryOnTransactionConflict(op.attempt, 5)).resolves.toBe('done')
    expect(op.calls).toBe(3)
  })

  it('also retries a TransactionConflictException', async () => {
    const op = failingTimes(1, () => new TransactionConflictException({ message: 'x', ...meta }))
    await expect(retryOnTransactionConflict(op.attempt, 5)).resolves.toBe('done')
    expect(op.calls).toBe(2)
  })

  it('does not retry when a condition failed, even alongside a conflict: the answer is already known', async () => {
    const e = canceled('ConditionalCheckFailed', 'TransactionConflict')
    const op = failingTimes(1, () => e)
    await expect(retryOnTransactionConflict(op.attempt, 5)).rejects.toBe(e)
    expect(op.calls).toBe(1)
  })

  it('does not retry other failures', async () => {
    const e = networkError('ECONNREFUSED')
    const op = failingTimes(1, () => e)
    await expect(retryOnTransactionConflict(op.attempt, 5)).rejects.toBe(e)
    expect(op.calls).toBe(1)
  })

  it('gives up after the attempt bound with the last conflict', async () => {
    const op = failingTimes(100, () => canceled('TransactionConflict'))
    await expect(retryOnTransactionConflict(op.attempt, 3)).rejects.toBeInstanceOf(TransactionCanceledException)
    expect(op.calls).toBe(3)
  })
})
