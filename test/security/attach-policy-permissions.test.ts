// AttachPolicyToRole and DetachPolicyFromRole act on a role and a policy: a session's policies must allow
// both ARNs, and a Deny on either refuses the call. Authorised on the role alone, a session allowed to
// attach one read-only policy to its own role could attach AliyunRAMFullAccess instead, a Deny naming a
// policy never fired, and a guard policy could be detached by the role it guards. Against the real app:
// DynamoDB Local, the store-backed authorizer, STS credentials sealed with the app's token keys.

import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { mintCredentials } from '../../shared/credentials/mint.ts'
import { startTestService, type TestService } from '../support/service.ts'
import type { Credentials } from '../support/sign.ts'

const RAM = '2015-05-01'
const doc = (...statements: Record<string, unknown>[]) => JSON.stringify({ Version: '1', Statement: statements })

let svc: TestService
let A: string

beforeAll(async () => {
  svc = await startTestService()
  A = svc.root.AccountId
})
afterAll(async () => {
  await svc?.close()
})

/** A role with these custom policies attached (created by the root key), and a session of it. */
async function sessionOf(roleName: string, policies: Record<string, string>): Promise<Credentials> {
  const trust = doc({ Effect: 'Allow', Action: 'sts:AssumeRole', Principal: { Federated: `acs:ram::${A}:oidc-provider/idp` } })
  const created = await svc.call('CreateRole', RAM, { RoleName: roleName, AssumeRolePolicyDocument: trust })
  expect(created.status, JSON.stringify(created.body)).toBe(200)
  for (const [name, document] of Object.entries(policies)) {
    expect((await svc.call('CreatePolicy', RAM, { PolicyName: name, PolicyDocument: document })).status).toBe(200)
    expect((await svc.call('AttachPolicyToRole', RAM, { PolicyType: 'Custom', PolicyName: name, RoleName: roleName })).status).toBe(200)
  }
  const m = mintCredentials(
    {
      accountId: A,
      roleName,
      roleId: created.body.Role.RoleId,
      roleArn: `acs:ram::${A}:role/${roleName}`,
      sessionName: 'sess',
      durationSeconds: 3600,
      providerArn: `acs:ram::${A}:oidc-provider/idp`,
      sub: 'repo:octo/app',
      issuer: 'https://idp.example.com',
    },
    svc.app.sts.tokenKeys,
    new Date(),
  )
  return { accessKeyId: m.AccessKeyId, secret: m.AccessKeySecret, securityToken: m.SecurityToken }
}

const attached = async (roleName: string) => {
  const res = await svc.call('ListPoliciesForRole', RAM, { RoleName: roleName })
  return (res.body.Policies.Policy as Array<{ PolicyName: string }>).map((p) => p.PolicyName).sort()
}

const system = (PolicyName: string, RoleName: string) => ({ PolicyType: 'System', PolicyName, RoleName })

describe('AttachPolicyToRole and DetachPolicyFromRole need both the role and the policy', () => {
  it('an Allow naming one role and one policy attaches that policy only: AliyunRAMFullAccess is refused', async () => {
    const s = await sessionOf('ci', {
      'attach-read-only': doc({ Effect: 'Allow', Action: 'ram:AttachPolicyToRole', Resource: [`acs:ram::${A}:role/ci`, `acs:ram::${A}:policy/AliyunRAMReadOnlyAccess`] }),
    })
    const full = await svc.call('AttachPolicyToRole', RAM, system('AliyunRAMFullAccess', 'ci'), s)
    expect([full.status, full.body.Code, full.body.AccessDeniedDetail?.NoPermissionType]).toEqual([403, 'NoPermission', 'ImplicitDeny'])
    expect(await attached('ci')).toEqual(['attach-read-only'])
    expect((await svc.call('AttachPolicyToRole', RAM, system('AliyunRAMReadOnlyAccess', 'ci'), s)).status).toBe(200)
    expect(await attached('ci')).toEqual(['AliyunRAMReadOnlyAccess', 'attach-read-only'])
  })

  it('a Deny on the policy refuses attaching it, whatever allows the role', async () => {
    const s = await sessionOf('ci-deny', {
      'attach-but-not-full': doc(
        { Effect: 'Allow', Action: 'ram:AttachPolicyToRole', Resource: '*' },
        { Effect: 'Deny', Action: 'ram:AttachPolicyToRole', Resource: `acs:ram::${A}:policy/AliyunRAMFullAccess` },
      ),
    })
    const full = await svc.call('AttachPolicyToRole', RAM, system('AliyunRAMFullAccess', 'ci-deny'), s)
    expect([full.status, full.body.AccessDeniedDetail?.NoPermissionType]).toEqual([403, 'ExplicitDeny'])
    expect((await svc.call('AttachPolicyToRole', RAM, system('AliyunRAMReadOnlyAccess', 'ci-deny'), s)).status).toBe(200)
  })

  it('an Allow on the policy alone does not cover the role', async () => {
    const s = await sessionOf('ci-policy-only', {
      'attach-by-policy': doc({ Effect: 'Allow', Action: 'ram:AttachPolicyToRole', Resource: `acs:ram::${A}:policy/AliyunRAMReadOnlyAccess` }),
    })
    const res = await svc.call('AttachPolicyToRole', RAM, system('AliyunRAMReadOnlyAccess', 'ci-policy-only'), s)
    expect([res.status, res.body.AccessDeniedDetail?.NoPermissionType]).toEqual([403, 'ImplicitDeny'])
  })

  it('a guard policy that denies detaching itself stays attached, even to a role with AliyunRAMFullAccess', async () => {
    const s = await sessionOf('guarded', {
      guard: doc({ Effect: 'Deny', Action: 'ram:DetachPolicyFromRole', Resource: `acs:ram::${A}:policy/guard` }),
    })
    expect((await svc.call('AttachPolicyToRole', RAM, system('AliyunRAMFullAccess', 'guarded'))).status).toBe(200)
    // The session's first call: its role's policies (guard and AliyunRAMFullAccess) are read now.
    const detach = await svc.call('DetachPolicyFromRole', RAM, { PolicyType: 'Custom', PolicyName: 'guard', RoleName: 'guarded' }, s)
    expect([detach.status, detach.body.AccessDeniedDetail?.NoPermissionType]).toEqual([403, 'ExplicitDeny'])
    expect(await attached('guarded')).toEqual(['AliyunRAMFullAccess', 'guard'])
    // Anything else AliyunRAMFullAccess allows still goes through.
    expect((await svc.call('DetachPolicyFromRole', RAM, system('AliyunRAMFullAccess', 'guarded'), s)).status).toBe(200)
  })
})
