import { describe, expect, it } from 'vitest'
import { TtlCache } from '../../shared/cache/ttl-cache.ts'

describe('TtlCache', () => {
  it('serves a value until ttlMs after its load started, then loads again', async () => {
    let t = 1000
    const cache = new TtlCache<string, number>({ ttlMs: 5000, maxEntries: 10, now: () => t })
    let loads = 0
    const load = async () => ++loads
    expect(await cache.get('a', load)).toBe(1)
    t += 4999
    expect(await cache.get('a', load)).toBe(1)
    t += 1
    expect(await cache.get('a', load)).toBe(2)
  })

  it('shares one load among concurrent misses', async () => {
    const cache = new TtlCache<string, number>({ ttlMs: 1000, maxEntries: 10 })
    let loads = 0
    let release!: () => void
    const gate = new Promise<void>((r) => { release = r })
    const load = async () => { loads++; await gate; return 7 }
    const all = Promise.all(Array.from({ length: 50 }, () => cache.get('k', load)))
    release()
    expect(await all).toEqual(Array(50).fill(7))
    expect(loads).toBe(1)
  })

  it('does not cache failures', async () => {
    const cache = new TtlCache<string, number>({ ttlMs: 1000, maxEntries: 10 })
    await expect(cache.get('k', async () => { throw new Error('down') })).rejects.toThrow('down')
    expect(await cache.get('k', async () => 3)).toBe(3)
  })

  it('keeps at most maxEntries, evicting the oldest', async () => {
    const cache = new TtlCache<number, number>({ ttlMs: 60_000, maxEntries: 3 })
    for (let i = 0; i < 5; i++) await cache.get(i, async () => i)
    expect(cache.size).toBe(3)
    let reloaded = false
    await cache.get(0, async () => { reloaded = true; return 0 })
    expect(reloaded).toBe(true)
  })
})
