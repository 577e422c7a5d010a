// parseRpcRequest / decodePairs / isFormBody: where the wire puts Action, Version and parameters,
// how they are decoded, and which ambiguities are refused.

import { describe, expect, it } from 'vitest'
import { ApiError } from '../../shared/errors.ts'
import { decodePairs, isFormBody, parseRpcRequest } from '../../shared/http/rpc-request.ts'

const FORM = { 'content-type': 'application/x-www-form-urlencoded' }

function codeOf(fn: () => unknown): string {
  try {
    fn()
  } catch (e) {
    if (e instanceof ApiError) return e.code
    throw e
  }
  throw new Error('expected an ApiError, nothing was thrown')
}

const parse = (url: string, opts: { headers?: Record<string, string | string[]>; body?: string | Buffer; method?: string } = {}) =>
  parseRpcRequest({
    method: opts.method ?? 'POST',
    url,
    headers: opts.headers ?? {},
    body: typeof opts.body === 'string' ? Buffer.from(opts.body, 'utf8') : (opts.body ?? Buffer.alloc(0)),
    sourceIp: '192.0.2.7',
  })

describe('decodePairs', () => {
  it('decodes name=value pairs in arrival order', () => {
    expect(decodePairs('b=2&a=1&c=3', 'query string')).toEqual([['b', '2'], ['a', '1'], ['c', '3']])
  })

  it('reads "+" as a space and %2B as a plus, in names and values', () => {
    expect(decodePairs('a+b=c+d&e=%2B1&f%2Bg=h', 'query string')).toEqual([['a b', 'c d'], ['e', '+1'], ['f+g', 'h']])
  })

  it('decodes UTF-8 percent-escapes, %20 and reserved characters', () => {
    expect(decodePairs('n=%C3%A9%E8%BA%AB%F0%9F%98%80&u=https%3A%2F%2Fidp.example.com%2F&s=a%20b&eq=%3D%26', 'query string')).toEqual([
      ['n', 'é身😀'],
      ['u', 'https://idp.example.com/'],
      ['s', 'a b'],
      ['eq', '=&'],
    ])
  })

  it('keeps everything after the first "=" as the value', () => {
    expect(decodePairs('Marker=eyJuIjoiYSJ9==&x==', 'query string')).toEqual([['Marker', 'eyJuIjoiYSJ9=='], ['x', '=']])
  })

  it('reads a name without "=" as an empty value and skips empty segments', () => {
    expect(decodePairs('&a&&b=&', 'query string')).toEqual([['a', ''], ['b', '']])
    expect(decodePairs('', 'query string')).toEqual([])
  })

  it.each([
    ['a lone "%"', 'a=%'],
    ['"%" and one hex digit', 'a=%4'],
    ['"%" and non-hex characters', 'a=%zz'],
    ['a truncated UTF-8 sequence', 'a=%E0%A4%A'],
    ['an invalid UTF-8 byte', 'a=%FF'],
    ['an encoded UTF-16 surrogate', 'a=%ED%A0%80'],
    ['a malformed name', '%E0=1'],
  ])('rejects %s with InvalidParameter.Format', (_what, raw) => {
    expect(codeOf(() => decodePairs(raw, 'query string'))).toBe('InvalidParameter.Format')
  })

  it('accepts 200 parameters and rejects 201 with InvalidParameter.Format', () => {
    const pairs = (n: number) => Array.from({ length: n }, (_, i) => `p${i}=v`).join('&')
    expect(decodePairs(pairs(200), 'form body')).toHaveLength(200)
    expect(codeOf(() => decodePairs(pairs(201), 'form body'))).toBe('InvalidParameter.Format')
  })
})

describe('isFormBody', () => {
  it.each([
    ['application/x-www-form-urlencoded', true],
    ['application/x-www-form-urlencoded; charset=UTF-8', true],
    ['APPLICATION/X-WWW-FORM-URLENCODED;charset=utf-8', true],
    ['application/x-www-form-urlencodedx', false],
    ['application/json', false],
    ['multipart/form-data; boundary=x', false],
    ['text/plain', false],
  ])('content-type %s -> %s', (ct, expected) => {
    expect(isFormBody({ 'content-type': ct })).toBe(expected)
  })

  it('is false without a content-type', () => {
    expect(isFormBody({})).toBe(false)
  })

  it('rejects a content-type given twice with InvalidParameter.Format', () => {
    expect(codeOf(() => isFormBody({ 'content-type': ['application/x-www-form-urlencoded', 'text/plain'] }))).toBe('InvalidParameter.Format')
  })
})

describe('parseRpcRequest: parameters', () => {
  it('splits the path from the query and keeps method, headers, body and source IP', () => {
    const req = parse('/?OIDCProviderName=p', { method: 'GET' })
    expect(req).toMatchObject({ method: 'GET', path: '/', sourceIp: '192.0.2.7' })
    expect(parse('/').path).toBe('/')
    expect(parse('/x/y?z=1').path).toBe('/x/y')
  })

  it('keeps query and form pairs apart and serves their union as params', () => {
    const req = parse('/?a=1&b=x+y', { headers: FORM, body: 'c=3&d=%2B' })
    expect(req.query).toEqual([['a', '1'], ['b', 'x y']])
    expect(req.form).toEqual([['c', '3'], ['d', '+']])
    expect([...req.params]).toEqual([['a', '1'], ['b', 'x y'], ['c', '3'], ['d', '+']])
  })

  it('ignores the body unless it is a form', () => {
    const variants: Record<string, string>[] = [{}, { 'content-type': 'application/json' }, { 'content-type': 'text/plain' }]
    for (const headers of variants) {
      const req = parse('/?a=1', { headers, body: 'b=2' })
      expect(req.form).toEqual([])
      expect(req.params.has('b')).toBe(false)
    }
  })

  it('keeps the raw body bytes for signature checks', () => {
    const body = 'a=%41+b'
    expect(parse('/', { headers: FORM, body }).body.toString('utf8')).toBe(body)
  })

  it('rejects a form body that is not valid UTF-8 with InvalidParameter.Format', () => {
    expect(codeOf(() => parse('/', { headers: FORM, body: Buffer.from([0x61, 0x3d, 0xff, 0xfe]) }))).toBe('InvalidParameter.Format')
  })

  it('rejects malformed percent-encoding in the query or the form with InvalidParameter.Format', () => {
    expect(codeOf(() => parse('/?a=%G1'))).toBe('InvalidParameter.Format')
    expect(codeOf(() => parse('/', { headers: FORM, body: 'a=%' }))).toBe('InvalidParameter.Format')
  })

  it('rejects a parameter given twice in the query with InvalidParameter.<Name>.Duplicate', () => {
    expect(codeOf(() => parse('/?ClientId=a&ClientId=b'))).toBe('InvalidParameter.ClientId.Duplicate')
  })

  it('rejects the same value given twice too (which one was signed is still ambiguous)', () => {
    expect(codeOf(() => parse('/?ClientId=a&ClientId=a'))).toBe('InvalidParameter.ClientId.Duplicate')
  })

  it('rejects a parameter given in both the query and the form with InvalidParameter.<Name>.Duplicate', () => {
    expect(codeOf(() => parse('/?OIDCProviderName=a', { headers: FORM, body: 'OIDCProviderName=b' }))).toBe('InvalidParameter.OIDCProviderName.Duplicate')
  })

  it('treats names that differ only after decoding as the same name', () => {
    expect(codeOf(() => parse('/?Client%49d=a&ClientId=b'))).toBe('InvalidParameter.ClientId.Duplicate')
  })

  it('does not echo an odd duplicated name into the error code', () => {
    expect(codeOf(() => parse('/?%3Cscript%3E=1&%3Cscript%3E=2'))).toBe('InvalidParameter.Unknown.Duplicate')
  })

  it('treats names case-sensitively (ClientId and clientid are two parameters)', () => {
    const req = parse('/?ClientId=a&clientid=b')
    expect(req.params.get('ClientId')).toBe('a')
    expect(req.params.get('clientid')).toBe('b')
  })
})

describe('parseRpcRequest: Action and Version', () => {
  it('reads them from the query (V1 and anonymous RPC)', () => {
    expect(parse('/?Action=GetOIDCProvider&Version=2019-08-15')).toMatchObject({ action: 'GetOIDCProvider', version: '2019-08-15' })
  })

  it('reads them from the x-acs-action / x-acs-version headers (V3)', () => {
    expect(parse('/', { headers: { 'x-acs-action': 'GetOIDCProvider', 'x-acs-version': '2019-08-15' } })).toMatchObject({ action: 'GetOIDCProvider', version: '2019-08-15' })
  })

  it('reads them from a form body (credential providers)', () => {
    expect(parse('/', { headers: FORM, body: 'Action=AssumeRoleWithOIDC&Version=2015-04-01' })).toMatchObject({ action: 'AssumeRoleWithOIDC', version: '2015-04-01' })
  })

  it('combines sources: Action in the query, Version in a header', () => {
    expect(parse('/?Action=GetOIDCProvider', { headers: { 'x-acs-version': '2019-08-15' } })).toMatchObject({ action: 'GetOIDCProvider', version: '2019-08-15' })
  })

  it('accepts the same value in the query and the header', () => {
    const req = parse('/?Action=GetOIDCProvider&Version=2019-08-15', { headers: { 'x-acs-action': 'GetOIDCProvider', 'x-acs-version': '2019-08-15' } })
    expect(req).toMatchObject({ action: 'GetOIDCProvider', version: '2019-08-15' })
  })

  it.each([
    ['query Action vs header', '/?Action=GetOIDCProvider', { 'x-acs-action': 'DeleteOIDCProvider' }, undefined],
    ['query Version vs header', '/?Version=2019-08-15', { 'x-acs-version': '2015-04-01' }, undefined],
    ['form Action vs header', '/', { ...FORM, 'x-acs-action': 'DeleteOIDCProvider' }, 'Action=GetOIDCProvider'],
    ['form Version vs header', '/', { ...FORM, 'x-acs-version': '2015-04-01' }, 'Version=2019-08-15'],
    ['an Action differing only in case', '/?Action=getoidcprovider', { 'x-acs-action': 'GetOIDCProvider' }, undefined],
    ['an empty query Action vs a header', '/?Action=', { 'x-acs-action': 'GetOIDCProvider' }, undefined],
  ])('rejects a disagreement (%s) with InvalidParameter', (_what, url, headers, body) => {
    expect(codeOf(() => parse(url, { headers, ...(body !== undefined ? { body } : {}) }))).toBe('InvalidParameter')
  })

  it('rejects Action in both the query and the form as a duplicate parameter', () => {
    expect(codeOf(() => parse('/?Action=GetOIDCProvider', { headers: FORM, body: 'Action=GetOIDCProvider' }))).toBe('InvalidParameter.Action.Duplicate')
  })

  it('rejects an x-acs-action header given twice with InvalidParameter.Format', () => {
    expect(codeOf(() => parse('/', { headers: { 'x-acs-action': ['GetOIDCProvider', 'DeleteOIDCProvider'] } }))).toBe('InvalidParameter.Format')
  })

  it('leaves them empty when absent (the dispatcher answers "Action or Version" is not valid)', () => {
    expect(parse('/?a=1')).toMatchObject({ action: '', version: '' })
  })

  it('decodes them like any parameter', () => {
    expect(parse('/?Action=Get%4FIDCProvider&Version=2019%2D08%2D15')).toMatchObject({ action: 'GetOIDCProvider', version: '2019-08-15' })
  })
})
