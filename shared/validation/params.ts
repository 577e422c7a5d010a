// Reads RPC parameters against declarative rules: the one validation module every action uses.
// Each rule failure is a specific code naming the parameter (MissingParameter.<P>,
// InvalidParameter.<P>.Length / .InvalidChars / .Format / .Value), so clients can react per field.

import { ApiError, invalidParameter, missingParameter } from '../errors.ts'

export type Params = ReadonlyMap<string, string>

export interface StringRule {
  min?: number
  max: number
  /** Allowed characters / shape; failure -> `.InvalidChars`. */
  pattern?: RegExp
  patternHint?: string
}

/** A present-and-non-empty string, else undefined. Empty values count as absent. */
export function optionalString(params: Params, name: string, rule: StringRule): string | undefined {
  const v = params.get(name)
  if (v === undefined || v === '') return undefined
  return checkString(name, v, rule)
}

export function requiredString(params: Params, name: string, rule: StringRule): string {
  const v = optionalString(params, name, rule)
  if (v === undefined) throw missingParameter(name)
  return v
}

export function checkString(name: string, v: string, rule: StringRule): string {
  const len = [...v].length
  const min = rule.min ?? 1
  if (len < min || len > rule.max) {
    throw invalidParameter(name, 'Length', `The parameter "${name}" must be ${min} to ${rule.max} characters long (got ${len}).`)
  }
  if (rule.pattern && !rule.pattern.test(v)) {
    throw invalidParameter(name, 'InvalidChars', `The parameter "${name}" contains invalid characters${rule.patternHint ? `: ${rule.patternHint}` : '.'}`)
  }
  return v
}

export function optionalInteger(params: Params, name: string, min: number, max: number): number | undefined {
  const v = params.get(name)
  if (v === undefined || v === '') return undefined
  if (!/^-?\d{1,15}$/.test(v)) {
    throw invalidParameter(name, 'Format', `The parameter "${name}" must be an integer (got "${truncate(v)}").`)
  }
  const n = Number(v)
  if (n < min || n > max) {
    throw invalidParameter(name, 'Value', `The parameter "${name}" must be between ${min} and ${max} (got ${n}).`)
  }
  return n
}

/**
 * A comma-joined list (IMS sends `ClientIds=a,b`). Items are trimmed, must be non-empty, and are
 * de-duplicated (keeping first occurrence) after `normalise`.
 */
export function optionalList(
  params: Params,
  name: string,
  item: (value: string) => string,
  normalise: (value: string) => string = (x) => x,
): string[] | undefined {
  const raw = params.get(name)
  if (raw === undefined || raw === '') return undefined
  if (raw.length > 20_000) throw invalidParameter(name, 'Length', `The parameter "${name}" is too long.`)
  const out: string[] = []
  for (const part of raw.split(',')) {
    const trimmed = part.trim()
    if (trimmed === '') throw invalidParameter(name, 'Format', `The parameter "${name}" contains an empty item.`)
    const value = normalise(item(trimmed))
    if (!out.includes(value)) out.push(value)
  }
  return out
}

export function truncate(v: string, max = 64): string {
  return v.length <= max ? v : `${v.slice(0, max)}…`
}

/** Opaque paging marker: base64url of a JSON object; anything else is `InvalidParameter.Marker`. */
export function encodeMarker(value: Record<string, string>): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url')
}

/** The error for a marker this service did not hand out (or that names nothing it could have). */
export const invalidMarker = (name = 'Marker') =>
  invalidParameter(name, 'Format', `The parameter "${name}" is not a marker returned by this service.`)

export function decodeMarker(params: Params, name = 'Marker'): Record<string, string> | undefined {
  const raw = params.get(name)
  if (raw === undefined || raw === '') return undefined
  if (raw.length > 2048 || !/^[A-Za-z0-9_-]+$/.test(raw)) throw invalidMarker(name)
  try {
    const parsed: unknown = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8'))
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw invalidMarker(name)
    for (const v of Object.values(parsed)) if (typeof v !== 'string') throw invalidMarker(name)
    return parsed as Record<string, string>
  } catch (e) {
    if (e instanceof ApiError) throw e
    throw invalidMarker(name)
  }
}

/**
 * The name a decoded List* marker carries in `n` (that of the last item returned, a sort key), checked
 * against the entity's name rule, else `invalidMarker`: bounded as names are, since DynamoDB may refuse
 * a longer key (a ValidationException, a 500) where this answers 400. Undefined without a marker.
 */
export function markerName(marker: Record<string, string> | undefined, rule: StringRule): string | undefined {
  if (marker === undefined) return undefined
  const n = marker.n
  if (typeof n !== 'string' || n.length > rule.max || (rule.pattern !== undefined && !rule.pattern.test(n))) throw invalidMarker()
  return n
}
