// Strict base64url (RFC 4648 §5, no padding) as JOSE requires: one spelling per byte string, so a
// token cannot be altered without changing what it decodes to.

/**
 * Decodes `text`, or returns undefined when it is not canonical unpadded base64url: any character
 * outside the alphabet (`=`, `+`, `/`, whitespace, non-ASCII), an impossible length (4n+1), or
 * non-zero unused bits in the last character. `Buffer` decodes all of those leniently (it skips what
 * it cannot read and ignores unused bits, so several spellings decode to the same bytes); the one
 * canonical spelling of the bytes it decoded is their re-encoding, so the text must equal it.
 */
export function decodeBase64urlStrict(text: string): Buffer | undefined {
  const bytes = Buffer.from(text, 'base64url')
  return bytes.toString('base64url') === text ? bytes : undefined
}

export function encodeBase64url(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64url')
}
