// One structured JSON logger. Secrets, signatures and tokens are never passed to it; as a second line
// of defence, values of sensitive-looking keys are redacted and long opaque strings are cut.

import type { LogLevel } from './config.ts'

const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 }
const SENSITIVE = /secret|token|signature|authorization|password|credential/i

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void
  info(msg: string, fields?: Record<string, unknown>): void
  warn(msg: string, fields?: Record<string, unknown>): void
  error(msg: string, fields?: Record<string, unknown>): void
  /**
   * A record that must reach the log stream whatever LOG_LEVEL says (`silent` aside, which writes
   * nothing at all: tests): one `{"level":"info","msg":<msg>,...fields}` line. Its fields are typed by
   * the caller (audit records, bounded in length by shared/audit, carrying their own `time`) and
   * written as they are, with no time of the logger's.
   */
  record(msg: string, fields: Record<string, unknown>): void
}

export function redact(fields: Record<string, unknown>): Record<string, unknown> {
  return redactObject(fields, 0, new WeakSet())
}

/** Nested objects and arrays are walked too (an event's detail, a response), to this depth. */
const MAX_REDACT_DEPTH = 4

function redactObject(fields: Record<string, unknown>, depth: number, seen: WeakSet<object>): Record<string, unknown> {
  seen.add(fields)
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(fields)) out[k] = SENSITIVE.test(k) ? '[redacted]' : redactValue(v, depth, seen)
  return out
}

/** `seen`: the objects already written in this line, so a cycle (or a shared object) is written once. */
function redactValue(v: unknown, depth: number, seen: WeakSet<object>): unknown {
  if (typeof v === 'string') return v.length > 256 ? `${v.slice(0, 64)}…[${v.length} chars]` : v
  // A SyntaxError's message is left out: V8's JSON.parse messages quote the text parsed (`Unexpected
  // token 'x', "..." is not valid JSON`), which may be a secret, a token or an AWS answer carrying one.
  if (v instanceof Error) return { name: v.name, message: v.name === 'SyntaxError' || v instanceof SyntaxError ? '[not logged: it may quote the text parsed]' : v.message.slice(0, 256) }
  if (typeof v !== 'object' || v === null) return v
  const plain = Array.isArray(v) || Object.getPrototypeOf(v) === Object.prototype || Object.getPrototypeOf(v) === null
  // A Date (or any other class instance) is written as JSON.stringify writes it.
  if (!plain) return v
  if (seen.has(v)) return '[seen]'
  if (depth >= MAX_REDACT_DEPTH) return '[nested]'
  if (Array.isArray(v)) {
    seen.add(v)
    return v.map((x) => redactValue(x, depth + 1, seen))
  }
  return redactObject(v as Record<string, unknown>, depth + 1, seen)
}

/**
 * A failure's server-side description: its name, its code and the first frame of its stack, never its
 * message (SDK messages echo request values; V8's JSON.parse messages quote the text parsed).
 */
export function describeCause(cause: unknown): { name: unknown; code: unknown; at: string | undefined } | undefined {
  if (!cause || typeof cause !== 'object') return undefined
  const c = cause as { name?: unknown; code?: unknown; stack?: unknown; message?: unknown }
  return { name: c.name, code: c.code, at: firstStackFrame(c) }
}

/**
 * The first frame (`at ...`) of an error's stack. V8 writes `<name>: <message>` (Node's coded errors
 * `<name> [<code>]: <message>`) and then one line per frame, and a message may span lines (SDK
 * messages; JSON.parse's quote of its input), any of which may read like a frame: the header is
 * skipped by its text, and the frame taken is the first of the lines after it that all read `at ...`
 * (the stack's closing run). None when the stack does not start with the header (a name or message
 * changed after the stack was written): then no line can be told from the message. Cut to 200 characters.
 */
function firstStackFrame(c: { name?: unknown; code?: unknown; stack?: unknown; message?: unknown }): string | undefined {
  if (typeof c.stack !== 'string' || typeof c.name !== 'string') return undefined
  const message = typeof c.message === 'string' ? c.message : ''
  const frames = afterHeader(c.stack, c.name, message) ?? (typeof c.code === 'string' ? afterHeader(c.stack, `${c.name} [${c.code}]`, message) : undefined)
  if (frames === undefined) return undefined
  const lines = frames.split('\n')
  let first = lines.length
  while (first > 0 && /^\s*at /.test(lines[first - 1]!)) first--
  return lines[first]?.trim().slice(0, 200)
}

/**
 * The stack after its `<head>: <message>` header: the message as it is now, or as it was when the stack
 * was written if lines were appended to it since (the AWS SDK appends a hint to a response it could not
 * parse). Undefined if neither heads it.
 */
function afterHeader(stack: string, head: string, message: string): string | undefined {
  const header = message === '' ? head : `${head}: ${message}`
  if (stack.startsWith(header)) return stack.slice(header.length)
  for (let cut = message.lastIndexOf('\n'); cut > 0; cut = message.lastIndexOf('\n', cut - 1)) {
    const earlier = `${head}: ${message.slice(0, cut)}\n`
    if (stack.startsWith(earlier)) return stack.slice(earlier.length - 1)
  }
  return undefined
}

export function createLogger(level: LogLevel, write: (line: string) => void = (l) => process.stdout.write(`${l}\n`)): Logger {
  const at = (lvl: Exclude<LogLevel, 'silent'>) => (msg: string, fields: Record<string, unknown> = {}) => {
    if (ORDER[lvl] < ORDER[level]) return
    write(JSON.stringify({ level: lvl, time: new Date().toISOString(), msg, ...redact(fields) }))
  }
  const record = (msg: string, fields: Record<string, unknown>) => {
    if (level === 'silent') return
    // Spliced, not merged: a field named like the line's own members would make a second one.
    if ('level' in fields || 'msg' in fields) throw new Error('log record fields must not be named level or msg')
    // The fields serialised as the caller built them (a fixed-shape object serialises fastest; members
    // left undefined are omitted) and spliced after level and msg, not copied into a new object.
    const body = JSON.stringify(fields)
    write(`{"level":"info","msg":${JSON.stringify(msg)}${body === '{}' ? '}' : `,${body.slice(1)}`}`)
  }
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error'), record }
}
