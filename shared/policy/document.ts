// The policy grammar shared by trust, permission and session policies: parse, validate, normalise, serialise.

import { ApiError } from '../errors.ts'
import {
  type ConditionBlock,
  type ConditionOperator,
  isConditionOperator,
  normaliseConditionValue,
  trustConditionKeyProblem,
} from './conditions.ts'
import { coversTrustAction } from './evaluate.ts'
import { isObject } from '../validation/is-object.ts'

export type PolicyKind = 'trust' | 'permission' | 'session'
export type Effect = 'Allow' | 'Deny'
export type PrincipalType = 'RAM' | 'Service' | 'Federated'
export type PolicyPrincipal = Readonly<Partial<Record<PrincipalType, readonly string[]>>>

/** Exactly one of Action / NotAction. */
export type ActionElement =
  | { readonly Action: readonly string[]; readonly NotAction?: undefined }
  | { readonly NotAction: readonly string[]; readonly Action?: undefined }

/** At most one of Resource / NotResource; neither only in trust policies. */
export type ResourceElement =
  | { readonly Resource: readonly string[]; readonly NotResource?: undefined }
  | { readonly NotResource: readonly string[]; readonly Resource?: undefined }
  | { readonly Resource?: undefined; readonly NotResource?: undefined }

/** A statement after normalisation: every list is a non-empty array of strings. */
export type PolicyStatement = {
  readonly Sid?: string
  readonly Effect: Effect
  /** Trust policies only (required there). */
  readonly Principal?: PolicyPrincipal
  readonly Condition?: ConditionBlock
} & ActionElement &
  ResourceElement

export interface PolicyDocument {
  readonly Version: '1'
  readonly Statement: readonly PolicyStatement[]
}

// Length limits in characters (code points). Permission and session limits are Alibaba's (spec §4.2,
// §1.1); the trust-policy limit is unconfirmed there, 4096 is our choice.
export const MAX_TRUST_POLICY_LENGTH = 4096
export const MAX_PERMISSION_POLICY_LENGTH = 6144
export const MAX_SESSION_POLICY_LENGTH = 2048
export const DEFAULT_MAX_POLICY_LENGTH: Readonly<Record<PolicyKind, number>> = {
  trust: MAX_TRUST_POLICY_LENGTH,
  permission: MAX_PERMISSION_POLICY_LENGTH,
  session: MAX_SESSION_POLICY_LENGTH,
}
export const MAX_STATEMENTS = 100
export const MAX_CONDITION_VALUES = 100

export interface ParsePolicyOptions {
  /** Overrides the kind's default limit (`DEFAULT_MAX_POLICY_LENGTH`). */
  readonly maxLength?: number
  /**
   * A document this service validated and stored earlier: no length limit (normalising can lengthen
   * it past the input limit), and rules added since it was written (a trust Resource, and a trust
   * Action that does not cover sts:AssumeRole, both refused since 2026-11-29) are not applied, so a
   * role that worked keeps working and every stored document stays readable.
   */
  readonly stored?: boolean
}

/**
 * Outcome of a grammar check. `location` is a JSON-path-like pointer (`Statement[1].Condition.StringLike.oidc:sub`,
 * `(root)` for the whole document); `message` is what error responses carry.
 */
export type PolicyCheckResult =
  | { readonly ok: true; readonly document: PolicyDocument }
  | {
      readonly ok: false
      /** `TooLong` lets a caller answer with its own length code instead of a grammar error. */
      readonly problem: 'TooLong' | 'Grammar'
      readonly location: string
      readonly reason: string
      readonly message: string
    }

/** Validates and normalises `text`, returning the problem instead of throwing. */
export function checkPolicyDocument(text: string, kind: PolicyKind, options: ParsePolicyOptions = {}): PolicyCheckResult {
  const maxLength = options.stored ? Number.POSITIVE_INFINITY : (options.maxLength ?? DEFAULT_MAX_POLICY_LENGTH[kind])
  // UTF-16 length bounds the code-point count from above, so most documents skip the count.
  if (text.length > maxLength && countCodePoints(text) > maxLength) {
    const reason = `Document exceeds ${maxLength} characters`
    return { ok: false, problem: 'TooLong', location: ROOT, reason, message: reason }
  }
  try {
    return { ok: true, document: readDocument(text, kind, options.stored === true) }
  } catch (e) {
    if (!(e instanceof GrammarViolation)) throw e
    return { ok: false, problem: 'Grammar', location: e.location, reason: e.reason, message: `${e.location}: ${e.reason}` }
  }
}

/** Parses a trust, permission or session policy; throws `MalformedPolicyDocument` (400) naming the element. */
export function parsePolicyDocument(text: string, kind: PolicyKind, options: ParsePolicyOptions = {}): PolicyDocument {
  const result = checkPolicyDocument(text, kind, options)
  if (!result.ok) throw malformed(result.message)
  return result.document
}

/**
 * The `Policy` parameter of AssumeRole* / AssumeRoleWithOIDC: same grammar, but STS reports failures
 * as `InvalidParameter.PolicyGrammar` (spec §1.4 step 14).
 */
export function parseSessionPolicy(text: string, options: ParsePolicyOptions = {}): PolicyDocument {
  const result = checkPolicyDocument(text, 'session', options)
  if (!result.ok) {
    throw new ApiError('InvalidParameter.PolicyGrammar', `The parameter Policy has not passed grammar check: ${result.message}`)
  }
  return result.document
}

/**
 * The stored form: compact JSON in a fixed key order (Version, Statement; in a statement Sid, Effect,
 * Action/NotAction, Principal, Resource/NotResource, Condition), so equal documents store equal text
 * and re-parsing the output yields the same document.
 */
export function serializePolicyDocument(document: PolicyDocument): string {
  return JSON.stringify({ Version: document.Version, Statement: document.Statement.map(orderStatement) })
}

function orderStatement(s: PolicyStatement): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  if (s.Sid !== undefined) out.Sid = s.Sid
  out.Effect = s.Effect
  if (s.Action !== undefined) out.Action = s.Action
  else out.NotAction = s.NotAction
  if (s.Principal !== undefined) {
    const principal: Record<string, unknown> = {}
    for (const type of PRINCIPAL_TYPES) if (s.Principal[type] !== undefined) principal[type] = s.Principal[type]
    out.Principal = principal
  }
  if (s.Resource !== undefined) out.Resource = s.Resource
  if (s.NotResource !== undefined) out.NotResource = s.NotResource
  if (s.Condition !== undefined) out.Condition = s.Condition
  return out
}

// ---------------------------------------------------------------------------------------------
// Errors

/** Until `MalformedPolicyDocument` joins ERROR_STATUS (as 400) the code needs a cast. */
function malformed(message: string): ApiError {
  return new ApiError('MalformedPolicyDocument', message)
}

/** Internal control flow: the first violation found ends validation. */
class GrammarViolation {
  constructor(
    readonly location: string,
    readonly reason: string,
  ) {}
}

function fail(location: string, reason: string): never {
  throw new GrammarViolation(location, reason)
}

const ROOT = '(root)'
const at = (location: string, key: string) => (location === ROOT ? key : `${location}.${key}`)
const indexed = (location: string, i: number) => `${location}[${i}]`

// ---------------------------------------------------------------------------------------------
// Grammar

const DOCUMENT_KEYS = ['Version', 'Statement']
const STATEMENT_KEYS = ['Sid', 'Effect', 'Action', 'NotAction', 'Principal', 'Resource', 'NotResource', 'Condition']
const PRINCIPAL_TYPES: readonly PrincipalType[] = ['RAM', 'Service', 'Federated']

// `*` or `<service>:<api-name>`; the service part takes no wildcard, so a typo cannot widen to all services.
const ACTION = /^(?:\*|[A-Za-z0-9][A-Za-z0-9-]*:[A-Za-z0-9*?_.-]+)$/
// `*` or `acs:<service>:<region>:<account>:<relative-id>`; `*` may appear in any segment.
const RESOURCE = /^(?:\*|acs:[^:\s]+:[^:\s]*:[^:\s]*:\S+)$/
// Federated principals are compared exactly (see evaluate.ts), so a wildcard would silently never
// match: refuse it here. Provider names follow IMS (spec §3.1).
const FEDERATED = /^acs:ram::[0-9]+:(?:oidc|saml)-provider\/[A-Za-z0-9._-]+$/
const CONDITION_KEY = /^[A-Za-z][A-Za-z0-9-]*:[^\s\p{Cc}]+$/u

function readDocument(text: string, kind: PolicyKind, stored: boolean): PolicyDocument {
  let raw: unknown
  try {
    raw = JSON.parse(text)
  } catch {
    fail(ROOT, 'not valid JSON')
  }
  const duplicate = findDuplicateKey(text)
  if (duplicate !== undefined) fail(duplicate.location, `duplicate key ${quote(duplicate.key)}`)
  if (!isObject(raw)) fail(ROOT, 'must be a JSON object')
  rejectUnknownKeys(raw, ROOT, DOCUMENT_KEYS)
  if (!Object.hasOwn(raw, 'Version')) fail('Version', 'required element is missing')
  if (raw.Version !== '1') fail('Version', 'must be "1"')
  if (!Object.hasOwn(raw, 'Statement')) fail('Statement', 'required element is missing')
  const statements = raw.Statement
  let list: PolicyStatement[]
  // A lone statement object is accepted (as IAM does) and stored as a one-element array.
  if (isObject(statements)) {
    list = [readStatement(statements, 'Statement', kind, stored)]
  } else if (Array.isArray(statements)) {
    if (statements.length === 0) fail('Statement', 'must contain at least one statement')
    if (statements.length > MAX_STATEMENTS) fail('Statement', `must contain at most ${MAX_STATEMENTS} statements`)
    list = statements.map((s, i) => readStatement(s, indexed('Statement', i), kind, stored))
  } else {
    fail('Statement', 'must be an array of statements')
  }
  return { Version: '1', Statement: list }
}

function readStatement(raw: unknown, location: string, kind: PolicyKind, stored: boolean): PolicyStatement {
  if (!isObject(raw)) fail(location, 'must be an object')
  rejectUnknownKeys(raw, location, STATEMENT_KEYS)
  const has = (key: string) => Object.hasOwn(raw, key)

  let sid: string | undefined
  if (has('Sid')) {
    if (typeof raw.Sid !== 'string') fail(at(location, 'Sid'), 'must be a string')
    sid = raw.Sid
  }

  if (!has('Effect')) fail(at(location, 'Effect'), 'required element is missing')
  if (raw.Effect !== 'Allow' && raw.Effect !== 'Deny') fail(at(location, 'Effect'), 'must be "Allow" or "Deny"')
  const effect: Effect = raw.Effect

  if (has('Action') && has('NotAction')) fail(location, 'must contain only one of Action or NotAction')
  if (!has('Action') && !has('NotAction')) fail(location, 'must contain Action or NotAction')
  const actionKey = has('Action') ? 'Action' : 'NotAction'
  const actions = readStringList(raw[actionKey], at(location, actionKey), (a) =>
    ACTION.test(a) ? undefined : `${quote(a)} is not a valid action (expected "*" or "<service>:<action>")`,
  )
  const actionElement: ActionElement = actionKey === 'Action' ? { Action: actions } : { NotAction: actions }
  if (kind === 'trust' && !stored && !coversTrustAction({ Effect: effect, ...actionElement })) {
    // A trust policy governs one action, sts:AssumeRole (spec §4.4; sts:AssumeRoleWithOIDC is read as
    // its alias): a statement that does not cover it never applies, so an Allow could never let anyone
    // assume the role and a Deny would never fire. Refused as evaluateTrust reads coverage. One stored
    // before this rule is read as it was.
    fail(
      at(location, actionKey),
      actionKey === 'Action'
        ? 'does not cover sts:AssumeRole, the action a trust policy governs: the statement could never apply'
        : 'excludes sts:AssumeRole, the action a trust policy governs: the statement could never apply',
    )
  }

  let principal: PolicyPrincipal | undefined
  if (kind === 'trust') {
    if (!has('Principal')) fail(at(location, 'Principal'), 'required element is missing')
    principal = readPrincipal(raw.Principal, at(location, 'Principal'))
  } else if (has('Principal')) {
    fail(at(location, 'Principal'), `not allowed in a ${kind} policy`)
  }

  if (kind === 'trust' && !stored) {
    // A trust policy applies to the role that holds it: a Resource there would look like a narrowing
    // that nothing enforces (IAM refuses it in trust policies too). One stored before this rule is
    // read as it was, its Resource ignored by evaluateTrust.
    for (const key of ['Resource', 'NotResource'] as const) if (has(key)) fail(at(location, key), 'not allowed in a trust policy (it applies to the role that holds it)')
  }
  if (has('Resource') && has('NotResource')) fail(location, 'must contain only one of Resource or NotResource')
  let resourceElement: ResourceElement = {}
  if (has('Resource') || has('NotResource')) {
    const resourceKey = has('Resource') ? 'Resource' : 'NotResource'
    const resources = readStringList(raw[resourceKey], at(location, resourceKey), (r) =>
      RESOURCE.test(r) ? undefined : `${quote(r)} is not a valid resource (expected "*" or "acs:<service>:<region>:<account>:<id>")`,
    )
    resourceElement = resourceKey === 'Resource' ? { Resource: resources } : { NotResource: resources }
  } else if (kind !== 'trust') {
    fail(location, 'must contain Resource or NotResource')
  }

  // A trust policy's conditions can only test what an exchange knows (TRUST_CONDITION_KEYS), each with
  // operators of its own family: on any other key, or with another family's operator, a positive
  // operator never holds and a negated one always does, so a Deny would never fire and an Allow's
  // exclusion would admit everyone. One stored before these rules is read as it was.
  const keyRule = kind === 'trust' && !stored ? trustConditionKeyProblem : undefined
  const condition = has('Condition') ? readCondition(raw.Condition, at(location, 'Condition'), keyRule) : undefined

  return {
    ...(sid === undefined ? {} : { Sid: sid }),
    Effect: effect,
    ...actionElement,
    ...(principal === undefined ? {} : { Principal: principal }),
    ...resourceElement,
    ...(condition === undefined ? {} : { Condition: condition }),
  }
}

function readPrincipal(raw: unknown, location: string): PolicyPrincipal {
  if (!isObject(raw)) fail(location, 'must be an object with RAM, Service or Federated')
  const keys = Object.keys(raw)
  if (keys.length === 0) fail(location, 'must name at least one of RAM, Service or Federated')
  const entries: [PrincipalType, string[]][] = []
  for (const key of keys) {
    if (!(PRINCIPAL_TYPES as readonly string[]).includes(key)) fail(at(location, key), 'unknown principal type (expected RAM, Service or Federated)')
    const type = key as PrincipalType
    const check =
      type === 'Federated'
        ? (v: string) =>
            FEDERATED.test(v)
              ? undefined
              : `${quote(v)} is not an identity provider ARN (acs:ram::<account>:oidc-provider/<name>; wildcards are not allowed)`
        : undefined
    entries.push([type, readStringList(raw[key], at(location, key), check)])
  }
  return Object.fromEntries(entries)
}

function readCondition(raw: unknown, location: string, keyRule?: (key: string, operator: ConditionOperator) => string | undefined): ConditionBlock {
  if (!isObject(raw)) fail(location, 'must be an object of condition operators')
  const operators = Object.keys(raw)
  // An empty block would hold vacuously; refusing it keeps a half-deleted condition from widening a grant.
  if (operators.length === 0) fail(location, 'must contain at least one condition operator')
  const block: [ConditionOperator, Record<string, string[]>][] = []
  for (const operator of operators) {
    const opLocation = at(location, operator)
    if (!isConditionOperator(operator)) fail(opLocation, 'unknown condition operator')
    const keysRaw = raw[operator]
    if (!isObject(keysRaw)) fail(opLocation, 'must be an object of condition keys')
    const keys = Object.keys(keysRaw)
    if (keys.length === 0) fail(opLocation, 'must contain at least one condition key')
    const entries: [string, string[]][] = []
    for (const key of keys) {
      if (!CONDITION_KEY.test(key)) fail(opLocation, `${quote(key)} is not a valid condition key (expected "<prefix>:<name>")`)
      const problem = keyRule?.(key, operator)
      if (problem !== undefined) fail(at(opLocation, key), problem)
      entries.push([key, readConditionValues(operator, keysRaw[key], at(opLocation, key))])
    }
    block.push([operator, Object.fromEntries(entries)])
  }
  return Object.fromEntries(block)
}

function readConditionValues(operator: ConditionOperator, raw: unknown, location: string): string[] {
  const items = Array.isArray(raw) ? raw : [raw]
  if (Array.isArray(raw)) {
    if (raw.length === 0) fail(location, 'must contain at least one value')
    if (raw.length > MAX_CONDITION_VALUES) fail(location, `must contain at most ${MAX_CONDITION_VALUES} values`)
  }
  return items.map((item, i) => {
    const result = normaliseConditionValue(operator, item)
    if (!result.ok) fail(Array.isArray(raw) ? indexed(location, i) : location, result.reason)
    return result.value
  })
}

/** A string or a non-empty array of non-empty strings; `check` returns a reason for a bad element. */
function readStringList(raw: unknown, location: string, check?: (value: string) => string | undefined): string[] {
  if (typeof raw === 'string') {
    if (raw === '') fail(location, 'must be a non-empty string')
    const problem = check?.(raw)
    if (problem !== undefined) fail(location, problem)
    return [raw]
  }
  if (!Array.isArray(raw)) fail(location, 'must be a string or a non-empty array of strings')
  if (raw.length === 0) fail(location, 'must be a string or a non-empty array of strings')
  return raw.map((item: unknown, i) => {
    if (typeof item !== 'string' || item === '') fail(indexed(location, i), 'must be a non-empty string')
    const problem = check?.(item)
    if (problem !== undefined) fail(indexed(location, i), problem)
    return item
  })
}

function rejectUnknownKeys(raw: Record<string, unknown>, location: string, allowed: readonly string[]): void {
  for (const key of Object.keys(raw)) {
    if (!allowed.includes(key)) fail(at(location, key), 'unknown element')
  }
}

function quote(text: string): string {
  const shown = text.length > 64 ? `${text.slice(0, 64)}…` : text
  return JSON.stringify(shown)
}

function countCodePoints(text: string): number {
  let n = 0
  for (const _ of text) n += 1
  return n
}

// ---------------------------------------------------------------------------------------------
// Duplicate keys

type ScanFrame =
  | { readonly kind: 'object'; readonly location: string; readonly keys: Set<string>; key: string; expectKey: boolean }
  | { readonly kind: 'array'; readonly location: string; index: number }

/**
 * JSON.parse keeps the last of two equal keys. A document such as `{"Effect":"Deny", …, "Effect":"Allow"}`
 * would then read one way to a reviewer and another to the engine, so duplicates are refused. `text`
 * is known to be valid JSON here, which keeps this scanner small: it only tracks nesting and keys.
 */
function findDuplicateKey(text: string): { location: string; key: string } | undefined {
  const stack: ScanFrame[] = []
  // Where the value starting now sits; advances the index of an enclosing array.
  const valueLocation = (): string => {
    const top = stack.at(-1)
    if (top === undefined) return ROOT
    if (top.kind === 'array') {
      top.index += 1
      return indexed(top.location, top.index)
    }
    return at(top.location, top.key)
  }
  let i = 0
  while (i < text.length) {
    const c = text[i]
    if (c === '"') {
      let end = i + 1
      while (text[end] !== '"') end += text[end] === '\\' ? 2 : 1
      end += 1
      const top = stack.at(-1)
      if (top?.kind === 'object' && top.expectKey) {
        const key = JSON.parse(text.slice(i, end)) as string
        if (top.keys.has(key)) return { location: top.location, key }
        top.keys.add(key)
        top.key = key
        top.expectKey = false
      } else {
        valueLocation()
      }
      i = end
      continue
    }
    if (c === '{') {
      stack.push({ kind: 'object', location: valueLocation(), keys: new Set(), key: '', expectKey: true })
    } else if (c === '[') {
      stack.push({ kind: 'array', location: valueLocation(), index: -1 })
    } else if (c === '}' || c === ']') {
      stack.pop()
    } else if (c === ',') {
      const top = stack.at(-1)
      if (top?.kind === 'object') top.expectKey = true
    } else if (c === '-' || c === 't' || c === 'f' || c === 'n' || (c !== undefined && c >= '0' && c <= '9')) {
      valueLocation()
      while (i + 1 < text.length && !',]} \t\r\n'.includes(text[i + 1] ?? '')) i += 1
    }
    i += 1
  }
  return undefined
}
