// Glob matching for policy values (`*` any run including empty, `?` exactly one character).

export interface WildcardOptions {
  /** Compare after `toLowerCase()` of both sides (policy actions, `StringEqualsIgnoreCase`-style checks). */
  readonly ignoreCase?: boolean
  /**
   * A `*` in the value is a literal that only a `*` of the pattern matches, never `?`: request
   * resources of collection actions (ListRoles on `role/*`) name "every item" with it, so `role/?`
   * (one-character names) must not cover them.
   */
  readonly literalStarInValue?: boolean
}

/**
 * True when `value` matches `pattern` in full.
 *
 * Greedy two-pointer scan that, on a mismatch, backtracks only to the most recent `*`: O(n·m) in the
 * worst case and never exponential, so a hostile pattern such as `*a*a*a…b` cannot stall a request.
 * No RegExp is built from the pattern, for the same reason. Characters are Unicode code points, so
 * `?` matches one emoji rather than half of a surrogate pair. There is no escape syntax: a policy
 * cannot match a literal `*` or `?` other than by the wildcard itself (as in RAM and IAM).
 */
export function matchWildcard(pattern: string, value: string, options: WildcardOptions = {}): boolean {
  const p = options.ignoreCase === true ? pattern.toLowerCase() : pattern
  const v = options.ignoreCase === true ? value.toLowerCase() : value
  // Most patterns have no wildcard at all (actions, principals, many condition values): equality.
  if (!WILDCARD.test(p)) return p === v
  // Code units are code points unless a string holds a surrogate: only then are they split, once per
  // call, into arrays of code points (an allocation per character, which the common case avoids).
  const literalStar = options.literalStarInValue === true
  return SURROGATE.test(p) || SURROGATE.test(v) ? scan(Array.from(p), Array.from(v), literalStar) : scan(p, v, literalStar)
}

const WILDCARD = /[*?]/
const SURROGATE = /[\uD800-\uDFFF]/

/** The matcher over characters (a string's code units, or an array of code points). */
function scan(p: ArrayLike<string>, v: ArrayLike<string>, literalStar: boolean): boolean {
  let pi = 0
  let vi = 0
  // Position of the last `*` seen in the pattern and the value index it is currently anchored at.
  let starPi = -1
  let starVi = 0
  while (vi < v.length) {
    const pc = pi < p.length ? p[pi] : undefined
    if (pc === '*') {
      starPi = pi
      starVi = vi
      pi += 1
    } else if (pc !== undefined && (pc === '?' ? !(literalStar && v[vi] === '*') : pc === v[vi])) {
      pi += 1
      vi += 1
    } else if (starPi >= 0) {
      // Let the last star swallow one more character and retry the rest of the pattern from there.
      // Earlier stars never need revisiting: anything they could absorb, the last one can too.
      pi = starPi + 1
      starVi += 1
      vi = starVi
    } else {
      return false
    }
  }
  while (pi < p.length && p[pi] === '*') pi += 1
  return pi === p.length
}
