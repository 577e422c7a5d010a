import { describe, expect, it } from 'vitest'
import { credentialsJson, mintCredentials } from '../../shared/credentials/mint.ts'
import { unsealSecurityToken } from '../../shared/credentials/seal.ts'
import { createTokenKeyRing, generateTokenKey } from '../../shared/credentials/token-keys.ts'
import { sessionClaims } from '../support/session-claims.ts'

const NOW = new Date('2026-11-28T09:36:51.789Z')
const ring = createTokenKeyRing([generateTokenKey(NOW)])

describe('mintCredentials', () => {
  it('returns an STS. AccessKeyId, a base58 secret, a SecurityToken and the Expiration in Alibaba format', () => {
    const creds = mintCredentials(sessionClaims(), ring, NOW)
    expect(creds.AccessKeyId).toMatch(/^STS\.[1-9A-HJ-NP-Za-km-z]{24}$/)
    expect(creds.AccessKeySecret).toMatch(/^[1-9A-HJ-NP-Za-km-z]{44}$/)
    expect(creds.Expiration).toBe('2026-11-28T10:36:51Z')
    expect(Object.keys(creds).sort()).toEqual(['AccessKeyId', 'AccessKeySecret', 'Expiration', 'SecurityToken'])
  })

  it('seals what a verifier needs into the SecurityToken', () => {
    const policy = '{"Version":"1","Statement":[{"Effect":"Allow","Action":["sts:GetCallerIdentity"],"Resource":["*"]}]}'
    const creds = mintCredentials(sessionClaims({ sessionPolicy: policy }), ring, NOW)
    expect(unsealSecurityToken(creds.SecurityToken, ring, NOW)).toEqual({
      v: 1,
      account: '1234567890123456',
      roleArn: 'acs:ram::1234567890123456:role/demo-role',
      roleName: 'demo-role',
      roleId: '301234567890123456',
      sessionName: 'sess-1',
      akid: creds.AccessKeyId,
      secret: creds.AccessKeySecret,
      iat: Math.floor(NOW.getTime() / 1000),
      exp: Math.floor(NOW.getTime() / 1000) + 3600,
      sessionPolicy: policy,
      providerArn: 'acs:ram::1234567890123456:oidc-provider/demo-idp',
      sub: 'system:serviceaccount:prod:billing',
      issuer: 'https://idp.example.com',
    })
  })

  it('makes credentials that stop working exactly at Expiration', () => {
    const creds = mintCredentials(sessionClaims({ durationSeconds: 900 }), ring, NOW)
    const expiresAt = new Date(creds.Expiration)
    expect(() => unsealSecurityToken(creds.SecurityToken, ring, new Date(expiresAt.getTime() - 1))).not.toThrow()
    expect(() => unsealSecurityToken(creds.SecurityToken, ring, expiresAt)).toThrow(/expired/)
  })

  it('never repeats an AccessKeyId or secret', () => {
    const ids = new Set<string>()
    const secrets = new Set<string>()
    for (let i = 0; i < 500; i++) {
      const c = mintCredentials(sessionClaims(), ring, NOW)
      ids.add(c.AccessKeyId)
      secrets.add(c.AccessKeySecret)
    }
    expect(ids.size).toBe(500)
    expect(secrets.size).toBe(500)
  })

  it('keeps a maximal session policy within the token bound', () => {
    // 2048 characters outside the BMP: the worst case for UTF-8 size.
    const policy = JSON.stringify({ Version: '1', Statement: [{ Effect: 'Allow', Action: ['a:b'], Resource: ['😀'.repeat(1000)] }] })
    const creds = mintCredentials(sessionClaims({ sessionPolicy: policy }), ring, NOW)
    expect(unsealSecurityToken(creds.SecurityToken, ring, NOW).sessionPolicy).toBe(policy)
  })

  it.each([0, -1, 1.5, 43201, Number.NaN])('refuses durationSeconds %s (a caller bug, not a client error)', (durationSeconds) => {
    expect(() => mintCredentials(sessionClaims({ durationSeconds }), ring, NOW)).toThrow(/durationSeconds/)
  })
})

describe('credentialsJson', () => {
  it('is exactly what JSON.stringify makes of the minted credentials, with and without a session policy', () => {
    const policy = JSON.stringify({ Version: '1', Statement: [{ Effect: 'Allow', Action: 'ram:Get*', Resource: '*', Condition: { StringEquals: { 'oidc:sub': 'a"b\\c\u2028' } } }] })
    for (let i = 0; i < 200; i++) {
      const creds = mintCredentials(sessionClaims(i % 2 ? { sessionPolicy: policy, sub: `quote" backslash\\ ${i}` } : {}), ring, new Date(NOW.getTime() + i * 86_400_000 * 97))
      expect(credentialsJson(creds)).toBe(JSON.stringify(creds))
    }
  })

  it('holds for the widest Expiration spellings (years outside 1000..9999)', () => {
    const creds = mintCredentials(sessionClaims({ durationSeconds: 43200 }), ring, new Date(8.64e15 - 43_200_000))
    expect(creds.Expiration).toBe('+275760-09-13T00:00:00Z')
    expect(credentialsJson(creds)).toBe(JSON.stringify(creds))
  })
})
