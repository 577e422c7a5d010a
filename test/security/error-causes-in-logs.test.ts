// What the logs say about a failure: a 5xx's cause is written as its name, code and first stack frame
// (describeCause), and an Error handed to the logger as its name and message, except a SyntaxError's
// message. An error message may carry request values (SDK messages echo them) or the text JSON.parse
// failed on (V8 quotes it), over several lines; none of that may reach a log line.

import { describe, expect, it } from 'vitest'
import { actionsWith } from '../../shared/http/action.ts'
import { buildApp } from '../../shared/http/app.ts'
import { createLogger, describeCause } from '../../shared/log.ts'

const SECRET = 'S3cr3tVaLuE-0123456789abcdef'
/** V8 quotes at most about ten characters either side of the fault: its start is what may show. */
const SHOWN = SECRET.slice(0, 8)

/** V8's error for JSON text with a line break where a value should be: its message quotes the text, break included. */
function jsonParseError(text: string): SyntaxError {
  try {
    JSON.parse(text)
  } catch (e) {
    return e as SyntaxError
  }
  throw new Error('expected JSON.parse to fail')
}

describe('describeCause', () => {
  it('takes the first stack frame, not the second line of a message that spans lines', () => {
    const parseError = jsonParseError(`x\n${SECRET}`)
    // The mechanism: the stack's second line is message text (the quoted input), not a frame.
    expect(parseError.stack!.split('\n')[1]).toContain(SHOWN)
    const d = describeCause(parseError)!
    expect(d).toEqual({ name: 'SyntaxError', code: undefined, at: expect.stringMatching(/^at JSON\.parse /) })
    expect(JSON.stringify(d)).not.toContain(SHOWN)
  })

  it('is not fooled by message lines that read like frames', () => {
    const e = Object.assign(new Error(`ValidationException: item could not be written\n    at ${SECRET}\n    at (${SECRET})\nend of item`), { code: 'ValidationException' })
    const d = describeCause(e)!
    expect(d.at).toMatch(/^at /)
    expect(d.at).toContain('error-causes-in-logs.test.ts')
    expect(JSON.stringify(d)).not.toContain(SHOWN)
    // The message changed after the stack was written (the SDK appends a hint to deserialisation errors).
    const late = jsonParseError(`tru\n    at ${SECRET}\n`)
    void late.stack
    late.message += '\n  Deserialization error: to see the raw response, inspect the hidden field {error}.$response on this object.'
    expect(describeCause(late)!.at).toMatch(/^at JSON\.parse /)
  })

  it('gives no frame when the stack no longer starts with the error\'s header (renamed or re-messaged after it was written)', () => {
    const renamed = new Error(`a\n    at ${SECRET}`)
    void renamed.stack // V8 writes the stack on first read
    renamed.name = 'Renamed'
    expect(describeCause(renamed)).toEqual({ name: 'Renamed', code: undefined, at: undefined })
    const remessaged = new Error('first')
    void remessaged.stack
    remessaged.message = `second\n    at ${SECRET}`
    expect(describeCause(remessaged)!.at).toBeUndefined()
    const unnamed = Object.assign(new Error(`m\n    at ${SECRET}`), { name: undefined })
    expect(describeCause(unnamed)!.at).toBeUndefined()
  })

  it('reads Node\'s coded errors (`RangeError [ERR_OUT_OF_RANGE]: ...`) past their header', () => {
    let coded: unknown
    try {
      Buffer.alloc(-1)
    } catch (e) {
      coded = e
    }
    expect(describeCause(coded)).toMatchObject({ name: 'RangeError', code: 'ERR_OUT_OF_RANGE', at: expect.stringMatching(/^at .*alloc/) })
  })

  it('describes what has no stack, or is no object, without inventing a frame', () => {
    expect(describeCause({ name: 'Weird', code: 'X' })).toEqual({ name: 'Weird', code: 'X', at: undefined })
    expect(describeCause({ name: 'Weird', stack: `Weird: ${SECRET}` })).toEqual({ name: 'Weird', code: undefined, at: undefined })
    expect(describeCause('text')).toBeUndefined()
  })
})

describe('a 5xx from the app', () => {
  it('logs the cause\'s first frame, never its multi-line message', async () => {
    const lines: string[] = []
    const define = actionsWith<object>()
    const actions = [
      define({ product: 'Sts', version: '2015-04-01', name: 'ParseFails', anonymous: true, parse: (p) => p, run: async () => JSON.parse(`<html>\n${SECRET}`) }),
      define({ product: 'Sts', version: '2015-04-01', name: 'SdkFails', anonymous: true, parse: (p) => p, run: async () => { throw Object.assign(new Error(`One or more parameter values were invalid:\n${SECRET}`), { name: 'ValidationException' }) } }),
    ]
    const app = buildApp({ actions, deps: {}, authenticate: async () => { throw new Error('anonymous only') }, authorize: () => undefined, logger: createLogger('debug', (l) => lines.push(l)) })
    for (const action of ['ParseFails', 'SdkFails']) {
      const res = await app.inject({ method: 'GET', url: `/?Version=2015-04-01&Action=${action}` })
      expect(res.statusCode).toBe(500)
      expect(res.body).not.toContain(SHOWN)
    }
    const failed = lines.map((l) => JSON.parse(l) as { msg: string; cause?: { name: string; at: string } }).filter((l) => l.msg === 'request failed')
    expect(failed.map((l) => l.cause?.name)).toEqual(['SyntaxError', 'ValidationException'])
    for (const l of failed) expect(l.cause?.at).toMatch(/^at /)
    expect(lines.join('\n')).not.toContain(SHOWN)
  })
})

describe('an Error handed to the logger', () => {
  it('is written with its message, but a SyntaxError without it (JSON.parse quotes the text it was given)', () => {
    const lines: string[] = []
    const log = createLogger('debug', (l) => lines.push(l))
    log.error('store write failed', { error: new Error('connect ECONNREFUSED 127.0.0.1:8000') })
    log.error('secret unreadable', { error: jsonParseError(`{"k": tru${SECRET}}`) })
    log.error('secret unreadable', { error: jsonParseError(`${SECRET}`) })
    expect(JSON.parse(lines[0]!).error).toEqual({ name: 'Error', message: 'connect ECONNREFUSED 127.0.0.1:8000' })
    expect(JSON.parse(lines[1]!).error.name).toBe('SyntaxError')
    expect(lines.join('\n')).not.toContain(SHOWN)
  })
})
