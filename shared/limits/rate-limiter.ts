// Token-bucket rate limits per key (e.g. per OIDC provider, per source address), in module scope of
// one container. Bounded: at most `maxKeys` buckets (least recently used dropped first). On Lambda each
// concurrent container enforces its own buckets, so the effective cluster-wide limit is the per-container
// limit times the number of warm containers (documented in SECURITY.md).

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
      b.tokens = Math.min(burst, b.tokens + ((nowMs - b.at) / 1000) * ratePerSecond)
      b.at = nowMs
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
