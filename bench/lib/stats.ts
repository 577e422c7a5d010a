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

export const round = (v: number, digits = 2) => (Number.isFinite(v) ? Number(v.toFixed(digits)) : v)
