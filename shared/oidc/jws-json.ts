// Strict JSON for JOSE headers and claim sets: rejects duplicate member names (JSON.parse keeps the
// last one, so two parsers could read different claims from one token; RFC 7515 §5.2 / RFC 8725 §3.2
// say reject) and bounds the nesting depth (10 000 nested arrays are refused before anything recurses).
//
// How, without a second parser: one linear scan over the text, jumping over strings with indexOf,
// checks the depth and counts the member names (strings followed by `:`); JSON.parse (RFC 8259, the
// values returned) then parses it, and the count of own members of every object it built must equal
// the count in the text, since each duplicate name collapses two members into one. JSON.parse defines
// `__proto__` as an own member, so it is counted like any other. About twice as fast as a strict
// parser written in JavaScript (BENCHMARKS.md), and the values are JSON.parse's own.

export class JsonRejected extends Error {
  override readonly name = 'JsonRejected'
}

/**
 * Parses `text` like JSON.parse (numbers as JS numbers, `1e400` becomes Infinity for the caller to
 * refuse; `__proto__` stays an own property), throwing `JsonRejected` on a syntax error, a duplicate
 * member name in any object, or containers nested deeper than `maxDepth` (the top-level value is 1).
 * Messages never quote the text (a token's content), only offsets and at most 40 characters of a
 * duplicated name.
 */
export function parseJsonStrict(text: string, maxDepth: number): unknown {
  const members = scan(text, maxDepth)
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    // V8's message quotes the input: not repeated here.
    throw new JsonRejected('syntax error (RFC 8259)')
  }
  if (countMembers(value) !== members) throw new JsonRejected(`duplicate member ${JSON.stringify(findDuplicate(text).slice(0, 40))}`)
  return value
}

/** The number of member names in `text`; refuses nesting deeper than maxDepth and unterminated strings. */
function scan(text: string, maxDepth: number): number {
  const n = text.length
  let members = 0
  let depth = 0
  let i = 0
  while (i < n) {
    const c = text.charCodeAt(i)
    if (c === 0x22 /* " */) {
      i = stringEnd(text, i) + 1
      while (i < n) {
        const d = text.charCodeAt(i)
        if (d !== 0x20 && d !== 0x0a && d !== 0x0d && d !== 0x09) break
        i++
      }
      if (text.charCodeAt(i) === 0x3a /* : */) members++
      continue
    }
    if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
      if (++depth > maxDepth) throw new JsonRejected(`nesting deeper than ${maxDepth} at offset ${i}`)
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      depth--
    }
    i++
  }
  return members
}

/** Index of the quote closing the string that opens at `start` (a quote not preceded by an odd run of backslashes). */
function stringEnd(text: string, start: number): number {
  let q = text.indexOf('"', start + 1)
  for (;;) {
    if (q < 0) throw new JsonRejected(`unterminated string at offset ${start}`)
    let b = q - 1
    while (b > start && text.charCodeAt(b) === 0x5c /* \ */) b--
    if ((q - 1 - b) % 2 === 0) return q
    q = text.indexOf('"', q + 1)
  }
}

function countMembers(v: unknown): number {
  if (typeof v !== 'object' || v === null) return 0
  let count = 0
  if (Array.isArray(v)) {
    for (const x of v) count += countMembers(x)
    return count
  }
  // Object.values: one native call, rather than a property load per name (~30 names in a claim set,
  // each a megamorphic lookup). Same members as Object.keys: JSON.parse makes only enumerable data properties.
  const values = Object.values(v)
  count = values.length
  for (const x of values) count += countMembers(x)
  return count
}

/** The failure path only (the text is valid JSON with a duplicate): the first name seen twice in one object. */
function findDuplicate(text: string): string {
  const open: Array<Set<string> | undefined> = []
  let i = 0
  while (i < text.length) {
    const c = text.charCodeAt(i)
    if (c === 0x22) {
      const end = stringEnd(text, i)
      const literal = text.slice(i, end + 1)
      i = end + 1
      while (i < text.length && /\s/.test(text[i]!)) i++
      if (text.charCodeAt(i) === 0x3a) {
        const name = JSON.parse(literal) as string
        const names = open[open.length - 1]
        if (names?.has(name)) return name
        names?.add(name)
      }
      continue
    }
    if (c === 0x7b) open.push(new Set())
    else if (c === 0x5b) open.push(undefined)
    else if (c === 0x7d || c === 0x5d) open.pop()
    i++
  }
  return ''
}
