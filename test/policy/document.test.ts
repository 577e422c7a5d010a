import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  MAX_SESSION_POLICY_LENGTH,
  type PolicyKind,
  checkPolicyDocument,
  parsePolicyDocument,
  parseSessionPolicy,
  serializePolicyDocument,
} from '../../shared/policy/document.ts'
import { TRUST_CONDITION_KEYS } from '../../shared/policy/conditions.ts'
import { thrownApiError } from '../support/errors.ts'

const PROVIDER = 'acs:ram::1234567890123456:oidc-provider/demo-idp'

/** The trust policy of spec §4.4, as a console would write it. */
const trustFixture = () => ({
  Version: '1',
  Statement: [
    {
      Effect: 'Allow',
      Action: 'sts:AssumeRole',
      Principal: { Federated: [PROVIDER] },
      Condition: {
        StringEquals: { 'oidc:iss': 'https://idp.example.com', 'oidc:aud': 'sts.aliyuncs.com' },
        StringLike: { 'oidc:sub': 'system:serviceaccount:prod:*' },
      },
    },
  ],
})

const permissionFixture = () => ({
  Version: '1',
  Statement: [
    { Effect: 'Allow', Action: ['ram:List*', 'ram:Get*'], Resource: '*' },
    { Effect: 'Deny', Action: 'ram:GetRole', Resource: 'acs:ram::1234567890123456:role/admin' },
  ],
})

type Json = Record<string, unknown>
/** Clones a fixture and lets a case change one thing. */
function mutate(fixture: () => Json, change: (doc: Json & { Statement: Json[] }) => void): string {
  const doc = fixture() as Json & { Statement: Json[] }
  change(doc)
  return JSON.stringify(doc)
}
const first = (doc: { Statement: Json[] }): Json => doc.Statement[0] as Json

describe('parsePolicyDocument grammar errors', () => {
  const cases: [name: string, kind: PolicyKind, text: string, location: string][] = [
    ['text that is not JSON', 'permission', '{"Version": "1",', '(root)'],
    ['an empty document', 'permission', '', '(root)'],
    ['a top-level array', 'permission', '[{"Version":"1"}]', '(root)'],
    ['a top-level null', 'permission', 'null', '(root)'],
    ['a top-level string', 'permission', '"policy"', '(root)'],
    ['a missing Version', 'permission', mutate(permissionFixture, (d) => delete d.Version), 'Version'],
    ['Version "2"', 'permission', mutate(permissionFixture, (d) => (d.Version = '2')), 'Version'],
    ['a numeric Version', 'permission', mutate(permissionFixture, (d) => (d.Version = 1)), 'Version'],
    ['an unknown top-level element', 'permission', mutate(permissionFixture, (d) => (d.Id = 'x')), 'Id'],
    ['a missing Statement', 'permission', '{"Version":"1"}', 'Statement'],
    ['an empty Statement array', 'permission', mutate(permissionFixture, (d) => (d.Statement = [])), 'Statement'],
    [
      'more than 100 statements',
      'permission',
      mutate(permissionFixture, (d) => (d.Statement = Array.from({ length: 101 }, () => ({ Effect: 'Allow', Action: '*', Resource: '*' })))),
      'Statement',
    ],
    ['a string Statement', 'permission', '{"Version":"1","Statement":"Allow"}', 'Statement'],
    ['a statement that is not an object', 'permission', '{"Version":"1","Statement":["Allow"]}', 'Statement[0]'],
    ['a lower-case Effect', 'permission', mutate(permissionFixture, (d) => (first(d).Effect = 'allow')), 'Statement[0].Effect'],
    ['a missing Effect', 'permission', mutate(permissionFixture, (d) => delete first(d).Effect), 'Statement[0].Effect'],
    ['both Action and NotAction', 'permission', mutate(permissionFixture, (d) => (first(d).NotAction = 'ecs:*')), 'Statement[0]'],
    ['neither Action nor NotAction', 'permission', mutate(permissionFixture, (d) => delete first(d).Action), 'Statement[0]'],
    ['an empty Action array', 'permission', mutate(permissionFixture, (d) => (first(d).Action = [])), 'Statement[0].Action'],
    ['an empty action string in an array', 'permission', mutate(permissionFixture, (d) => (first(d).Action = ['ram:List*', ''])), 'Statement[0].Action[1]'],
    ['an action without a service', 'permission', mutate(permissionFixture, (d) => (first(d).Action = 'ListRoles')), 'Statement[0].Action'],
    ['a wildcard service', 'permission', mutate(permissionFixture, (d) => (first(d).NotAction = ['*:List*'], delete first(d).Action)), 'Statement[0].NotAction[0]'],
    ['a numeric Action', 'permission', mutate(permissionFixture, (d) => (first(d).Action = 5)), 'Statement[0].Action'],
    ['a permission statement without Resource', 'permission', mutate(permissionFixture, (d) => delete first(d).Resource), 'Statement[0]'],
    ['a Resource that is not an acs ARN', 'permission', mutate(permissionFixture, (d) => (first(d).Resource = 'arn:aws:s3:::bucket')), 'Statement[0].Resource'],
    ['both Resource and NotResource', 'permission', mutate(permissionFixture, (d) => (first(d).NotResource = '*')), 'Statement[0]'],
    ['a Principal in a permission policy', 'permission', mutate(permissionFixture, (d) => (first(d).Principal = { RAM: '*' })), 'Statement[0].Principal'],
    ['a Principal in a session policy', 'session', mutate(permissionFixture, (d) => (first(d).Principal = { RAM: '*' })), 'Statement[0].Principal'],
    ['an unknown statement element', 'permission', mutate(permissionFixture, (d) => (first(d).Condtion = {})), 'Statement[0].Condtion'],
    ['a numeric Sid', 'permission', mutate(permissionFixture, (d) => (first(d).Sid = 5)), 'Statement[0].Sid'],
    ['a trust statement without Principal', 'trust', mutate(trustFixture, (d) => delete first(d).Principal), 'Statement[0].Principal'],
    ['a Principal that is a string', 'trust', mutate(trustFixture, (d) => (first(d).Principal = '*')), 'Statement[0].Principal'],
    ['an empty Principal', 'trust', mutate(trustFixture, (d) => (first(d).Principal = {})), 'Statement[0].Principal'],
    ['an unknown principal type', 'trust', mutate(trustFixture, (d) => (first(d).Principal = { AWS: 'x' })), 'Statement[0].Principal.AWS'],
    ['an empty Federated list', 'trust', mutate(trustFixture, (d) => (first(d).Principal = { Federated: [] })), 'Statement[0].Principal.Federated'],
    [
      'a wildcard Federated principal',
      'trust',
      mutate(trustFixture, (d) => (first(d).Principal = { Federated: [PROVIDER, 'acs:ram::1234567890123456:oidc-provider/*'] })),
      'Statement[0].Principal.Federated[1]',
    ],
    // Nothing would enforce it: a trust policy applies to the role that holds it.
    ['a trust Resource', 'trust', mutate(trustFixture, (d) => (first(d).Resource = 'acs:ram::1234567890123456:role/some-other-role')), 'Statement[0].Resource'],
    ['a trust NotResource', 'trust', mutate(trustFixture, (d) => (first(d).NotResource = 'acs:ram::1234567890123456:role/r')), 'Statement[0].NotResource'],
    ['a Condition that is an array', 'trust', mutate(trustFixture, (d) => (first(d).Condition = [])), 'Statement[0].Condition'],
    ['an empty Condition', 'trust', mutate(trustFixture, (d) => (first(d).Condition = {})), 'Statement[0].Condition'],
    ['an unknown operator', 'trust', mutate(trustFixture, (d) => (first(d).Condition = { StringEqual: { 'oidc:sub': 'x' } })), 'Statement[0].Condition.StringEqual'],
    ['an IfExists operator', 'trust', mutate(trustFixture, (d) => (first(d).Condition = { StringEqualsIfExists: { 'oidc:sub': 'x' } })), 'Statement[0].Condition.StringEqualsIfExists'],
    ['an operator given a string', 'trust', mutate(trustFixture, (d) => (first(d).Condition = { StringEquals: 'oidc:sub' })), 'Statement[0].Condition.StringEquals'],
    ['an operator with no keys', 'trust', mutate(trustFixture, (d) => (first(d).Condition = { StringEquals: {} })), 'Statement[0].Condition.StringEquals'],
    ['a condition key without prefix', 'trust', mutate(trustFixture, (d) => (first(d).Condition = { StringEquals: { sub: 'x' } })), 'Statement[0].Condition.StringEquals'],
    [
      'a StringLike value that is a number, in the second statement',
      'trust',
      mutate(trustFixture, (d) => d.Statement.push({ ...first(d), Condition: { StringLike: { 'oidc:sub': 5 } } })),
      'Statement[1].Condition.StringLike.oidc:sub',
    ],
    ['an empty value list', 'trust', mutate(trustFixture, (d) => (first(d).Condition = { StringEquals: { 'oidc:aud': [] } })), 'Statement[0].Condition.StringEquals.oidc:aud'],
    [
      'more than 100 values',
      'trust',
      mutate(trustFixture, (d) => (first(d).Condition = { StringEquals: { 'oidc:aud': Array.from({ length: 101 }, (_, i) => `a${i}`) } })),
      'Statement[0].Condition.StringEquals.oidc:aud',
    ],
    ['a non-numeric Numeric value', 'trust', mutate(trustFixture, (d) => (first(d).Condition = { NumericLessThan: { 'test:n': 'ten' } })), 'Statement[0].Condition.NumericLessThan.test:n'],
    ['an unreadable Date value', 'trust', mutate(trustFixture, (d) => (first(d).Condition = { DateLessThan: { 'acs:CurrentTime': 'tomorrow' } })), 'Statement[0].Condition.DateLessThan.acs:CurrentTime'],
    ['a Bool value that is not true/false', 'trust', mutate(trustFixture, (d) => (first(d).Condition = { Bool: { 'acs:SecureTransport': 'yes' } })), 'Statement[0].Condition.Bool.acs:SecureTransport'],
    [
      'an invalid CIDR in a value list',
      'trust',
      mutate(trustFixture, (d) => (first(d).Condition = { IpAddress: { 'acs:SourceIp': ['10.0.0.0/8', '10.0.0.0/33'] } })),
      'Statement[0].Condition.IpAddress.acs:SourceIp[1]',
    ],
    ['a duplicate Effect key', 'permission', '{"Version":"1","Statement":[{"Effect":"Deny","Action":"*","Resource":"*","Effect":"Allow"}]}', 'Statement[0]'],
    ['a duplicate top-level key', 'permission', '{"Version":"1","Version":"1","Statement":[]}', '(root)'],
    [
      'a duplicate condition key',
      'trust',
      `{"Version":"1","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Principal":{"Federated":"${PROVIDER}"},"Condition":{"StringEquals":{"oidc:sub":"a","oidc:\\u0073ub":"b"}}}]}`,
      'Statement[0].Condition.StringEquals',
    ],
  ]

  it.each(cases)('points at the offending element for %s', (_name, kind, text, location) => {
    const result = checkPolicyDocument(text, kind)
    expect(result.ok).toBe(false)
    if (result.ok) return
    expect(result.problem).toBe('Grammar')
    expect(result.location).toBe(location)

    const error = thrownApiError(() => parsePolicyDocument(text, kind))
    expect(error.code).toBe('MalformedPolicyDocument')
    expect(error.message).toBe(`${location}: ${result.reason}`)
  })

  it('says what is wrong, not only where', () => {
    const effect = checkPolicyDocument(mutate(permissionFixture, (d) => (first(d).Effect = 'allow')), 'permission')
    expect(!effect.ok && effect.message).toBe('Statement[0].Effect: must be "Allow" or "Deny"')
    const version = checkPolicyDocument(mutate(permissionFixture, (d) => (d.Version = '2')), 'permission')
    expect(!version.ok && version.message).toBe('Version: must be "1"')
    const json = checkPolicyDocument('{', 'permission')
    expect(!json.ok && json.message).toBe('(root): not valid JSON')
  })
})

describe('parsePolicyDocument normalisation', () => {
  it('turns every single string into a one-element array', () => {
    const doc = parsePolicyDocument(
      JSON.stringify({
        Version: '1',
        Statement: [
          {
            Effect: 'Allow',
            Action: 'sts:AssumeRole',
            Principal: { Federated: PROVIDER, RAM: 'acs:ram::1234567890123456:root' },
            Condition: { StringEquals: { 'oidc:aud': 'sts.aliyuncs.com' } },
          },
        ],
      }),
      'trust',
    )
    expect(doc).toEqual({
      Version: '1',
      Statement: [
        {
          Effect: 'Allow',
          Action: ['sts:AssumeRole'],
          Principal: { Federated: [PROVIDER], RAM: ['acs:ram::1234567890123456:root'] },
          Condition: { StringEquals: { 'oidc:aud': ['sts.aliyuncs.com'] } },
        },
      ],
    })
  })

  it('accepts a lone statement object and stores it as an array', () => {
    const doc = parsePolicyDocument('{"Version":"1","Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}', 'permission')
    expect(doc.Statement).toEqual([{ Effect: 'Allow', Action: ['*'], Resource: ['*'] }])
  })

  it('stores numbers and booleans in conditions as strings', () => {
    const doc = parsePolicyDocument(
      JSON.stringify({
        Version: '1',
        Statement: [
          {
            Effect: 'Deny',
            NotAction: 'ram:Get*',
            NotResource: 'acs:ram::1:role/*',
            Condition: {
              NumericLessThan: { 'test:n': [3, '4.5'] },
              DateGreaterThan: { 'acs:CurrentTime': 1767225600 },
              Bool: { 'acs:SecureTransport': [false, 'TRUE'] },
            },
          },
        ],
      }),
      'session',
    )
    expect(doc.Statement[0]?.Condition).toEqual({
      NumericLessThan: { 'test:n': ['3', '4.5'] },
      DateGreaterThan: { 'acs:CurrentTime': ['1767225600'] },
      Bool: { 'acs:SecureTransport': ['false', 'true'] },
    })
  })

  it('refuses a trust condition on a key no exchange has (keys are case-insensitive); one stored before that rule is still read', () => {
    const onKey = (key: string, operator = 'StringEquals', value = 'x') => mutate(trustFixture, (d) => (first(d).Condition = { [operator]: { [key]: value } }))
    const fitting: Record<string, [string, string]> = {
      'oidc:iss': ['StringEquals', 'x'],
      'oidc:aud': ['StringEquals', 'x'],
      'oidc:sub': ['StringEquals', 'x'],
      'acs:CurrentTime': ['DateLessThan', '2027-01-01T00:00:00Z'],
      'acs:SourceIp': ['IpAddress', '203.0.113.0/24'],
    }
    for (const key of TRUST_CONDITION_KEYS) expect(checkPolicyDocument(onKey(key.toUpperCase(), ...fitting[key]!), 'trust').ok, key).toBe(true)
    const unknown = checkPolicyDocument(onKey('oidc:repository', 'StringNotEquals'), 'trust')
    expect(unknown).toMatchObject({ ok: false, location: 'Statement[0].Condition.StringNotEquals.oidc:repository', reason: expect.stringContaining('not a condition key of a trust policy') })
    expect(checkPolicyDocument(onKey('acs:SecureTransport', 'Bool'), 'trust').ok).toBe(false)
    expect(parsePolicyDocument(onKey('oidc:repository'), 'trust', { stored: true }).Statement[0]!.Condition).toEqual({ StringEquals: { 'oidc:repository': ['x'] } })
    // Permission and session policies may name any key (Alibaba's global keys among them).
    const permission = JSON.stringify({ Version: '1', Statement: [{ Effect: 'Deny', Action: '*', Resource: '*', Condition: { Bool: { 'acs:MFAPresent': 'false' } } }] })
    expect(checkPolicyDocument(permission, 'permission').ok).toBe(true)
  })

  it('refuses a trust condition whose operator is of another family than its key (it would never hold, or, negated, always)', () => {
    const on = (operator: string, key: string, value: unknown) => checkPolicyDocument(mutate(trustFixture, (d) => (first(d).Condition = { [operator]: { [key]: value } })), 'trust')
    for (const [operator, key, value] of [
      // A Deny on the time written with a Numeric operator never fired: the time is no number.
      ['NumericGreaterThan', 'acs:CurrentTime', 1767225600],
      ['StringEquals', 'acs:CurrentTime', '2027-01-01T00:00:00Z'],
      // A negated address comparison on the subject held for every token.
      ['NotIpAddress', 'oidc:sub', '1.2.3.4'],
      ['IpAddress', 'oidc:sub', '1.2.3.4'],
      ['DateNotEquals', 'oidc:sub', '2027-01-01T00:00:00Z'],
      ['NumericEquals', 'oidc:aud', 1],
      ['Bool', 'oidc:iss', 'true'],
      ['StringEquals', 'acs:SourceIp', '203.0.113.5'],
    ] as const) {
      expect(on(operator, key, value), `${operator} ${key}`).toMatchObject({ ok: false, location: `Statement[0].Condition.${operator}.${key}`, reason: expect.stringContaining('operators only') })
    }
    // One stored before that rule is still read.
    const stored = mutate(trustFixture, (d) => (first(d).Condition = { NotIpAddress: { 'oidc:sub': '1.2.3.4' } }))
    expect(parsePolicyDocument(stored, 'trust', { stored: true }).Statement[0]!.Condition).toEqual({ NotIpAddress: { 'oidc:sub': ['1.2.3.4'] } })
  })

  it('refuses a trust statement whose Action can never cover sts:AssumeRole, as evaluateTrust reads it; one stored before that rule is still read', () => {
    const onAction = (element: Json, effect = 'Allow') =>
      mutate(trustFixture, (d) => {
        delete first(d).Action
        Object.assign(first(d), { Effect: effect, ...element })
      })
    // Covered: the action itself in any case, its alias sts:AssumeRoleWithOIDC, wildcards, a list naming it.
    for (const element of [
      { Action: 'sts:AssumeRole' },
      { Action: 'STS:assumerole' },
      { Action: 'sts:AssumeRoleWithOIDC' },
      { Action: 'sts:*' },
      { Action: '*' },
      { Action: 'sts:Assume*' },
      { Action: ['oss:GetObject', 'sts:AssumeRole'] },
      { NotAction: 'oss:GetObject' },
    ]) {
      expect(checkPolicyDocument(onAction(element), 'trust').ok, JSON.stringify(element)).toBe(true)
    }
    // A Deny covers the exchange under either name, so a NotAction naming one of them still fires.
    expect(checkPolicyDocument(onAction({ NotAction: 'sts:AssumeRole' }, 'Deny'), 'trust').ok).toBe(true)
    for (const [element, effect, location, reason] of [
      [{ Action: 'oss:GetObject' }, 'Allow', 'Statement[0].Action', 'does not cover sts:AssumeRole'],
      [{ Action: ['ecs:*', 'sts:GetCallerIdentity'] }, 'Allow', 'Statement[0].Action', 'does not cover sts:AssumeRole'],
      [{ Action: 'oss:GetObject' }, 'Deny', 'Statement[0].Action', 'does not cover sts:AssumeRole'],
      [{ NotAction: 'sts:AssumeRole' }, 'Allow', 'Statement[0].NotAction', 'excludes sts:AssumeRole'],
      [{ NotAction: 'sts:AssumeRoleWithOIDC' }, 'Allow', 'Statement[0].NotAction', 'excludes sts:AssumeRole'],
      [{ NotAction: 'sts:*' }, 'Allow', 'Statement[0].NotAction', 'excludes sts:AssumeRole'],
      [{ NotAction: ['sts:AssumeRole', 'sts:AssumeRoleWithOIDC'] }, 'Deny', 'Statement[0].NotAction', 'excludes sts:AssumeRole'],
    ] as const) {
      const text = onAction(element, effect)
      expect(checkPolicyDocument(text, 'trust'), text).toMatchObject({ ok: false, problem: 'Grammar', location, reason: expect.stringContaining(reason) })
      const error = thrownApiError(() => parsePolicyDocument(text, 'trust'))
      expect([error.code, error.message.startsWith(`${location}: `)]).toEqual(['MalformedPolicyDocument', true])
      // A role stored with it before the rule keeps a readable document (which evaluateTrust never applies).
      expect(parsePolicyDocument(text, 'trust', { stored: true }).Statement[0]!.Effect).toBe(effect)
    }
    // Permission and session policies may name any action.
    expect(checkPolicyDocument(JSON.stringify({ Version: '1', Statement: [{ Effect: 'Allow', Action: 'oss:GetObject', Resource: '*' }] }), 'permission').ok).toBe(true)
  })

  it('accepts the OIDC provider actions\' condition key ram:OidcIssuerUrl in permission and session policies, not in trust policies', () => {
    const statement = { Effect: 'Allow', Action: 'ram:CreateOIDCProvider', Resource: '*', Condition: { StringEquals: { 'ram:OidcIssuerUrl': 'https://allowed.example.com' } } }
    for (const kind of ['permission', 'session'] as const) {
      expect(parsePolicyDocument(JSON.stringify({ Version: '1', Statement: [statement] }), kind).Statement[0]!.Condition).toEqual({
        StringEquals: { 'ram:OidcIssuerUrl': ['https://allowed.example.com'] },
      })
    }
    expect(checkPolicyDocument(mutate(trustFixture, (d) => (first(d).Condition = statement.Condition)), 'trust')).toMatchObject({ ok: false, location: 'Statement[0].Condition.StringEquals.ram:OidcIssuerUrl' })
  })

  it('accepts a trust policy without Resource; one stored with a Resource before that rule is still read, its Resource validated', () => {
    expect(checkPolicyDocument(JSON.stringify(trustFixture()), 'trust').ok).toBe(true)
    const scoped = mutate(trustFixture, (d) => (first(d).Resource = 'acs:ram::1234567890123456:role/r'))
    expect(checkPolicyDocument(scoped, 'trust').ok).toBe(false)
    expect(parsePolicyDocument(scoped, 'trust', { stored: true }).Statement[0]).toMatchObject({ Resource: ['acs:ram::1234567890123456:role/r'] })
    expect(checkPolicyDocument(mutate(trustFixture, (d) => (first(d).Resource = 'role/x')), 'trust', { stored: true })).toMatchObject({ ok: false, location: 'Statement[0].Resource' })
  })

  it('serialises in a stable key order that re-parses to the same document', () => {
    const text = JSON.stringify({
      Statement: [
        {
          Condition: { StringLike: { 'oidc:sub': 'repo:octo-org/*' } },
          Principal: { Federated: PROVIDER, Service: 'ecs.aliyuncs.com', RAM: 'acs:ram::1:root' },
          Action: 'sts:AssumeRole',
          Effect: 'Allow',
          Sid: 'GitHub',
        },
      ],
      Version: '1',
    })
    const stored = serializePolicyDocument(parsePolicyDocument(text, 'trust'))
    expect(stored).toBe(
      '{"Version":"1","Statement":[{"Sid":"GitHub","Effect":"Allow","Action":["sts:AssumeRole"],' +
        `"Principal":{"RAM":["acs:ram::1:root"],"Service":["ecs.aliyuncs.com"],"Federated":["${PROVIDER}"]},` +
        '"Condition":{"StringLike":{"oidc:sub":["repo:octo-org/*"]}}}]}',
    )
    expect(serializePolicyDocument(parsePolicyDocument(stored, 'trust'))).toBe(stored)

    const permission = serializePolicyDocument(parsePolicyDocument(JSON.stringify(permissionFixture()), 'permission'))
    expect(permission).toBe(
      '{"Version":"1","Statement":[{"Effect":"Allow","Action":["ram:List*","ram:Get*"],"Resource":["*"]},' +
        '{"Effect":"Deny","Action":["ram:GetRole"],"Resource":["acs:ram::1234567890123456:role/admin"]}]}',
    )
  })
})

describe('policy length limit', () => {
  const padded = (length: number) => {
    const base = JSON.stringify(permissionFixture())
    return base + ' '.repeat(length - base.length)
  }

  it('refuses a session policy over 2048 characters by default', () => {
    expect(checkPolicyDocument(padded(MAX_SESSION_POLICY_LENGTH), 'session').ok).toBe(true)
    const result = checkPolicyDocument(padded(MAX_SESSION_POLICY_LENGTH + 1), 'session')
    expect(result).toMatchObject({ ok: false, problem: 'TooLong', message: 'Document exceeds 2048 characters' })
    expect(thrownApiError(() => parsePolicyDocument(padded(2049), 'session')).code).toBe('MalformedPolicyDocument')
  })

  it('uses the kind default or the caller limit', () => {
    expect(checkPolicyDocument(padded(4000), 'permission').ok).toBe(true)
    expect(checkPolicyDocument(padded(4097), 'trust')).toMatchObject({ ok: false, problem: 'TooLong' })
    expect(checkPolicyDocument(padded(6145), 'permission')).toMatchObject({ ok: false, message: 'Document exceeds 6144 characters' })
    expect(checkPolicyDocument(padded(300), 'permission', { maxLength: 299 })).toMatchObject({ ok: false, problem: 'TooLong' })
    // Stored documents are normalised, which can lengthen them past the input limit: none applies.
    expect(checkPolicyDocument(padded(7000), 'permission', { stored: true }).ok).toBe(true)
  })

  it('counts characters, not UTF-16 units', () => {
    const doc = permissionFixture()
    const base = JSON.stringify({ ...doc, Statement: [{ ...doc.Statement[0], Sid: '' }] })
    const room = MAX_SESSION_POLICY_LENGTH - base.length
    const text = JSON.stringify({ ...doc, Statement: [{ ...doc.Statement[0], Sid: '😀'.repeat(room) }] })
    expect(text.length).toBeGreaterThan(MAX_SESSION_POLICY_LENGTH)
    expect(checkPolicyDocument(text, 'session').ok).toBe(true)
  })
})

describe('parseSessionPolicy', () => {
  it('reports grammar failures as InvalidParameter.PolicyGrammar (400) with the location', () => {
    const error = thrownApiError(() => parseSessionPolicy(mutate(permissionFixture, (d) => (first(d).Principal = { RAM: '*' }))))
    expect(error.code).toBe('InvalidParameter.PolicyGrammar')
    expect(error.status).toBe(400)
    expect(error.message).toBe('The parameter Policy has not passed grammar check: Statement[0].Principal: not allowed in a session policy')
  })

  it('applies the 2048-character session limit', () => {
    const error = thrownApiError(() => parseSessionPolicy(JSON.stringify(permissionFixture()) + ' '.repeat(2048)))
    expect(error.code).toBe('InvalidParameter.PolicyGrammar')
    expect(error.message).toBe('The parameter Policy has not passed grammar check: Document exceeds 2048 characters')
  })

  it('returns the normalised document', () => {
    expect(parseSessionPolicy('{"Version":"1","Statement":[{"Effect":"Allow","Action":"ram:List*","Resource":"*"}]}').Statement).toEqual([
      { Effect: 'Allow', Action: ['ram:List*'], Resource: ['*'] },
    ])
  })
})

describe('serialisation round trip', () => {
  const oneOrMany = (values: string[]) =>
    fc.oneof(fc.constantFrom(...values), fc.uniqueArray(fc.constantFrom(...values), { minLength: 1, maxLength: 3 }))
  const conditionArb = fc.dictionary(
    fc.constantFrom('StringLike', 'StringNotEquals', 'DateLessThan', 'StringEquals', 'IpAddress'),
    fc.constant(null),
    { minKeys: 1, maxKeys: 3 },
  ).map((ops) =>
    Object.fromEntries(
      Object.keys(ops).map((op) => {
        const value = { StringLike: 'repo:*', StringNotEquals: ['a', 'b'], DateLessThan: 1767225600, StringEquals: 'https://idp.example', IpAddress: '10.0.0.0/8' }[op]
        // Keys a trust policy can test (TRUST_CONDITION_KEYS), each with an operator of its family; the grammar checks values by operator.
        const key = { StringLike: 'oidc:sub', StringNotEquals: 'oidc:aud', DateLessThan: 'acs:CurrentTime', StringEquals: 'oidc:iss', IpAddress: 'acs:SourceIp' }[op]!
        return [op, { [key]: value }]
      }),
    ),
  )
  const statementArb = fc.record(
    {
      Sid: fc.constantFrom('one', 'two'),
      Effect: fc.constantFrom('Allow', 'Deny'),
      Action: oneOrMany(['sts:AssumeRole', 'sts:*', '*']),
      Principal: fc.record({ Federated: oneOrMany([PROVIDER, 'acs:ram::1:saml-provider/corp']), RAM: oneOrMany(['acs:ram::1:root']) }, { requiredKeys: ['Federated'] }),
      Condition: conditionArb,
    },
    { requiredKeys: ['Effect', 'Action', 'Principal'] },
  )

  it('re-parses stored text to the same document and the same text', () => {
    fc.assert(
      fc.property(fc.array(statementArb, { minLength: 1, maxLength: 4 }), (statements) => {
        const document = parsePolicyDocument(JSON.stringify({ Statement: statements, Version: '1' }), 'trust')
        const stored = serializePolicyDocument(document)
        expect(parsePolicyDocument(stored, 'trust')).toEqual(document)
        expect(serializePolicyDocument(parsePolicyDocument(stored, 'trust'))).toBe(stored)
      }),
    )
  })
})
