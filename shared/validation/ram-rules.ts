// Parameter rules of the RAM 2015-05-01 role and policy actions (alibaba-api.md §4.1–4.3), the RAM
// quotas, and the ARNs of roles and policies. Token exchange reuses the role-name and ARN rules.

import { ApiError, invalidParameter, missingParameter } from '../errors.ts'
import { checkPolicyDocument, type PolicyDocument, type PolicyKind } from '../policy/document.ts'
import { truncate, type Params, type StringRule } from './params.ts'

/**
 * RAM quotas and ranges. Alibaba's current quota numbers are unconfirmed (spec §4.3: an old page
 * says 100 roles, 200 custom policies, 5 custom + 20 system policies per role); these are ours:
 * roles 1000 and custom policies 1500 per account, 20 policies (system and custom together) per role.
 */
export const RAM_LIMITS = {
  rolesPerAccount: 1000,
  customPoliciesPerAccount: 1500,
  policiesPerRole: 20,
  tagsPerResource: 20,
  tagKeyMax: 128,
  tagValueMax: 128,
  maxSessionDuration: { min: 3600, max: 43200, default: 3600 },
  descriptionMax: 1024,
  listMaxItems: { min: 1, max: 1000, default: 100 },
} as const

/** The quotas a store enforces; injectable so tests can exercise a small quota. */
export interface RamQuotas {
  rolesPerAccount: number
  customPoliciesPerAccount: number
  policiesPerRole: number
}

export const ROLE_NAME_RULE: StringRule = {
  max: 64,
  pattern: /^[A-Za-z0-9.-]+$/,
  patternHint: 'letters, digits, "." and "-"',
}

export const POLICY_NAME_RULE: StringRule = {
  max: 128,
  pattern: /^[A-Za-z0-9-]+$/,
  patternHint: 'letters, digits and "-"',
}

export const RAM_DESCRIPTION_RULE: StringRule = { max: RAM_LIMITS.descriptionMax }

export type PolicyType = 'System' | 'Custom'
export const POLICY_TYPES: readonly PolicyType[] = ['System', 'Custom']

/** Role names are unique case-insensitively: this is the stored key, and the name in ARNs. */
export const roleKeyOf = (roleName: string) => roleName.toLowerCase()

/**
 * `acs:ram::<account>:role/<name>` with the name lower-cased: role names are case-insensitive, and
 * every ARN seen from Alibaba carries the lower-cased name (spec §2.3), so one role has one ARN and
 * a policy Resource pattern cannot be sidestepped by changing the case of a name.
 */
export function roleArn(accountId: string, roleName: string): string {
  return `acs:ram::${accountId}:role/${roleKeyOf(roleName)}`
}

export function policyArn(accountId: string, policyName: string): string {
  return `acs:ram::${accountId}:policy/${policyName}`
}

/** Parses `acs:ram::<16 digits>:role/<name>`; failure -> InvalidParameter.<param>.Format. */
export function parseRoleArn(param: string, arn: string): { accountId: string; roleName: string } {
  const m = /^acs:ram::(\d{16}):role\/([^/]+)$/.exec(arn)
  if (!m || m[2]!.length > ROLE_NAME_RULE.max || !ROLE_NAME_RULE.pattern!.test(m[2]!)) {
    throw invalidParameter(param, 'Format', `The parameter "${param}" must look like acs:ram::<accountId>:role/<roleName>.`)
  }
  return { accountId: m[1]!, roleName: m[2]! }
}

/** Required `PolicyType` (or optional, for ListPolicies): exactly `System` or `Custom`. */
export function readPolicyType(params: Params, required: true): PolicyType
export function readPolicyType(params: Params, required: false): PolicyType | undefined
export function readPolicyType(params: Params, required: boolean): PolicyType | undefined {
  const v = params.get('PolicyType')
  if (v === undefined || v === '') {
    if (required) throw missingParameter('PolicyType')
    return undefined
  }
  if (!(POLICY_TYPES as readonly string[]).includes(v)) {
    throw new ApiError('InvalidParameter.PolicyType', `The parameter "PolicyType" must be "System" or "Custom" (got "${truncate(v)}").`)
  }
  return v as PolicyType
}

/**
 * A required policy document parameter: length per kind (trust 4096, permission 6144 characters)
 * -> InvalidParameter.<param>.Length; grammar -> MalformedPolicyDocument naming the element.
 */
export function readPolicyDocument(params: Params, name: string, kind: PolicyKind): PolicyDocument {
  const raw = params.get(name)
  if (raw === undefined || raw === '') throw missingParameter(name)
  return checkDocument(name, raw, kind)
}

/** As readPolicyDocument for an optional parameter (UpdateRole's NewAssumeRolePolicyDocument). */
export function readOptionalPolicyDocument(params: Params, name: string, kind: PolicyKind): PolicyDocument | undefined {
  const raw = params.get(name)
  if (raw === undefined || raw === '') return undefined
  return checkDocument(name, raw, kind)
}

function checkDocument(name: string, raw: string, kind: PolicyKind): PolicyDocument {
  const result = checkPolicyDocument(raw, kind)
  if (result.ok) return result.document
  if (result.problem === 'TooLong') {
    throw invalidParameter(name, 'Length', `The parameter "${name}" is too long: ${result.reason}.`)
  }
  throw new ApiError('MalformedPolicyDocument', `The policy document in "${name}" is malformed: ${result.message}.`)
}

/**
 * A trust policy may name only identity providers of the role's own account: token exchange
 * resolves the provider in the role's account, so any other ARN could never match, and nothing
 * crosses accounts.
 */
export function checkTrustAccount(param: string, document: PolicyDocument, accountId: string): void {
  for (const [i, statement] of document.Statement.entries()) {
    for (const [j, arn] of (statement.Principal?.Federated ?? []).entries()) {
      const account = /^acs:ram::(\d+):/.exec(arn)?.[1]
      if (account !== accountId) {
        throw new ApiError(
          'MalformedPolicyDocument',
          `The policy document in "${param}" is malformed: Statement[${i}].Principal.Federated[${j}]: the identity provider must belong to account ${accountId}.`,
        )
      }
    }
  }
}

export interface ResourceTag {
  key: string
  /** Absent in a ListRoles/ListPolicies filter means "any value". */
  value?: string
}

// Alibaba reserves these tag-key prefixes for its own tags.
const RESERVED_TAG_KEY = /^(?:aliyun|acs:)/i

/**
 * `Tag=[{"Key":"team","Value":"dev"}]` (spec §0: one parameter holding a JSON array). At most 20 tags,
 * keys 1..128 characters and unique, values 0..128. Failures name the part: `InvalidParameter.Tag.Format`
 * (not a JSON array of {Key, Value} objects, or a repeated key), `InvalidParameter.Tag.Length` (too many
 * tags), `InvalidParameter.Tag.Key.Length` / `.Tag.Key.Format` (reserved prefix), `InvalidParameter.Tag.Value.Length`.
 */
export function readTags(params: Params, name = 'Tag'): ResourceTag[] | undefined {
  const raw = params.get(name)
  if (raw === undefined || raw === '') return undefined
  const format = (why: string) => invalidParameter(name, 'Format', `The parameter "${name}" must be a JSON array of {"Key","Value"} objects: ${why}.`)
  if (raw.length > 20_000) throw invalidParameter(name, 'Length', `The parameter "${name}" is too long.`)
  let parsed: unknown
  try {
    parsed = JSON.parse(raw)
  } catch {
    throw format('it is not valid JSON')
  }
  if (!Array.isArray(parsed)) throw format('it is not an array')
  if (parsed.length > RAM_LIMITS.tagsPerResource) {
    throw invalidParameter(name, 'Length', `The parameter "${name}" may hold at most ${RAM_LIMITS.tagsPerResource} tags (got ${parsed.length}).`)
  }
  const seen = new Set<string>()
  return parsed.map((entry: unknown, i): ResourceTag => {
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) throw format(`item ${i} is not an object`)
    const obj = entry as Record<string, unknown>
    for (const k of Object.keys(obj)) if (k !== 'Key' && k !== 'Value') throw format(`item ${i} has the unknown field "${truncate(k, 32)}"`)
    if (typeof obj.Key !== 'string') throw format(`item ${i} has no string "Key"`)
    if (obj.Value !== undefined && typeof obj.Value !== 'string') throw format(`item ${i} has a "Value" that is not a string`)
    const key = obj.Key
    const keyLength = [...key].length
    if (keyLength < 1 || keyLength > RAM_LIMITS.tagKeyMax) {
      throw invalidParameter(`${name}.Key`, 'Length', `Tag keys must be 1 to ${RAM_LIMITS.tagKeyMax} characters long (item ${i} has ${keyLength}).`)
    }
    if (RESERVED_TAG_KEY.test(key)) {
      throw invalidParameter(`${name}.Key`, 'Format', `Tag keys must not start with "aliyun" or "acs:" (item ${i}).`)
    }
    if (seen.has(key)) throw format(`the key "${truncate(key, 32)}" appears more than once`)
    seen.add(key)
    if (obj.Value === undefined) return { key }
    const valueLength = [...obj.Value].length
    if (valueLength > RAM_LIMITS.tagValueMax) {
      throw invalidParameter(`${name}.Value`, 'Length', `Tag values must be at most ${RAM_LIMITS.tagValueMax} characters long (item ${i} has ${valueLength}).`)
    }
    return { key, value: obj.Value }
  })
}

/** Does a resource carry every tag of the filter (a filter tag without Value matches any value)? */
export function matchesTags(tags: readonly { key: string; value: string }[], filter: readonly ResourceTag[] | undefined): boolean {
  if (!filter) return true
  return filter.every((f) => tags.some((t) => t.key === f.key && (f.value === undefined || t.value === f.value)))
}
