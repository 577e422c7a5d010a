// The bounds of a table request, shared by the SDK client (table.ts) and the raw GetItem client
// (exchange-stores.ts): the defaults, and a Lambda function's own per-attempt bound.
import { describe, expect, it } from 'vitest'
import { STORE_ATTEMPTS, storeBounds } from '../../shared/store/store-timeouts.ts'

describe('storeBounds', () => {
  it('defaults to connect 2 s, request 5 s, two attempts', () => {
    expect(STORE_ATTEMPTS).toBe(2)
    expect(storeBounds()).toEqual({ connectTimeoutMs: 2_000, requestTimeoutMs: 5_000, maxAttempts: STORE_ATTEMPTS })
    expect(storeBounds({})).toEqual(storeBounds())
    expect(storeBounds({ requestTimeoutMs: undefined })).toEqual(storeBounds())
  })

  it('bounds the request by requestTimeoutMs and the connection no longer than it', () => {
    expect(storeBounds({ requestTimeoutMs: 1_500 })).toEqual({ connectTimeoutMs: 1_500, requestTimeoutMs: 1_500, maxAttempts: STORE_ATTEMPTS })
    expect(storeBounds({ requestTimeoutMs: 300 })).toMatchObject({ connectTimeoutMs: 300, requestTimeoutMs: 300 })
    expect(storeBounds({ requestTimeoutMs: 10_000 })).toMatchObject({ connectTimeoutMs: 2_000, requestTimeoutMs: 10_000 })
  })
})
