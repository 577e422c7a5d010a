// Alibaba's wire time format: `YYYY-MM-DDThh:mm:ssZ`, UTC, no fractional seconds.

const pad2 = (n: number) => (n < 10 ? `0${n}` : `${n}`)

export function formatUtc(epochMs: number): string {
  const d = new Date(epochMs)
  const year = d.getUTCFullYear()
  // Four-digit years from the fields (about twice as fast as slicing toISOString, and an exchange
  // formats three times); other years (and an invalid date, which throws) take toISOString's spelling.
  if (year >= 1000 && year <= 9999) {
    return `${year}-${pad2(d.getUTCMonth() + 1)}-${pad2(d.getUTCDate())}T${pad2(d.getUTCHours())}:${pad2(d.getUTCMinutes())}:${pad2(d.getUTCSeconds())}Z`
  }
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z')
}
