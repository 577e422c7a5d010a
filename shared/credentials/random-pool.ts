// CSPRNG bytes for credentials served from a pooled buffer refilled with randomFillSync: one call
// into the system generator per 4 KiB instead of one per AccessKeyId, secret and IV (node's own
// randomUUID batches the same way). Every byte is handed out once; the pool holds nothing else. It is
// filled on first use, never at module load, so a snapshot of an initialised container holds no
// pooled bytes to be handed out twice.

import { randomFillSync } from 'node:crypto'

const POOL_BYTES = 4096
const pool = Buffer.allocUnsafeSlow(POOL_BYTES)
let offset = POOL_BYTES

/** One uniformly random byte (0..255). */
export function randomByte(): number {
  if (offset === POOL_BYTES) {
    randomFillSync(pool)
    offset = 0
  }
  return pool[offset++]!
}

/** `length` random bytes in a new buffer of their own (never a view of the pool). */
export function randomPooledBytes(length: number): Buffer {
  const out = Buffer.allocUnsafe(length)
  let filled = 0
  while (filled < length) {
    if (offset === POOL_BYTES) {
      randomFillSync(pool)
      offset = 0
    }
    const n = Math.min(length - filled, POOL_BYTES - offset)
    pool.copy(out, filled, offset, offset + n)
    offset += n
    filled += n
  }
  return out
}
