// Strict base64url: exactly one accepted spelling per byte string (JOSE compact serialisation).

import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { decodeBase64urlStrict, encodeBase64url } from '../../shared/oidc/jws-base64url.ts'

// The rule spelled out character by character (the definition the implementation must agree with):
// alphabet only, no 4n+1 length, zero unused bits in the last character.
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'
function isCanonical(text: string): boolean {
  if (![...text].every((c) => ALPHABET.includes(c))) return false
  const rem = text.length % 4
  if (rem === 1) return false
  if (rem === 0) return true
  const last = ALPHABET.indexOf(text[text.length - 1]!)
  return (last & (rem === 2 ? 0x0f : 0x03)) === 0
}

describe('decodeBase64urlStrict', () => {
  it('decodes canonical text to its bytes, the empty string included', () => {
    expect(decodeBase64urlStrict('')).toEqual(Buffer.alloc(0))
    expect(decodeBase64urlStrict('eyJhIjoxfQ')?.toString()).toBe('{"a":1}')
    expect(decodeBase64urlStrict('-_8')).toEqual(Buffer.from([0xfb, 0xff]))
  })

  it.each([
    ['padding', 'eyJhIjoxfQ=='],
    ['the base64 (not url) alphabet', '+/8'],
    ['whitespace', 'eyJh IjoxfQ'],
    ['a line break', 'eyJh\nIjoxfQ'],
    ['a non-ASCII character', 'eyJhé'],
    ['a 4n+1 length', 'eyJhI'],
    ['non-zero unused bits (2 trailing characters)', 'eB'],
    ['non-zero unused bits (3 trailing characters)', 'eyB'],
    ['a dot', 'eyJh.IjoxfQ'],
  ])('refuses %s', (_what, text) => {
    expect(decodeBase64urlStrict(text)).toBeUndefined()
  })

  it('agrees with the character-by-character rule on arbitrary text, and round-trips', () => {
    const chars = fc.constantFrom(...ALPHABET, '=', '+', '/', ' ', '\n', '.', 'é', '\u0000')
    fc.assert(
      fc.property(fc.array(chars, { maxLength: 24 }).map((a) => a.join('')), (text) => {
        const decoded = decodeBase64urlStrict(text)
        expect(decoded !== undefined).toBe(isCanonical(text))
        if (decoded) expect(encodeBase64url(decoded)).toBe(text)
      }),
      { numRuns: 5000 },
    )
    fc.assert(fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
      expect(decodeBase64urlStrict(encodeBase64url(bytes))).toEqual(Buffer.from(bytes))
    }))
  })
})
