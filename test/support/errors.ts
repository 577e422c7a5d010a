// The error a call throws or rejects with, checked to be of the expected class, for tests that go on to
// look at its code, message or details. A call that succeeds fails the test.
import { expect } from 'vitest'
import { ApiError } from '../../shared/errors.ts'

/** What `p` rejects with, checked to be a `type`. */
export async function rejectionOf<E>(p: Promise<unknown>, type: new (...args: never[]) => E): Promise<E> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  )
  expect(e).toBeInstanceOf(type)
  return e as E
}

/** The ApiError `p` rejects with. */
export const apiFailure = (p: Promise<unknown>): Promise<ApiError> => rejectionOf(p, ApiError)

/** The ApiError `fn` throws (anything else it throws is rethrown). */
export function thrownApiError(fn: () => unknown): ApiError {
  try {
    fn()
  } catch (e) {
    if (e instanceof ApiError) return e
    throw e
  }
  throw new Error('expected an ApiError, nothing was thrown')
}

/** The code of the ApiError `fn` throws. */
export const codeOf = (fn: () => unknown): string => thrownApiError(fn).code
