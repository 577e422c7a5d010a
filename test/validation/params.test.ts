// The shared parameter readers: presence, length in characters, patterns, integers, comma lists and
// paging markers, each failure a code naming the parameter and the rule.

import { describe, expect, it } from 'vitest'
import { ApiError } from '../../shared/errors.ts'
import {
  checkString,
  decodeMarker,
  encodeMarker,
  optionalInteger,
  optionalList,
  optionalString,
  requiredString,
  truncate,
  type StringRule,
} from '../../shared/validation/params.ts'
import { codeOf, thrownApiError } from '../support/errors.ts'

const p = (entries: Record<string, string>) => new Map(Object.entries(entries))

const WORD: StringRule = { min: 2, max: 5, pattern: /^[a-z]+$/ }

describe('optionalString / requiredString', () => {
  it('treats absent and empty as not given', () => {
    expect(optionalString(p({}), 'Name', WORD)).toBeUndefined()
    expect(optionalString(p({ Name: '' }), 'Name', WORD)).toBeUndefined()
    expect(codeOf(() => requiredString(p({}), 'Name', WORD))).toBe('MissingParameter.Name')
    expect(codeOf(() => requiredString(p({ Name: '' }), 'Name', WORD))).toBe('MissingParameter.Name')
  })

  it('returns the value unchanged when it satisfies the rule', () => {
    expect(requiredString(p({ Name: 'abc' }), 'Name', WORD)).toBe('abc')
    expect(optionalString(p({ Name: 'ab' }), 'Name', WORD)).toBe('ab')
  })

  it('checks the length before the characters', () => {
    expect(codeOf(() => requiredString(p({ Name: 'a' }), 'Name', WORD))).toBe('InvalidParameter.Name.Length')
    expect(codeOf(() => requiredString(p({ Name: 'ABCDEF' }), 'Name', WORD))).toBe('InvalidParameter.Name.Length')
    expect(codeOf(() => requiredString(p({ Name: 'AB' }), 'Name', WORD))).toBe('InvalidParameter.Name.InvalidChars')
  })

  it('does not trim: surrounding spaces are invalid characters', () => {
    expect(codeOf(() => requiredString(p({ Name: ' abc' }), 'Name', WORD))).toBe('InvalidParameter.Name.InvalidChars')
  })
})

describe('checkString', () => {
  it('counts characters (code points), not UTF-16 units', () => {
    const rule: StringRule = { max: 3 }
    expect(checkString('Description', '😀😀😀', rule)).toBe('😀😀😀')
    expect(codeOf(() => checkString('Description', '😀😀😀😀', rule))).toBe('InvalidParameter.Description.Length')
  })

  it('defaults the minimum to 1 character', () => {
    expect(codeOf(() => checkString('X', '', { max: 3 }))).toBe('InvalidParameter.X.Length')
    expect(checkString('X', 'a', { max: 3 })).toBe('a')
  })

  it('names the parameter and the limits in the message', () => {
    const e = thrownApiError(() => checkString('Description', 'x'.repeat(257), { max: 256 }))
    expect(e.message).toContain('Description')
    expect(e.message).toContain('256')
    expect(e.status).toBe(400)
  })
})

describe('optionalInteger', () => {
  const read = (v: string) => optionalInteger(p({ N: v }), 'N', 1, 168)

  it('is undefined when absent or empty', () => {
    expect(optionalInteger(p({}), 'N', 1, 168)).toBeUndefined()
    expect(read('')).toBeUndefined()
  })

  it('accepts decimal integers within bounds, inclusive', () => {
    expect(read('1')).toBe(1)
    expect(read('168')).toBe(168)
    expect(read('012')).toBe(12)
  })

  it.each(['0', '169', '-1', '-0', '999999999999999'])('rejects %s with .Value', (v) => {
    expect(codeOf(() => read(v))).toBe('InvalidParameter.N.Value')
  })

  it.each(['1.5', 'abc', '1e3', '0x10', '+5', ' 12', '12 ', '1_000', '١٢', '1234567890123456', 'Infinity', 'NaN'])('rejects %j with .Format', (v) => {
    expect(codeOf(() => read(v))).toBe('InvalidParameter.N.Format')
  })
})

describe('optionalList', () => {
  const upper = (v: string) => {
    if (!/^[a-z]+$/i.test(v)) throw new ApiError('InvalidParameter.L.InvalidChars', 'bad')
    return v
  }

  it('is undefined when absent or empty', () => {
    expect(optionalList(p({}), 'L', upper)).toBeUndefined()
    expect(optionalList(p({ L: '' }), 'L', upper)).toBeUndefined()
  })

  it('splits on commas, trims items and keeps the order', () => {
    expect(optionalList(p({ L: 'b, a ,c' }), 'L', upper)).toEqual(['b', 'a', 'c'])
  })

  it('drops repeats after normalising, keeping the first occurrence', () => {
    expect(optionalList(p({ L: 'a,b,a' }), 'L', upper)).toEqual(['a', 'b'])
    expect(optionalList(p({ L: 'A,b,a,B' }), 'L', upper, (v) => v.toLowerCase())).toEqual(['a', 'b'])
  })

  it.each(['a,,b', 'a,', ',a', 'a, ,b', ','])('rejects an empty item in %j with .Format', (v) => {
    expect(codeOf(() => optionalList(p({ L: v }), 'L', upper))).toBe('InvalidParameter.L.Format')
  })

  it('passes the item check\'s error through', () => {
    expect(codeOf(() => optionalList(p({ L: 'a,b1' }), 'L', upper))).toBe('InvalidParameter.L.InvalidChars')
  })

  it('rejects a list over 20 000 characters with .Length before checking items', () => {
    expect(codeOf(() => optionalList(p({ L: 'a,'.repeat(10_000) + 'a' }), 'L', upper))).toBe('InvalidParameter.L.Length')
  })
})

describe('encodeMarker / decodeMarker', () => {
  it('round-trips an object of strings through an opaque base64url token', () => {
    const marker = encodeMarker({ n: 'provider-1' })
    expect(marker).toMatch(/^[A-Za-z0-9_-]+$/)
    expect(decodeMarker(p({ Marker: marker }))).toEqual({ n: 'provider-1' })
  })

  it('is undefined when absent or empty', () => {
    expect(decodeMarker(p({}))).toBeUndefined()
    expect(decodeMarker(p({ Marker: '' }))).toBeUndefined()
  })

  const b64 = (s: string) => Buffer.from(s).toString('base64url')
  it.each([
    ['characters outside base64url', 'abc+/='],
    ['a space', 'ab cd'],
    ['base64url of non-JSON', b64('hello')],
    ['base64url of a JSON string', b64('"n"')],
    ['base64url of a JSON number', b64('1')],
    ['base64url of JSON null', b64('null')],
    ['base64url of a JSON array', b64('["a"]')],
    ['base64url of an object with a non-string value', b64('{"n":{"x":"y"}}')],
    ['base64url of invalid UTF-8', Buffer.from([0xff, 0xfe, 0x7b]).toString('base64url')],
    ['a truncated marker', encodeMarker({ n: 'provider-1' }).slice(0, -4)],
    ['more than 2048 characters', 'A'.repeat(2049)],
  ])('rejects %s with InvalidParameter.Marker.Format', (_what, raw) => {
    expect(codeOf(() => decodeMarker(p({ Marker: raw })))).toBe('InvalidParameter.Marker.Format')
  })

  it('reads the parameter it is told to', () => {
    expect(codeOf(() => decodeMarker(p({ NextToken: '!' }), 'NextToken'))).toBe('InvalidParameter.NextToken.Format')
  })
})

describe('truncate', () => {
  it('keeps short values and cuts long ones with an ellipsis', () => {
    expect(truncate('abc', 5)).toBe('abc')
    expect(truncate('abcdef', 5)).toBe('abcde…')
  })
})
