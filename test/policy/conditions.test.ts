import { describe, expect, it } from 'vitest'
import {
  type ConditionOperator,
  CONDITION_OPERATORS,
  createRequestContext,
  evaluateCondition,
  evaluateConditionBlock,
  findUnsatisfiedCondition,
  normaliseConditionValue,
  parseDateValue,
  resolveConditionKey,
} from '../../shared/policy/conditions.ts'

const KEY = 'test:Key'
/** undefined = the request has no value for the key. */
type Row = [operator: ConditionOperator, policy: string[], request: string[] | undefined, expected: boolean]

const ROWS: Row[] = [
  // StringEquals: exact, case-sensitive; policy values OR; any request value
  ['StringEquals', ['a'], ['a'], true],
  ['StringEquals', ['a'], ['A'], false],
  ['StringEquals', ['a', 'b'], ['b'], true],
  ['StringEquals', ['b'], ['a', 'b'], true],
  ['StringEquals', ['c'], ['a', 'b'], false],
  ['StringEquals', ['a*'], ['abc'], false],
  ['StringEquals', [''], [''], true],
  ['StringEquals', ['a'], undefined, false],
  ['StringEquals', ['a'], [], false],
  // StringNotEquals: no request value may equal any policy value
  ['StringNotEquals', ['a'], ['b'], true],
  ['StringNotEquals', ['a'], ['a'], false],
  ['StringNotEquals', ['a'], ['A'], true],
  ['StringNotEquals', ['a', 'b'], ['b'], false],
  ['StringNotEquals', ['b'], ['a', 'b'], false],
  ['StringNotEquals', ['c'], ['a', 'b'], true],
  ['StringNotEquals', ['a'], undefined, true],
  // StringEqualsIgnoreCase
  ['StringEqualsIgnoreCase', ['Prod'], ['PROD'], true],
  ['StringEqualsIgnoreCase', ['Prod'], ['prod', 'x'], true],
  ['StringEqualsIgnoreCase', ['Prod'], ['pro'], false],
  ['StringEqualsIgnoreCase', ['Prod'], undefined, false],
  // StringNotEqualsIgnoreCase
  ['StringNotEqualsIgnoreCase', ['Prod'], ['PROD'], false],
  ['StringNotEqualsIgnoreCase', ['Prod'], ['dev'], true],
  ['StringNotEqualsIgnoreCase', ['Prod'], ['dev', 'prod'], false],
  ['StringNotEqualsIgnoreCase', ['Prod'], undefined, true],
  // StringLike: `*` and `?`, case-sensitive
  ['StringLike', ['system:serviceaccount:prod:*'], ['system:serviceaccount:prod:web'], true],
  ['StringLike', ['system:serviceaccount:prod:*'], ['system:serviceaccount:dev:web'], false],
  ['StringLike', ['v?'], ['v1'], true],
  ['StringLike', ['v?'], ['v10'], false],
  ['StringLike', ['ABC*'], ['abcd'], false],
  ['StringLike', ['x', 'a*'], ['q', 'ab'], true],
  ['StringLike', ['*'], [''], true],
  ['StringLike', ['*'], undefined, false],
  // StringNotLike
  ['StringNotLike', ['repo:evil/*'], ['repo:good/x'], true],
  ['StringNotLike', ['repo:evil/*'], ['repo:evil/x'], false],
  ['StringNotLike', ['repo:evil/*'], ['repo:good/x', 'repo:evil/y'], false],
  ['StringNotLike', ['a?c'], ['abc'], false],
  ['StringNotLike', ['*'], undefined, true],
  // Numeric family
  ['NumericEquals', ['10'], ['10'], true],
  ['NumericEquals', ['10'], ['10.0'], true],
  ['NumericEquals', ['10'], ['1e1'], true],
  ['NumericEquals', ['10'], ['11'], false],
  ['NumericEquals', ['10'], ['ten'], false],
  ['NumericEquals', ['10'], ['0xA'], false],
  ['NumericEquals', ['0'], [''], false],
  ['NumericEquals', ['1', '2'], ['2'], true],
  ['NumericEquals', ['10'], undefined, false],
  ['NumericNotEquals', ['10'], ['11'], true],
  ['NumericNotEquals', ['10'], ['10'], false],
  ['NumericNotEquals', ['10'], ['9', '10'], false],
  ['NumericNotEquals', ['10'], ['ten'], true], // an unreadable request value matches nothing
  ['NumericNotEquals', ['10'], undefined, true],
  ['NumericLessThan', ['10'], ['9.99'], true],
  ['NumericLessThan', ['10'], ['10'], false],
  ['NumericLessThan', ['-1'], ['-2'], true],
  ['NumericLessThan', ['10'], undefined, false],
  ['NumericLessThanEquals', ['10'], ['10'], true],
  ['NumericLessThanEquals', ['10'], ['10.5'], false],
  ['NumericLessThanEquals', ['10'], ['11', '3'], true],
  ['NumericLessThanEquals', ['10'], undefined, false],
  ['NumericGreaterThan', ['10'], ['11'], true],
  ['NumericGreaterThan', ['10'], ['10'], false],
  ['NumericGreaterThan', ['.5'], ['0.6'], true],
  ['NumericGreaterThan', ['10'], undefined, false],
  ['NumericGreaterThanEquals', ['10'], ['10'], true],
  ['NumericGreaterThanEquals', ['10'], ['9'], false],
  ['NumericGreaterThanEquals', ['10'], undefined, false],
  // Date family: ISO 8601 and epoch seconds compare as instants
  ['DateEquals', ['2026-01-01T00:00:00Z'], ['2026-01-01T00:00:00Z'], true],
  ['DateEquals', ['2026-01-01T00:00:00Z'], ['2026-01-01T08:00:00+08:00'], true],
  ['DateEquals', ['2026-01-01'], ['2026-01-01T00:00:00.000Z'], true],
  ['DateEquals', ['1767225600'], ['2026-01-01T00:00:00Z'], true],
  ['DateEquals', ['2026-01-01T00:00:00Z'], ['2026-01-01T00:00:01Z'], false],
  ['DateEquals', ['2026-01-01T00:00:00Z'], ['yesterday'], false],
  ['DateEquals', ['2026-01-01T00:00:00Z'], undefined, false],
  ['DateNotEquals', ['2026-01-01T00:00:00Z'], ['2026-01-02T00:00:00Z'], true],
  ['DateNotEquals', ['2026-01-01T00:00:00Z'], ['2026-01-01T00:00:00Z'], false],
  ['DateNotEquals', ['2026-01-01T00:00:00Z'], undefined, true],
  ['DateLessThan', ['2026-01-01T00:00:00Z'], ['2025-12-31T23:59:59Z'], true],
  ['DateLessThan', ['2026-01-01T00:00:00Z'], ['2026-01-01T00:00:00Z'], false],
  ['DateLessThan', ['2026-01-01T00:00:00Z'], ['2026-01-01T07:00:00+08:00'], true],
  ['DateLessThan', ['2026-01-01T00:00:00Z'], undefined, false],
  ['DateLessThanEquals', ['2026-01-01T00:00:00Z'], ['2026-01-01T00:00:00Z'], true],
  ['DateLessThanEquals', ['2026-01-01T00:00:00Z'], ['2026-01-01T00:00:00.001Z'], false],
  ['DateLessThanEquals', ['2026-01-01T00:00:00Z'], undefined, false],
  ['DateGreaterThan', ['2026-01-01T00:00:00Z'], ['2026-01-01T00:00:00.001Z'], true],
  ['DateGreaterThan', ['2026-01-01T00:00:00Z'], ['2026-01-01T00:00:00Z'], false],
  ['DateGreaterThan', ['2026-01-01T00:00:00Z'], undefined, false],
  ['DateGreaterThanEquals', ['2026-01-01T00:00:00Z'], ['2026-01-01T00:00:00Z'], true],
  ['DateGreaterThanEquals', ['2026-01-01T00:00:00Z'], ['2025-01-01T00:00:00Z'], false],
  ['DateGreaterThanEquals', ['2026-01-01T00:00:00Z'], undefined, false],
  // Bool
  ['Bool', ['true'], ['true'], true],
  ['Bool', ['true'], ['TRUE'], true],
  ['Bool', ['true'], ['false'], false],
  ['Bool', ['false'], ['false'], true],
  ['Bool', ['true'], ['yes'], false],
  ['Bool', ['true'], ['false', 'true'], true],
  ['Bool', ['false'], undefined, false],
  // IpAddress / NotIpAddress, IPv4 and IPv6
  ['IpAddress', ['10.0.0.0/8'], ['10.1.2.3'], true],
  ['IpAddress', ['10.0.0.0/8'], ['192.168.0.1'], false],
  ['IpAddress', ['10.0.0.0/8', '192.168.0.0/16'], ['192.168.3.4'], true],
  ['IpAddress', ['10.0.0.0/8'], ['::ffff:10.0.0.9'], true],
  ['IpAddress', ['2001:db8::/32'], ['2001:db8:1::5'], true],
  ['IpAddress', ['2001:db8::/32'], ['2001:db9::5'], false],
  ['IpAddress', ['203.0.113.7'], ['203.0.113.7'], true],
  ['IpAddress', ['10.0.0.0/8'], ['not-an-ip'], false],
  ['IpAddress', ['10.0.0.0/8'], undefined, false],
  ['NotIpAddress', ['10.0.0.0/8'], ['192.168.0.1'], true],
  ['NotIpAddress', ['10.0.0.0/8'], ['10.0.0.1'], false],
  ['NotIpAddress', ['2001:db8::/32'], ['2001:db8::1'], false],
  ['NotIpAddress', ['10.0.0.0/8'], undefined, true],
]

describe('evaluateCondition', () => {
  it.each(ROWS)('%s %j with request %j -> %s', (operator, policy, request, expected) => {
    const context = createRequestContext(request === undefined ? {} : { [KEY]: request })
    expect(evaluateCondition(operator, KEY, policy, context)).toBe(expected)
  })

  it('has table rows for every operator, including a missing-key row', () => {
    for (const operator of CONDITION_OPERATORS) {
      expect(ROWS.some(([op, , request]) => op === operator && request === undefined), operator).toBe(true)
      expect(ROWS.some(([op, , , expected]) => op === operator && expected), operator).toBe(true)
      expect(ROWS.some(([op, , , expected]) => op === operator && !expected), operator).toBe(true)
    }
  })

  it('compares condition keys case-insensitively', () => {
    const context = createRequestContext({ 'OIDC:Sub': 'repo:a/b' })
    expect(evaluateCondition('StringEquals', 'oidc:sub', ['repo:a/b'], context)).toBe(true)
    expect(evaluateCondition('StringEquals', 'OIDC:SUB', ['repo:a/b'], context)).toBe(true)
  })

  it('takes acs:CurrentTime from the context clock', () => {
    const context = createRequestContext({}, new Date('2026-06-01T12:00:00Z'))
    expect(evaluateCondition('DateGreaterThan', 'acs:CurrentTime', ['2026-01-01T00:00:00Z'], context)).toBe(true)
    expect(evaluateCondition('DateLessThan', 'acs:CurrentTime', ['2026-01-01T00:00:00Z'], context)).toBe(false)
    expect(evaluateCondition('DateLessThan', 'acs:CurrentTime', ['2026-01-01T00:00:00Z'], createRequestContext({}))).toBe(false)
  })

  it('does not resolve keys from the prototype chain', () => {
    const context = createRequestContext({})
    expect(resolveConditionKey(context, 'constructor')).toBeUndefined()
    expect(resolveConditionKey(context, '__proto__')).toBeUndefined()
  })

  it('builds values from keys in any case: a __proto__ key stays an own value, an empty list means absent', () => {
    const context = createRequestContext(JSON.parse('{"__proto__":"x","OIDC:Aud":["a","b"],"oidc:sub":"","acs:SourceIp":[]}'))
    expect(Object.getPrototypeOf(context.values)).toBe(Object.prototype)
    expect(resolveConditionKey(context, '__proto__')).toEqual(['x'])
    expect(resolveConditionKey(context, 'oidc:aud')).toEqual(['a', 'b'])
    expect(resolveConditionKey(context, 'oidc:sub')).toEqual([''])
    expect(resolveConditionKey(context, 'acs:sourceip')).toBeUndefined()
    expect(Object.keys(context.values).sort()).toEqual(['__proto__', 'oidc:aud', 'oidc:sub'])
  })
})

describe('condition blocks', () => {
  const context = createRequestContext({ 'oidc:iss': 'https://idp', 'oidc:aud': ['a', 'b'], 'oidc:sub': 'system:serviceaccount:prod:web' })

  it('ANDs operators and keys, and ORs values of one key', () => {
    expect(
      evaluateConditionBlock(
        { StringEquals: { 'oidc:iss': ['https://idp'], 'oidc:aud': ['x', 'b'] }, StringLike: { 'oidc:sub': ['*:prod:*'] } },
        context,
      ),
    ).toBe(true)
    expect(
      evaluateConditionBlock(
        { StringEquals: { 'oidc:iss': ['https://idp'], 'oidc:aud': ['x'] }, StringLike: { 'oidc:sub': ['*:prod:*'] } },
        context,
      ),
    ).toBe(false)
    expect(evaluateConditionBlock(undefined, context)).toBe(true)
  })

  it('names the first operator and key that fails', () => {
    expect(
      findUnsatisfiedCondition({ StringEquals: { 'oidc:iss': ['https://idp'] }, StringLike: { 'oidc:sub': ['*:dev:*'] } }, context),
    ).toEqual({ operator: 'StringLike', key: 'oidc:sub' })
  })

  it('reads only the block\'s own operators and keys, whatever Object.prototype carries', () => {
    const proto = Object.prototype as Record<string, unknown>
    try {
      // A polluted prototype: an enumerable operator, and an enumerable key an operator object inherits.
      proto.StringEquals = { 'oidc:sub': ['nobody'] }
      proto['oidc:iss'] = ['https://evil']
      expect(evaluateConditionBlock({ StringLike: { 'oidc:sub': ['*:prod:*'] } }, context)).toBe(true)
      expect(findUnsatisfiedCondition({ StringLike: { 'oidc:sub': ['*:dev:*'] } }, context)).toEqual({ operator: 'StringLike', key: 'oidc:sub' })
    } finally {
      delete proto.StringEquals
      delete proto['oidc:iss']
    }
  })
})

describe('condition value syntax', () => {
  it.each([
    ['NumericEquals', 5, '5'],
    ['NumericEquals', '-1.5e3', '-1.5e3'],
    ['DateLessThan', 1767225600, '1767225600'],
    ['DateLessThan', '2026-02-28T10:00:00+05:30', '2026-02-28T10:00:00+05:30'],
    ['Bool', true, 'true'],
    ['Bool', 'FALSE', 'false'],
    ['IpAddress', '2001:db8::/48', '2001:db8::/48'],
    ['StringEquals', '', ''],
  ] as const)('%s accepts %j as %j', (operator, value, stored) => {
    expect(normaliseConditionValue(operator, value)).toEqual({ ok: true, value: stored })
  })

  it.each([
    ['StringEquals', 5],
    ['StringLike', true],
    ['StringEquals', null],
    ['NumericEquals', 'ten'],
    ['NumericEquals', ''],
    ['NumericEquals', 'Infinity'],
    ['NumericEquals', true],
    ['DateEquals', '2026-13-01'],
    ['DateEquals', '2026-02-29'],
    ['DateEquals', '2026-01-01T24:00:00Z'],
    ['DateEquals', 'next tuesday'],
    ['DateEquals', false],
    ['Bool', 'yes'],
    ['Bool', 1],
    ['IpAddress', '10.0.0.0/33'],
    ['NotIpAddress', 'localhost'],
    ['IpAddress', 167772160],
  ] as const)('%s refuses %j', (operator, value) => {
    expect(normaliseConditionValue(operator, value).ok).toBe(false)
  })

  it('reads dates as instants independent of the server time zone', () => {
    const saved = process.env.TZ
    try {
      // Node applies a TZ assigned at run time to Date at once: UTC and two zones with half-hour offsets.
      for (const tz of ['UTC', 'Asia/Kolkata', 'America/St_Johns']) {
        process.env.TZ = tz
        expect(new Date(2026, 0, 1).getTimezoneOffset(), tz).toBe({ UTC: 0, 'Asia/Kolkata': -330, 'America/St_Johns': 210 }[tz])
        expect(parseDateValue('2024-02-29'), tz).toBe(Date.UTC(2024, 1, 29))
        expect(parseDateValue('2026-01-01T10:00'), tz).toBe(Date.UTC(2026, 0, 1, 10))
        expect(parseDateValue('2026-01-01T10:00:00.123456Z'), tz).toBe(Date.UTC(2026, 0, 1, 10, 0, 0, 123))
        expect(parseDateValue('2026-01-01T10:00:00-02:30'), tz).toBe(Date.UTC(2026, 0, 1, 12, 30))
        expect(parseDateValue('0'), tz).toBe(0)
        expect(parseDateValue('0050-01-01'), tz).toBe(new Date('0050-01-01T00:00:00Z').getTime())
        expect(parseDateValue('1900-02-29'), tz).toBeUndefined()
      }
    } finally {
      if (saved === undefined) delete process.env.TZ
      else process.env.TZ = saved
    }
  })
})
