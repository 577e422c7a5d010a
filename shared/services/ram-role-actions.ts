// The RAM 2015-05-01 role actions (alibaba-api.md §4.1): CreateRole, GetRole, ListRoles, UpdateRole,
// DeleteRole. Trust policies are parsed with the shared grammar and stored normalised.

import { randomInt } from 'node:crypto'
import { ApiError } from '../errors.ts'
import { actionsWith, callerAccount, type ActionDefinition } from '../http/action.ts'
import { serializePolicyDocument } from '../policy/document.ts'
import type { RoleRecord, RoleStore, StoredTag } from '../store/role-store.ts'
import { formatUtc } from '../time.ts'
import { MAX_LIST_PAGE_BYTES, listItemBytes } from './list-page.ts'
import { decodeMarker, encodeMarker, markerName, optionalInteger, optionalString, requiredString, type Params, type StringRule } from '../validation/params.ts'
import {
  RAM_DESCRIPTION_RULE,
  RAM_LIMITS,
  ROLE_NAME_RULE,
  checkTrustAccount,
  matchesTags,
  readOptionalPolicyDocument,
  readPolicyDocument,
  readTags,
  roleArn,
} from '../validation/ram-rules.ts'

export const RAM_VERSION = '2015-05-01'

export interface RoleDeps {
  roles: RoleStore
  /** Tests: a smaller bound than MAX_LIST_PAGE_BYTES on a ListRoles page. */
  listPageBytes?: number
}

/** An ~18-digit decimal RoleId, as Alibaba's (`3` + 17 random digits); uniqueness is the store's job. */
export function generateRoleId(): string {
  return `3${Array.from({ length: 17 }, () => randomInt(10)).join('')}`
}

export function toRoleView(r: RoleRecord) {
  return {
    RoleId: r.roleId,
    RoleName: r.roleName,
    Arn: roleArn(r.accountId, r.roleName),
    Description: r.description,
    AssumeRolePolicyDocument: r.trustPolicy,
    MaxSessionDuration: r.maxSessionDuration,
    CreateDate: formatUtc(r.createdAt),
    UpdateDate: formatUtc(r.updatedAt),
  }
}

export const toTagsView = (tags: readonly StoredTag[]) => ({ Tag: tags.map((t) => ({ TagKey: t.key, TagValue: t.value })) })

function toRoleListItem(r: RoleRecord) {
  const { AssumeRolePolicyDocument: _omitted, ...view } = toRoleView(r)
  return { ...view, Tags: toTagsView(r.tags) }
}

const roleName = (params: Params) => requiredString(params, 'RoleName', ROLE_NAME_RULE)
const onRole = (action: string) => <I extends { roleName: string }>(input: I, caller: { accountId: string }) => ({
  action: `ram:${action}`,
  resource: roleArn(caller.accountId, input.roleName),
})
const maxSessionDuration = (params: Params, name: string) =>
  optionalInteger(params, name, RAM_LIMITS.maxSessionDuration.min, RAM_LIMITS.maxSessionDuration.max)

const defineAction = actionsWith<RoleDeps>()

const createRole = defineAction({
  product: 'Ram',
  version: RAM_VERSION,
  name: 'CreateRole',
  parse: (params) => ({
    roleName: roleName(params),
    trust: readPolicyDocument(params, 'AssumeRolePolicyDocument', 'trust'),
    description: optionalString(params, 'Description', RAM_DESCRIPTION_RULE) ?? '',
    maxSessionDuration: maxSessionDuration(params, 'MaxSessionDuration') ?? RAM_LIMITS.maxSessionDuration.default,
    tags: (readTags(params) ?? []).map((t) => ({ key: t.key, value: t.value ?? '' })),
  }),
  permission: onRole('CreateRole'),
  async run(input, { caller, deps, request }) {
    const accountId = callerAccount(caller)
    checkTrustAccount('AssumeRolePolicyDocument', input.trust, accountId)
    const now = request.now.getTime()
    const record = await deps.roles.create(
      {
        accountId,
        roleName: input.roleName,
        description: input.description,
        trustPolicy: serializePolicyDocument(input.trust),
        maxSessionDuration: input.maxSessionDuration,
        tags: input.tags,
        createdAt: now,
        updatedAt: now,
      },
      generateRoleId,
    )
    const { UpdateDate: _notOnCreate, ...view } = toRoleView(record)
    return { Role: view }
  },
})

const getRole = defineAction({
  product: 'Ram',
  version: RAM_VERSION,
  name: 'GetRole',
  parse: (params) => ({ roleName: roleName(params) }),
  permission: onRole('GetRole'),
  async run(input, { caller, deps }) {
    const record = await deps.roles.get(callerAccount(caller), input.roleName)
    if (!record) throw new ApiError('EntityNotExist.Role', `The role "${input.roleName}" does not exist.`)
    return { Role: toRoleView(record) }
  },
})

/** Markers carry a lower-cased role name (the key) and nothing else. */
const ROLE_KEY_RULE: StringRule = { max: ROLE_NAME_RULE.max, pattern: /^[a-z0-9.-]+$/ }

const listRoles = defineAction({
  product: 'Ram',
  version: RAM_VERSION,
  name: 'ListRoles',
  parse: (params) => {
    const after = markerName(decodeMarker(params), ROLE_KEY_RULE)
    return {
      maxItems: optionalInteger(params, 'MaxItems', RAM_LIMITS.listMaxItems.min, RAM_LIMITS.listMaxItems.max) ?? RAM_LIMITS.listMaxItems.default,
      after,
      tags: readTags(params),
    }
  },
  permission: (_input, caller) => ({ action: 'ram:ListRoles', resource: roleArn(caller.accountId, '*') }),
  async run(input, { caller, deps }) {
    const filter = input.tags ? (r: RoleRecord) => matchesTags(r.tags, input.tags) : undefined
    // Cut by size too (list-page.ts): the Marker then continues right after the last role sent.
    const budget = { size: (r: RoleRecord) => listItemBytes(toRoleListItem(r)), bytes: deps.listPageBytes ?? MAX_LIST_PAGE_BYTES }
    const page = await deps.roles.list(callerAccount(caller), input.maxItems, input.after, filter, budget)
    return {
      IsTruncated: page.nextKey !== undefined,
      ...(page.nextKey !== undefined ? { Marker: encodeMarker({ n: page.nextKey }) } : {}),
      Roles: { Role: page.items.map(toRoleListItem) },
    }
  },
})

const updateRole = defineAction({
  product: 'Ram',
  version: RAM_VERSION,
  name: 'UpdateRole',
  parse: (params) => ({
    roleName: roleName(params),
    trust: readOptionalPolicyDocument(params, 'NewAssumeRolePolicyDocument', 'trust'),
    maxSessionDuration: maxSessionDuration(params, 'NewMaxSessionDuration'),
    // Present-but-empty NewDescription clears the description.
    description: params.has('NewDescription') ? (optionalString(params, 'NewDescription', RAM_DESCRIPTION_RULE) ?? '') : undefined,
  }),
  permission: onRole('UpdateRole'),
  async run(input, { caller, deps, request }) {
    const accountId = callerAccount(caller)
    if (input.trust) checkTrustAccount('NewAssumeRolePolicyDocument', input.trust, accountId)
    const changes = {
      ...(input.trust !== undefined ? { trustPolicy: serializePolicyDocument(input.trust) } : {}),
      ...(input.maxSessionDuration !== undefined ? { maxSessionDuration: input.maxSessionDuration } : {}),
      ...(input.description !== undefined ? { description: input.description } : {}),
    }
    if (Object.keys(changes).length === 0) {
      // Nothing to change: answer with the role as it is (UpdateDate untouched).
      const current = await deps.roles.get(accountId, input.roleName)
      if (!current) throw new ApiError('EntityNotExist.Role', `The role "${input.roleName}" does not exist.`)
      return { Role: toRoleView(current) }
    }
    const record = await deps.roles.update(accountId, input.roleName, changes, request.now.getTime())
    return { Role: toRoleView(record) }
  },
})

const deleteRole = defineAction({
  product: 'Ram',
  version: RAM_VERSION,
  name: 'DeleteRole',
  parse: (params) => ({ roleName: roleName(params) }),
  permission: onRole('DeleteRole'),
  async run(input, { caller, deps }) {
    await deps.roles.delete(callerAccount(caller), input.roleName)
    return {}
  },
})

export const ramRoleActions = [createRole, getRole, listRoles, updateRole, deleteRole] as ActionDefinition<any, RoleDeps>[] // eslint-disable-line @typescript-eslint/no-explicit-any -- inputs differ per action
