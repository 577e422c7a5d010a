// The official RAM SDK (@alicloud/ram20150501), changed only in its endpoint, drives the role and policy
// actions over real HTTP (a 127.0.0.1 listener), and our error codes reach its error objects.

import type { IncomingMessage } from 'node:http'
import ramModule, * as ram from '@alicloud/ram20150501'
import { $OpenApiUtil } from '@alicloud/openapi-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startTestService, type TestService } from '../support/service.ts'

// A CommonJS module with `exports.default = Client`: Node's ESM loader hands over module.exports (the
// class under `.default`), while vitest honours `__esModule` and hands over the class itself.
type RamClientClass = typeof ramModule.default
const RamClient: RamClientClass = (ramModule as unknown as { default?: RamClientClass }).default ?? (ramModule as unknown as RamClientClass)
type RamClient = InstanceType<RamClientClass>

interface SdkError {
  name: string
  code: string
  statusCode: number
  message: string
  data: Record<string, unknown>
}

/** The SDK error a call is expected to fail with; a resolved call fails the test. */
async function sdkError(call: Promise<unknown>): Promise<SdkError> {
  try {
    await call
  } catch (e) {
    return e as SdkError
  }
  throw new Error('expected the SDK call to fail, but it succeeded')
}

const UTC = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/
let svc: TestService
let host: string
let client: RamClient
let account: string

const clientFor = (s: TestService, h: string, extra: Record<string, unknown> = {}) =>
  new RamClient(new $OpenApiUtil.Config({ endpoint: h, accessKeyId: s.root.AccessKeyId, accessKeySecret: s.root.AccessKeySecret, protocol: 'http', ...extra }))

async function listen(s: TestService): Promise<string> {
  await s.app.listen({ host: '127.0.0.1', port: 0 })
  const address = s.app.server.address()
  if (typeof address !== 'object' || address === null) throw new Error('no TCP address')
  return `127.0.0.1:${address.port}`
}

/** `Federated` as a bare string: GetRole must show it normalised to an array. */
const trust = (acct: string, sub = 'system:serviceaccount:prod:*') =>
  JSON.stringify({
    Version: '1',
    Statement: [
      {
        Effect: 'Allow',
        Action: 'sts:AssumeRole',
        Principal: { Federated: `acs:ram::${acct}:oidc-provider/ack-rrsa` },
        Condition: { StringEquals: { 'oidc:iss': 'https://oidc.example.com/c1', 'oidc:aud': 'sts.aliyuncs.com' }, StringLike: { 'oidc:sub': sub } },
      },
    ],
  })
const PERMISSION = JSON.stringify({ Version: '1', Statement: [{ Effect: 'Allow', Action: ['ram:Get*', 'ram:List*'], Resource: '*' }] })

beforeAll(async () => {
  svc = await startTestService()
  host = await listen(svc)
  client = clientFor(svc, host)
  account = svc.root.AccountId
})
afterAll(async () => { await svc?.close() })

describe('roles through the official RAM SDK', () => {
  it('creates a role with tags and reads it back, the trust document normalised (Federated as an array)', async () => {
    const created = await client.createRole(new ram.CreateRoleRequest({
      roleName: 'SdkRole',
      assumeRolePolicyDocument: trust(account),
      description: 'made by the SDK (中文) *ok*',
      maxSessionDuration: 7200,
      tag: [new ram.CreateRoleRequestTag({ key: 'team', value: 'platform' })],
    }))
    expect(created.statusCode).toBe(200)
    expect(created.body?.requestId).toMatch(/^[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}$/)
    const role = created.body?.role
    expect(role).toMatchObject({
      roleName: 'SdkRole',
      arn: `acs:ram::${account}:role/sdkrole`,
      description: 'made by the SDK (中文) *ok*',
      maxSessionDuration: 7200,
    })
    expect(role?.roleId).toMatch(/^\d{18}$/)
    expect(role?.createDate).toMatch(UTC)

    const got = await client.getRole(new ram.GetRoleRequest({ roleName: 'sdkrole' }))
    expect(got.body?.role).toMatchObject({ roleId: role?.roleId, roleName: 'SdkRole', arn: role?.arn, maxSessionDuration: 7200 })
    expect(got.body?.role?.updateDate).toMatch(UTC)
    const stored = JSON.parse(got.body?.role?.assumeRolePolicyDocument ?? '{}')
    expect(stored.Statement[0].Principal.Federated).toEqual([`acs:ram::${account}:oidc-provider/ack-rrsa`])
    expect(stored.Statement[0].Action).toEqual(['sts:AssumeRole'])
  })

  it('updates the trust document, MaxSessionDuration and description', async () => {
    const updated = await client.updateRole(new ram.UpdateRoleRequest({
      roleName: 'SdkRole',
      newAssumeRolePolicyDocument: trust(account, 'system:serviceaccount:prod:app'),
      newMaxSessionDuration: 43200,
      newDescription: 'updated',
    }))
    expect(updated.body?.role).toMatchObject({ roleName: 'SdkRole', maxSessionDuration: 43200, description: 'updated' })
    expect(JSON.parse(updated.body?.role?.assumeRolePolicyDocument ?? '{}').Statement[0].Condition.StringLike['oidc:sub']).toEqual(['system:serviceaccount:prod:app'])
  })

  it('pages through ListRoles with MaxItems and Marker, with Tags on the items and a Tag filter', async () => {
    const lister = await startTestService()
    try {
      const c = clientFor(lister, await listen(lister))
      for (const name of ['page-c', 'Page-A', 'page-e', 'page-b', 'page-d']) {
        await c.createRole(new ram.CreateRoleRequest({
          roleName: name,
          assumeRolePolicyDocument: trust(lister.root.AccountId),
          tag: name === 'page-b' || name === 'page-e' ? [new ram.CreateRoleRequestTag({ key: 'tier', value: 'gold' })] : undefined,
        }))
      }
      const seen: string[] = []
      let marker: string | undefined
      let pages = 0
      do {
        const res = await c.listRoles(new ram.ListRolesRequest({ maxItems: 2, ...(marker ? { marker } : {}) }))
        pages++
        const items = res.body?.roles?.role ?? []
        expect(items.length).toBeLessThanOrEqual(2)
        seen.push(...items.map((r) => r.roleName ?? ''))
        marker = res.body?.isTruncated ? res.body.marker : undefined
        if (res.body?.isTruncated) expect(marker).toEqual(expect.any(String))
      } while (marker !== undefined)
      expect(pages).toBe(3)
      expect(seen).toEqual(['Page-A', 'page-b', 'page-c', 'page-d', 'page-e'])

      const tagged = await c.listRoles(new ram.ListRolesRequest({ tag: [new ram.ListRolesRequestTag({ key: 'tier', value: 'gold' })] }))
      expect((tagged.body?.roles?.role ?? []).map((r) => r.roleName)).toEqual(['page-b', 'page-e'])
      expect(tagged.body?.roles?.role?.[0]?.tags?.tag).toEqual([expect.objectContaining({ tagKey: 'tier', tagValue: 'gold' })])
    } finally {
      await lister.close()
    }
  })

  it('surfaces EntityNotExist.Role, EntityAlreadyExists.Role and MalformedPolicyDocument as SDK ClientErrors', async () => {
    const missing = await sdkError(client.getRole(new ram.GetRoleRequest({ roleName: 'nobody' })))
    expect(missing).toMatchObject({ name: 'ClientError', code: 'EntityNotExist.Role', statusCode: 404 })
    const dup = await sdkError(client.createRole(new ram.CreateRoleRequest({ roleName: 'sdkROLE', assumeRolePolicyDocument: trust(account) })))
    expect(dup).toMatchObject({ code: 'EntityAlreadyExists.Role', statusCode: 409 })
    const malformed = await sdkError(client.createRole(new ram.CreateRoleRequest({
      roleName: 'broken',
      assumeRolePolicyDocument: JSON.stringify({ Version: '1', Statement: [{ Effect: 'Allow', Action: 'sts:AssumeRole', Principal: { Federated: `acs:ram::${account}:oidc-provider/p` }, Condition: { StringLike: { 'oidc:sub': 42 } } }] }),
    })))
    expect(malformed).toMatchObject({ code: 'MalformedPolicyDocument', statusCode: 400 })
    expect(malformed.message).toContain('Statement[0].Condition.StringLike.oidc:sub')
    const badName = await sdkError(client.createRole(new ram.CreateRoleRequest({ roleName: 'bad_name', assumeRolePolicyDocument: trust(account) })))
    expect(badName).toMatchObject({ code: 'InvalidParameter.RoleName.InvalidChars', statusCode: 400 })
  })
})

describe('policies through the official RAM SDK', () => {
  it('creates, reads and lists a custom policy', async () => {
    const created = await client.createPolicy(new ram.CreatePolicyRequest({ policyName: 'sdk-read', policyDocument: PERMISSION, description: 'read only' }))
    expect(created.body?.policy).toMatchObject({ policyName: 'sdk-read', policyType: 'Custom', description: 'read only', defaultVersion: 'v1' })
    expect(created.body?.policy?.createDate).toMatch(UTC)

    const got = await client.getPolicy(new ram.GetPolicyRequest({ policyName: 'sdk-read', policyType: 'Custom' }))
    expect(got.body?.policy).toMatchObject({ policyName: 'sdk-read', policyType: 'Custom', attachmentCount: 0, defaultVersion: 'v1' })
    expect(got.body?.defaultPolicyVersion).toMatchObject({ versionId: 'v1', isDefaultVersion: true })
    expect(JSON.parse(got.body?.defaultPolicyVersion?.policyDocument ?? '{}')).toEqual({
      Version: '1',
      Statement: [{ Effect: 'Allow', Action: ['ram:Get*', 'ram:List*'], Resource: ['*'] }],
    })

    const custom = await client.listPolicies(new ram.ListPoliciesRequest({ policyType: 'Custom' }))
    expect((custom.body?.policies?.policy ?? []).map((p) => p.policyName)).toEqual(['sdk-read'])
    const system = await client.listPolicies(new ram.ListPoliciesRequest({ policyType: 'System', maxItems: 1 }))
    expect(system.body?.isTruncated).toBe(true)
    expect(system.body?.policies?.policy?.[0]).toMatchObject({ policyName: 'AliyunRAMFullAccess', policyType: 'System' })
  })

  it('attaches custom and system policies, lists them for the role, detaches, and deletes', async () => {
    await client.attachPolicyToRole(new ram.AttachPolicyToRoleRequest({ roleName: 'SdkRole', policyType: 'Custom', policyName: 'sdk-read' }))
    await client.attachPolicyToRole(new ram.AttachPolicyToRoleRequest({ roleName: 'SdkRole', policyType: 'System', policyName: 'AliyunSTSAssumeRoleAccess' }))
    const listed = await client.listPoliciesForRole(new ram.ListPoliciesForRoleRequest({ roleName: 'SdkRole' }))
    const policies = listed.body?.policies?.policy ?? []
    expect(policies.map((p) => [p.policyName, p.policyType])).toEqual([
      ['sdk-read', 'Custom'],
      ['AliyunSTSAssumeRoleAccess', 'System'],
    ])
    for (const p of policies) expect(p.attachDate).toMatch(UTC)

    const conflict = await sdkError(client.deleteRole(new ram.DeleteRoleRequest({ roleName: 'SdkRole' })))
    expect(conflict).toMatchObject({ code: 'DeleteConflict.Role.Policy', statusCode: 409 })
    const attached = await sdkError(client.deletePolicy(new ram.DeletePolicyRequest({ policyName: 'sdk-read' })))
    expect(attached).toMatchObject({ code: 'DeleteConflict.Policy.Role', statusCode: 409 })
    const twice = await sdkError(client.attachPolicyToRole(new ram.AttachPolicyToRoleRequest({ roleName: 'SdkRole', policyType: 'Custom', policyName: 'sdk-read' })))
    expect(twice).toMatchObject({ code: 'EntityAlreadyExists.Role.Policy', statusCode: 409 })

    await client.detachPolicyFromRole(new ram.DetachPolicyFromRoleRequest({ roleName: 'SdkRole', policyType: 'Custom', policyName: 'sdk-read' }))
    await client.detachPolicyFromRole(new ram.DetachPolicyFromRoleRequest({ roleName: 'sdkrole', policyType: 'System', policyName: 'AliyunSTSAssumeRoleAccess' }))
    expect((await client.listPoliciesForRole(new ram.ListPoliciesForRoleRequest({ roleName: 'SdkRole' }))).body?.policies?.policy ?? []).toEqual([])
    const notAttached = await sdkError(client.detachPolicyFromRole(new ram.DetachPolicyFromRoleRequest({ roleName: 'SdkRole', policyType: 'Custom', policyName: 'sdk-read' })))
    expect(notAttached).toMatchObject({ code: 'EntityNotExist.Role.Policy', statusCode: 404 })

    expect((await client.deletePolicy(new ram.DeletePolicyRequest({ policyName: 'sdk-read' }))).statusCode).toBe(200)
    expect((await client.deleteRole(new ram.DeleteRoleRequest({ roleName: 'SdkRole' }))).statusCode).toBe(200)
    expect(await sdkError(client.getRole(new ram.GetRoleRequest({ roleName: 'SdkRole' })))).toMatchObject({ code: 'EntityNotExist.Role' })
    expect(await sdkError(client.getPolicy(new ram.GetPolicyRequest({ policyName: 'sdk-read', policyType: 'Custom' })))).toMatchObject({ code: 'EntityNotExist.Policy' })
  })

  it('surfaces system-policy refusals: DeleteConflict.Policy.System and EntityAlreadyExists.Policy', async () => {
    expect(await sdkError(client.deletePolicy(new ram.DeletePolicyRequest({ policyName: 'AliyunRAMFullAccess' })))).toMatchObject({ code: 'DeleteConflict.Policy.System', statusCode: 409 })
    expect(await sdkError(client.createPolicy(new ram.CreatePolicyRequest({ policyName: 'AliyunRAMFullAccess', policyDocument: PERMISSION })))).toMatchObject({
      code: 'EntityAlreadyExists.Policy',
      statusCode: 409,
    })
    expect(await sdkError(client.getPolicy(new ram.GetPolicyRequest({ policyName: 'x', policyType: 'Managed' })))).toMatchObject({ code: 'InvalidParameter.PolicyType', statusCode: 400 })
  })

  it('works with the legacy V1 (HMAC-SHA1) signature too', async () => {
    const v1 = clientFor(svc, host, { signatureAlgorithm: 'v2' })
    const wire: Array<{ url: string; authorization: string | undefined }> = []
    const observe = (req: IncomingMessage) => wire.push({ url: req.url ?? '', authorization: req.headers.authorization })
    svc.app.server.on('request', observe)
    try {
      const res = await v1.getPolicy(new ram.GetPolicyRequest({ policyName: 'AliyunRAMReadOnlyAccess', policyType: 'System' }))
      expect(res.body?.policy?.policyName).toBe('AliyunRAMReadOnlyAccess')
    } finally {
      svc.app.server.off('request', observe)
    }
    // It really was V1: an HMAC-SHA1 Signature in the query, no ACS3 Authorization header.
    expect(wire).toHaveLength(1)
    const query = new URLSearchParams(wire[0]!.url.split('?')[1])
    expect(query.get('SignatureMethod')).toBe('HMAC-SHA1')
    expect(query.get('Signature')).toMatch(/^[A-Za-z0-9+/]{27}=$/)
    expect(query.get('Action')).toBe('GetPolicy')
    expect(wire[0]!.authorization).toBeUndefined()
  })
})
