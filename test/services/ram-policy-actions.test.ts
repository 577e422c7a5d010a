// RAM permission policies through signed calls (app.inject): custom policy lifecycle with the §4.2
// shapes, the shipped system policies, attachments and their error codes.

import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { listItemBytes } from '../../shared/services/list-page.ts'
import { namesPagedBySize, type SizePagedList } from '../support/list-pages.ts'
import { startTestService, type TestService } from '../support/service.ts'

const RAM = '2015-05-01'
const UTC = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/
const SYSTEM_NAMES = ['AliyunRAMFullAccess', 'AliyunRAMReadOnlyAccess', 'AliyunSTSAssumeRoleAccess']

let svc: TestService

const doc = (action: string | string[] = 'ram:Get*', extra: Record<string, unknown> = {}) =>
  JSON.stringify({ Version: '1', Statement: [{ Effect: 'Allow', Action: action, Resource: '*', ...extra }] })

const createRole = (name: string) =>
  svc.call('CreateRole', RAM, {
    RoleName: name,
    AssumeRolePolicyDocument: JSON.stringify({
      Version: '1',
      Statement: [{ Effect: 'Allow', Action: 'sts:AssumeRole', Principal: { Federated: `acs:ram::${svc.root.AccountId}:oidc-provider/p` } }],
    }),
  })
const createPolicy = (name: string, extra: Record<string, string> = {}) => svc.call('CreatePolicy', RAM, { PolicyName: name, PolicyDocument: doc(), ...extra })
const attach = (role: string, type: string, name: string) => svc.call('AttachPolicyToRole', RAM, { RoleName: role, PolicyType: type, PolicyName: name })
const detach = (role: string, type: string, name: string) => svc.call('DetachPolicyFromRole', RAM, { RoleName: role, PolicyType: type, PolicyName: name })
const policiesFor = async (role: string) => (await svc.call('ListPoliciesForRole', RAM, { RoleName: role })).body.Policies.Policy as Record<string, unknown>[]

beforeAll(async () => { svc = await startTestService() })
afterAll(async () => { await svc?.close() })

describe('custom policy lifecycle', () => {
  it('creates a policy with the §4.2 shape and reads it back with DefaultPolicyVersion holding the normalised document', async () => {
    const created = await createPolicy('ReadOnly-Roles', { Description: 'read roles', PolicyDocument: doc('ram:GetRole', { Condition: { IpAddress: { 'acs:SourceIp': '10.0.0.0/8' } } }) })
    expect(created.status).toBe(200)
    expect(created.body.Policy).toEqual({
      PolicyName: 'ReadOnly-Roles',
      PolicyType: 'Custom',
      Description: 'read roles',
      DefaultVersion: 'v1',
      CreateDate: expect.stringMatching(UTC),
    })
    const got = await svc.call('GetPolicy', RAM, { PolicyName: 'ReadOnly-Roles', PolicyType: 'Custom' })
    expect(got.status).toBe(200)
    const normalised = JSON.stringify({
      Version: '1',
      Statement: [{ Effect: 'Allow', Action: ['ram:GetRole'], Resource: ['*'], Condition: { IpAddress: { 'acs:SourceIp': ['10.0.0.0/8'] } } }],
    })
    expect(got.body.Policy).toEqual({
      PolicyName: 'ReadOnly-Roles',
      PolicyType: 'Custom',
      Description: 'read roles',
      DefaultVersion: 'v1',
      CreateDate: created.body.Policy.CreateDate,
      UpdateDate: expect.stringMatching(UTC),
      AttachmentCount: 0,
      PolicyDocument: normalised,
    })
    expect(got.body.DefaultPolicyVersion).toEqual({ VersionId: 'v1', IsDefaultVersion: true, PolicyDocument: normalised, CreateDate: created.body.Policy.CreateDate })
  })

  it('refuses a duplicate name, and any name of a system policy in any case, with EntityAlreadyExists.Policy', async () => {
    await createPolicy('dup')
    for (const name of ['dup', 'AliyunRAMFullAccess', 'aliyunramfullaccess']) {
      const res = await createPolicy(name)
      expect(res.status, name).toBe(409)
      expect(res.body.Code).toBe('EntityAlreadyExists.Policy')
    }
  })

  it('treats policy names as case-sensitive (a policy differing only in case is another policy)', async () => {
    await createPolicy('CaseP')
    expect((await createPolicy('casep')).status).toBe(200)
    expect((await svc.call('GetPolicy', RAM, { PolicyName: 'CASEP', PolicyType: 'Custom' })).body.Code).toBe('EntityNotExist.Policy')
  })

  it('deletes an unattached custom policy; a second delete and a get answer EntityNotExist.Policy', async () => {
    await createPolicy('doomed')
    expect((await svc.call('DeletePolicy', RAM, { PolicyName: 'doomed' })).status).toBe(200)
    for (const res of [await svc.call('DeletePolicy', RAM, { PolicyName: 'doomed' }), await svc.call('GetPolicy', RAM, { PolicyName: 'doomed', PolicyType: 'Custom' })]) {
      expect(res.status).toBe(404)
      expect(res.body.Code).toBe('EntityNotExist.Policy')
    }
  })

  it('refuses DeletePolicy while the policy is attached (DeleteConflict.Policy.Role), and allows it after the detach', async () => {
    await createRole('holder')
    await createPolicy('held')
    expect((await attach('holder', 'Custom', 'held')).status).toBe(200)
    const refused = await svc.call('DeletePolicy', RAM, { PolicyName: 'held' })
    expect(refused.status).toBe(409)
    expect(refused.body.Code).toBe('DeleteConflict.Policy.Role')
    expect((await svc.call('GetPolicy', RAM, { PolicyName: 'held', PolicyType: 'Custom' })).body.Policy.AttachmentCount).toBe(1)
    expect((await detach('holder', 'Custom', 'held')).status).toBe(200)
    expect((await svc.call('DeletePolicy', RAM, { PolicyName: 'held' })).status).toBe(200)
  })
})

describe('system policies', () => {
  it('GetPolicy with PolicyType System returns each shipped policy and its document', async () => {
    const expected: Record<string, unknown> = {
      AliyunRAMFullAccess: { Effect: 'Allow', Action: ['ram:*'], Resource: ['*'] },
      AliyunRAMReadOnlyAccess: { Effect: 'Allow', Action: ['ram:Get*', 'ram:List*'], Resource: ['*'] },
      AliyunSTSAssumeRoleAccess: { Effect: 'Allow', Action: ['sts:AssumeRole'], Resource: ['*'] },
    }
    for (const name of SYSTEM_NAMES) {
      const res = await svc.call('GetPolicy', RAM, { PolicyName: name, PolicyType: 'System' })
      expect(res.status, name).toBe(200)
      expect(res.body.Policy).toMatchObject({ PolicyName: name, PolicyType: 'System', DefaultVersion: 'v1' })
      expect(res.body.Policy.Description).not.toBe('')
      expect(JSON.parse(res.body.DefaultPolicyVersion.PolicyDocument)).toEqual({ Version: '1', Statement: [expected[name]] })
    }
  })

  it('a system name asked for as Custom (or a custom name as System) is EntityNotExist.Policy', async () => {
    await createPolicy('only-custom')
    for (const [name, type] of [['AliyunRAMFullAccess', 'Custom'], ['only-custom', 'System'], ['AliyunNoSuchAccess', 'System']]) {
      const res = await svc.call('GetPolicy', RAM, { PolicyName: name!, PolicyType: type! })
      expect(res.status).toBe(404)
      expect(res.body.Code).toBe('EntityNotExist.Policy')
    }
  })

  it('refuses to delete a system policy with DeleteConflict.Policy.System', async () => {
    const res = await svc.call('DeletePolicy', RAM, { PolicyName: 'AliyunRAMFullAccess' })
    expect(res.status).toBe(409)
    expect(res.body.Code).toBe('DeleteConflict.Policy.System')
    expect((await svc.call('GetPolicy', RAM, { PolicyName: 'AliyunRAMFullAccess', PolicyType: 'System' })).status).toBe(200)
  })

  it('counts a system policy\'s attachments in this account', async () => {
    await createRole('sys-a')
    await createRole('sys-b')
    expect((await attach('sys-a', 'System', 'AliyunSTSAssumeRoleAccess')).status).toBe(200)
    expect((await attach('sys-b', 'System', 'AliyunSTSAssumeRoleAccess')).status).toBe(200)
    const count = async () => (await svc.call('GetPolicy', RAM, { PolicyName: 'AliyunSTSAssumeRoleAccess', PolicyType: 'System' })).body.Policy.AttachmentCount
    expect(await count()).toBe(2)
    await detach('sys-a', 'System', 'AliyunSTSAssumeRoleAccess')
    expect(await count()).toBe(1)
  })
})

describe('attachments', () => {
  beforeAll(async () => {
    expect((await createRole('Worker')).status).toBe(200)
    expect((await createPolicy('worker-read', { Description: 'worker reads' })).status).toBe(200)
  })

  it('attaches system and custom policies and lists them with AttachDate; the role name matches in any case', async () => {
    expect((await attach('worker', 'Custom', 'worker-read')).status).toBe(200)
    expect((await attach('WORKER', 'System', 'AliyunRAMReadOnlyAccess')).status).toBe(200)
    const listed = await policiesFor('Worker')
    // Custom before System, each in name order (the attachment key order).
    expect(listed).toEqual([
      { PolicyName: 'worker-read', PolicyType: 'Custom', Description: 'worker reads', DefaultVersion: 'v1', AttachDate: expect.stringMatching(UTC) },
      { PolicyName: 'AliyunRAMReadOnlyAccess', PolicyType: 'System', Description: expect.any(String), DefaultVersion: 'v1', AttachDate: expect.stringMatching(UTC) },
    ])
  })

  it('refuses a second attach of the same policy with EntityAlreadyExists.Role.Policy', async () => {
    for (const [type, name] of [['Custom', 'worker-read'], ['System', 'AliyunRAMReadOnlyAccess']]) {
      const res = await attach('worker', type!, name!)
      expect(res.status).toBe(409)
      expect(res.body.Code).toBe('EntityAlreadyExists.Role.Policy')
    }
    expect(await policiesFor('worker')).toHaveLength(2)
  })

  it('names the missing part when attaching: EntityNotExist.Role first, then EntityNotExist.Policy', async () => {
    const cases: [string, string, string, string][] = [
      ['ghost-role', 'Custom', 'worker-read', 'EntityNotExist.Role'],
      ['ghost-role', 'System', 'AliyunNoSuchAccess', 'EntityNotExist.Role'],
      ['ghost-role', 'Custom', 'ghost-policy', 'EntityNotExist.Role'],
      ['worker', 'Custom', 'ghost-policy', 'EntityNotExist.Policy'],
      ['worker', 'System', 'AliyunNoSuchAccess', 'EntityNotExist.Policy'],
      ['worker', 'Custom', 'AliyunRAMFullAccess', 'EntityNotExist.Policy'],
    ]
    for (const [role, type, name, code] of cases) {
      const res = await attach(role, type, name)
      expect(res.status, `${role} ${type} ${name}`).toBe(404)
      expect(res.body.Code, `${role} ${type} ${name}`).toBe(code)
    }
    expect(await policiesFor('worker')).toHaveLength(2)
  })

  it('names the missing part when detaching: EntityNotExist.Role, EntityNotExist.Policy, EntityNotExist.Role.Policy', async () => {
    await createPolicy('never-attached')
    const cases: [string, string, string, string][] = [
      ['ghost-role', 'Custom', 'worker-read', 'EntityNotExist.Role'],
      ['worker', 'Custom', 'ghost-policy', 'EntityNotExist.Policy'],
      ['worker', 'System', 'AliyunNoSuchAccess', 'EntityNotExist.Policy'],
      ['worker', 'Custom', 'never-attached', 'EntityNotExist.Role.Policy'],
      ['worker', 'System', 'AliyunRAMFullAccess', 'EntityNotExist.Role.Policy'],
      ['worker', 'System', 'worker-read', 'EntityNotExist.Policy'],
    ]
    for (const [role, type, name, code] of cases) {
      const res = await detach(role, type, name)
      expect(res.status, `${role} ${type} ${name}`).toBe(404)
      expect(res.body.Code, `${role} ${type} ${name}`).toBe(code)
    }
    expect(await policiesFor('worker')).toHaveLength(2)
  })

  it('detaches, leaving the other attachment and the counts consistent', async () => {
    expect((await detach('Worker', 'Custom', 'worker-read')).status).toBe(200)
    expect((await policiesFor('worker')).map((p) => p.PolicyName)).toEqual(['AliyunRAMReadOnlyAccess'])
    expect((await svc.call('GetPolicy', RAM, { PolicyName: 'worker-read', PolicyType: 'Custom' })).body.Policy.AttachmentCount).toBe(0)
    const again = await detach('worker', 'Custom', 'worker-read')
    expect(again.body.Code).toBe('EntityNotExist.Role.Policy')
  })

  it('ListPoliciesForRole of a missing role answers EntityNotExist.Role', async () => {
    const res = await svc.call('ListPoliciesForRole', RAM, { RoleName: 'ghost-role' })
    expect(res.status).toBe(404)
    expect(res.body.Code).toBe('EntityNotExist.Role')
  })
})

describe('ListPolicies', () => {
  let lister: TestService
  const call = (params: Record<string, string | number> = {}) => lister.call('ListPolicies', RAM, params)
  const names = (res: { body: Record<string, any> }) => (res.body.Policies.Policy as { PolicyName: string }[]).map((p) => p.PolicyName) // eslint-disable-line @typescript-eslint/no-explicit-any

  beforeAll(async () => {
    lister = await startTestService()
    for (const [name, tags] of [['c-one', [{ Key: 'team', Value: 'a' }]], ['b-two', []], ['a-three', [{ Key: 'team', Value: 'b' }]]] as const) {
      const res = await lister.call('CreatePolicy', RAM, { PolicyName: name, PolicyDocument: doc(), ...(tags.length ? { Tag: JSON.stringify(tags) } : {}) })
      expect(res.status).toBe(200)
    }
  })
  afterAll(async () => { await lister?.close() })

  it('lists system policies first, then custom ones, each in name order, with the list-item shape', async () => {
    const res = await call()
    expect(res.status).toBe(200)
    expect(res.body.IsTruncated).toBe(false)
    expect(names(res)).toEqual([...SYSTEM_NAMES, 'a-three', 'b-two', 'c-one'])
    const custom = (res.body.Policies.Policy as Record<string, unknown>[])[3]
    expect(custom).toEqual({
      PolicyName: 'a-three',
      PolicyType: 'Custom',
      Description: '',
      DefaultVersion: 'v1',
      CreateDate: expect.stringMatching(UTC),
      UpdateDate: expect.stringMatching(UTC),
      AttachmentCount: 0,
      Tags: { Tag: [{ TagKey: 'team', TagValue: 'b' }] },
    })
  })

  it('filters by PolicyType', async () => {
    expect(names(await call({ PolicyType: 'System' }))).toEqual(SYSTEM_NAMES)
    expect(names(await call({ PolicyType: 'Custom' }))).toEqual(['a-three', 'b-two', 'c-one'])
  })

  it('filters by Tag (custom policies only: system policies carry no tags)', async () => {
    expect(names(await call({ Tag: JSON.stringify([{ Key: 'team' }]) }))).toEqual(['a-three', 'c-one'])
    expect(names(await call({ Tag: JSON.stringify([{ Key: 'team', Value: 'a' }]) }))).toEqual(['c-one'])
  })

  it.each([1, 2, 3, 4, 5, 6])('pages across system and custom policies with MaxItems %i, each policy once', async (maxItems) => {
    const seen: string[] = []
    let marker: string | undefined
    for (let i = 0; i < 10; i++) {
      const res = await call({ MaxItems: maxItems, ...(marker ? { Marker: marker } : {}) })
      expect(res.status).toBe(200)
      expect(names(res).length).toBeLessThanOrEqual(maxItems)
      seen.push(...names(res))
      marker = res.body.IsTruncated ? res.body.Marker : undefined
      if (!marker) break
    }
    expect(marker).toBeUndefined()
    expect(seen).toEqual([...SYSTEM_NAMES, 'a-three', 'b-two', 'c-one'])
  })

  it('cuts a page by size too (list-page.ts), across system and custom policies: within the bound, at least one policy, the Marker continuing right after the last one sent', async () => {
    const all = (await call()).body.Policies.Policy as { PolicyName: string }[]
    const sizes = all.map(listItemBytes)
    const prefix = (n: number) => sizes.slice(0, n).reduce((a, b) => a + b, 0)
    // Bounds around every page boundary (between system policies, between the last system and the
    // first custom one, between custom ones), one smaller than any policy, and MaxItems with them.
    const bounds = [1, ...[1, 2, 3, 4, 5].flatMap((n) => [prefix(n) - 1, prefix(n), prefix(n) + 1])]
    const listPolicies: SizePagedList = { action: 'ListPolicies', version: RAM, items: (body) => body.Policies.Policy, name: 'PolicyName' }
    for (const [bytes, maxItems] of [...bounds.map((b) => [b, 100]), [prefix(4), 2], [prefix(5), 4], [prefix(2), 3]] as const) {
      const seen = await namesPagedBySize(lister, listPolicies, { bytes, maxItems, sizes })
      expect(seen, `bound ${bytes}, MaxItems ${maxItems}`).toEqual([...SYSTEM_NAMES, 'a-three', 'b-two', 'c-one'])
    }
  })

  it('a page exactly filled by system policies says IsTruncated only when custom ones follow', async () => {
    expect((await call({ MaxItems: 3 })).body.IsTruncated).toBe(true)
    expect((await call({ MaxItems: 3, PolicyType: 'System' })).body.IsTruncated).toBe(false)
    const empty = await startTestService()
    try {
      const res = await empty.call('ListPolicies', RAM, { MaxItems: 3 })
      expect(res.body.IsTruncated).toBe(false)
      expect(res.body).not.toHaveProperty('Marker')
    } finally {
      await empty.close()
    }
  })
})
