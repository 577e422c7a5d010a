import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { formatUtc } from '../shared/time.ts'

describe('formatUtc', () => {
  it('writes YYYY-MM-DDThh:mm:ssZ, whole seconds', () => {
    expect(formatUtc(Date.UTC(2026, 10, 28, 9, 5, 7, 999))).toBe('2026-11-28T09:05:07Z')
    expect(formatUtc(0)).toBe('1970-01-01T00:00:00Z')
  })

  it('agrees with toISOString without its milliseconds over the whole Date range', () => {
    fc.assert(
      fc.property(fc.integer({ min: -8.64e15, max: 8.64e15 }), (ms) => {
        expect(formatUtc(ms)).toBe(new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z'))
      }),
      { numRuns: 5000 },
    )
    for (const ms of [Date.UTC(999, 11, 31, 23, 59, 59), Date.UTC(1000, 0, 1), Date.UTC(9999, 11, 31, 23, 59, 59), Date.UTC(10000, 0, 1), -1]) {
      expect(formatUtc(ms)).toBe(new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z'))
    }
  })

  it('throws on an invalid time, as toISOString does', () => {
    expect(() => formatUtc(Number.NaN)).toThrow(RangeError)
    expect(() => formatUtc(8.64e15 + 1)).toThrow(RangeError)
  })
})
