// Token-bucket rate limits per key (e.g. per OIDC provider, per source address), in module scope of
// one container. Bounded: at most `maxKeys` buckets (least recently used dropped first). On Lambda each
// concurrent container enforces its own buckets, so the effective cluster-wide limit is the per-container
// limit times the number of warm containers (documented in SECURITY.md).

import { parseIpAddress } from '../policy/ip-address.ts'

export interface RateLimit {
  /** Sustained requests per second. */
  ratePerSecond: number
  /** Requests that may arrive at once after a quiet period. */
  burst: number
}

export class RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>()

  constructor(
    private readonly limit: RateLimit,
    private readonly maxKeys = 10_000,
  ) {}

  /** 0 when the request may proceed (and is counted), else the milliseconds to wait (at least 1). */
  take(key: string, nowMs: number): number {
    const { ratePerSecond, burst } = this.limit
    let b = this.buckets.get(key)
    if (b) {
      this.buckets.delete(key) // re-insert below: Map order is the LRU order
      // A wall clock stepped back (NTP) refills nothing and drains nothing: `at` never moves backwards.
      if (nowMs > b.at) {
        b.tokens = Math.min(burst, b.tokens + ((nowMs - b.at) / 1000) * ratePerSecond)
        b.at = nowMs
      }
    } else {
      if (this.buckets.size >= this.maxKeys) this.buckets.delete(this.buckets.keys().next().value as string)
      b = { tokens: burst, at: nowMs }
    }
    this.buckets.set(key, b)
    if (b.tokens >= 1) {
      b.tokens -= 1
      return 0
    }
    return Math.max(1, Math.ceil(((1 - b.tokens) / ratePerSecond) * 1000))
  }

  get size(): number {
    return this.buckets.size
  }
}

const IPV4_MAPPED = 0xffffn

/**
 * The bucket key of a source address: an IPv4 address as is; an IPv6 one by its /64, the block a
 * single subscriber or host is given (RFC 6177), which it can rotate addresses within at will (each
 * /128 its own bucket would make the per-source limit no limit); an IPv4-mapped IPv6 address as its
 * IPv4 address. Anything unparseable as itself.
 */
export function sourceKey(ip: string): string {
  if (!ip.includes(':')) return ip
  const address = parseIpAddress(ip)
  if (address === undefined) return ip
  if (address >> 32n === IPV4_MAPPED) {
    const v4 = Number(address & 0xffffffffn)
    return `${v4 >>> 24}.${(v4 >>> 16) & 255}.${(v4 >>> 8) & 255}.${v4 & 255}`
  }
  return `${(address >> 64n).toString(16)}::/64`
}
