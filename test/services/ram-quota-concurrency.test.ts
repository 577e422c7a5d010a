// RAM quotas and their atomicity under concurrency, on the real DynamoDB Local engine: the per-role
// policy quota through the API at its real value (20), the account quotas through stores with small
// injected limits, and races between attach and the deletes that must never leave a dangling attachment.

import { GetCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb'
import { QueryCommand } from 'dynamodb-toolbox'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ApiError } from '../../shared/errors.ts'
import { generateAccountId } from '../../shared/services/accounts.ts'
import { generateRoleId } from '../../shared/services/ram-role-actions.ts'
import { AttachmentStore } from '../../shared/store/attachment-store.ts'
import { PolicyStore } from '../../shared/store/policy-store.ts'
import { RoleStore } from '../../shared/store/role-store.ts'
import { accountPk, type StoreTable } from '../../shared/store/table.ts'
import { RAM_LIMITS } from '../../shared/validation/ram-rules.ts'
import { startTestService, type TestService } from '../support/service.ts'
import { createTestTable } from '../support/store.ts'

const RAM = '2015-05-01'
const TRUST = '{"Version":"1","Statement":[{"Effect":"Allow","Action":["sts:AssumeRole"],"Principal":{"Federated":["acs:ram::1000000000000001:oidc-provider/p"]}}]}'
const DOC = '{"Version":"1","Statement":[{"Effect":"Allow","Action":["ram:Get*"],"Resource":["*"]}]}'

/** The code a store call failed with, or 'ok'. */
const outcome = (p: Promise<unknown>) =>
  p.then(
    () => 'ok',
    (e: unknown) => (e instanceof ApiError ? e.code : `unexpected: ${String(e)}`),
  )
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
const tally = (codes: string[]) => codes.reduce<Record<string, number>>((acc, c) => ({ ...acc, [c]: (acc[c] ?? 0) + 1 }), {})

async function allAttachments(t: StoreTable, accountId: string) {
  const { Items } = await t.table.build(QueryCommand)
    .entities(t.AttachmentEntity)
    .query({ partition: accountPk(accountId), range: { beginsWith: 'ATTACH#' } })
    .options({ consistent: true })
    .send()
  return Items ?? []
}

const newRole = (accountId: string, roleName: string) => ({
  accountId,
  roleName,
  description: '',
  trustPolicy: TRUST,
  maxSessionDuration: 3600,
  tags: [],
  createdAt: Date.now(),
  updatedAt: Date.now(),
})
const newPolicy = (accountId: string, policyName: string) => ({
  accountId,
  policyName,
  description: '',
  document: DOC,
  tags: [],
  createdAt: Date.now(),
  updatedAt: Date.now(),
})

describe('per-role policy quota through the API', () => {
  let svc: TestService
  beforeAll(async () => { svc = await startTestService() })
  afterAll(async () => { await svc?.close() })

  it(`30 concurrent AttachPolicyToRole calls to one role: exactly ${RAM_LIMITS.policiesPerRole} succeed, the rest get LimitExceeded.Role.Policy`, async () => {
    expect(RAM_LIMITS.policiesPerRole).toBe(20)
    const trust = JSON.stringify({ Version: '1', Statement: [{ Effect: 'Allow', Action: 'sts:AssumeRole', Principal: { Federated: `acs:ram::${svc.root.AccountId}:oidc-provider/p` } }] })
    expect((await svc.call('CreateRole', RAM, { RoleName: 'crowded', AssumeRolePolicyDocument: trust })).status).toBe(200)
    const names = Array.from({ length: 30 }, (_, i) => `p-${String(i).padStart(2, '0')}`)
    for (const name of names) expect((await svc.call('CreatePolicy', RAM, { PolicyName: name, PolicyDocument: DOC })).status).toBe(200)

    const results = await Promise.all(names.map((name) => svc.call('AttachPolicyToRole', RAM, { RoleName: 'crowded', PolicyType: 'Custom', PolicyName: name })))
    expect(tally(results.map((r) => (r.status === 200 ? 'ok' : r.body.Code as string)))).toEqual({ ok: 20, 'LimitExceeded.Role.Policy': 10 })
    expect(results.filter((r) => r.status !== 200).every((r) => r.status === 409)).toBe(true)

    const listed = (await svc.call('ListPoliciesForRole', RAM, { RoleName: 'crowded' })).body.Policies.Policy as { PolicyName: string }[]
    expect(listed).toHaveLength(20)
    expect((await svc.stores.roles.get(svc.root.AccountId, 'crowded'))?.attachmentCount).toBe(20)
    // Each policy's own count agrees with the attachments that exist.
    const attachedNames = new Set(listed.map((p) => p.PolicyName))
    for (const name of names) {
      expect((await svc.stores.policies.get(svc.root.AccountId, name))?.attachmentCount, name).toBe(attachedNames.has(name) ? 1 : 0)
    }
    // A system policy counts towards the same quota.
    const sys = await svc.call('AttachPolicyToRole', RAM, { RoleName: 'crowded', PolicyType: 'System', PolicyName: 'AliyunRAMFullAccess' })
    expect(sys.body.Code).toBe('LimitExceeded.Role.Policy')
    // An already attached policy is reported as such even when the role is full.
    const again = await svc.call('AttachPolicyToRole', RAM, { RoleName: 'crowded', PolicyType: 'Custom', PolicyName: [...attachedNames][0]! })
    expect(again.body.Code).toBe('EntityAlreadyExists.Role.Policy')
  })
})

describe('account quotas, enforced in the create transaction', () => {
  let t: StoreTable
  let documentClient: DynamoDBDocumentClient
  let tableName: string
  beforeAll(async () => { ({ table: t, documentClient, tableName } = await createTestTable('ramquota')) })
  // The raw item: these accounts exist only through their counters (the transaction upserts the item).
  const accountCounter = async (accountId: string, counter: 'roleCount' | 'policyCount') => {
    const { Item } = await documentClient.send(new GetCommand({ TableName: tableName, Key: { pk: accountPk(accountId), sk: 'ACCOUNT' }, ConsistentRead: true }))
    return Item?.[counter] as number | undefined
  }

  it('concurrent CreateRole over a quota of 5: exactly 5 roles exist and the counter says 5', async () => {
    const accountId = generateAccountId()
    const roles = new RoleStore(t, { rolesPerAccount: 5 })
    const codes = await Promise.all(Array.from({ length: 12 }, (_, i) => outcome(roles.create(newRole(accountId, `r${i}`), generateRoleId))))
    expect(tally(codes)).toEqual({ ok: 5, 'LimitExceeded.Role': 7 })
    const page = await roles.list(accountId, 100)
    expect(page.items).toHaveLength(5)
    expect(await accountCounter(accountId, 'roleCount')).toBe(5)
    // Deleting one frees one place, exactly.
    await roles.delete(accountId, page.items[0]!.roleName)
    expect(tally(await Promise.all([outcome(roles.create(newRole(accountId, 'x1'), generateRoleId)), outcome(roles.create(newRole(accountId, 'x2'), generateRoleId))]))).toEqual({
      ok: 1,
      'LimitExceeded.Role': 1,
    })
  })

  it('concurrent CreatePolicy over a quota of 4: exactly 4 custom policies exist', async () => {
    const accountId = generateAccountId()
    const policies = new PolicyStore(t, { customPoliciesPerAccount: 4 })
    const codes = await Promise.all(Array.from({ length: 10 }, (_, i) => outcome(policies.create(newPolicy(accountId, `p${i}`)))))
    expect(tally(codes)).toEqual({ ok: 4, 'LimitExceeded.Policy': 6 })
    expect((await policies.list(accountId, 100)).items).toHaveLength(4)
    expect(await accountCounter(accountId, 'policyCount')).toBe(4)
  })

  it('concurrent CreateRole of one name in different cases: exactly one succeeds and the counter moves by one', async () => {
    const accountId = generateAccountId()
    const roles = new RoleStore(t)
    const names = ['Same', 'same', 'SAME', 'sAmE', 'same', 'Same', 'SaMe', 'samE']
    const codes = await Promise.all(names.map((n) => outcome(roles.create(newRole(accountId, n), generateRoleId))))
    expect(tally(codes)).toEqual({ ok: 1, 'EntityAlreadyExists.Role': 7 })
    expect(await accountCounter(accountId, 'roleCount')).toBe(1)
  })

  it('a RoleId collision draws a new ID instead of failing', async () => {
    const accountId = generateAccountId()
    const roles = new RoleStore(t)
    const first = await roles.create(newRole(accountId, 'first'), generateRoleId)
    const ids = [first.roleId, generateRoleId()]
    const second = await roles.create(newRole(accountId, 'second'), () => ids.shift()!)
    expect(second.roleId).not.toBe(first.roleId)
  })
})

describe('attach racing deletes never leaves a dangling attachment', () => {
  let t: StoreTable
  let roles: RoleStore
  let policies: PolicyStore
  let attachments: AttachmentStore
  beforeAll(async () => {
    ;({ table: t } = await createTestTable('ramrace'))
    roles = new RoleStore(t)
    policies = new PolicyStore(t)
    attachments = new AttachmentStore(t, roles, policies)
  })

  it('AttachPolicyToRole vs DeleteRole: either the delete is refused or every attach finds no role', async () => {
    const accountId = generateAccountId()
    const policyNames = ['a', 'b', 'c']
    for (const p of policyNames) await policies.create(newPolicy(accountId, p))
    const seen = new Set<string>()
    for (let round = 0; round < 12; round++) {
      const roleName = `race-${round}`
      await roles.create(newRole(accountId, roleName), generateRoleId)
      // The delete starts first; the attaches follow after a delay growing with the round, so both
      // orders (and their overlaps) occur.
      const del = outcome(roles.delete(accountId, roleName))
      const attachOutcomes = policyNames.map(async (p, i) => {
        await sleep(round * 2 + i)
        return outcome(attachments.attach(accountId, roleName, 'Custom', p, Date.now()))
      })
      const [deleted, ...attached] = await Promise.all([del, ...attachOutcomes])
      seen.add(deleted!)
      const role = await roles.get(accountId, roleName)
      const left = await attachments.listForRole(accountId, roleName)
      if (deleted === 'ok') {
        expect(role).toBeUndefined()
        expect(left).toEqual([])
        expect(attached.every((c) => c === 'EntityNotExist.Role')).toBe(true)
      } else {
        expect(deleted).toBe('DeleteConflict.Role.Policy')
        expect(role?.attachmentCount).toBe(left.length)
        expect(left.length).toBe(attached.filter((c) => c === 'ok').length)
        expect(left.length).toBeGreaterThan(0)
      }
    }
    expect([...seen].sort()).toEqual(['DeleteConflict.Role.Policy', 'ok'])
    // The policies' counts match the attachments that exist, whatever the interleavings were.
    const all = await allAttachments(t, accountId)
    for (const p of policyNames) {
      expect((await policies.get(accountId, p))?.attachmentCount).toBe(all.filter((a) => a.policyName === p).length)
    }
  }, 90_000)

  it('DeletePolicy vs AttachPolicyToRole: either the delete is refused or no role holds the policy', async () => {
    const accountId = generateAccountId()
    const roleNames = ['r1', 'r2', 'r3', 'r4', 'r5']
    const seen = new Set<string>()
    for (const r of roleNames) await roles.create(newRole(accountId, r), generateRoleId)
    for (let round = 0; round < 12; round++) {
      const policyName = `pol-${round}`
      await policies.create(newPolicy(accountId, policyName))
      const del = outcome(policies.delete(accountId, policyName))
      const attaches = roleNames.map(async (r, i) => {
        await sleep(round * 2 + i)
        return outcome(attachments.attach(accountId, r, 'Custom', policyName, Date.now()))
      })
      const [deleted, ...attached] = await Promise.all([del, ...attaches])
      seen.add(deleted!)
      const holders = (await allAttachments(t, accountId)).filter((a) => a.policyName === policyName)
      const policy = await policies.get(accountId, policyName)
      if (deleted === 'ok') {
        expect(policy).toBeUndefined()
        expect(holders).toEqual([])
        expect(attached.every((c) => c === 'EntityNotExist.Policy')).toBe(true)
      } else {
        expect(deleted).toBe('DeleteConflict.Policy.Role')
        expect(policy?.attachmentCount).toBe(holders.length)
        expect(holders.length).toBe(attached.filter((c) => c === 'ok').length)
      }
    }
    expect([...seen].sort()).toEqual(['DeleteConflict.Policy.Role', 'ok'])
    for (const r of roleNames) {
      expect((await roles.get(accountId, r))?.attachmentCount).toBe((await attachments.listForRole(accountId, r)).length)
    }
  }, 90_000)

  it('concurrent attach and detach of the same pair keep the role and policy counts equal to the attachments', async () => {
    const accountId = generateAccountId()
    await roles.create(newRole(accountId, 'flip'), generateRoleId)
    await policies.create(newPolicy(accountId, 'flop'))
    const ops = Array.from({ length: 20 }, (_, i) =>
      outcome(i % 2 === 0 ? attachments.attach(accountId, 'flip', 'Custom', 'flop', Date.now()) : attachments.detach(accountId, 'flip', 'Custom', 'flop')),
    )
    const codes = await Promise.all(ops)
    expect(codes.every((c) => ['ok', 'EntityAlreadyExists.Role.Policy', 'EntityNotExist.Role.Policy'].includes(c))).toBe(true)
    const left = (await attachments.listForRole(accountId, 'flip')).length
    expect((await roles.get(accountId, 'flip'))?.attachmentCount).toBe(left)
    expect((await policies.get(accountId, 'flop'))?.attachmentCount).toBe(left)
  })
})
