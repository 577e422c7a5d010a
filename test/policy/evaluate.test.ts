import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { createRequestContext, resolveConditionKey, TRUST_CONDITION_KEYS } from '../../shared/policy/conditions.ts'
import { type PolicyDocument, type PolicyStatement, parsePolicyDocument } from '../../shared/policy/document.ts'
import {
  type PolicyRequest,
  type TrustRequest,
  createTrustContext,
  evaluatePolicies,
  evaluateTrust,
  evaluateWithSession,
} from '../../shared/policy/evaluate.ts'

const ACCOUNT = '1234567890123456'
const ROLE = `acs:ram::${ACCOUNT}:role/deployer`
const permission = (doc: unknown) => parsePolicyDocument(JSON.stringify(doc), 'permission')
const session = (doc: unknown) => parsePolicyDocument(JSON.stringify(doc), 'session')
const request = (action: string, resource = ROLE, values: Record<string, string | string[]> = {}): PolicyRequest => ({
  action,
  resource,
  context: createRequestContext(values, new Date('2026-06-01T00:00:00Z')),
})

// ---------------------------------------------------------------------------------------------
// Trust fixtures (also used by the properties below)

const GITHUB_PROVIDER = `acs:ram::${ACCOUNT}:oidc-provider/github`
const K8S_PROVIDER = `acs:ram::${ACCOUNT}:oidc-provider/ack-prod`

/** A verified GitHub Actions token's claims, cloned and changed per case. */
function trustRequest(claims: Partial<TrustRequest['claims']> = {}, overrides: Partial<TrustRequest> = {}): TrustRequest {
  return {
    providerArn: GITHUB_PROVIDER,
    claims: {
      iss: 'https://token.actions.githubusercontent.com',
      aud: ['sts.aliyuncs.com'],
      sub: 'repo:octo-org/octo-repo:ref:refs/heads/main',
      repository: 'octo-org/octo-repo',
      ...claims,
    },
    now: new Date('2026-06-01T00:00:00Z'),
    ...overrides,
  }
}

const trust = (statements: unknown[]) => parsePolicyDocument(JSON.stringify({ Version: '1', Statement: statements }), 'trust')
/** A trust policy stored before the grammar refused statements that cannot cover sts:AssumeRole: still evaluated. */
const storedTrust = (statements: unknown[]) => parsePolicyDocument(JSON.stringify({ Version: '1', Statement: statements }), 'trust', { stored: true })
const githubStatement = (condition?: Record<string, unknown>) => ({
  Effect: 'Allow',
  Action: 'sts:AssumeRole',
  Principal: { Federated: GITHUB_PROVIDER },
  ...(condition === undefined ? {} : { Condition: condition }),
})

describe('evaluatePolicies', () => {
  const readOnly = permission({
    Version: '1',
    Statement: [
      { Effect: 'Allow', Action: ['ram:List*', 'ram:Get*'], Resource: '*' },
      { Effect: 'Deny', Action: 'ram:GetRole', Resource: `acs:ram::${ACCOUNT}:role/admin*` },
    ],
  })

  it('denies by default', () => {
    expect(evaluatePolicies([], request('ram:ListRoles'))).toEqual({ decision: 'ImplicitDeny' })
    expect(evaluatePolicies([readOnly], request('ram:CreateRole'))).toEqual({ decision: 'ImplicitDeny' })
  })

  it('allows a matching Allow and says which statement matched', () => {
    expect(evaluatePolicies([readOnly], request('ram:GetRole'))).toEqual({ decision: 'Allow', matched: { policyIndex: 0, statementIndex: 0 } })
  })

  it('lets a matching Deny win over an Allow, in any policy', () => {
    const admin = `acs:ram::${ACCOUNT}:role/admin-1`
    expect(evaluatePolicies([readOnly], request('ram:GetRole', admin))).toEqual({
      decision: 'ExplicitDeny',
      matched: { policyIndex: 0, statementIndex: 1 },
    })
    const allowAll = permission({ Version: '1', Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] })
    expect(evaluatePolicies([allowAll, readOnly], request('ram:GetRole', admin))).toMatchObject({
      decision: 'ExplicitDeny',
      matched: { policyIndex: 1, statementIndex: 1 },
    })
  })

  it('matches actions case-insensitively and resources case-sensitively', () => {
    expect(evaluatePolicies([readOnly], request('RAM:listroles')).decision).toBe('Allow')
    const scoped = permission({ Version: '1', Statement: [{ Effect: 'Allow', Action: 'ram:GetRole', Resource: `acs:ram::${ACCOUNT}:role/deploy?r` }] })
    expect(evaluatePolicies([scoped], request('ram:GetRole', ROLE)).decision).toBe('Allow')
    expect(evaluatePolicies([scoped], request('ram:GetRole', `acs:ram::${ACCOUNT}:role/DEPLOYER`)).decision).toBe('ImplicitDeny')
  })

  it('compares a pattern\'s role name lower-cased, as role ARNs carry it: a Deny written with capitals fires', () => {
    const prodAdmin = `acs:ram::${ACCOUNT}:role/prodadmin` // roleArn(ACCOUNT, 'ProdAdmin')
    const guarded = permission({
      Version: '1',
      Statement: [
        { Effect: 'Allow', Action: 'ram:*', Resource: '*' },
        { Effect: 'Deny', Action: 'ram:DeleteRole', Resource: `acs:ram:*:${ACCOUNT}:role/ProdAdmin` },
      ],
    })
    expect(evaluatePolicies([guarded], request('ram:DeleteRole', prodAdmin))).toMatchObject({ decision: 'ExplicitDeny', matched: { policyIndex: 0, statementIndex: 1 } })
    expect(evaluatePolicies([guarded], request('ram:DeleteRole', `acs:ram::${ACCOUNT}:role/prodadmin2`)).decision).toBe('Allow')
    const notResource = permission({ Version: '1', Statement: [{ Effect: 'Allow', Action: 'ram:GetRole', NotResource: `acs:ram::${ACCOUNT}:role/Prod*` }] })
    expect(evaluatePolicies([notResource], request('ram:GetRole', prodAdmin)).decision).toBe('ImplicitDeny')
    // Whatever the pattern's shape: the role ARN decides, not the pattern's prefix.
    for (const pattern of ['acs:*:*:*:role/ProdAdmin', `acs:ram::${ACCOUNT}:*/ProdAdmin`, 'acs:ram::*:*role/ProdAdmin', `acs:*:*:${ACCOUNT}:role/Prod*`]) {
      const deny = permission({ Version: '1', Statement: [{ Effect: 'Allow', Action: 'ram:*', Resource: '*' }, { Effect: 'Deny', Action: 'ram:DeleteRole', Resource: pattern }] })
      expect(evaluatePolicies([deny], request('ram:DeleteRole', prodAdmin)).decision, pattern).toBe('ExplicitDeny')
      const allowAllBut = permission({ Version: '1', Statement: [{ Effect: 'Allow', Action: 'ram:*', NotResource: pattern }] })
      expect(evaluatePolicies([allowAllBut], request('ram:DeleteRole', prodAdmin)).decision, pattern).toBe('ImplicitDeny')
    }
    // Other resources stay case-sensitive.
    const policyRes = permission({ Version: '1', Statement: [{ Effect: 'Allow', Action: 'ram:GetPolicy', Resource: `acs:ram::${ACCOUNT}:policy/ReadOnly` }] })
    expect(evaluatePolicies([policyRes], request('ram:GetPolicy', `acs:ram::${ACCOUNT}:policy/readonly`)).decision).toBe('ImplicitDeny')
  })

  it('does not let a `?` of a Resource pattern cover a collection action\'s `*`', () => {
    const oneChar = permission({ Version: '1', Statement: [{ Effect: 'Allow', Action: 'ram:*', Resource: `acs:ram::${ACCOUNT}:role/?` }] })
    expect(evaluatePolicies([oneChar], request('ram:ListRoles', `acs:ram::${ACCOUNT}:role/*`)).decision).toBe('ImplicitDeny')
    expect(evaluatePolicies([oneChar], request('ram:GetRole', `acs:ram::${ACCOUNT}:role/a`)).decision).toBe('Allow')
    const all = permission({ Version: '1', Statement: [{ Effect: 'Allow', Action: 'ram:*', Resource: `acs:ram::${ACCOUNT}:role/*` }] })
    expect(evaluatePolicies([all], request('ram:ListRoles', `acs:ram::${ACCOUNT}:role/*`)).decision).toBe('Allow')
  })

  it('applies NotAction and NotResource as "everything except"', () => {
    const allButDelete = permission({
      Version: '1',
      Statement: [{ Effect: 'Allow', NotAction: ['ram:Delete*', 'ims:Delete*'], NotResource: `acs:ram::${ACCOUNT}:role/admin` }],
    })
    expect(evaluatePolicies([allButDelete], request('ram:CreateRole')).decision).toBe('Allow')
    expect(evaluatePolicies([allButDelete], request('ram:DeleteRole')).decision).toBe('ImplicitDeny')
    expect(evaluatePolicies([allButDelete], request('ram:CreateRole', `acs:ram::${ACCOUNT}:role/admin`)).decision).toBe('ImplicitDeny')
  })

  it('requires the statement conditions', () => {
    const fromOffice = permission({
      Version: '1',
      Statement: [{ Effect: 'Allow', Action: 'ram:*', Resource: '*', Condition: { IpAddress: { 'acs:SourceIp': '10.0.0.0/8' } } }],
    })
    expect(evaluatePolicies([fromOffice], request('ram:ListRoles', ROLE, { 'acs:SourceIp': '10.1.1.1' })).decision).toBe('Allow')
    expect(evaluatePolicies([fromOffice], request('ram:ListRoles', ROLE, { 'acs:SourceIp': '8.8.8.8' })).decision).toBe('ImplicitDeny')
    expect(evaluatePolicies([fromOffice], request('ram:ListRoles')).decision).toBe('ImplicitDeny')
  })
})

describe('evaluateWithSession', () => {
  const role = [
    permission({
      Version: '1',
      Statement: [
        { Effect: 'Allow', Action: 'ram:*', Resource: '*' },
        { Effect: 'Deny', Action: 'ram:DeleteRole', Resource: '*' },
      ],
    }),
  ]
  const listOnly = session({ Version: '1', Statement: [{ Effect: 'Allow', Action: 'ram:List*', Resource: '*' }] })

  it('uses the role policies alone when there is no session policy', () => {
    expect(evaluateWithSession(role, undefined, request('ram:CreateRole'))).toMatchObject({ decision: 'Allow' })
    expect(evaluateWithSession(role, undefined, request('ecs:RunInstances'))).toMatchObject({
      decision: 'ImplicitDeny',
      deniedBy: 'AccountLevelIdentityBasedPolicy',
    })
    expect(evaluateWithSession(role, undefined, request('ram:DeleteRole'))).toMatchObject({
      decision: 'ExplicitDeny',
      deniedBy: 'AccountLevelIdentityBasedPolicy',
    })
  })

  it('narrows to what both allow', () => {
    expect(evaluateWithSession(role, listOnly, request('ram:ListRoles')).decision).toBe('Allow')
    expect(evaluateWithSession(role, listOnly, request('ram:CreateRole'))).toMatchObject({ decision: 'ImplicitDeny', deniedBy: 'SessionPolicy' })
  })

  it('never widens past the role policies', () => {
    const everything = session({ Version: '1', Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] })
    expect(evaluateWithSession(role, everything, request('ecs:RunInstances'))).toMatchObject({
      decision: 'ImplicitDeny',
      deniedBy: 'AccountLevelIdentityBasedPolicy',
    })
    expect(evaluateWithSession(role, everything, request('ram:DeleteRole'))).toMatchObject({
      decision: 'ExplicitDeny',
      deniedBy: 'AccountLevelIdentityBasedPolicy',
    })
  })

  it('reports an explicit Deny in the session policy as SessionPolicy', () => {
    const noRoles = session({
      Version: '1',
      Statement: [
        { Effect: 'Allow', Action: '*', Resource: '*' },
        { Effect: 'Deny', Action: 'ram:*Role', Resource: '*' },
      ],
    })
    const result = evaluateWithSession(role, noRoles, request('ram:CreateRole'))
    expect(result).toMatchObject({ decision: 'ExplicitDeny', deniedBy: 'SessionPolicy' })
    expect(result.session?.matched).toEqual({ policyIndex: 0, statementIndex: 1 })
    expect(result.identity.decision).toBe('Allow')
  })
})

// ---------------------------------------------------------------------------------------------
// Property-based: small random policies over a small alphabet, so matches are frequent.

const ACTION_PATTERNS = ['*', 'svc:*', 'svc:Get', 'svc:Put', 'svc:?et', 'other:*', 'other:List']
const REQUEST_ACTIONS = ['svc:Get', 'svc:Put', 'SVC:get', 'svc:Set', 'other:List', 'other:Delete']
const RESOURCE_PATTERNS = ['*', 'acs:svc:*:1:a/*', 'acs:svc:*:1:a/x', 'acs:svc:cn:1:b/?', 'acs:*:*:*:*']
const REQUEST_RESOURCES = ['acs:svc:cn:1:a/x', 'acs:svc:cn:1:a/y', 'acs:svc:cn:1:b/y', 'acs:other:cn:2:c']

const someOf = (values: string[]) => fc.uniqueArray(fc.constantFrom(...values), { minLength: 1, maxLength: 3 })

const statementArb: fc.Arbitrary<PolicyStatement> = fc
  .record({
    effect: fc.constantFrom('Allow' as const, 'Deny' as const),
    notAction: fc.boolean(),
    actions: someOf(ACTION_PATTERNS),
    notResource: fc.boolean(),
    resources: someOf(RESOURCE_PATTERNS),
    condition: fc.option(fc.constantFrom('v1', 'v2'), { nil: undefined }),
  })
  .map(({ effect, notAction, actions, notResource, resources, condition }) => ({
    Effect: effect,
    ...(notAction ? { NotAction: actions } : { Action: actions }),
    ...(notResource ? { NotResource: resources } : { Resource: resources }),
    ...(condition === undefined ? {} : { Condition: { StringEquals: { 'test:tag': [condition] } } }),
  }))

const policyArb: fc.Arbitrary<PolicyDocument> = fc
  .array(statementArb, { minLength: 1, maxLength: 4 })
  .map((Statement) => ({ Version: '1' as const, Statement }))

const requestArb: fc.Arbitrary<PolicyRequest> = fc
  .record({
    action: fc.constantFrom(...REQUEST_ACTIONS),
    resource: fc.constantFrom(...REQUEST_RESOURCES),
    tags: fc.subarray(['v1', 'v2', 'v3']),
  })
  .map(({ action, resource, tags }) => ({ action, resource, context: createRequestContext({ 'test:tag': tags }) }))

describe('evaluation properties', () => {
  it('a session policy never grants what the role policies do not', () => {
    fc.assert(
      fc.property(fc.array(policyArb, { maxLength: 3 }), policyArb, requestArb, (rolePolicies, sessionPolicy, req) => {
        const result = evaluateWithSession(rolePolicies, sessionPolicy, req)
        if (result.decision === 'Allow') {
          expect(evaluatePolicies(rolePolicies, req).decision).toBe('Allow')
          expect(evaluatePolicies([sessionPolicy], req).decision).toBe('Allow')
        }
        // And the intersection is exact: both allowing is enough.
        if (evaluatePolicies(rolePolicies, req).decision === 'Allow' && evaluatePolicies([sessionPolicy], req).decision === 'Allow') {
          expect(result.decision).toBe('Allow')
        }
      }),
      { numRuns: 2000 },
    )
  })

  it('adding a matching Deny to any policy makes the decision an explicit deny', () => {
    fc.assert(
      fc.property(
        fc.array(policyArb, { minLength: 1, maxLength: 3 }),
        fc.option(policyArb, { nil: undefined }),
        requestArb,
        fc.nat(),
        fc.nat(),
        fc.boolean(),
        (rolePolicies, sessionPolicy, req, policyPick, positionPick, intoSession) => {
          const deny: PolicyStatement = { Effect: 'Deny', Action: [req.action], Resource: [req.resource] }
          const withDeny = (policy: PolicyDocument): PolicyDocument => {
            const statements = [...policy.Statement]
            statements.splice(positionPick % (statements.length + 1), 0, deny)
            return { ...policy, Statement: statements }
          }
          if (intoSession && sessionPolicy !== undefined) {
            const result = evaluateWithSession(rolePolicies, withDeny(sessionPolicy), req)
            expect(result).toMatchObject({ decision: 'ExplicitDeny', deniedBy: 'SessionPolicy' })
          } else {
            const index = policyPick % rolePolicies.length
            const denied = rolePolicies.map((p, i) => (i === index ? withDeny(p) : p))
            expect(evaluatePolicies(denied, req).decision).toBe('ExplicitDeny')
            expect(evaluateWithSession(denied, sessionPolicy, req).decision).toBe('ExplicitDeny')
          }
        },
      ),
      { numRuns: 2000 },
    )
  })

  it('adding a Deny for the provider to a trust policy makes it non-Allow', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom('main', 'dev', '*'), { minLength: 1, maxLength: 4 }), fc.constantFrom('main', 'dev'), (branches, branch) => {
        const statements: PolicyStatement[] = branches.map((b) => ({
          Effect: 'Allow',
          Action: ['sts:AssumeRole'],
          Principal: { Federated: [GITHUB_PROVIDER] },
          Condition: { StringLike: { 'oidc:sub': [`repo:octo-org/octo-repo:ref:refs/heads/${b}`] } },
        }))
        const req = trustRequest({ sub: `repo:octo-org/octo-repo:ref:refs/heads/${branch}` })
        const deny: PolicyStatement = { Effect: 'Deny', Action: ['sts:*'], Principal: { Federated: [GITHUB_PROVIDER] } }
        expect(evaluateTrust({ Version: '1', Statement: [...statements, deny] }, req).decision).toBe('ExplicitDeny')
      }),
    )
  })
})

// ---------------------------------------------------------------------------------------------
// Trust

describe('createTrustContext', () => {
  it('builds what createRequestContext builds from the same keys', () => {
    fc.assert(
      fc.property(fc.string(), fc.array(fc.string(), { maxLength: 3 }), fc.string(), fc.option(fc.string(), { nil: undefined }), (iss, aud, sub, sourceIp) => {
        const now = new Date(1_764_000_000_000)
        const built = createTrustContext({ providerArn: 'p', claims: { iss, aud, sub }, now, ...(sourceIp === undefined ? {} : { sourceIp }) })
        expect(built).toStrictEqual(createRequestContext({ 'oidc:iss': iss, 'oidc:aud': aud, 'oidc:sub': sub, 'acs:SourceIp': sourceIp }, now))
      }),
      { numRuns: 200 },
    )
  })

  it('has a value for every key a trust policy may test (TRUST_CONDITION_KEYS)', () => {
    const context = createTrustContext({ providerArn: 'p', claims: { iss: 'https://i', aud: ['a'], sub: 's' }, now: new Date(1_764_000_000_000), sourceIp: '10.0.0.1' })
    for (const key of TRUST_CONDITION_KEYS) expect(resolveConditionKey(context, key), key).toBeDefined()
  })
})

describe('evaluateTrust', () => {
  it('allows a GitHub Actions token from the main branch of one repository', () => {
    const policy = trust([
      githubStatement({
        StringEquals: { 'oidc:iss': 'https://token.actions.githubusercontent.com', 'oidc:aud': 'sts.aliyuncs.com', 'oidc:sub': 'repo:octo-org/octo-repo:ref:refs/heads/main' },
      }),
    ])
    expect(evaluateTrust(policy, trustRequest())).toMatchObject({ decision: 'Allow', statementIndex: 0, reason: 'Statement[0]: Allow applies' })
    const other = evaluateTrust(policy, trustRequest({ sub: 'repo:octo-org/octo-repo:ref:refs/heads/feature' }))
    expect(other).toMatchObject({ decision: 'ImplicitDeny' })
    expect(other.reason).toBe('no Allow statement applies: Statement[0]: condition StringEquals oidc:sub not satisfied')
  })

  it('matches any repository of an organisation in the prod environment with StringLike', () => {
    const policy = trust([githubStatement({ StringLike: { 'oidc:sub': 'repo:octo-org/*:environment:prod' } })])
    expect(evaluateTrust(policy, trustRequest({ sub: 'repo:octo-org/api:environment:prod' })).decision).toBe('Allow')
    expect(evaluateTrust(policy, trustRequest({ sub: 'repo:octo-org/api:environment:staging' })).decision).toBe('ImplicitDeny')
    expect(evaluateTrust(policy, trustRequest({ sub: 'repo:evil-org/api:environment:prod' })).decision).toBe('ImplicitDeny')
    expect(evaluateTrust(policy, trustRequest({ sub: 'repo:octo-org/api:ref:refs/heads/main' })).reason).toBe(
      'no Allow statement applies: Statement[0]: condition StringLike oidc:sub not satisfied',
    )
  })

  it('allows Kubernetes service accounts of one namespace (spec §4.4)', () => {
    const policy = trust([
      {
        Effect: 'Allow',
        Action: 'sts:AssumeRole',
        Principal: { Federated: [K8S_PROVIDER] },
        Condition: {
          StringEquals: { 'oidc:iss': 'https://oidc-ack.cn-hangzhou.aliyuncs.com/c1', 'oidc:aud': 'sts.aliyuncs.com' },
          StringLike: { 'oidc:sub': 'system:serviceaccount:prod:*' },
        },
      },
    ])
    const k8s = (sub: string) =>
      trustRequest({ iss: 'https://oidc-ack.cn-hangzhou.aliyuncs.com/c1', sub }, { providerArn: K8S_PROVIDER })
    expect(evaluateTrust(policy, k8s('system:serviceaccount:prod:deployer')).decision).toBe('Allow')
    expect(evaluateTrust(policy, k8s('system:serviceaccount:dev:deployer')).decision).toBe('ImplicitDeny')
    expect(evaluateTrust(policy, k8s('system:serviceaccount:production:deployer')).decision).toBe('ImplicitDeny')
  })

  it('lets a token with several audiences satisfy StringEquals on any one of them', () => {
    const policy = trust([githubStatement({ StringEquals: { 'oidc:aud': 'b' } })])
    expect(evaluateTrust(policy, trustRequest({ aud: ['a', 'b'] })).decision).toBe('Allow')
    expect(evaluateTrust(policy, trustRequest({ aud: ['a', 'c'] })).decision).toBe('ImplicitDeny')
    const notA = trust([githubStatement({ StringNotEquals: { 'oidc:aud': 'a' } })])
    expect(evaluateTrust(notA, trustRequest({ aud: ['a', 'b'] })).decision).toBe('ImplicitDeny')
    expect(evaluateTrust(notA, trustRequest({ aud: ['b', 'c'] })).decision).toBe('Allow')
  })

  it('refuses a token from a provider the policy does not name', () => {
    const policy = trust([githubStatement()])
    const result = evaluateTrust(policy, trustRequest({}, { providerArn: `acs:ram::${ACCOUNT}:oidc-provider/other` }))
    expect(result.decision).toBe('ImplicitDeny')
    expect(result.reason).toBe('no Allow statement applies: Statement[0]: Principal.Federated does not list the OIDC provider')
    // Exact comparison: the same name in another account, or in another case, is another provider.
    expect(evaluateTrust(policy, trustRequest({}, { providerArn: 'acs:ram::9999999999999999:oidc-provider/github' })).decision).toBe('ImplicitDeny')
    expect(evaluateTrust(policy, trustRequest({}, { providerArn: `acs:ram::${ACCOUNT}:oidc-provider/GitHub` })).decision).toBe('ImplicitDeny')
  })

  it('refuses RAM and Service principals for an OIDC exchange', () => {
    const policy = trust([{ Effect: 'Allow', Action: 'sts:AssumeRole', Principal: { RAM: `acs:ram::${ACCOUNT}:root`, Service: 'ecs.aliyuncs.com' } }])
    expect(evaluateTrust(policy, trustRequest()).decision).toBe('ImplicitDeny')
  })

  it('lets an explicit Deny on one sub win over a broader Allow', () => {
    const policy = trust([
      githubStatement({ StringLike: { 'oidc:sub': 'repo:octo-org/*' } }),
      { Effect: 'Deny', Action: 'sts:AssumeRole', Principal: { Federated: GITHUB_PROVIDER }, Condition: { StringLike: { 'oidc:sub': 'repo:octo-org/untrusted:*' } } },
    ])
    expect(evaluateTrust(policy, trustRequest({ sub: 'repo:octo-org/octo-repo:ref:refs/heads/main' })).decision).toBe('Allow')
    expect(evaluateTrust(policy, trustRequest({ sub: 'repo:octo-org/untrusted:ref:refs/heads/main' }))).toMatchObject({
      decision: 'ExplicitDeny',
      statementIndex: 1,
      reason: 'Statement[1]: Deny applies',
    })
  })

  it('allows any token of the provider when the statement has no Condition', () => {
    const policy = trust([githubStatement()])
    expect(evaluateTrust(policy, trustRequest({ sub: 'anything', aud: ['whatever'] })).decision).toBe('Allow')
  })

  it('accepts sts:AssumeRoleWithOIDC and wildcards as the action, and honours NotAction', () => {
    const withOidc = trust([{ ...githubStatement(), Action: 'sts:AssumeRoleWithOIDC' }])
    expect(evaluateTrust(withOidc, trustRequest()).decision).toBe('Allow')
    const wildcard = trust([{ ...githubStatement(), Action: 'STS:Assume*' }])
    expect(evaluateTrust(wildcard, trustRequest()).decision).toBe('Allow')
    // The grammar refuses these in new trust policies (document.test.ts); stored ones still evaluate so.
    const otherAction = storedTrust([{ ...githubStatement(), Action: 'ecs:RunInstances' }])
    expect(evaluateTrust(otherAction, trustRequest()).reason).toBe('no Allow statement applies: Statement[0]: action does not cover sts:AssumeRole')
    const notAssume = storedTrust([{ Effect: 'Allow', NotAction: 'sts:AssumeRole', Principal: { Federated: GITHUB_PROVIDER } }])
    expect(evaluateTrust(notAssume, trustRequest()).decision).toBe('ImplicitDeny')
    const notOidcAlias = storedTrust([{ Effect: 'Allow', NotAction: 'sts:AssumeRoleWithOIDC', Principal: { Federated: GITHUB_PROVIDER } }])
    expect(evaluateTrust(notOidcAlias, trustRequest()).decision).toBe('ImplicitDeny')
  })

  it('applies a Deny that covers the exchange under either name, NotAction included: the alias never widens access', () => {
    const denyUnlessGood = (deny: Record<string, unknown>, parse = trust) =>
      parse([githubStatement(), { Effect: 'Deny', Principal: { Federated: GITHUB_PROVIDER }, Condition: { StringNotEquals: { 'oidc:sub': 'good' } }, ...deny }])
    for (const deny of [{ NotAction: 'sts:AssumeRoleWithOIDC' }, { NotAction: 'sts:AssumeRole' }, { Action: 'sts:AssumeRole' }, { Action: 'sts:AssumeRoleWithOIDC' }]) {
      expect(evaluateTrust(denyUnlessGood(deny), trustRequest()), JSON.stringify(deny)).toMatchObject({ decision: 'ExplicitDeny', statementIndex: 1 })
    }
    // A Deny whose NotAction names both names does not cover the exchange (only a stored one can say so).
    expect(evaluateTrust(denyUnlessGood({ NotAction: ['sts:AssumeRole', 'sts:AssumeRoleWithOIDC'] }, storedTrust), trustRequest()).decision).toBe('Allow')
  })

  it('evaluates acs:CurrentTime from the request clock and acs:SourceIp from the caller', () => {
    const policy = trust([
      githubStatement({
        DateLessThan: { 'acs:CurrentTime': '2026-12-31T00:00:00Z' },
        IpAddress: { 'acs:SourceIp': ['10.0.0.0/8', '2001:db8::/32'] },
      }),
    ])
    expect(evaluateTrust(policy, trustRequest({}, { sourceIp: '10.2.3.4' })).decision).toBe('Allow')
    expect(evaluateTrust(policy, trustRequest({}, { sourceIp: '2001:db8::7' })).decision).toBe('Allow')
    expect(evaluateTrust(policy, trustRequest({}, { sourceIp: '192.0.2.1' })).decision).toBe('ImplicitDeny')
    expect(evaluateTrust(policy, trustRequest({}, { sourceIp: undefined })).decision).toBe('ImplicitDeny')
    expect(evaluateTrust(policy, trustRequest({}, { sourceIp: '10.2.3.4', now: new Date('2027-01-01T00:00:00Z') })).reason).toBe(
      'no Allow statement applies: Statement[0]: condition DateLessThan acs:CurrentTime not satisfied',
    )
  })

  it('explains every statement for a dry run', () => {
    const policy = trust([
      { Effect: 'Deny', Action: 'sts:AssumeRole', Principal: { Federated: K8S_PROVIDER } },
      githubStatement({ StringEquals: { 'oidc:aud': 'other' } }),
      githubStatement({ StringEquals: { 'oidc:iss': 'https://token.actions.githubusercontent.com' } }),
    ])
    const result = evaluateTrust(policy, trustRequest())
    expect(result.decision).toBe('Allow')
    expect(result.statementIndex).toBe(2)
    expect(result.statements.map((s) => [s.applies, s.reason])).toEqual([
      [false, 'Statement[0]: Principal.Federated does not list the OIDC provider'],
      [false, 'Statement[1]: condition StringEquals oidc:aud not satisfied'],
      [true, 'Statement[2]: Allow applies'],
    ])
    expect(evaluateTrust(trust([{ ...githubStatement(), Effect: 'Deny', Principal: { Federated: K8S_PROVIDER } }]), trustRequest()).reason).toBe(
      'no Allow statement in the trust policy',
    )
  })

  it('does not leak claim values into the reason', () => {
    const policy = trust([githubStatement({ StringEquals: { 'oidc:sub': 'repo:octo-org/x:ref:refs/heads/main' } })])
    const result = evaluateTrust(policy, trustRequest({ sub: 'repo:secret-org/secret-repo:ref:refs/heads/main' }))
    expect(result.reason).not.toContain('secret')
  })
})
