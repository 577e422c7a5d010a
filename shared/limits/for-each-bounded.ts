// Bounded concurrency over a list, for jobs that call many IdPs (health check, key refresh).

/** Runs `fn` over `items`, at most `limit` at a time; items not started when `signal` aborts are skipped. */
export async function forEachBounded<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>, signal?: AbortSignal): Promise<number> {
  let next = 0
  let skipped = 0
  const worker = async () => {
    for (;;) {
      const i = next++
      if (i >= items.length) return
      if (signal?.aborted) {
        skipped++
        continue
      }
      await fn(items[i]!)
    }
  }
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker))
  return skipped
}
