import { describe, expect, it } from 'vitest'
import { RateLimiter, sourceKey } from '../../shared/limits/rate-limiter.ts'

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

  it('neither drains nor refills a bucket when the clock steps back, and counts on from where it was', () => {
    const rl = new RateLimiter({ ratePerSecond: 200, burst: 400 })
    const t = 1_000_000
    expect(rl.take('p', t)).toBe(0)
    // The wall clock steps back a minute (NTP): the bucket still holds 399 tokens.
    const back = t - 60_000
    const waits = Array.from({ length: 399 }, () => rl.take('p', back))
    expect(waits.every((w) => w === 0)).toBe(true)
    expect(rl.take('p', back)).toBe(5)
    // Refilling resumes once the clock passes the last time the bucket saw.
    expect(rl.take('p', t + 5)).toBe(0)
  })

  it('keeps at most maxKeys buckets', () => {
    const rl = new RateLimiter({ ratePerSecond: 1, burst: 1 }, 100)
    for (let i = 0; i < 1000; i++) rl.take(`ip-${i}`, 0)
    expect(rl.size).toBe(100)
  })
})

describe('sourceKey', () => {
  it('keys IPv4 by its address, IPv6 by its /64, an IPv4-mapped IPv6 address as its IPv4 address', () => {
    expect(sourceKey('198.51.100.7')).toBe('198.51.100.7')
    expect(sourceKey('2001:db8:1:2::1')).toBe(sourceKey('2001:db8:1:2:ffff:ffff:ffff:ffff'))
    expect(sourceKey('2001:db8:1:2::1')).toBe('20010db800010002::/64')
    expect(sourceKey('2001:db8:1:3::1')).not.toBe(sourceKey('2001:db8:1:2::1'))
    expect(sourceKey('::ffff:198.51.100.7')).toBe('198.51.100.7')
    expect(sourceKey('::ffff:c633:6407')).toBe('198.51.100.7')
    expect(sourceKey('not an address')).toBe('not an address')
  })
})
