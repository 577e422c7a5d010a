import { describe, expect, it } from 'vitest'
import { RateLimiter } from '../../shared/limits/rate-limiter.ts'

describe('RateLimiter', () => {
  it('admits a burst, then the sustained rate, and says how long to wait', () => {
    const rl = new RateLimiter({ ratePerSecond: 2, burst: 3 })
    const t = 1_000_000
    expect([rl.take('a', t), rl.take('a', t), rl.take('a', t)]).toEqual([0, 0, 0])
    // Milliseconds until a token is back (2/s: 500 ms), at least 1.
    expect(rl.take('a', t)).toBe(500)
    expect(rl.take('a', t + 300)).toBe(200)
    expect(rl.take('a', t + 499)).toBeGreaterThanOrEqual(1)
    expect(rl.take('a', t + 499)).toBeLessThanOrEqual(2)
    expect(rl.take('a', t + 500)).toBe(0)
    expect(rl.take('b', t)).toBe(0) // keys are independent
  })

  it('refills to the burst at most', () => {
    const rl = new RateLimiter({ ratePerSecond: 10, burst: 2 })
    rl.take('a', 0)
    rl.take('a', 0)
    const admitted = [0, 0, 0].map(() => rl.take('a', 60_000)).filter((w) => w === 0).length
    expect(admitted).toBe(2)
  })

  it('keeps at most maxKeys buckets', () => {
    const rl = new RateLimiter({ ratePerSecond: 1, burst: 1 }, 100)
    for (let i = 0; i < 1000; i++) rl.take(`ip-${i}`, 0)
    expect(rl.size).toBe(100)
  })
})
