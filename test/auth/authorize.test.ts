// The store-backed authorizer against a real table: assumed-role callers get their role's attached
// policies intersected with the session policy; explicit Deny wins; nothing crosses accounts; the
// role-policy cache is bounded in age. The decision tests build the Caller directly; "through the HTTP
// app" mints real temporary credentials (mint.ts) and signs every call with them, so the real
// authenticator (signature, nonce, sealed SecurityToken) produces the caller the authorizer judges.

import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createAuthenticator } from '../../shared/auth/authenticate.ts'
import { createAuthorizer, type Authorizer } from '../../shared/auth/authorize.ts'
import { mintCredentials } from '../../shared/credentials/mint.ts'
import { createSessionResolver } from '../../shared/credentials/session-resolver.ts'
import { createTokenKeyRing, generateTokenKey } from '../../shared/credentials/token-keys.ts'
import { ApiError } from '../../shared/errors.ts'
import type { ActionDefinition, Caller } from '../../shared/http/action.ts'
import { buildApp } from '../../shared/http/app.ts'
import { createLogger } from '../../shared/log.ts'
import { managementActions } from '../../shared/management-app.ts'
import { parsePolicyDocument } from '../../shared/policy/document.ts'
import { generateAccountId } from '../../shared/services/accounts.ts'
import { generateRoleId } from '../../shared/services/ram-role-actions.ts'
import { AttachmentStore } from '../../shared/store/attachment-store.ts'
import { PolicyStore } from '../../shared/store/policy-store.ts'
import { RoleStore } from '../../shared/store/role-store.ts'
import { openStores, type Stores } from '../../shared/store/stores.ts'
import { signRpc, type Credentials } from '../support/sign.ts'
import { createTestTable } from '../support/store.ts'

const RAM = '2015-05-01'
let roles: RoleStore
let policies: PolicyStore
let attachments: AttachmentStore
const account = generateAccountId()
const otherAccount = generateAccountId()

const def = (name: string, extra: Partial<ActionDefinition<unknown, unknown>> = {}): ActionDefinition<unknown, unknown> => ({
  product: 'Ram',
  version: RAM,
  name,
  parse: () => ({}),
  run: async () => ({}),
  ...extra,
})
const roleArn = (name: string, acct = account) => `acs:ram::${acct}:role/${name}`
const request = (sourceIp = '10.1.2.3', now = new Date('2026-06-01T00:00:00Z'), secureTransport = true) => ({ requestId: 'R', now, sourceIp, secureTransport })

const doc = (...statements: Record<string, unknown>[]) => JSON.stringify({ Version: '1', Statement: statements })

async function makeRole(roleName: string, attached: ({ custom: string; document: string } | { system: string })[]) {
  const role = await roles.create(
    { accountId: account, roleName, description: '', trustPolicy: '{}', maxSessionDuration: 3600, tags: [], createdAt: 0, updatedAt: 0 },
    generateRoleId,
  )
  for (const a of attached) {
    if ('custom' in a) {
      if (!(await policies.get(account, a.custom))) {
        await policies.create({ accountId: account, policyName: a.custom, description: '', document: a.document, tags: [], createdAt: 0, updatedAt: 0 })
      }
      await attachments.attach(account, roleName, 'Custom', a.custom, 0)
    } else {
      await attachments.attach(account, roleName, 'System', a.system, 0)
    }
  }
  return role
}

function assumed(role: { roleName: string; roleId: string }, sessionPolicy?: string, acct = account): Caller {
  return {
    type: 'assumed-role',
    accountId: acct,
    accessKeyId: 'STS.TestKey',
    roleName: role.roleName,
    roleId: role.roleId,
    sessionName: 'ci-run',
    ...(sessionPolicy ? { sessionPolicy: parsePolicyDocument(sessionPolicy, 'session') } : {}),
  }
}

/** Resolves to 'Allow', or the NoPermission detail the authorizer threw. */
async function decide(authorize: Authorizer, caller: Caller, action: string, resource: string | readonly string[], req = request()) {
  try {
    await authorize(caller, { action, resource }, def(action.split(':')[1]!), req)
    return 'Allow' as const
  } catch (e) {
    if (!(e instanceof ApiError) || e.code !== 'NoPermission') throw e
    expect(e.status).toBe(403)
    return e.detail as Record<string, unknown>
  }
}

let authorize: Authorizer
let reader: { roleName: string; roleId: string }
let admin: { roleName: string; roleId: string }
let guarded: { roleName: string; roleId: string }
let fenced: { roleName: string; roleId: string }
let tlsOnly: { roleName: string; roleId: string }
let mfaOnly: { roleName: string; roleId: string }
let mfaAllow: { roleName: string; roleId: string }
let testTable: Awaited<ReturnType<typeof createTestTable>>

beforeAll(async () => {
  testTable = await createTestTable('authz')
  const { table } = testTable
  roles = new RoleStore(table)
  policies = new PolicyStore(table)
  attachments = new AttachmentStore(table, roles, policies)
  authorize = createAuthorizer({ roles, policies, attachments, cacheMs: 0 })
  reader = await makeRole('Reader', [{ custom: 'read-roles', document: doc({ Effect: 'Allow', Action: ['ram:GetRole', 'ram:ListRoles'], Resource: `acs:ram::${account}:role/*` }) }])
  admin = await makeRole('admin', [{ system: 'AliyunRAMFullAccess' }])
  guarded = await makeRole('guarded', [
    { system: 'AliyunRAMFullAccess' },
    { custom: 'no-prod-deletes', document: doc({ Effect: 'Deny', Action: 'ram:Delete*', Resource: `acs:ram::${account}:role/prod-*` }) },
  ])
  tlsOnly = await makeRole('tls-only', [
    { system: 'AliyunRAMReadOnlyAccess' },
    // As Alibaba's docs write it: refuse everything that did not come over HTTPS.
    { custom: 'deny-plain-http', document: doc({ Effect: 'Deny', Action: '*', Resource: '*', Condition: { Bool: { 'acs:SecureTransport': 'false' } } }) },
  ])
  mfaOnly = await makeRole('mfa-only', [
    { system: 'AliyunRAMReadOnlyAccess' },
    // The usual "no MFA, no access" guard: every call of this service is signed with keys, never MFA.
    { custom: 'deny-without-mfa', document: doc({ Effect: 'Deny', Action: 'ram:List*', Resource: '*', Condition: { Bool: { 'acs:MFAPresent': 'false' } } }) },
  ])
  mfaAllow = await makeRole('mfa-allow', [
    { custom: 'allow-with-mfa', document: doc({ Effect: 'Allow', Action: 'ram:List*', Resource: '*', Condition: { Bool: { 'acs:MFAPresent': 'true' } } }) },
  ])
  fenced = await makeRole('fenced', [
    {
      custom: 'office-hours-from-vpn',
      document: doc({
        Effect: 'Allow',
        Action: 'ram:List*',
        Resource: '*',
        Condition: { IpAddress: { 'acs:SourceIp': '10.0.0.0/8' }, DateLessThan: { 'acs:CurrentTime': '2027-01-01T00:00:00Z' } },
      }),
    },
  ])
})

describe('root AccessKey', () => {
  const root: Caller = { type: 'root', accountId: account, accessKeyId: 'LTAIroot', operator: false }
  it('may do everything in its own account and nothing in another', async () => {
    expect(await decide(authorize, root, 'ram:DeleteRole', roleArn('anything'))).toBe('Allow')
    expect(await decide(authorize, root, 'ram:GetRole', roleArn('anything', otherAccount))).toMatchObject({
      AuthAction: 'ram:GetRole',
      AuthPrincipalType: 'Account',
      NoPermissionType: 'ImplicitDeny',
    })
  })
})

describe('assumed-role callers', () => {
  it('are allowed what the role\'s custom policy allows', async () => {
    expect(await decide(authorize, assumed(reader), 'ram:GetRole', roleArn('deployer'))).toBe('Allow')
    expect(await decide(authorize, assumed(reader), 'ram:ListRoles', roleArn('*'))).toBe('Allow')
  })

  it('are denied (ImplicitDeny, AccountLevelIdentityBasedPolicy) what no attached policy allows, with the full AccessDeniedDetail', async () => {
    expect(await decide(authorize, assumed(reader), 'ram:DeleteRole', roleArn('deployer'))).toEqual({
      AuthAction: 'ram:DeleteRole',
      AuthPrincipalType: 'AssumedRoleUser',
      AuthPrincipalOwnerId: account,
      AuthPrincipalDisplayName: 'Reader:ci-run',
      NoPermissionType: 'ImplicitDeny',
      PolicyType: 'AccountLevelIdentityBasedPolicy',
    })
    // Resource scoping: the reader's policy covers roles, not policies.
    expect(await decide(authorize, assumed(reader), 'ram:GetRole', `acs:ram::${account}:policy/x`)).toMatchObject({ NoPermissionType: 'ImplicitDeny' })
  })

  it('get what an attached system policy allows', async () => {
    expect(await decide(authorize, assumed(admin), 'ram:CreatePolicy', `acs:ram::${account}:policy/p`)).toBe('Allow')
    expect(await decide(authorize, assumed(admin), 'ram:CreateOIDCProvider', `acs:ram::${account}:oidc-provider/p`)).toBe('Allow')
    expect(await decide(authorize, assumed(admin), 'sts:AssumeRole', roleArn('x'))).toMatchObject({ NoPermissionType: 'ImplicitDeny' })
  })

  it('are narrowed by the session policy (denial reported as SessionPolicy)', async () => {
    const session = doc({ Effect: 'Allow', Action: 'ram:Get*', Resource: '*' })
    expect(await decide(authorize, assumed(admin, session), 'ram:GetRole', roleArn('x'))).toBe('Allow')
    expect(await decide(authorize, assumed(admin, session), 'ram:DeleteRole', roleArn('x'))).toMatchObject({
      NoPermissionType: 'ImplicitDeny',
      PolicyType: 'SessionPolicy',
    })
  })

  it('are never widened by the session policy', async () => {
    const everything = doc({ Effect: 'Allow', Action: '*', Resource: '*' })
    expect(await decide(authorize, assumed(reader, everything), 'ram:DeleteRole', roleArn('x'))).toMatchObject({
      NoPermissionType: 'ImplicitDeny',
      PolicyType: 'AccountLevelIdentityBasedPolicy',
    })
  })

  it('an explicit Deny in a role policy wins over an Allow (ExplicitDeny)', async () => {
    expect(await decide(authorize, assumed(guarded), 'ram:DeleteRole', roleArn('dev-app'))).toBe('Allow')
    expect(await decide(authorize, assumed(guarded), 'ram:DeleteRole', roleArn('prod-app'))).toMatchObject({
      NoPermissionType: 'ExplicitDeny',
      PolicyType: 'AccountLevelIdentityBasedPolicy',
    })
  })

  it('an explicit Deny in the session policy wins (ExplicitDeny, SessionPolicy)', async () => {
    const session = doc({ Effect: 'Allow', Action: '*', Resource: '*' }, { Effect: 'Deny', Action: 'ram:UpdateRole', Resource: '*' })
    expect(await decide(authorize, assumed(admin, session), 'ram:UpdateRole', roleArn('x'))).toMatchObject({
      NoPermissionType: 'ExplicitDeny',
      PolicyType: 'SessionPolicy',
    })
  })

  it('are denied any resource of another account, even with ram:* on *', async () => {
    expect(await decide(authorize, assumed(admin), 'ram:GetRole', roleArn('x', otherAccount))).toMatchObject({
      NoPermissionType: 'ImplicitDeny',
      AuthPrincipalOwnerId: account,
    })
  })

  it('a caller claiming another account\'s role finds no policies there', async () => {
    const impostor = assumed(admin, undefined, otherAccount)
    expect(await decide(authorize, impostor, 'ram:GetRole', roleArn('x', otherAccount))).toMatchObject({ NoPermissionType: 'ImplicitDeny' })
  })

  it('a session of a deleted role, or of an older role of the same name (another RoleId), gets nothing', async () => {
    const old = await makeRole('recycled', [{ system: 'AliyunRAMFullAccess' }])
    expect(await decide(authorize, assumed(old), 'ram:GetRole', roleArn('x'))).toBe('Allow')
    await attachments.detach(account, 'recycled', 'System', 'AliyunRAMFullAccess')
    await roles.delete(account, 'recycled')
    expect(await decide(authorize, assumed(old), 'ram:GetRole', roleArn('x'))).toMatchObject({ NoPermissionType: 'ImplicitDeny' })
    await makeRole('recycled', [{ system: 'AliyunRAMFullAccess' }])
    expect(await decide(authorize, assumed(old), 'ram:GetRole', roleArn('x'))).toMatchObject({ NoPermissionType: 'ImplicitDeny' })
  })

  it('evaluates acs:SecureTransport from the request: a Deny of plain HTTP refuses it, and only it', async () => {
    const caller = assumed(tlsOnly)
    expect(await decide(authorize, caller, 'ram:ListRoles', roleArn('*'), request())).toBe('Allow')
    expect(await decide(authorize, caller, 'ram:ListRoles', roleArn('*'), request('10.1.2.3', undefined, false))).toMatchObject({ NoPermissionType: 'ExplicitDeny' })
  })

  it('gives acs:MFAPresent as false (no call is made with MFA): a Deny without MFA fires, an Allow with MFA does not', async () => {
    expect(await decide(authorize, assumed(mfaOnly), 'ram:ListRoles', roleArn('*'), request())).toMatchObject({ NoPermissionType: 'ExplicitDeny' })
    expect(await decide(authorize, assumed(mfaOnly), 'ram:GetRole', roleArn('x'), request())).toBe('Allow')
    expect(await decide(authorize, assumed(mfaAllow), 'ram:ListRoles', roleArn('*'), request())).toMatchObject({ NoPermissionType: 'ImplicitDeny' })
  })

  it('evaluates conditions on acs:SourceIp and acs:CurrentTime from the request', async () => {
    const caller = assumed(fenced)
    expect(await decide(authorize, caller, 'ram:ListRoles', roleArn('*'), request('10.9.8.7'))).toBe('Allow')
    expect(await decide(authorize, caller, 'ram:ListRoles', roleArn('*'), request('192.168.1.1'))).toMatchObject({ NoPermissionType: 'ImplicitDeny' })
    expect(await decide(authorize, caller, 'ram:ListRoles', roleArn('*'), request('10.9.8.7', new Date('2027-02-01T00:00:00Z')))).toMatchObject({
      NoPermissionType: 'ImplicitDeny',
    })
  })

  it('on an action on several resources (AttachPolicyToRole: role and policy), need every one allowed, in their own account', async () => {
    const both = [roleArn('admin'), `acs:ram::${account}:policy/AliyunRAMFullAccess`]
    expect(await decide(authorize, assumed(admin), 'ram:AttachPolicyToRole', both)).toBe('Allow')
    // The second resource in another account: refused, whatever the policies say (ram:* on *).
    expect(await decide(authorize, assumed(admin), 'ram:AttachPolicyToRole', [roleArn('admin'), `acs:ram::${otherAccount}:policy/mine`])).toMatchObject({ NoPermissionType: 'ImplicitDeny' })
    // The first resource not allowed, the second denied outright: the refusal is reported as the explicit Deny.
    expect(await decide(authorize, assumed(guarded), 'ram:DeleteRole', [`acs:oidcsts::${account}:audit/x`, roleArn('prod-db')])).toMatchObject({ NoPermissionType: 'ExplicitDeny' })
    expect(await decide(authorize, assumed(guarded), 'ram:DeleteRole', [roleArn('dev'), roleArn('prod-db')])).toMatchObject({ NoPermissionType: 'ExplicitDeny' })
    expect(await decide(authorize, assumed(reader), 'ram:GetRole', [roleArn('x'), `acs:ram::${account}:policy/p`])).toMatchObject({ NoPermissionType: 'ImplicitDeny' })
  })

  it('are denied operator-only actions', async () => {
    await expect(authorize(assumed(admin), undefined, def('CreateAccount', { operatorOnly: true }), request())).rejects.toMatchObject({ code: 'NoPermission' })
  })
})

describe('role policy cache', () => {
  it('reuses a role\'s policies for at most 5 s, even when asked for longer', async () => {
    let now = 1_000_000
    const cached = createAuthorizer({ roles, policies, attachments, cacheMs: 60_000, clock: () => now })
    const role = await makeRole('cached', [{ system: 'AliyunRAMReadOnlyAccess' }])
    expect(await decide(cached, assumed(role), 'ram:ListRoles', roleArn('*'))).toBe('Allow')
    await attachments.detach(account, 'cached', 'System', 'AliyunRAMReadOnlyAccess')
    now += 4_999
    expect(await decide(cached, assumed(role), 'ram:ListRoles', roleArn('*'))).toBe('Allow')
    now += 2
    expect(await decide(cached, assumed(role), 'ram:ListRoles', roleArn('*'))).toMatchObject({ NoPermissionType: 'ImplicitDeny' })
    // clearCache forgets at once.
    await attachments.attach(account, 'cached', 'System', 'AliyunRAMReadOnlyAccess', 0)
    cached.clearCache()
    expect(await decide(cached, assumed(role), 'ram:ListRoles', roleArn('*'))).toBe('Allow')
  })

  it('loads a role once for a burst of concurrent requests', async () => {
    let reads = 0
    const counting = createAuthorizer({
      roles: { get: (a, n) => { reads++; return roles.get(a, n) } },
      policies,
      attachments,
    })
    const results = await Promise.all(Array.from({ length: 10 }, () => decide(counting, assumed(reader), 'ram:GetRole', roleArn('x'))))
    expect(results.every((r) => r === 'Allow')).toBe(true)
    expect(reads).toBe(1)
  })
})

describe('through the HTTP app', () => {
  let app: ReturnType<typeof buildApp>
  let stores: Stores
  const tokenKeys = createTokenKeyRing([generateTokenKey()])
  /** Real STS credentials for a session of `role`, sealed with the app's token keys, as AssumeRoleWithOIDC mints them. */
  const credentialsFor = (role: { roleName: string; roleId: string }): Credentials => {
    const minted = mintCredentials(
      {
        accountId: account,
        roleName: role.roleName,
        roleId: role.roleId,
        roleArn: roleArn(role.roleName),
        sessionName: 'ci-run',
        durationSeconds: 3600,
        providerArn: `acs:ram::${account}:oidc-provider/ci`,
        sub: 'repo:octo-org/app:ref:refs/heads/main',
        issuer: 'https://idp.example.com',
      },
      tokenKeys,
      new Date(),
    )
    return { accessKeyId: minted.AccessKeyId, secret: minted.AccessKeySecret, securityToken: minted.SecurityToken }
  }
  let creds: Credentials
  beforeAll(async () => {
    creds = credentialsFor(reader)
    // Every store on the same table the roles and policies above live in, and the authenticator the
    // service composes (shared/service-app.ts): STS.* keys are resolved from their sealed SecurityToken.
    stores = openStores({ tableName: testTable.tableName, region: 'us-east-1', dynamodbEndpoint: testTable.endpoint })
    app = buildApp({
      actions: managementActions(),
      deps: stores,
      authenticate: createAuthenticator({ accounts: stores.accounts, nonces: stores.nonces, windowSeconds: 900, sessions: createSessionResolver(tokenKeys) }),
      authorize: createAuthorizer({ roles, policies, attachments, cacheMs: 0 }),
      logger: createLogger('silent'),
    })
    await app.ready()
  })
  afterAll(async () => {
    await app?.close()
    stores?.documentClient.destroy()
  })

  const call = async (action: string, params: Record<string, string> = {}, version = RAM, as = creds) => {
    const req = signRpc({ creds: as, action, version, params })
    const res = await app.inject({ method: req.method, url: req.url, headers: req.headers, payload: req.payload })
    return { status: res.statusCode, body: res.json() as Record<string, any> } // eslint-disable-line @typescript-eslint/no-explicit-any
  }

  it('authenticates the temporary credentials for real: a wrong secret or another session\'s SecurityToken is refused before any decision', async () => {
    const wrongSecret = await call('ListRoles', {}, RAM, { ...creds, secret: credentialsFor(reader).secret })
    expect(wrongSecret.status).toBe(400)
    expect(wrongSecret.body.Code).toBe('SignatureDoesNotMatch')
    const otherToken = await call('ListRoles', {}, RAM, { ...creds, securityToken: credentialsFor(reader).securityToken })
    expect(otherToken.body.Code).toBe('InvalidSecurityToken.MismatchWithAccessKey')
  })

  it('runs an allowed action and answers NoPermission 403 with AccessDeniedDetail for a denied one, changing nothing', async () => {
    const listed = await call('ListRoles')
    expect(listed.status).toBe(200)
    expect(listed.body.Roles.Role.map((r: { RoleName: string }) => r.RoleName)).toContain('Reader')
    const denied = await call('CreateRole', {
      RoleName: 'sneaky',
      AssumeRolePolicyDocument: doc({ Effect: 'Allow', Action: 'sts:AssumeRole', Principal: { Federated: `acs:ram::${account}:oidc-provider/p` } }),
    })
    expect(denied.status).toBe(403)
    expect(denied.body).toMatchObject({
      Code: 'NoPermission',
      AccessDeniedDetail: {
        AuthAction: 'ram:CreateRole',
        AuthPrincipalType: 'AssumedRoleUser',
        AuthPrincipalOwnerId: account,
        AuthPrincipalDisplayName: 'Reader:ci-run',
        NoPermissionType: 'ImplicitDeny',
        PolicyType: 'AccountLevelIdentityBasedPolicy',
      },
    })
    expect(await roles.get(account, 'sneaky')).toBeUndefined()
  })

  it('authorizes IMS provider actions as ram:<Action> on the provider ARN', async () => {
    const denied = await call('ListOIDCProviders', {}, '2019-08-15')
    expect(denied.status).toBe(403)
    expect(denied.body.AccessDeniedDetail).toMatchObject({ AuthAction: 'ram:ListOIDCProviders', NoPermissionType: 'ImplicitDeny' })
  })

  it('checks role actions on the lower-cased role ARN, with the pattern\'s role name compared lower-cased', async () => {
    // Role names are case-insensitive: a policy naming the role in any case covers it, under any spelling
    // of RoleName; a policy naming another role does not.
    const lower = await makeRole('ExactLower', [{ custom: 'get-reader-lower', document: doc({ Effect: 'Allow', Action: 'ram:GetRole', Resource: roleArn('reader') }) }])
    const upper = await makeRole('ExactUpper', [{ custom: 'get-reader-upper', document: doc({ Effect: 'Allow', Action: 'ram:GetRole', Resource: roleArn('READER') }) }])
    const other = await makeRole('ExactOther', [{ custom: 'get-writer', document: doc({ Effect: 'Allow', Action: 'ram:GetRole', Resource: roleArn('Writer') }) }])
    try {
      for (const role of [lower, upper]) {
        creds = credentialsFor(role)
        expect((await call('GetRole', { RoleName: 'READER' })).status).toBe(200)
        expect((await call('GetRole', { RoleName: 'Reader' })).status).toBe(200)
      }
      creds = credentialsFor(other)
      const denied = await call('GetRole', { RoleName: 'READER' })
      expect(denied.status).toBe(403)
      expect(denied.body.AccessDeniedDetail).toMatchObject({ AuthAction: 'ram:GetRole', NoPermissionType: 'ImplicitDeny' })
    } finally {
      creds = credentialsFor(reader)
    }
  })
})
