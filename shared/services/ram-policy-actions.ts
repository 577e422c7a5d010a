// The RAM 2015-05-01 permission-policy actions (alibaba-api.md §4.2): CreatePolicy, GetPolicy,
// ListPolicies, DeletePolicy for custom policies, the system policies of ram-system-policies.ts, and
// AttachPolicyToRole, DetachPolicyFromRole, ListPoliciesForRole.

import { ApiError } from '../errors.ts'
import { actionsWith, callerAccount, type ActionDefinition } from '../http/action.ts'
import { serializePolicyDocument } from '../policy/document.ts'
import type { AttachmentStore } from '../store/attachment-store.ts'
import { policyNotFound, type PolicyRecord, type PolicyStore } from '../store/policy-store.ts'
import { roleNotFound, type RoleStore } from '../store/role-store.ts'
import { formatUtc } from '../time.ts'
import { MAX_LIST_PAGE_BYTES, listItemBytes } from './list-page.ts'
import { decodeMarker, encodeMarker, invalidMarker, markerName, optionalInteger, optionalString, requiredString, type Params } from '../validation/params.ts'
import {
  POLICY_NAME_RULE,
  POLICY_TYPES,
  RAM_DESCRIPTION_RULE,
  RAM_LIMITS,
  ROLE_NAME_RULE,
  matchesTags,
  policyArn,
  readPolicyDocument,
  readPolicyType,
  readTags,
  roleArn,
  type PolicyType,
} from '../validation/ram-rules.ts'
import { RAM_VERSION, toTagsView } from './ram-role-actions.ts'
import { SYSTEM_POLICIES, findSystemPolicy, isReservedPolicyName, type SystemPolicy } from './ram-system-policies.ts'

export interface PolicyDeps {
  roles: RoleStore
  policies: PolicyStore
  attachments: AttachmentStore
  /** Tests: a smaller bound than MAX_LIST_PAGE_BYTES on a ListPolicies page. */
  listPageBytes?: number
}

/** Policies have one version here (no CreatePolicyVersion yet): v1 is always the default. */
const DEFAULT_VERSION = 'v1'

/** The fields every policy view shares, for a system or a custom policy. */
function policyBase(p: { type: 'System'; policy: SystemPolicy } | { type: 'Custom'; policy: PolicyRecord }) {
  const name = p.type === 'System' ? p.policy.name : p.policy.policyName
  return {
    PolicyName: name,
    PolicyType: p.type,
    Description: p.policy.description,
    DefaultVersion: p.type === 'System' ? DEFAULT_VERSION : p.policy.defaultVersion,
    CreateDate: formatUtc(p.policy.createdAt),
    UpdateDate: formatUtc(p.policy.updatedAt),
  }
}

const systemItem = (policy: SystemPolicy, attachmentCount: number) => ({
  ...policyBase({ type: 'System', policy }),
  AttachmentCount: attachmentCount,
  Tags: toTagsView([]),
})
const customItem = (policy: PolicyRecord) => ({
  ...policyBase({ type: 'Custom', policy }),
  AttachmentCount: policy.attachmentCount,
  Tags: toTagsView(policy.tags),
})

const policyName = (params: Params) => requiredString(params, 'PolicyName', POLICY_NAME_RULE)
const roleName = (params: Params) => requiredString(params, 'RoleName', ROLE_NAME_RULE)
const onPolicy = (action: string) => <I extends { policyName: string }>(input: I, caller: { accountId: string }) => ({
  action: `ram:${action}`,
  resource: policyArn(caller.accountId, input.policyName),
})
const onRole = (action: string) => <I extends { roleName: string }>(input: I, caller: { accountId: string }) => ({
  action: `ram:${action}`,
  resource: roleArn(caller.accountId, input.roleName),
})
/**
 * Attach and detach act on a role and a policy: both ARNs must be allowed, so that a policy can say
 * which policies may be attached (an Allow on `policy/AliyunRAMReadOnlyAccess` only), or deny one
 * (a Deny on `policy/AliyunRAMFullAccess`, or on a guard policy that must stay attached).
 */
const onRoleAndPolicy = (action: string) => <I extends { roleName: string; policyName: string }>(input: I, caller: { accountId: string }) => ({
  action: `ram:${action}`,
  resource: [roleArn(caller.accountId, input.roleName), policyArn(caller.accountId, input.policyName)],
})

const defineAction = actionsWith<PolicyDeps>()

const createPolicy = defineAction({
  product: 'Ram',
  version: RAM_VERSION,
  name: 'CreatePolicy',
  parse: (params) => ({
    policyName: policyName(params),
    document: readPolicyDocument(params, 'PolicyDocument', 'permission'),
    description: optionalString(params, 'Description', RAM_DESCRIPTION_RULE) ?? '',
    tags: (readTags(params) ?? []).map((t) => ({ key: t.key, value: t.value ?? '' })),
  }),
  permission: onPolicy('CreatePolicy'),
  async run(input, { caller, deps, request }) {
    if (isReservedPolicyName(input.policyName)) {
      throw new ApiError('EntityAlreadyExists.Policy', `The name "${input.policyName}" belongs to a system policy; choose another name for a custom policy.`)
    }
    const now = request.now.getTime()
    const record = await deps.policies.create({
      accountId: callerAccount(caller),
      policyName: input.policyName,
      description: input.description,
      document: serializePolicyDocument(input.document),
      tags: input.tags,
      createdAt: now,
      updatedAt: now,
    })
    const { UpdateDate: _notOnCreate, ...view } = policyBase({ type: 'Custom', policy: record })
    return { Policy: view }
  },
})

const getPolicy = defineAction({
  product: 'Ram',
  version: RAM_VERSION,
  name: 'GetPolicy',
  parse: (params) => ({ policyName: policyName(params), policyType: readPolicyType(params, true) }),
  permission: onPolicy('GetPolicy'),
  async run(input, { caller, deps }) {
    const accountId = callerAccount(caller)
    let base: ReturnType<typeof policyBase>
    let attachmentCount: number
    let document: string
    if (input.policyType === 'System') {
      const system = findSystemPolicy(input.policyName)
      if (!system) throw policyNotFound(input.policyName, 'System')
      base = policyBase({ type: 'System', policy: system })
      attachmentCount = (await deps.policies.systemAttachmentCounts(accountId)).get(system.name) ?? 0
      document = system.documentText
    } else {
      const custom = await deps.policies.get(accountId, input.policyName)
      if (!custom) throw policyNotFound(input.policyName)
      base = policyBase({ type: 'Custom', policy: custom })
      attachmentCount = custom.attachmentCount
      document = custom.document
    }
    return {
      Policy: { ...base, AttachmentCount: attachmentCount, PolicyDocument: document },
      DefaultPolicyVersion: { VersionId: base.DefaultVersion, IsDefaultVersion: true, PolicyDocument: document, CreateDate: base.CreateDate },
    }
  },
})

const listPolicies = defineAction({
  product: 'Ram',
  version: RAM_VERSION,
  name: 'ListPolicies',
  parse: (params) => {
    const marker = decodeMarker(params)
    // Markers carry the type and name of the last policy returned: system policies come first.
    const afterName = markerName(marker, POLICY_NAME_RULE)
    if (marker !== undefined && !(POLICY_TYPES as readonly string[]).includes(marker.t ?? '')) throw invalidMarker()
    return {
      policyType: readPolicyType(params, false),
      maxItems: optionalInteger(params, 'MaxItems', RAM_LIMITS.listMaxItems.min, RAM_LIMITS.listMaxItems.max) ?? RAM_LIMITS.listMaxItems.default,
      after: afterName === undefined ? undefined : { t: marker!.t as PolicyType, n: afterName },
      tags: readTags(params),
    }
  },
  permission: (_input, caller) => ({ action: 'ram:ListPolicies', resource: policyArn(caller.accountId, '*') }),
  async run(input, { caller, deps }) {
    const accountId = callerAccount(caller)
    const { maxItems, after, tags } = input
    const items: Record<string, unknown>[] = []
    let last: { t: PolicyType; n: string } | undefined
    // Cut by size too (list-page.ts): the Marker then continues right after the last policy sent.
    const bytes = deps.listPageBytes ?? MAX_LIST_PAGE_BYTES
    let used = 0

    // System policies carry no tags, so a tag filter leaves only custom ones.
    if (input.policyType !== 'Custom' && tags === undefined && after?.t !== 'Custom') {
      const remaining = SYSTEM_POLICIES.filter((p) => after === undefined || p.name > after.n)
      if (remaining.length > 0) {
        const counts = await deps.policies.systemAttachmentCounts(accountId)
        for (const p of remaining.slice(0, maxItems)) {
          const item = systemItem(p, counts.get(p.name) ?? 0)
          const size = listItemBytes(item)
          if (used > 0 && used + size > bytes) return page(items, last)
          items.push(item)
          used += size
          last = { t: 'System', n: p.name }
        }
        if (remaining.length > maxItems) return page(items, last)
      }
    }
    if (input.policyType !== 'System') {
      const filter = tags ? (p: PolicyRecord) => matchesTags(p.tags, tags) : undefined
      const afterCustom = after?.t === 'Custom' ? after.n : undefined
      const need = maxItems - items.length
      if (need === 0) {
        // The page is full of system policies: say whether any custom policy follows.
        const probe = await deps.policies.list(accountId, 1, afterCustom, filter)
        return page(items, probe.items.length > 0 ? last : undefined)
      }
      const custom = await deps.policies.list(accountId, need, afterCustom, filter, { size: (p) => listItemBytes(customItem(p)), bytes, used })
      items.push(...custom.items.map(customItem))
      // No custom policy fitted beside the system ones: the next page starts with the first.
      if (custom.more && custom.nextName === undefined) return page(items, last)
      return page(items, custom.nextName !== undefined ? { t: 'Custom', n: custom.nextName } : undefined)
    }
    return page(items, undefined)
  },
})

function page(items: Record<string, unknown>[], next: { t: PolicyType; n: string } | undefined) {
  return {
    IsTruncated: next !== undefined,
    ...(next !== undefined ? { Marker: encodeMarker(next) } : {}),
    Policies: { Policy: items },
  }
}

const deletePolicy = defineAction({
  product: 'Ram',
  version: RAM_VERSION,
  name: 'DeletePolicy',
  parse: (params) => ({ policyName: policyName(params) }),
  permission: onPolicy('DeletePolicy'),
  async run(input, { caller, deps }) {
    // Only a system policy's exact name: they are case-sensitive, as GetPolicy and AttachPolicyToRole
    // read them. Another spelling names no system policy, nor (CreatePolicy reserves every spelling)
    // a custom one created since: the store answers EntityNotExist.Policy.
    if (findSystemPolicy(input.policyName)) {
      throw new ApiError('DeleteConflict.Policy.System', `"${input.policyName}" is a system policy; system policies cannot be deleted.`)
    }
    await deps.policies.delete(callerAccount(caller), input.policyName)
    return {}
  },
})

const attachmentInput = (params: Params) => ({
  policyType: readPolicyType(params, true),
  policyName: policyName(params),
  roleName: roleName(params),
})

/** A System policy must exist in code; the store checks roles and custom policies in its transaction. */
async function requireSystemPolicy(deps: PolicyDeps, accountId: string, input: { policyType: PolicyType; policyName: string; roleName: string }) {
  if (input.policyType !== 'System' || findSystemPolicy(input.policyName)) return
  // Same precedence as the store: a missing role is reported before a missing policy.
  if (!(await deps.roles.get(accountId, input.roleName))) throw roleNotFound(input.roleName)
  throw policyNotFound(input.policyName, 'System')
}

const attachPolicyToRole = defineAction({
  product: 'Ram',
  version: RAM_VERSION,
  name: 'AttachPolicyToRole',
  parse: attachmentInput,
  permission: onRoleAndPolicy('AttachPolicyToRole'),
  async run(input, { caller, deps, request }) {
    const accountId = callerAccount(caller)
    await requireSystemPolicy(deps, accountId, input)
    await deps.attachments.attach(accountId, input.roleName, input.policyType, input.policyName, request.now.getTime())
    return {}
  },
})

const detachPolicyFromRole = defineAction({
  product: 'Ram',
  version: RAM_VERSION,
  name: 'DetachPolicyFromRole',
  parse: attachmentInput,
  permission: onRoleAndPolicy('DetachPolicyFromRole'),
  async run(input, { caller, deps }) {
    const accountId = callerAccount(caller)
    await requireSystemPolicy(deps, accountId, input)
    await deps.attachments.detach(accountId, input.roleName, input.policyType, input.policyName)
    return {}
  },
})

const listPoliciesForRole = defineAction({
  product: 'Ram',
  version: RAM_VERSION,
  name: 'ListPoliciesForRole',
  parse: (params) => ({ roleName: roleName(params) }),
  permission: onRole('ListPoliciesForRole'),
  async run(input, { caller, deps }) {
    const accountId = callerAccount(caller)
    if (!(await deps.roles.get(accountId, input.roleName))) throw roleNotFound(input.roleName)
    const attachments = await deps.attachments.listForRole(accountId, input.roleName)
    const policies = await Promise.all(
      attachments.map(async (a) => {
        const attachDate = formatUtc(a.attachedAt)
        if (a.policyType === 'System') {
          const system = findSystemPolicy(a.policyName)
          return system ? { ...pick(policyBase({ type: 'System', policy: system })), AttachDate: attachDate } : undefined
        }
        // A custom policy cannot be deleted while attached; a miss here would be a read racing a detach.
        const custom = await deps.policies.get(accountId, a.policyName)
        return custom ? { ...pick(policyBase({ type: 'Custom', policy: custom })), AttachDate: attachDate } : undefined
      }),
    )
    return { Policies: { Policy: policies.filter((p) => p !== undefined) } }
  },
})

/** ListPoliciesForRole items: no create/update dates (spec §4.2). */
function pick(base: ReturnType<typeof policyBase>) {
  return { PolicyName: base.PolicyName, PolicyType: base.PolicyType, Description: base.Description, DefaultVersion: base.DefaultVersion }
}

export const ramPolicyActions = [
  createPolicy,
  getPolicy,
  listPolicies,
  deletePolicy,
  attachPolicyToRole,
  detachPolicyFromRole,
  listPoliciesForRole,
] as ActionDefinition<any, PolicyDeps>[] // eslint-disable-line @typescript-eslint/no-explicit-any -- inputs differ per action
