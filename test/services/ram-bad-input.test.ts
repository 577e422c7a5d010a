// Every RAM role/policy action against every parameter rule (§4.1–4.3), table-driven: each bad input
// gets a specific 4xx code naming the parameter (or MalformedPolicyDocument pointing at the element),
// in the Alibaba error envelope, and nothing is written: roles, their trust documents, policies,
// attachments and the account's quota counters are compared before and after.

import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startTestService, type TestService } from '../support/service.ts'

const RAM = '2015-05-01'
let svc: TestService
let account: string

type Action =
  | 'CreateRole'
  | 'GetRole'
  | 'ListRoles'
  | 'UpdateRole'
  | 'DeleteRole'
  | 'CreatePolicy'
  | 'GetPolicy'
  | 'ListPolicies'
  | 'DeletePolicy'
  | 'AttachPolicyToRole'
  | 'DetachPolicyFromRole'
  | 'ListPoliciesForRole'

// Known before the table is made: the account is the service's (set in beforeAll), so documents are built lazily.
const trustFor = (accountId: string, extra: Record<string, unknown> = {}) =>
  JSON.stringify({
    Version: '1',
    Statement: [{ Effect: 'Allow', Action: 'sts:AssumeRole', Principal: { Federated: `acs:ram::${accountId}:oidc-provider/gh` }, ...extra }],
  })
const DOC = JSON.stringify({ Version: '1', Statement: [{ Effect: 'Allow', Action: 'ram:Get*', Resource: '*' }] })

/** Parameters with which each action succeeds (checked by the last test); cases change one of them. */
const valid = (): Record<Action, Record<string, string>> => ({
  CreateRole: { RoleName: 'fresh', AssumeRolePolicyDocument: trustFor(account) },
  GetRole: { RoleName: 'existing' },
  ListRoles: {},
  UpdateRole: { RoleName: 'existing', NewDescription: 'changed' },
  DeleteRole: { RoleName: 'other' },
  CreatePolicy: { PolicyName: 'fresh-policy', PolicyDocument: DOC },
  GetPolicy: { PolicyName: 'existing-policy', PolicyType: 'Custom' },
  ListPolicies: {},
  DeletePolicy: { PolicyName: 'other-policy' },
  AttachPolicyToRole: { RoleName: 'existing', PolicyType: 'Custom', PolicyName: 'existing-policy' },
  DetachPolicyFromRole: { RoleName: 'existing', PolicyType: 'System', PolicyName: 'AliyunRAMReadOnlyAccess' },
  ListPoliciesForRole: { RoleName: 'existing' },
})

interface Case {
  action: Action
  what: string
  /** Applied to the action's valid parameters (`undefined` removes one); a function sees the account. */
  change: Record<string, string | undefined> | ((accountId: string) => Record<string, string | undefined>)
  code: string
  status: number
  message?: RegExp
}

const bad = (action: Action, what: string, change: Case['change'], code: string, message?: RegExp, status = 400): Case => ({
  action,
  what,
  change,
  code,
  status,
  ...(message ? { message } : {}),
})

function paramsFor(c: Case): Record<string, string> {
  const out: Record<string, string> = { ...valid()[c.action] }
  const change = typeof c.change === 'function' ? c.change(account) : c.change
  for (const [k, v] of Object.entries(change)) {
    if (v === undefined) delete out[k]
    else out[k] = v
  }
  return out
}

const ROLE_NAME_ACTIONS: Action[] = ['CreateRole', 'GetRole', 'UpdateRole', 'DeleteRole', 'AttachPolicyToRole', 'DetachPolicyFromRole', 'ListPoliciesForRole']
const roleNameCases: Case[] = ROLE_NAME_ACTIONS.flatMap((action) => [
  bad(action, 'a missing RoleName', { RoleName: undefined }, 'MissingParameter.RoleName'),
  bad(action, 'an empty RoleName', { RoleName: '' }, 'MissingParameter.RoleName'),
  bad(action, 'a 65-character RoleName', { RoleName: 'r'.repeat(65) }, 'InvalidParameter.RoleName.Length'),
  bad(action, 'an underscore in RoleName', { RoleName: 'bad_name' }, 'InvalidParameter.RoleName.InvalidChars'),
  bad(action, 'a space in RoleName', { RoleName: 'bad name' }, 'InvalidParameter.RoleName.InvalidChars'),
  bad(action, 'a slash in RoleName', { RoleName: 'a/b' }, 'InvalidParameter.RoleName.InvalidChars'),
  bad(action, 'a non-ASCII letter in RoleName', { RoleName: 'rôle' }, 'InvalidParameter.RoleName.InvalidChars'),
])

const POLICY_NAME_ACTIONS: Action[] = ['CreatePolicy', 'GetPolicy', 'DeletePolicy', 'AttachPolicyToRole', 'DetachPolicyFromRole']
const policyNameCases: Case[] = POLICY_NAME_ACTIONS.flatMap((action) => [
  bad(action, 'a missing PolicyName', { PolicyName: undefined }, 'MissingParameter.PolicyName'),
  bad(action, 'a 129-character PolicyName', { PolicyName: 'p'.repeat(129) }, 'InvalidParameter.PolicyName.Length'),
  bad(action, 'a dot in PolicyName', { PolicyName: 'a.b' }, 'InvalidParameter.PolicyName.InvalidChars'),
  bad(action, 'an underscore in PolicyName', { PolicyName: 'a_b' }, 'InvalidParameter.PolicyName.InvalidChars'),
])

const policyTypeCases: Case[] = [
  ...(['GetPolicy', 'AttachPolicyToRole', 'DetachPolicyFromRole'] as Action[]).flatMap((action) => [
    bad(action, 'a missing PolicyType', { PolicyType: undefined }, 'MissingParameter.PolicyType'),
    bad(action, 'a lower-case PolicyType', { PolicyType: 'system' }, 'InvalidParameter.PolicyType'),
    bad(action, 'an unknown PolicyType', { PolicyType: 'Managed' }, 'InvalidParameter.PolicyType'),
  ]),
  bad('ListPolicies', 'a lower-case PolicyType', { PolicyType: 'custom' }, 'InvalidParameter.PolicyType'),
]

function trustDocumentCases(action: 'CreateRole' | 'UpdateRole', param: string): Case[] {
  const statement = (extra: Record<string, unknown>) => (a: string) => ({
    [param]: JSON.stringify({ Version: '1', Statement: [{ Effect: 'Allow', Action: 'sts:AssumeRole', Principal: { Federated: `acs:ram::${a}:oidc-provider/gh` }, ...extra }] }),
  })
  return [
    bad(action, 'a trust document over 4096 characters', (a) => ({ [param]: trustFor(a) + ' '.repeat(4097) }), `InvalidParameter.${param}.Length`),
    bad(action, 'a trust document that is not JSON', { [param]: '{"Version":"1",' }, 'MalformedPolicyDocument', /\(root\): not valid JSON/),
    bad(action, 'Version "2"', (a) => ({ [param]: trustFor(a).replace('"Version":"1"', '"Version":"2"') }), 'MalformedPolicyDocument', /Version: must be "1"/),
    bad(action, 'a statement without Principal', { [param]: JSON.stringify({ Version: '1', Statement: [{ Effect: 'Allow', Action: 'sts:AssumeRole' }] }) }, 'MalformedPolicyDocument', /Statement\[0\]\.Principal: required element is missing/),
    bad(action, 'a wildcard Federated principal', { [param]: JSON.stringify({ Version: '1', Statement: [{ Effect: 'Allow', Action: 'sts:AssumeRole', Principal: { Federated: 'acs:ram::*:oidc-provider/*' } }] }) }, 'MalformedPolicyDocument', /Statement\[0\]\.Principal\.Federated/),
    bad(action, 'an unknown condition operator', statement({ Condition: { StringFoo: { 'oidc:sub': 'x' } } }), 'MalformedPolicyDocument', /Statement\[0\]\.Condition\.StringFoo: unknown condition operator/),
    bad(action, 'a number as a StringLike value', statement({ Condition: { StringLike: { 'oidc:sub': 5 } } }), 'MalformedPolicyDocument', /Statement\[0\]\.Condition\.StringLike\.oidc:sub/),
    bad(action, 'a duplicate Effect key', (a) => ({ [param]: trustFor(a).replace('"Effect":"Allow"', '"Effect":"Deny","Effect":"Allow"') }), 'MalformedPolicyDocument', /duplicate key "Effect"/),
    bad(action, 'a provider of another account', { [param]: trustFor('1234567890123456') }, 'MalformedPolicyDocument', /Statement\[0\]\.Principal\.Federated\[0\]: the identity provider must belong to account/),
    // Spec §4.4: a trust policy governs sts:AssumeRole; a role trusting with another action could never be assumed.
    bad(action, 'a trust Action that is not sts:AssumeRole', statement({ Action: 'oss:GetObject' }), 'MalformedPolicyDocument', /Statement\[0\]\.Action: does not cover sts:AssumeRole/),
    bad(action, 'a trust NotAction that excludes sts:AssumeRole', (a) => {
      const doc = JSON.parse(statement({})(a)[param]!)
      doc.Statement[0].NotAction = doc.Statement[0].Action
      delete doc.Statement[0].Action
      return { [param]: JSON.stringify(doc) }
    }, 'MalformedPolicyDocument', /Statement\[0\]\.NotAction: excludes sts:AssumeRole/),
  ]
}

const permissionDocumentCases: Case[] = [
  bad('CreatePolicy', 'a missing PolicyDocument', { PolicyDocument: undefined }, 'MissingParameter.PolicyDocument'),
  bad('CreatePolicy', 'a PolicyDocument over 6144 characters', { PolicyDocument: DOC + ' '.repeat(6145) }, 'InvalidParameter.PolicyDocument.Length'),
  bad('CreatePolicy', 'a Principal in a permission policy', { PolicyDocument: JSON.stringify({ Version: '1', Statement: [{ Effect: 'Allow', Action: 'ram:*', Resource: '*', Principal: { RAM: '*' } }] }) }, 'MalformedPolicyDocument', /Statement\[0\]\.Principal: not allowed in a permission policy/),
  bad('CreatePolicy', 'a statement without Resource', { PolicyDocument: JSON.stringify({ Version: '1', Statement: [{ Effect: 'Allow', Action: 'ram:*' }] }) }, 'MalformedPolicyDocument', /Statement\[0\]: must contain Resource or NotResource/),
  bad('CreatePolicy', 'an action without a service prefix', { PolicyDocument: JSON.stringify({ Version: '1', Statement: [{ Effect: 'Allow', Action: 'GetRole', Resource: '*' }] }) }, 'MalformedPolicyDocument', /Statement\[0\]\.Action/),
  bad('CreatePolicy', 'a bad Effect in the second statement', { PolicyDocument: JSON.stringify({ Version: '1', Statement: [{ Effect: 'Allow', Action: 'ram:*', Resource: '*' }, { Effect: 'allow', Action: 'ram:*', Resource: '*' }] }) }, 'MalformedPolicyDocument', /Statement\[1\]\.Effect: must be "Allow" or "Deny"/),
  bad('CreatePolicy', 'an unparseable date', { PolicyDocument: JSON.stringify({ Version: '1', Statement: [{ Effect: 'Allow', Action: 'ram:*', Resource: '*', Condition: { DateLessThan: { 'acs:CurrentTime': 'tomorrow' } } }] }) }, 'MalformedPolicyDocument', /Statement\[0\]\.Condition\.DateLessThan\.acs:CurrentTime/),
  bad('CreatePolicy', 'an empty Statement list', { PolicyDocument: '{"Version":"1","Statement":[]}' }, 'MalformedPolicyDocument', /Statement: must contain at least one statement/),
]

const otherCases: Case[] = [
  bad('CreateRole', 'a missing AssumeRolePolicyDocument', { AssumeRolePolicyDocument: undefined }, 'MissingParameter.AssumeRolePolicyDocument'),
  bad('CreateRole', 'a 1025-character Description', { Description: 'd'.repeat(1025) }, 'InvalidParameter.Description.Length'),
  bad('CreatePolicy', 'a 1025-character Description', { Description: 'd'.repeat(1025) }, 'InvalidParameter.Description.Length'),
  bad('UpdateRole', 'a 1025-character NewDescription', { NewDescription: 'd'.repeat(1025) }, 'InvalidParameter.NewDescription.Length'),
  ...(
    [
      ['CreateRole', 'MaxSessionDuration'],
      ['UpdateRole', 'NewMaxSessionDuration'],
    ] as const
  ).flatMap(([action, param]) => [
    bad(action, `${param} 3599`, { [param]: '3599' }, `InvalidParameter.${param}.Value`),
    bad(action, `${param} 43201`, { [param]: '43201' }, `InvalidParameter.${param}.Value`),
    bad(action, `${param} "one hour"`, { [param]: 'one hour' }, `InvalidParameter.${param}.Format`),
    bad(action, `${param} 3600.5`, { [param]: '3600.5' }, `InvalidParameter.${param}.Format`),
  ]),
  ...(['ListRoles', 'ListPolicies'] as Action[]).flatMap((action) => [
    bad(action, 'MaxItems 0', { MaxItems: '0' }, 'InvalidParameter.MaxItems.Value'),
    bad(action, 'MaxItems 1001', { MaxItems: '1001' }, 'InvalidParameter.MaxItems.Value'),
    bad(action, 'MaxItems "ten"', { MaxItems: 'ten' }, 'InvalidParameter.MaxItems.Format'),
    bad(action, 'a Marker that is not base64url', { Marker: 'not a marker!' }, 'InvalidParameter.Marker.Format'),
    bad(action, 'a Marker of another shape', { Marker: Buffer.from('{"x":"y"}').toString('base64url') }, 'InvalidParameter.Marker.Format'),
    bad(action, 'a Marker holding an array', { Marker: Buffer.from('[1]').toString('base64url') }, 'InvalidParameter.Marker.Format'),
  ]),
  bad('ListRoles', 'a Marker holding an upper-case name (keys are lower-case)', { Marker: Buffer.from('{"n":"Existing"}').toString('base64url') }, 'InvalidParameter.Marker.Format'),
  bad('ListPolicies', 'a Marker without a policy type', { Marker: Buffer.from('{"n":"abc"}').toString('base64url') }, 'InvalidParameter.Marker.Format'),
  bad('ListPolicies', 'a Marker with an unknown policy type', { Marker: Buffer.from('{"t":"Other","n":"abc"}').toString('base64url') }, 'InvalidParameter.Marker.Format'),
]

const tags = (list: unknown) => JSON.stringify(list)
const TAG_ACTIONS: Action[] = ['CreateRole', 'ListRoles', 'CreatePolicy', 'ListPolicies']
const tagCases: Case[] = TAG_ACTIONS.flatMap((action) => [
  bad(action, 'a Tag that is not JSON', { Tag: '[{Key:team}]' }, 'InvalidParameter.Tag.Format'),
  bad(action, 'a Tag object instead of an array', { Tag: tags({ Key: 'team', Value: 'a' }) }, 'InvalidParameter.Tag.Format'),
  bad(action, 'a Tag item that is not an object', { Tag: tags(['team']) }, 'InvalidParameter.Tag.Format'),
  bad(action, 'a Tag item without Key', { Tag: tags([{ Value: 'a' }]) }, 'InvalidParameter.Tag.Format'),
  bad(action, 'a numeric Tag Value', { Tag: tags([{ Key: 'n', Value: 1 }]) }, 'InvalidParameter.Tag.Format'),
  bad(action, 'an unknown Tag field', { Tag: tags([{ Key: 'k', Value: 'v', Colour: 'red' }]) }, 'InvalidParameter.Tag.Format'),
  bad(action, 'a repeated Tag key', { Tag: tags([{ Key: 'k', Value: 'a' }, { Key: 'k', Value: 'b' }]) }, 'InvalidParameter.Tag.Format'),
  bad(action, '21 tags', { Tag: tags(Array.from({ length: 21 }, (_, i) => ({ Key: `k${i}`, Value: 'v' }))) }, 'InvalidParameter.Tag.Length'),
  bad(action, 'an empty Tag key', { Tag: tags([{ Key: '', Value: 'v' }]) }, 'InvalidParameter.Tag.Key.Length'),
  bad(action, 'a 129-character Tag key', { Tag: tags([{ Key: 'k'.repeat(129), Value: 'v' }]) }, 'InvalidParameter.Tag.Key.Length'),
  bad(action, 'a 129-character Tag value', { Tag: tags([{ Key: 'k', Value: 'v'.repeat(129) }]) }, 'InvalidParameter.Tag.Value.Length'),
  bad(action, 'a Tag key starting with "aliyun"', { Tag: tags([{ Key: 'aliyun:owner', Value: 'v' }]) }, 'InvalidParameter.Tag.Key.Format'),
  bad(action, 'a Tag key starting with "acs:"', { Tag: tags([{ Key: 'acs:owner', Value: 'v' }]) }, 'InvalidParameter.Tag.Key.Format'),
])

/** Well-formed requests the stored state refuses: each a specific 404/409 that writes nothing. */
const stateCases: Case[] = [
  bad('CreateRole', 'an existing role name', { RoleName: 'existing' }, 'EntityAlreadyExists.Role', undefined, 409),
  bad('CreateRole', 'an existing role name in another case', { RoleName: 'EXISTING' }, 'EntityAlreadyExists.Role', undefined, 409),
  bad('GetRole', 'a missing role', { RoleName: 'ghost' }, 'EntityNotExist.Role', undefined, 404),
  bad('UpdateRole', 'a missing role', { RoleName: 'ghost' }, 'EntityNotExist.Role', undefined, 404),
  bad('DeleteRole', 'a missing role', { RoleName: 'ghost' }, 'EntityNotExist.Role', undefined, 404),
  bad('DeleteRole', 'a role with attached policies', { RoleName: 'existing' }, 'DeleteConflict.Role.Policy', undefined, 409),
  bad('CreatePolicy', 'an existing policy name', { PolicyName: 'existing-policy' }, 'EntityAlreadyExists.Policy', undefined, 409),
  bad('CreatePolicy', 'a system policy name', { PolicyName: 'AliyunSTSAssumeRoleAccess' }, 'EntityAlreadyExists.Policy', undefined, 409),
  bad('GetPolicy', 'a missing policy', { PolicyName: 'ghost' }, 'EntityNotExist.Policy', undefined, 404),
  bad('DeletePolicy', 'a missing policy', { PolicyName: 'ghost' }, 'EntityNotExist.Policy', undefined, 404),
  bad('DeletePolicy', 'an attached policy', { PolicyName: 'attached-policy' }, 'DeleteConflict.Policy.Role', undefined, 409),
  bad('DeletePolicy', 'a system policy', { PolicyName: 'AliyunRAMFullAccess' }, 'DeleteConflict.Policy.System', undefined, 409),
  // System policy names are case-sensitive (GetPolicy and AttachPolicyToRole read them so): another
  // spelling names no system policy, and no custom one either, since CreatePolicy reserves every spelling.
  bad('DeletePolicy', 'a system policy name in another case', { PolicyName: 'aliyunramfullaccess' }, 'EntityNotExist.Policy', /policy "aliyunramfullaccess" does not exist/, 404),
  bad('GetPolicy', 'a system policy name in another case', { PolicyType: 'System', PolicyName: 'aliyunramfullaccess' }, 'EntityNotExist.Policy', undefined, 404),
  bad('CreatePolicy', 'a system policy name in another case', { PolicyName: 'aliyunstsassumeroleaccess' }, 'EntityAlreadyExists.Policy', undefined, 409),
  bad('AttachPolicyToRole', 'a missing role', { RoleName: 'ghost' }, 'EntityNotExist.Role', undefined, 404),
  bad('AttachPolicyToRole', 'a missing custom policy', { PolicyName: 'ghost' }, 'EntityNotExist.Policy', undefined, 404),
  bad('AttachPolicyToRole', 'a missing system policy', { PolicyType: 'System', PolicyName: 'AliyunGhostAccess' }, 'EntityNotExist.Policy', undefined, 404),
  bad('AttachPolicyToRole', 'a policy already attached', { PolicyName: 'attached-policy' }, 'EntityAlreadyExists.Role.Policy', undefined, 409),
  bad('DetachPolicyFromRole', 'a policy not attached', { PolicyType: 'Custom', PolicyName: 'existing-policy' }, 'EntityNotExist.Role.Policy', undefined, 404),
  bad('DetachPolicyFromRole', 'a missing role', { RoleName: 'ghost' }, 'EntityNotExist.Role', undefined, 404),
  bad('ListPoliciesForRole', 'a missing role', { RoleName: 'ghost' }, 'EntityNotExist.Role', undefined, 404),
]

const STACK_TRACE = /\bat [\w.<>]+ \(|node_modules|\.ts:\d+/

/** Everything a write could change, as the API shows it, plus the quota counters. */
async function storedState() {
  const roles = (await svc.call('ListRoles', RAM, { MaxItems: 1000 })).body.Roles.Role as { RoleName: string }[]
  const details = await Promise.all(
    roles.map(async (r) => ({
      role: (await svc.call('GetRole', RAM, { RoleName: r.RoleName })).body.Role,
      policies: (await svc.call('ListPoliciesForRole', RAM, { RoleName: r.RoleName })).body.Policies.Policy,
    })),
  )
  const policies = (await svc.call('ListPolicies', RAM, { MaxItems: 1000 })).body.Policies.Policy
  const accountItem = (await svc.stores.accounts.getAccount(account)) as { roleCount?: number; policyCount?: number } | undefined
  return { roles, details, policies, roleCount: accountItem?.roleCount, policyCount: accountItem?.policyCount }
}

let baseline: Awaited<ReturnType<typeof storedState>>

beforeAll(async () => {
  svc = await startTestService()
  account = svc.root.AccountId
  const setup: [Action, Record<string, string>][] = [
    ['CreateRole', { RoleName: 'existing', AssumeRolePolicyDocument: trustFor(account), Tag: tags([{ Key: 'team', Value: 'a' }]) }],
    ['CreateRole', { RoleName: 'other', AssumeRolePolicyDocument: trustFor(account) }],
    ['CreatePolicy', { PolicyName: 'existing-policy', PolicyDocument: DOC }],
    ['CreatePolicy', { PolicyName: 'other-policy', PolicyDocument: DOC }],
    ['CreatePolicy', { PolicyName: 'attached-policy', PolicyDocument: DOC }],
    ['AttachPolicyToRole', { RoleName: 'existing', PolicyType: 'Custom', PolicyName: 'attached-policy' }],
    ['AttachPolicyToRole', { RoleName: 'existing', PolicyType: 'System', PolicyName: 'AliyunRAMReadOnlyAccess' }],
  ]
  for (const [action, params] of setup) expect((await svc.call(action, RAM, params)).status, action).toBe(200)
  baseline = await storedState()
  expect(baseline.roleCount).toBe(2)
  expect(baseline.policyCount).toBe(3)
})
afterAll(async () => { await svc?.close() })

describe.each([
  ['RoleName', roleNameCases],
  ['PolicyName', policyNameCases],
  ['PolicyType', policyTypeCases],
  ['AssumeRolePolicyDocument', trustDocumentCases('CreateRole', 'AssumeRolePolicyDocument')],
  ['NewAssumeRolePolicyDocument', trustDocumentCases('UpdateRole', 'NewAssumeRolePolicyDocument')],
  ['PolicyDocument', permissionDocumentCases],
  ['Description, MaxSessionDuration, MaxItems, Marker', otherCases],
  ['Tag', tagCases],
  ['stored state', stateCases],
])('rejects bad %s without writing anything', (_group, cases) => {
  it.each(cases)('$action rejects $what with $code', async (c) => {
    const res = await svc.call(c.action, RAM, paramsFor(c))
    expect(res.status).toBe(c.status)
    expect(res.body.Code).toBe(c.code)
    expect(res.body.RequestId).toMatch(/^[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}$/)
    expect(res.body.Recommend).toContain(`q=${encodeURIComponent(c.code)}`)
    expect(typeof res.body.Message).toBe('string')
    if (c.message) expect(res.body.Message).toMatch(c.message)
    expect(JSON.stringify(res.body)).not.toMatch(STACK_TRACE)
    expect(await storedState()).toEqual(baseline)
  })
})

describe('accepts the boundaries of the rules', () => {
  it('creates roles named with 1 and 64 characters, and a policy named with 128', async () => {
    for (const name of ['a', `A.-9${'b'.repeat(60)}`]) {
      const res = await svc.call('CreateRole', RAM, { RoleName: name, AssumeRolePolicyDocument: trustFor(account), MaxSessionDuration: 43200, Description: 'd'.repeat(1024) })
      expect(res.status, name).toBe(200)
      expect(res.body.Role.MaxSessionDuration).toBe(43200)
      expect((await svc.call('DeleteRole', RAM, { RoleName: name })).status).toBe(200)
    }
    const long = `P-${'x'.repeat(126)}`
    expect((await svc.call('CreatePolicy', RAM, { PolicyName: long, PolicyDocument: DOC })).status).toBe(200)
    expect((await svc.call('DeletePolicy', RAM, { PolicyName: long })).status).toBe(200)
  })

  it('accepts 20 tags with 128-character keys and values, and a trust document of exactly 4096 characters', async () => {
    const twenty = tags(Array.from({ length: 20 }, (_, i) => ({ Key: `${i}`.padEnd(128, 'k'), Value: 'v'.repeat(128) })))
    const doc = trustFor(account)
    const padded = doc + ' '.repeat(4096 - doc.length)
    const res = await svc.call('CreateRole', RAM, { RoleName: 'tagged', AssumeRolePolicyDocument: padded, Tag: twenty })
    expect(res.status).toBe(200)
    expect((await svc.call('DeleteRole', RAM, { RoleName: 'tagged' })).status).toBe(200)
    expect(await storedState()).toEqual(baseline)
  })
})

describe('the valid parameters the cases start from', () => {
  it('succeed for every action (so each case above differs from a success only by its change)', async () => {
    const order: Action[] = [
      'CreateRole',
      'GetRole',
      'ListRoles',
      'UpdateRole',
      'CreatePolicy',
      'GetPolicy',
      'ListPolicies',
      'AttachPolicyToRole',
      'DetachPolicyFromRole',
      'ListPoliciesForRole',
      'DeletePolicy',
      'DeleteRole',
    ]
    const params = valid()
    for (const action of order) {
      const res = await svc.call(action, RAM, params[action])
      expect(res.status, `${action}: ${JSON.stringify(res.body)}`).toBe(200)
    }
  })
})
