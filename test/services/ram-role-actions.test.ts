// RAM role lifecycle through signed calls (app.inject): the §4.1 shapes, normalised trust documents,
// case-insensitive names, tags, paging, and DeleteRole refused while a policy is attached.

import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { listItemBytes } from '../../shared/services/list-page.ts'
import { namesPagedBySize, type SizePagedList } from '../support/list-pages.ts'
import { startTestService, withDeps, type TestService } from '../support/service.ts'

const RAM = '2015-05-01'
const UTC = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/

let svc: TestService
let account: string
const provider = () => `acs:ram::${account}:oidc-provider/gh`

/** A trust policy for an OIDC provider, `Federated` written as a bare string. */
const trust = (sub = 'repo:octo/*') =>
  JSON.stringify({
    Version: '1',
    Statement: {
      Effect: 'Allow',
      Action: 'sts:AssumeRole',
      Principal: { Federated: provider() },
      Condition: { StringEquals: { 'oidc:aud': 'sts.aliyuncs.com' }, StringLike: { 'oidc:sub': sub } },
    },
  })

beforeAll(async () => {
  svc = await startTestService()
  account = svc.root.AccountId
})
afterAll(async () => { await svc?.close() })

const createRole = (name: string, extra: Record<string, string | number> = {}) =>
  svc.call('CreateRole', RAM, { RoleName: name, AssumeRolePolicyDocument: trust(), ...extra })

describe('RAM role lifecycle', () => {
  it('creates a role with the §4.1 shape: numeric RoleId, lower-cased ARN, default MaxSessionDuration, normalised trust policy', async () => {
    const res = await createRole('Deployer', { Description: 'CI deployer' })
    expect(res.status).toBe(200)
    const role = res.body.Role
    expect(Object.keys(role).sort()).toEqual(['Arn', 'AssumeRolePolicyDocument', 'CreateDate', 'Description', 'MaxSessionDuration', 'RoleId', 'RoleName'])
    expect(role).toMatchObject({ RoleName: 'Deployer', Arn: `acs:ram::${account}:role/deployer`, Description: 'CI deployer', MaxSessionDuration: 3600 })
    expect(role.RoleId).toMatch(/^3\d{17}$/)
    expect(role.CreateDate).toMatch(UTC)
    expect(JSON.parse(role.AssumeRolePolicyDocument)).toEqual({
      Version: '1',
      Statement: [
        {
          Effect: 'Allow',
          Action: ['sts:AssumeRole'],
          Principal: { Federated: [provider()] },
          Condition: { StringEquals: { 'oidc:aud': ['sts.aliyuncs.com'] }, StringLike: { 'oidc:sub': ['repo:octo/*'] } },
        },
      ],
    })
  })

  it('GetRole returns the normalised trust document (Federated as an array) and UpdateDate, under any letter case of the name', async () => {
    const got = await svc.call('GetRole', RAM, { RoleName: 'DEPLOYER' })
    expect(got.status).toBe(200)
    expect(got.body.Role.RoleName).toBe('Deployer')
    expect(got.body.Role.UpdateDate).toMatch(UTC)
    expect(JSON.parse(got.body.Role.AssumeRolePolicyDocument).Statement[0].Principal.Federated).toEqual([provider()])
  })

  it('refuses a second role whose name differs only in case with EntityAlreadyExists.Role', async () => {
    const res = await createRole('deployer')
    expect(res.status).toBe(409)
    expect(res.body.Code).toBe('EntityAlreadyExists.Role')
  })

  it('gives every role a distinct RoleId', async () => {
    const ids = new Set<string>()
    for (const name of ['ids-1', 'ids-2', 'ids-3']) ids.add((await createRole(name)).body.Role.RoleId)
    expect(ids.size).toBe(3)
  })

  it('UpdateRole changes the trust document, MaxSessionDuration and description independently', async () => {
    await createRole('updatable', { Description: 'before', MaxSessionDuration: 7200 })
    const a = await svc.call('UpdateRole', RAM, { RoleName: 'updatable', NewMaxSessionDuration: 43200 })
    expect(a.status).toBe(200)
    expect(a.body.Role).toMatchObject({ MaxSessionDuration: 43200, Description: 'before' })
    const b = await svc.call('UpdateRole', RAM, { RoleName: 'Updatable', NewAssumeRolePolicyDocument: trust('repo:octo/app:ref:refs/heads/main'), NewDescription: 'after' })
    expect(b.status).toBe(200)
    expect(b.body.Role).toMatchObject({ MaxSessionDuration: 43200, Description: 'after', RoleName: 'updatable' })
    expect(JSON.parse(b.body.Role.AssumeRolePolicyDocument).Statement[0].Condition.StringLike['oidc:sub']).toEqual(['repo:octo/app:ref:refs/heads/main'])
    const cleared = await svc.call('UpdateRole', RAM, { RoleName: 'updatable', NewDescription: '' })
    expect(cleared.body.Role.Description).toBe('')
    const got = await svc.call('GetRole', RAM, { RoleName: 'updatable' })
    expect(got.body.Role).toEqual(cleared.body.Role)
  })

  it('UpdateRole and DeleteRole of a missing role answer EntityNotExist.Role', async () => {
    for (const [action, params] of [
      ['UpdateRole', { RoleName: 'ghost', NewDescription: 'x' }],
      ['UpdateRole', { RoleName: 'ghost' }],
      ['DeleteRole', { RoleName: 'ghost' }],
      ['GetRole', { RoleName: 'ghost' }],
    ] as const) {
      const res = await svc.call(action, RAM, params)
      expect(res.status, action).toBe(404)
      expect(res.body.Code).toBe('EntityNotExist.Role')
    }
  })

  it('refuses DeleteRole with DeleteConflict.Role.Policy while a policy is attached, then deletes after the detach', async () => {
    await createRole('attached')
    const attach = await svc.call('AttachPolicyToRole', RAM, { RoleName: 'attached', PolicyType: 'System', PolicyName: 'AliyunRAMReadOnlyAccess' })
    expect(attach.status).toBe(200)
    const refused = await svc.call('DeleteRole', RAM, { RoleName: 'attached' })
    expect(refused.status).toBe(409)
    expect(refused.body.Code).toBe('DeleteConflict.Role.Policy')
    expect((await svc.call('GetRole', RAM, { RoleName: 'attached' })).status).toBe(200)
    await svc.call('DetachPolicyFromRole', RAM, { RoleName: 'attached', PolicyType: 'System', PolicyName: 'AliyunRAMReadOnlyAccess' })
    expect((await svc.call('DeleteRole', RAM, { RoleName: 'ATTACHED' })).status).toBe(200)
    expect((await svc.call('GetRole', RAM, { RoleName: 'attached' })).body.Code).toBe('EntityNotExist.Role')
  })

  it('a role deleted and created again under the same name gets a new RoleId and the quota count comes back', async () => {
    const before = (await svc.stores.accounts.getAccount(account)) as { roleCount?: number }
    const first = (await createRole('phoenix')).body.Role.RoleId
    expect((await svc.call('DeleteRole', RAM, { RoleName: 'phoenix' })).status).toBe(200)
    const second = (await createRole('Phoenix')).body.Role.RoleId
    expect(second).not.toBe(first)
    const after = (await svc.stores.accounts.getAccount(account)) as { roleCount?: number }
    expect(after.roleCount).toBe((before.roleCount ?? 0) + 1)
  })
})

describe('ListRoles', () => {
  let lister: TestService
  beforeAll(async () => {
    lister = await startTestService()
    const doc = JSON.stringify({ Version: '1', Statement: [{ Effect: 'Allow', Action: 'sts:AssumeRole', Principal: { Federated: `acs:ram::${lister.root.AccountId}:oidc-provider/p` } }] })
    for (const [name, tags] of [
      ['echo', [{ Key: 'team', Value: 'web' }]],
      ['Alpha', [{ Key: 'team', Value: 'data' }, { Key: 'env', Value: 'prod' }]],
      ['delta', []],
      ['charlie', [{ Key: 'team', Value: 'data' }]],
      ['Bravo', [{ Key: 'env', Value: '' }]],
    ] as const) {
      const res = await lister.call('CreateRole', RAM, { RoleName: name, AssumeRolePolicyDocument: doc, ...(tags.length ? { Tag: JSON.stringify(tags) } : {}) })
      expect(res.status).toBe(200)
    }
  })
  afterAll(async () => { await lister?.close() })

  it('pages with MaxItems and an opaque Marker in case-insensitive name order, each role once, no trust document in items', async () => {
    const seen: string[] = []
    let marker: string | undefined
    let pages = 0
    do {
      const res = await lister.call('ListRoles', RAM, { MaxItems: 2, ...(marker ? { Marker: marker } : {}) })
      expect(res.status).toBe(200)
      pages++
      const roles = res.body.Roles.Role as Record<string, unknown>[]
      expect(roles.length).toBeLessThanOrEqual(2)
      for (const r of roles) {
        expect(r).not.toHaveProperty('AssumeRolePolicyDocument')
        expect(r).toMatchObject({ MaxSessionDuration: 3600, Arn: `acs:ram::${lister.root.AccountId}:role/${(r.RoleName as string).toLowerCase()}` })
        expect(r.UpdateDate).toMatch(UTC)
      }
      seen.push(...roles.map((r) => r.RoleName as string))
      if (res.body.IsTruncated) {
        expect(res.body.Marker).toMatch(/^[A-Za-z0-9_-]+$/)
        marker = res.body.Marker
      } else {
        expect(res.body).not.toHaveProperty('Marker')
        marker = undefined
      }
    } while (marker)
    expect(pages).toBe(3)
    expect(seen).toEqual(['Alpha', 'Bravo', 'charlie', 'delta', 'echo'])
  })

  it('returns every role with its Tags as {Tag:[{TagKey,TagValue}]} by default (MaxItems 100)', async () => {
    const res = await lister.call('ListRoles', RAM)
    expect(res.body.IsTruncated).toBe(false)
    const byName = Object.fromEntries((res.body.Roles.Role as { RoleName: string; Tags: unknown }[]).map((r) => [r.RoleName, r.Tags]))
    expect(byName).toEqual({
      Alpha: { Tag: [{ TagKey: 'team', TagValue: 'data' }, { TagKey: 'env', TagValue: 'prod' }] },
      Bravo: { Tag: [{ TagKey: 'env', TagValue: '' }] },
      charlie: { Tag: [{ TagKey: 'team', TagValue: 'data' }] },
      delta: { Tag: [] },
      echo: { Tag: [{ TagKey: 'team', TagValue: 'web' }] },
    })
  })

  it('filters by Tag (every tag must match; a tag without Value matches any value), paging within the filtered set', async () => {
    const names = async (params: Record<string, string | number>) =>
      ((await lister.call('ListRoles', RAM, params)).body.Roles.Role as { RoleName: string }[]).map((r) => r.RoleName)
    expect(await names({ Tag: JSON.stringify([{ Key: 'team', Value: 'data' }]) })).toEqual(['Alpha', 'charlie'])
    expect(await names({ Tag: JSON.stringify([{ Key: 'team', Value: 'data' }, { Key: 'env', Value: 'prod' }]) })).toEqual(['Alpha'])
    expect(await names({ Tag: JSON.stringify([{ Key: 'env' }]) })).toEqual(['Alpha', 'Bravo'])
    const first = await lister.call('ListRoles', RAM, { MaxItems: 1, Tag: JSON.stringify([{ Key: 'team' }]) })
    expect(first.body.Roles.Role.map((r: { RoleName: string }) => r.RoleName)).toEqual(['Alpha'])
    expect(first.body.IsTruncated).toBe(true)
    const rest = await lister.call('ListRoles', RAM, { MaxItems: 5, Marker: first.body.Marker, Tag: JSON.stringify([{ Key: 'team' }]) })
    expect(rest.body.Roles.Role.map((r: { RoleName: string }) => r.RoleName)).toEqual(['charlie', 'echo'])
    expect(rest.body.IsTruncated).toBe(false)
  })

  it('cuts a page by size too (list-page.ts): within the bound, at least one role, and the Marker continues right after the last role sent', async () => {
    const all = (await lister.call('ListRoles', RAM)).body.Roles.Role as { RoleName: string }[]
    const sizes = all.map(listItemBytes)
    const prefix = (n: number) => sizes.slice(0, n).reduce((a, b) => a + b, 0)
    // Bounds around each page boundary, one smaller than any role (one role a page), and MaxItems with them.
    const bounds = [1, ...[1, 2, 3, 4].flatMap((n) => [prefix(n) - 1, prefix(n), prefix(n) + 1])]
    const listRoles: SizePagedList = { action: 'ListRoles', version: RAM, items: (body) => body.Roles.Role, name: 'RoleName' }
    for (const [bytes, maxItems] of [...bounds.map((b) => [b, 100]), [prefix(3), 2], [prefix(1), 3]] as const) {
      const seen = await namesPagedBySize(lister, listRoles, { bytes, maxItems, sizes })
      expect(seen, `bound ${bytes}, MaxItems ${maxItems}`).toEqual(all.map((r) => r.RoleName))
    }
    // With a Tag filter too: only matching roles count.
    const team = JSON.stringify([{ Key: 'team' }])
    const first = await withDeps(lister, { listPageBytes: 1 })('ListRoles', RAM, { Tag: team })
    expect([first.body.Roles.Role.map((r: { RoleName: string }) => r.RoleName), first.body.IsTruncated]).toEqual([['Alpha'], true])
    const rest = await withDeps(lister, { listPageBytes: prefix(5) })('ListRoles', RAM, { Tag: team, Marker: first.body.Marker })
    expect([rest.body.Roles.Role.map((r: { RoleName: string }) => r.RoleName), rest.body.IsTruncated]).toEqual([['charlie', 'echo'], false])
  })

  it('lists only the calling account\'s roles', async () => {
    const res = await svc.call('ListRoles', RAM, { MaxItems: 1000 })
    const names = (res.body.Roles.Role as { RoleName: string }[]).map((r) => r.RoleName)
    expect(names).not.toContain('Alpha')
    expect(names).toContain('Deployer')
  })
})
