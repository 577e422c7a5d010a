// Alibaba's wire time format: `YYYY-MM-DDThh:mm:ssZ`, UTC, no fractional seconds.

export function formatUtc(epochMs: number): string {
  const iso = new Date(epochMs).toISOString()
  // `YYYY-MM-DDThh:mm:ss.sssZ` (24 characters) for years 0–9999; extended years (`+275760-…`) keep the regex.
  return iso.length === 24 ? `${iso.slice(0, 19)}Z` : iso.replace(/\.\d{3}Z$/, 'Z')
}
