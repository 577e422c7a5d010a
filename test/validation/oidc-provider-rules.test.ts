// The IMS OIDC provider rules of alibaba-api.md §3.1, unit by unit: names, client IDs, fingerprints,
// issuer URLs and provider ARNs.

import { describe, expect, it } from 'vitest'
import {
  DESCRIPTION_RULE,
  PROVIDER_LIMITS,
  PROVIDER_NAME_RULE,
  checkClientId,
  checkFingerprint,
  checkIssuerUrl,
  normaliseFingerprint,
  parseProviderArn,
  providerArn,
} from '../../shared/validation/oidc-provider-rules.ts'
import { checkString } from '../../shared/validation/params.ts'
import { codeOf } from '../support/errors.ts'

const FP = '902ef2deeb3c5b13ea4c3d5193629309e231ae55'

describe('the quotas and bounds', () => {
  it('are 100 providers, 50 client IDs, 5 fingerprints, 1..168 hours (default 12), 256-character descriptions, pages of 1..100', () => {
    expect(PROVIDER_LIMITS).toEqual({
      providersPerAccount: 100,
      clientIdsPerProvider: 50,
      fingerprintsPerProvider: 5,
      issuanceLimitTime: { min: 1, max: 168, default: 12 },
      descriptionMax: 256,
      listMaxItems: { min: 1, max: 100, default: 100 },
    })
  })
})

describe('OIDCProviderName', () => {
  const check = (v: string) => checkString('OIDCProviderName', v, PROVIDER_NAME_RULE)

  it.each(['a', 'Z', '7', 'ab', 'gh-actions', 'a.b_c-d', 'A1', `a${'x'.repeat(126)}z`])('accepts %j', (v) => {
    expect(check(v)).toBe(v)
  })

  it.each(['.a', '-a', '_a', 'a.', 'a-', 'a_', '.', '-', '_', 'a b', 'a/b', 'a:b', 'a@b', 'ä', 'a\u0000b', 'a\nb'])('rejects %j with .InvalidChars', (v) => {
    expect(codeOf(() => check(v))).toBe('InvalidParameter.OIDCProviderName.InvalidChars')
  })

  it('rejects 129 characters with .Length', () => {
    expect(codeOf(() => check('a'.repeat(129)))).toBe('InvalidParameter.OIDCProviderName.Length')
  })
})

describe('Description', () => {
  it('allows up to 256 characters of anything', () => {
    expect(checkString('Description', '身'.repeat(256), DESCRIPTION_RULE)).toHaveLength(256)
    expect(codeOf(() => checkString('Description', 'd'.repeat(257), DESCRIPTION_RULE))).toBe('InvalidParameter.Description.Length')
  })
})

describe('checkClientId', () => {
  it.each(['sts.aliyuncs.com', 'https://github.com/octo-org', 'api://default', 'a', '0client', 'urn:x:y', 'a_b-c.d:e/f', 'c'.repeat(128)])('accepts %j', (v) => {
    expect(checkClientId('ClientId', v)).toBe(v)
  })

  it.each(['.a', '-a', '_a', ':a', '/a', 'a b', 'a,b', 'a@b', 'a*b', 'a?b', 'a#b', 'ü', 'a\tb'])('rejects %j with .InvalidChars', (v) => {
    expect(codeOf(() => checkClientId('ClientId', v))).toBe('InvalidParameter.ClientId.InvalidChars')
  })

  it('rejects 129 characters with .Length', () => {
    expect(codeOf(() => checkClientId('ClientIds', 'c'.repeat(129)))).toBe('InvalidParameter.ClientIds.Length')
  })
})

describe('checkFingerprint', () => {
  it('accepts 40 hex digits in either case and returns them lower-case', () => {
    expect(checkFingerprint('Fingerprint', FP)).toBe(FP)
    expect(checkFingerprint('Fingerprint', FP.toUpperCase())).toBe(FP)
    expect(normaliseFingerprint(FP.toUpperCase())).toBe(FP)
  })

  it.each([
    ['colons', FP.match(/../g)!.join(':'), 'InvalidChars'],
    ['spaces', FP.match(/.{8}/g)!.join(' '), 'InvalidChars'],
    ['a comma', `${FP},${FP}`, 'InvalidChars'],
    ['non-ASCII', `${FP.slice(0, 39)}é`, 'InvalidChars'],
    ['non-hex letters', 'g'.repeat(40), 'Format'],
    ['39 digits', FP.slice(0, 39), 'Format'],
    ['41 digits', `${FP}0`, 'Format'],
    ['a SHA-256 (64 digits)', 'a'.repeat(64), 'Format'],
  ])('rejects %s with .%s', (_what, v, reason) => {
    expect(codeOf(() => checkFingerprint('Fingerprint', v))).toBe(`InvalidParameter.Fingerprint.${reason}`)
  })
})

describe('checkIssuerUrl', () => {
  it.each([
    'https://token.actions.githubusercontent.com',
    'https://idp.example.com/',
    'https://idp.example.com/realms/a/b',
    'https://idp.example.com:8443/tenant',
    'https://127.0.0.1:9443',
    'https://[::1]:9443/x',
    'https://oidc.eks.us-east-1.amazonaws.com/id/ABC',
    'https://idp.example.com/path@not-userinfo',
    `https://idp.example.com/${'a'.repeat(255 - 24)}`,
  ])('accepts %s and keeps it exactly as given', (v) => {
    expect(checkIssuerUrl('IssuerUrl', v)).toBe(v)
  })

  it.each([
    ['http', 'http://idp.example.com'],
    ['upper-case scheme', 'HTTPS://idp.example.com'],
    ['no scheme', 'idp.example.com'],
    ['scheme-relative', '//idp.example.com'],
    ['only the scheme', 'https://'],
    ['a query', 'https://idp.example.com?a=1'],
    ['an empty query', 'https://idp.example.com/?'],
    ['a fragment', 'https://idp.example.com/#f'],
    ['an empty fragment', 'https://idp.example.com#'],
    ['a user', 'https://user@idp.example.com'],
    ['user and password', 'https://u:p@idp.example.com/x'],
    ['an empty userinfo', 'https://@idp.example.com'],
    ['a space', 'https://idp.example.com/a b'],
    ['a leading space', ' https://idp.example.com'],
    ['a trailing newline', 'https://idp.example.com\n'],
    ['a tab', 'https://idp.\texample.com'],
    ['a NUL', 'https://idp.example.com\u0000'],
    ['a DEL', 'https://idp.example.com\u007f'],
    ['an escape character', 'https://idp.example.com/\u001b[31m'],
    ['an empty host before a path (the parser would move the path into the host)', 'https:///idp.example.com'],
    ['a backslash in the path (the parser would turn it into "/")', 'https://idp.example.com\\tenant'],
    ['a backslash before the host', 'https:/\\idp.example.com'],
    ['an unclosed IPv6 literal', 'https://[::1'],
    ['a port out of range', 'https://idp.example.com:70000'],
    ['a non-numeric port', 'https://idp.example.com:abc'],
  ])('rejects %s with .Format', (_what, v) => {
    expect(codeOf(() => checkIssuerUrl('IssuerUrl', v))).toBe('InvalidParameter.IssuerUrl.Format')
  })

  it('rejects more than 255 characters with .Length', () => {
    expect(codeOf(() => checkIssuerUrl('IssuerUrl', `https://idp.example.com/${'a'.repeat(256 - 24)}`))).toBe('InvalidParameter.IssuerUrl.Length')
  })
})

describe('provider ARNs', () => {
  it('are acs:ram::<account>:oidc-provider/<name> and parse back', () => {
    const arn = providerArn('1234567890123456', 'gh-actions')
    expect(arn).toBe('acs:ram::1234567890123456:oidc-provider/gh-actions')
    expect(parseProviderArn('RoleArn', arn)).toEqual({ accountId: '1234567890123456', name: 'gh-actions' })
  })

  it.each([
    ['a 15-digit account', 'acs:ram::123456789012345:oidc-provider/p'],
    ['a 17-digit account', 'acs:ram::12345678901234567:oidc-provider/p'],
    ['a region', 'acs:ram:cn-hangzhou:1234567890123456:oidc-provider/p'],
    ['a role ARN', 'acs:ram::1234567890123456:role/p'],
    ['an empty name', 'acs:ram::1234567890123456:oidc-provider/'],
    ['an invalid name', 'acs:ram::1234567890123456:oidc-provider/-p'],
    ['a name with a slash', 'acs:ram::1234567890123456:oidc-provider/a/b'],
    ['a 129-character name', `acs:ram::1234567890123456:oidc-provider/${'a'.repeat(129)}`],
    ['another product', 'acs:ims::1234567890123456:oidc-provider/p'],
    ['leading text', 'x acs:ram::1234567890123456:oidc-provider/p'],
  ])('rejects %s with InvalidParameter.<Param>.Format', (_what, arn) => {
    expect(codeOf(() => parseProviderArn('OIDCProviderArn', arn))).toBe('InvalidParameter.OIDCProviderArn.Format')
  })
})
