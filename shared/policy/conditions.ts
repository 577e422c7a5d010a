// Condition operators of the policy language: value syntax per family, key resolution, evaluation.

import { isInNetwork, parseIpAddress, parseIpNetwork } from './ip-address.ts'
import { matchWildcard } from './wildcard.ts'

export type ConditionFamily = 'String' | 'Numeric' | 'Date' | 'Bool' | 'IpAddress'

/**
 * One row per operator. A negated operator is the complement of its positive twin over the whole
 * set of request values (see `evaluateCondition`), so only the positive comparison is written down.
 */
interface OperatorSpec {
  readonly family: ConditionFamily
  readonly negated: boolean
  /** Does one request value match one policy value? Unparseable request values never match. */
  readonly compare: (requestValue: string, policyValue: string) => boolean
}

const stringEquals = (r: string, p: string) => r === p
const stringEqualsIgnoreCase = (r: string, p: string) => r.toLowerCase() === p.toLowerCase()
const stringLike = (r: string, p: string) => matchWildcard(p, r)
const numeric = (test: (r: number, p: number) => boolean) => (r: string, p: string) => {
  const rn = parseNumericValue(r)
  const pn = parseNumericValue(p)
  return rn !== undefined && pn !== undefined && test(rn, pn)
}
const date = (test: (r: number, p: number) => boolean) => (r: string, p: string) => {
  const rt = parseDateValue(r)
  const pt = parseDateValue(p)
  return rt !== undefined && pt !== undefined && test(rt, pt)
}
const bool = (r: string, p: string) => {
  const rb = parseBoolValue(r)
  return rb !== undefined && rb === parseBoolValue(p)
}
const ipAddress = (r: string, p: string) => {
  const address = parseIpAddress(r)
  const network = parseIpNetwork(p)
  return address !== undefined && network !== undefined && isInNetwork(address, network)
}

const OPERATORS = {
  StringEquals: { family: 'String', negated: false, compare: stringEquals },
  StringNotEquals: { family: 'String', negated: true, compare: stringEquals },
  StringEqualsIgnoreCase: { family: 'String', negated: false, compare: stringEqualsIgnoreCase },
  StringNotEqualsIgnoreCase: { family: 'String', negated: true, compare: stringEqualsIgnoreCase },
  StringLike: { family: 'String', negated: false, compare: stringLike },
  StringNotLike: { family: 'String', negated: true, compare: stringLike },
  NumericEquals: { family: 'Numeric', negated: false, compare: numeric((r, p) => r === p) },
  NumericNotEquals: { family: 'Numeric', negated: true, compare: numeric((r, p) => r === p) },
  NumericLessThan: { family: 'Numeric', negated: false, compare: numeric((r, p) => r < p) },
  NumericLessThanEquals: { family: 'Numeric', negated: false, compare: numeric((r, p) => r <= p) },
  NumericGreaterThan: { family: 'Numeric', negated: false, compare: numeric((r, p) => r > p) },
  NumericGreaterThanEquals: { family: 'Numeric', negated: false, compare: numeric((r, p) => r >= p) },
  DateEquals: { family: 'Date', negated: false, compare: date((r, p) => r === p) },
  DateNotEquals: { family: 'Date', negated: true, compare: date((r, p) => r === p) },
  DateLessThan: { family: 'Date', negated: false, compare: date((r, p) => r < p) },
  DateLessThanEquals: { family: 'Date', negated: false, compare: date((r, p) => r <= p) },
  DateGreaterThan: { family: 'Date', negated: false, compare: date((r, p) => r > p) },
  DateGreaterThanEquals: { family: 'Date', negated: false, compare: date((r, p) => r >= p) },
  Bool: { family: 'Bool', negated: false, compare: bool },
  IpAddress: { family: 'IpAddress', negated: false, compare: ipAddress },
  NotIpAddress: { family: 'IpAddress', negated: true, compare: ipAddress },
} as const satisfies Record<string, OperatorSpec>

export type ConditionOperator = keyof typeof OPERATORS

export const CONDITION_OPERATORS = Object.keys(OPERATORS) as readonly ConditionOperator[]

/** `{ Operator: { Key: [values] } }` after normalisation: every value list is a non-empty string array. */
export type ConditionBlock = Readonly<Partial<Record<ConditionOperator, Readonly<Record<string, readonly string[]>>>>>

export function isConditionOperator(name: string): name is ConditionOperator {
  return Object.hasOwn(OPERATORS, name)
}

/**
 * What a policy author may write for one condition value, normalised to the stored string, or a
 * reason it is refused. Numbers and booleans are accepted where they are natural (Numeric, Date as
 * epoch seconds, Bool) and stored as strings so evaluation sees one type.
 */
export function normaliseConditionValue(
  operator: ConditionOperator,
  value: unknown,
): { ok: true; value: string } | { ok: false; reason: string } {
  const family = OPERATORS[operator].family
  switch (family) {
    case 'String':
      return typeof value === 'string' ? { ok: true, value } : { ok: false, reason: 'value must be a string or array of strings' }
    case 'Numeric': {
      const text = typeof value === 'number' ? String(value) : value
      if (typeof text !== 'string') return { ok: false, reason: 'value must be a number or numeric string, or an array of them' }
      return parseNumericValue(text) === undefined ? { ok: false, reason: `${quote(text)} is not a number` } : { ok: true, value: text }
    }
    case 'Date': {
      const text = typeof value === 'number' ? String(value) : value
      if (typeof text !== 'string') return { ok: false, reason: 'value must be an ISO 8601 date or epoch seconds, or an array of them' }
      return parseDateValue(text) === undefined
        ? { ok: false, reason: `${quote(text)} is not an ISO 8601 date or epoch seconds` }
        : { ok: true, value: text }
    }
    case 'Bool': {
      const text = typeof value === 'boolean' ? String(value) : value
      if (typeof text !== 'string') return { ok: false, reason: 'value must be true or false, or an array of them' }
      const parsed = parseBoolValue(text)
      return parsed === undefined ? { ok: false, reason: `${quote(text)} is not true or false` } : { ok: true, value: String(parsed) }
    }
    case 'IpAddress':
      if (typeof value !== 'string') return { ok: false, reason: 'value must be an IP address or CIDR string, or an array of them' }
      return parseIpNetwork(value) === undefined
        ? { ok: false, reason: `${quote(value)} is not an IPv4/IPv6 address or CIDR` }
        : { ok: true, value }
  }
}

// ---------------------------------------------------------------------------------------------
// Request context and key resolution

/**
 * What a request brings to condition evaluation. `values` keys are lower-case condition keys
 * (`oidc:aud`, `acs:sourceip`); every key may carry several values (a token with two audiences).
 * `now` supplies `acs:CurrentTime`, so evaluation never reads the clock itself.
 */
export interface RequestContext {
  readonly values: Readonly<Record<string, readonly string[]>>
  readonly now?: Date
}

/** Builds a context from keys in any case; undefined and empty values mean "key absent". */
export function createRequestContext(
  values: Readonly<Record<string, string | readonly string[] | undefined>>,
  now?: Date,
): RequestContext {
  const out: Record<string, readonly string[]> = {}
  for (const key of Object.keys(values)) {
    const value = values[key]
    if (value === undefined || (typeof value !== 'string' && value.length === 0)) continue
    const name = key.toLowerCase()
    const list = typeof value === 'string' ? [value] : [...value]
    // An own property even for `__proto__` (plain assignment would call the prototype's setter).
    if (name === '__proto__') Object.defineProperty(out, name, { value: list, enumerable: true, writable: true, configurable: true })
    else out[name] = list
  }
  // Runs on every exchange (the trust context) and every signed call: a loop, no entry arrays.
  return now === undefined ? { values: out } : { values: out, now }
}

/**
 * The condition keys a trust policy can test: what an exchange's context holds (createTrustContext in
 * evaluate.ts fills the oidc: keys and acs:SourceIp, resolveConditionKey derives acs:CurrentTime).
 * Extend both together (claim-based keys, `oidc:claim/<name>`, are meant to join them).
 */
export const TRUST_CONDITION_KEYS = ['oidc:iss', 'oidc:aud', 'oidc:sub', 'acs:CurrentTime', 'acs:SourceIp'] as const

/**
 * The operators each trust key's values can be compared with: a comparison of another family never
 * holds on them (a time is no number, a subject no address), and, negated, always holds.
 */
const TRUST_KEY_FAMILIES: Readonly<Record<string, ConditionFamily>> = {
  'oidc:iss': 'String',
  'oidc:aud': 'String',
  'oidc:sub': 'String',
  'acs:currenttime': 'Date',
  'acs:sourceip': 'IpAddress',
}

/**
 * Why `key` cannot be tested with `operator` by a trust policy, or undefined when it can (keys are
 * case-insensitive): the key must be one an exchange has, and the operator of its family.
 */
export function trustConditionKeyProblem(key: string, operator: ConditionOperator): string | undefined {
  const family = TRUST_KEY_FAMILIES[key.toLowerCase()]
  if (family === undefined) {
    return `not a condition key of a trust policy (it can test ${TRUST_CONDITION_KEYS.join(', ')}): a condition on it would never be satisfied, or, negated, always`
  }
  const used = OPERATORS[operator].family
  if (used === family) return undefined
  return `takes ${family} operators only: a ${used} comparison (${operator}) would never hold on it, or, negated, always`
}

/**
 * The one place a condition key becomes request values (keys are case-insensitive). Derived keys
 * live here: `acs:CurrentTime` comes from `context.now`. Claim-based keys (`oidc:claim/<name>`)
 * are meant to be added here too. Undefined means the request has no value for the key.
 */
export function resolveConditionKey(context: RequestContext, key: string): readonly string[] | undefined {
  const lower = key.toLowerCase()
  if (lower === 'acs:currenttime' && context.now !== undefined) return [context.now.toISOString()]
  if (!Object.hasOwn(context.values, lower)) return undefined
  const values = context.values[lower]
  return values === undefined || values.length === 0 ? undefined : values
}

// ---------------------------------------------------------------------------------------------
// Evaluation

/**
 * One key under one operator.
 *
 * Positive operators: true when ANY (request value, policy value) pair matches; a policy's several
 * values are alternatives and a multi-valued request key (all audiences of a token) needs one hit.
 * Negated operators: true only when NO pair matches their positive twin, so `StringNotEquals
 * oidc:aud x` fails for a token whose audiences include `x` among others.
 * Missing key (as in IAM): positive operators are false, negated operators are true. An Allow that
 * relies on a negated operator therefore also admits requests that lack the key; pair it with a
 * positive condition on the same key when that matters.
 */
export function evaluateCondition(
  operator: ConditionOperator,
  key: string,
  values: readonly string[],
  context: RequestContext,
): boolean {
  const spec: OperatorSpec = OPERATORS[operator]
  const requestValues = resolveConditionKey(context, key) ?? []
  const anyMatch = requestValues.some((r) => values.some((p) => spec.compare(r, p)))
  return spec.negated ? !anyMatch : anyMatch
}

export interface UnsatisfiedCondition {
  readonly operator: ConditionOperator
  readonly key: string
}

/** The first operator/key pair of a block that is false (all of them must hold), for explanations. */
export function findUnsatisfiedCondition(block: ConditionBlock, context: RequestContext): UnsatisfiedCondition | undefined {
  // Own members in the author's order (for-in, as Object.keys orders them, without an array per call:
  // every exchange evaluates its trust policy's blocks); inherited ones are never conditions.
  for (const operator in block) {
    if (!Object.hasOwn(block, operator) || !isConditionOperator(operator)) continue
    const keys = block[operator]
    if (keys === undefined) continue
    for (const key in keys) {
      if (Object.hasOwn(keys, key) && !evaluateCondition(operator, key, keys[key]!, context)) return { operator, key }
    }
  }
  return undefined
}

/** True when every operator and every key of the block holds; an absent block always holds. */
export function evaluateConditionBlock(block: ConditionBlock | undefined, context: RequestContext): boolean {
  return block === undefined || findUnsatisfiedCondition(block, context) === undefined
}

// ---------------------------------------------------------------------------------------------
// Value syntax

// Plain decimal only: Number() alone would also take '', ' 1', '0x10' and 'Infinity'.
const NUMERIC = /^[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$/

export function parseNumericValue(text: string): number | undefined {
  if (!NUMERIC.test(text)) return undefined
  const n = Number(text)
  return Number.isFinite(n) ? n : undefined
}

const ISO_DATE =
  /^([0-9]{4})-([0-9]{2})-([0-9]{2})(?:T([0-9]{2}):([0-9]{2})(?::([0-9]{2})(?:\.([0-9]{1,9}))?)?(Z|[+-][0-9]{2}:[0-9]{2})?)?$/
const EPOCH_SECONDS = /^-?[0-9]{1,12}(?:\.[0-9]{1,9})?$/

/**
 * Milliseconds since the epoch for an ISO 8601 date (`2026-01-31`, `2026-01-31T10:00:00Z`,
 * `2026-01-31T10:00:00.5+08:00`) or epoch seconds (`1767225600`). A date-time without an offset,
 * and a bare date, are read as UTC so the result never depends on the server's time zone.
 * Digits alone are always epoch seconds: an ISO date needs at least `YYYY-MM-DD`.
 */
export function parseDateValue(text: string): number | undefined {
  if (EPOCH_SECONDS.test(text)) return Math.round(Number(text) * 1000)
  const m = ISO_DATE.exec(text)
  if (m === null) return undefined
  const [, y, mo, d, h = '0', mi = '0', s = '0', frac = '', offset = 'Z'] = m
  const year = Number(y)
  const month = Number(mo)
  const day = Number(d)
  const hour = Number(h)
  const minute = Number(mi)
  const second = Number(s)
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return undefined
  if (hour > 23 || minute > 59 || second > 59) return undefined
  let offsetMinutes = 0
  if (offset !== 'Z') {
    const oh = Number(offset.slice(1, 3))
    const om = Number(offset.slice(4, 6))
    if (oh > 23 || om > 59) return undefined
    offsetMinutes = (offset.startsWith('-') ? -1 : 1) * (oh * 60 + om)
  }
  // setUTCFullYear rather than Date.UTC: the latter maps years 0..99 to 1900..1999.
  const t = new Date(0)
  t.setUTCFullYear(year, month - 1, day)
  t.setUTCHours(hour, minute, second, Number(frac.padEnd(3, '0').slice(0, 3)))
  return t.getTime() - offsetMinutes * 60_000
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28
  return [4, 6, 9, 11].includes(month) ? 30 : 31
}

/** `true` / `false` in any case. */
export function parseBoolValue(text: string): boolean | undefined {
  const lower = text.toLowerCase()
  return lower === 'true' ? true : lower === 'false' ? false : undefined
}

function quote(text: string): string {
  const shown = text.length > 64 ? `${text.slice(0, 64)}…` : text
  return JSON.stringify(shown)
}
