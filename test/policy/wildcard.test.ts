import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { matchWildcard } from '../../shared/policy/wildcard.ts'

/** Reference matcher for the property test only: escape everything, then turn `*`/`?` back into wildcards. */
function referenceMatch(pattern: string, value: string, ignoreCase: boolean): boolean {
  const p = ignoreCase ? pattern.toLowerCase() : pattern
  const v = ignoreCase ? value.toLowerCase() : value
  const source = Array.from(p)
    .map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')))
    .join('')
  return new RegExp(`^${source}$`, 'su').test(v)
}

describe('matchWildcard', () => {
  it.each([
    ['*', '', true],
    ['*', 'anything', true],
    ['', '', true],
    ['', 'a', false],
    ['a', '', false],
    ['abc', 'abc', true],
    ['abc', 'abcd', false],
    ['a*', 'a', true],
    ['a*c', 'abbbc', true],
    ['a*c', 'abbbd', false],
    ['*c', 'abc', true],
    ['a?c', 'abc', true],
    ['a?c', 'ac', false],
    ['a?c', 'abbc', false],
    ['??', 'ab', true],
    ['??', 'a', false],
    ['*?', '', false],
    ['*?', 'x', true],
    ['a**b', 'ab', true],
    ['*a*b*', 'xxaxxbxx', true],
    ['*a*b*', 'xxbxxaxx', false],
    ['repo:octo-org/*:environment:prod', 'repo:octo-org/api:environment:prod', true],
    ['repo:octo-org/*:environment:prod', 'repo:octo-org/api:environment:staging', false],
    ['system:serviceaccount:prod:*', 'system:serviceaccount:prod:deployer', true],
    ['system:serviceaccount:prod:*', 'system:serviceaccount:production:deployer', false],
    ['acs:oss:*:*:bucket/*', 'acs:oss:cn-hangzhou:123:bucket/key/with/slashes', true],
    ['a.c', 'abc', false], // no regular-expression meaning leaks in
    ['(a|b)', 'a', false],
    ['?', '😀', true], // one code point, not one UTF-16 unit
    ['??', '😀', false],
  ])('%j against %j -> %s', (pattern, value, expected) => {
    expect(matchWildcard(pattern, value)).toBe(expected)
  })

  it('with literalStarInValue, lets only a pattern star match a star of the value', () => {
    expect(matchWildcard('role/?', 'role/*')).toBe(true)
    expect(matchWildcard('role/?', 'role/*', { literalStarInValue: true })).toBe(false)
    expect(matchWildcard('role/?', 'role/a', { literalStarInValue: true })).toBe(true)
    expect(matchWildcard('role/*', 'role/*', { literalStarInValue: true })).toBe(true)
    expect(matchWildcard('role/*?', 'role/**', { literalStarInValue: true })).toBe(false)
    expect(matchWildcard('*', 'role/*', { literalStarInValue: true })).toBe(true)
  })

  it('is case-sensitive unless ignoreCase is set', () => {
    expect(matchWildcard('ecs:Describe*', 'ecs:describeInstances')).toBe(false)
    expect(matchWildcard('ecs:Describe*', 'ECS:DESCRIBEINSTANCES', { ignoreCase: true })).toBe(true)
    expect(matchWildcard('ram:?ist*', 'RAM:LISTROLES', { ignoreCase: true })).toBe(true)
  })

  it('answers the pathological star pattern against 10k characters correctly', () => {
    const pattern = '*a'.repeat(5000) + '*b'
    const value = 'a'.repeat(10_000)
    expect(matchWildcard(pattern, value)).toBe(false)
    expect(matchWildcard(pattern, value + 'b')).toBe(true)
    expect(matchWildcard(`*${'a'.repeat(100)}b`, value)).toBe(false)
    expect(matchWildcard(`*${'a'.repeat(100)}b`, `${value}b`)).toBe(true)
  })

  it('agrees with an escaped-RegExp reference on random patterns and values', () => {
    const patternChar = fc.constantFrom('a', 'b', 'A', '*', '?', '.', '😀', '\\', '[')
    const valueChar = fc.constantFrom('a', 'b', 'A', '*', '?', '.', '😀', '\\', '[')
    fc.assert(
      fc.property(
        fc.string({ unit: patternChar, maxLength: 12 }),
        fc.string({ unit: valueChar, maxLength: 16 }),
        fc.boolean(),
        (pattern, value, ignoreCase) => {
          expect(matchWildcard(pattern, value, { ignoreCase })).toBe(referenceMatch(pattern, value, ignoreCase))
        },
      ),
      { numRuns: 3000 },
    )
  })

  it('agrees with the reference on arbitrary Unicode', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 10 }), fc.string({ unit: 'binary', maxLength: 10 }), (pattern, value) => {
        expect(matchWildcard(pattern, value)).toBe(referenceMatch(pattern, value, false))
        // A pattern always matches itself once its wildcards are replaced by what they stand for.
        expect(matchWildcard(pattern, pattern.replaceAll('*', '').replaceAll('?', 'x'))).toBe(true)
      }),
    )
  })
})
