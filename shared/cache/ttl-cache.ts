// A small per-container cache: entries live at most `ttlMs`, at most `maxEntries` are kept (oldest
// evicted first), and concurrent misses for one key share a single load.

export class TtlCache<K, V> {
  private readonly entries = new Map<K, { value: V; at: number }>()
  private readonly loading = new Map<K, Promise<V>>()

  constructor(
    private readonly opts: { ttlMs: number; maxEntries: number; now?: () => number },
  ) {}

  private now(): number {
    return this.opts.now?.() ?? Date.now()
  }

  async get(key: K, load: () => Promise<V>): Promise<V> {
    const hit = this.entries.get(key)
    if (hit && this.now() - hit.at < this.opts.ttlMs) return hit.value
    const pending = this.loading.get(key)
    if (pending) return pending
    const started = this.now()
    const p = load().then(
      (value) => {
        this.loading.delete(key)
        this.entries.delete(key)
        if (this.entries.size >= this.opts.maxEntries) this.entries.delete(this.entries.keys().next().value as K)
        // Age counts from when the load started: the value can be no older than that.
        this.entries.set(key, { value, at: started })
        return value
      },
      (e: unknown) => {
        this.loading.delete(key)
        throw e
      },
    )
    this.loading.set(key, p)
    return p
  }

  clear(): void {
    this.entries.clear()
  }

  get size(): number {
    return this.entries.size
  }
}
