// RFC 3986 percent-encoding as the Alibaba SDKs apply it.

import { describe, it, expect } from 'vitest'
import { isWellFormedText, percentEncode } from '../../shared/signing/percent-encode.ts'

describe('percentEncode', () => {
  it('escapes the sub-delims encodeURIComponent leaves alone and keeps the unreserved set', () => {
    expect(percentEncode("!'()*")).toBe('%21%27%28%29%2A')
    expect(percentEncode('AZaz09-_.~')).toBe('AZaz09-_.~')
  })

  it('encodes space as %20, plus, slash, colon and UTF-8 bytes in upper-case hex', () => {
    expect(percentEncode('a b+c/d:é😀')).toBe('a%20b%2Bc%2Fd%3A%C3%A9%F0%9F%98%80')
  })

  it('recognises lone surrogates, which cannot be encoded', () => {
    expect(isWellFormedText('ok 😀')).toBe(true)
    expect(isWellFormedText('\uD83D')).toBe(false)
    expect(isWellFormedText('x\uDE00')).toBe(false)
    expect(() => percentEncode('\uD83D')).toThrow(URIError)
  })
})
