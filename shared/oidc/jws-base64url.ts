// Strict base64url (RFC 4648 §5, no padding) as JOSE requires: one spelling per byte string, so a
// token cannot be altered without changing what it decodes to.

const ALPHABET = /^[A-Za-z0-9_-]*$/

/** Value (0..63) of each base64url character, -1 elsewhere. */
const VALUE = new Int8Array(128).fill(-1)
for (const [i, c] of [...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'].entries()) VALUE[c.charCodeAt(0)] = i

/**
 * Decodes `text`, or returns undefined when it is not canonical unpadded base64url: any character
 * outside the alphabet (`=`, `+`, `/`, whitespace, non-ASCII), an impossible length (4n+1), or
 * non-zero unused bits in the last character (`Buffer` would silently ignore them, letting several
 * spellings decode to the same bytes).
 */
export function decodeBase64urlStrict(text: string): Buffer | undefined {
  if (!ALPHABET.test(text)) return undefined
  const rem = text.length % 4
  if (rem === 1) return undefined
  if (rem !== 0) {
    const last = VALUE[text.charCodeAt(text.length - 1)] ?? -1
    // 2 trailing chars carry 8 bits (4 unused), 3 carry 16 bits (2 unused).
    const unusedMask = rem === 2 ? 0x0f : 0x03
    if ((last & unusedMask) !== 0) return undefined
  }
  return Buffer.from(text, 'base64url')
}

export function encodeBase64url(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64url')
}
