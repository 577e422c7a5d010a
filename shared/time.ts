// Alibaba's wire time format: `YYYY-MM-DDThh:mm:ssZ`, UTC, no fractional seconds.

export function formatUtc(epochMs: number): string {
  return new Date(epochMs).toISOString().replace(/\.\d{3}Z$/, 'Z')
}
