// A strict RFC 8259 JSON parser for JOSE headers and claim sets: rejects duplicate member names
// (JSON.parse keeps the last one, so two parsers could read different claims from one token; RFC 7515
// §5.2 / RFC 8725 §3.2 say reject) and bounds the nesting depth (recursion is bounded by it, so an
// input of 10 000 nested arrays is refused instead of exhausting the stack). The values it returns are
// the values it checked: no second parser, no differential.

export class JsonRejected extends Error {
  override readonly name = 'JsonRejected'
}

/** A run of string characters needing no attention: not a quote, backslash or control character. */
const PLAIN = /[^"\\\u0000-\u001f]*/y
const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y
const HEX4 = /^[0-9A-Fa-f]{4}$/

const ESCAPES: Readonly<Record<string, string>> = { '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' }

/**
 * Parses `text` like JSON.parse (numbers as JS numbers, `1e400` becomes Infinity for the caller to
 * refuse; `__proto__` stays an own property), throwing `JsonRejected` on a syntax error, a duplicate
 * member name in any object, or containers nested deeper than `maxDepth` (the top-level value is 1).
 */
export function parseJsonStrict(text: string, maxDepth: number): unknown {
  const parser = new StrictParser(text, maxDepth)
  const value = parser.value(0)
  parser.skipWhitespace()
  if (parser.at !== text.length) parser.fail('trailing characters')
  return value
}

// Methods on a class rather than closures per call: this runs twice per token on the hot path.
class StrictParser {
  at = 0

  constructor(
    private readonly text: string,
    private readonly maxDepth: number,
  ) {}

  fail(what: string): never {
    throw new JsonRejected(`${what} at offset ${this.at}`)
  }

  skipWhitespace(): void {
    const { text } = this
    let i = this.at
    for (; i < text.length; i++) {
      const c = text.charCodeAt(i)
      if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) break
    }
    this.at = i
  }

  value(depth: number): unknown {
    this.skipWhitespace()
    const { text } = this
    const c = text.charCodeAt(this.at)
    if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
      if (depth >= this.maxDepth) this.fail(`nesting deeper than ${this.maxDepth}`)
      return c === 0x7b ? this.object(depth + 1) : this.array(depth + 1)
    }
    if (c === 0x22 /* " */) return this.string()
    if (c === 0x74 && text.startsWith('true', this.at)) return this.literal(4, true)
    if (c === 0x66 && text.startsWith('false', this.at)) return this.literal(5, false)
    if (c === 0x6e && text.startsWith('null', this.at)) return this.literal(4, null)
    NUMBER.lastIndex = this.at
    const m = NUMBER.exec(text)
    if (m === null) return this.fail(this.at >= text.length ? 'unexpected end' : 'unexpected character')
    this.at += m[0].length
    return Number(m[0])
  }

  private literal<T>(length: number, value: T): T {
    this.at += length
    return value
  }

  private string(): string {
    const { text } = this
    let i = this.at + 1 // past the opening quote
    let out = ''
    for (;;) {
      PLAIN.lastIndex = i
      PLAIN.test(text)
      const end = PLAIN.lastIndex
      out += text.slice(i, end)
      i = end
      this.at = i
      if (i >= text.length) this.fail('unterminated string')
      const c = text.charCodeAt(i)
      if (c === 0x22) {
        this.at = i + 1
        return out
      }
      if (c !== 0x5c) this.fail('control character in string')
      const e = text[i + 1]
      if (e === 'u') {
        const hex = text.slice(i + 2, i + 6)
        if (!HEX4.test(hex)) this.fail('bad \\u escape')
        out += String.fromCharCode(Number.parseInt(hex, 16))
        i += 6
      } else {
        const ch = e === undefined ? undefined : ESCAPES[e]
        if (ch === undefined) this.fail('bad escape')
        out += ch
        i += 2
      }
    }
  }

  private object(depth: number): Record<string, unknown> {
    const { text } = this
    this.at++ // {
    const obj: Record<string, unknown> = {}
    this.skipWhitespace()
    if (text.charCodeAt(this.at) === 0x7d) {
      this.at++
      return obj
    }
    for (;;) {
      this.skipWhitespace()
      if (text.charCodeAt(this.at) !== 0x22) this.fail('expected member name')
      const key = this.string()
      if (Object.hasOwn(obj, key)) this.fail(`duplicate member ${JSON.stringify(key.slice(0, 40))}`)
      this.skipWhitespace()
      if (text.charCodeAt(this.at) !== 0x3a) this.fail('expected ":"')
      this.at++
      const value = this.value(depth)
      // `__proto__` must become an own member (as JSON.parse does), never the object's prototype.
      if (key === '__proto__') Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true })
      else obj[key] = value
      this.skipWhitespace()
      const d = text.charCodeAt(this.at)
      if (d !== 0x2c && d !== 0x7d) this.fail('expected "," or "}"')
      this.at++
      if (d === 0x7d) return obj
    }
  }

  private array(depth: number): unknown[] {
    const { text } = this
    this.at++ // [
    const arr: unknown[] = []
    this.skipWhitespace()
    if (text.charCodeAt(this.at) === 0x5d) {
      this.at++
      return arr
    }
    for (;;) {
      arr.push(this.value(depth))
      this.skipWhitespace()
      const d = text.charCodeAt(this.at)
      if (d !== 0x2c && d !== 0x5d) this.fail('expected "," or "]"')
      this.at++
      if (d === 0x5d) return arr
    }
  }
}
