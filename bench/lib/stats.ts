// Summaries of repeated measurements: the median over rounds is the figure, min–max its spread.

export interface Summary {
  median: number
  min: number
  max: number
  rounds: number[]
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN
  const s = [...values].sort((a, b) => a - b)
  const mid = s.length >> 1
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2
}

export function summarize(rounds: readonly number[]): Summary {
  return { median: median(rounds), min: Math.min(...rounds), max: Math.max(...rounds), rounds: [...rounds] }
}

/** Percentile (0..100) of an unsorted sample, nearest-rank. */
export function percentile(values: Float64Array | readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN
  const s = Float64Array.from(values).sort()
  const rank = Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))
  return s[rank]!
}

/** Ratio of two summaries' medians, with the ratio's own per-round median when rounds pair up. */
export function ratio(a: Summary, b: Summary): { median: number; min: number; max: number } {
  if (a.rounds.length === b.rounds.length && a.rounds.length > 0) {
    const per = a.rounds.map((v, i) => v / b.rounds[i]!)
    return { median: median(per), min: Math.min(...per), max: Math.max(...per) }
  }
  const m = a.median / b.median
  return { median: m, min: m, max: m }
}

/** The largest value (a loop: spreading a large sample into Math.max overflows the stack). */
export function maxOf(values: Float64Array | readonly number[]): number {
  let max = Number.NEGATIVE_INFINITY
  for (const v of values) if (v > max) max = v
  return values.length === 0 ? Number.NaN : max
}

/**
 * The order in which to run `n` interleaved kinds (n even) in round `r`: row r mod n of a Williams
 * Latin square. Over each block of n consecutive rounds every kind runs once in every position, and
 * within the rounds right after every other kind exactly once, so neither the position in a round nor
 * the kind run just before (a GC-heavy one, one that leaves the caches cold) favours any kind. (Across
 * a round boundary the pairs repeat: the first kind of a round follows the last of the one before,
 * kind (k − 1 + n/2) mod n, one pair in n per round.) A plain rotation keeps the cyclic order: each
 * kind would always follow the same one.
 */
export function balancedOrder(n: number, r: number): number[] {
  if (n % 2 !== 0) throw new Error(`balancedOrder: ${n} kinds; a single Williams square needs an even number`)
  // First row 0, 1, n-1, 2, n-2, ...; row r adds r to every entry (mod n).
  return Array.from({ length: n }, (_, j) => ((j === 0 ? 0 : j % 2 === 1 ? (j + 1) / 2 : n - j / 2) + r) % n)
}
