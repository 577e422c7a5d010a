import { describe, expect, it } from 'vitest'
import { mintCredentials } from '../../shared/credentials/mint.ts'
import { createSessionResolver } from '../../shared/credentials/session-resolver.ts'
import { sealSecurityToken, unsealSecurityToken } from '../../shared/credentials/seal.ts'
import { createTokenKeyRing, generateTokenKey } from '../../shared/credentials/token-keys.ts'
import { parseSessionPolicy, serializePolicyDocument } from '../../shared/policy/document.ts'
import { apiFailure } from '../support/errors.ts'
import { sessionClaims } from '../support/session-claims.ts'

const NOW = new Date('2026-11-28T10:00:00Z')
const later = (seconds: number) => new Date(NOW.getTime() + seconds * 1000)
const oldKey = generateTokenKey(new Date('2026-01-01T00:00:00Z'))
const newKey = generateTokenKey(NOW)
const ring = createTokenKeyRing([oldKey])

const rejection = async (promise: Promise<unknown>, secret: string): Promise<string> => {
  const e = await apiFailure(promise)
  expect(e.message).not.toContain(secret)
  expect(JSON.stringify(e)).not.toContain(secret)
  return e.code
}

describe('createSessionResolver', () => {
  it('returns the secret and the assumed-role caller, without a session policy when there is none', async () => {
    const creds = mintCredentials(sessionClaims(), ring, NOW)
    const resolved = await createSessionResolver(ring)(creds.AccessKeyId, creds.SecurityToken, later(60))
    expect(resolved.secret).toBe(creds.AccessKeySecret)
    expect(resolved.caller).toEqual({
      type: 'assumed-role',
      accountId: '1234567890123456',
      accessKeyId: creds.AccessKeyId,
      roleName: 'demo-role',
      roleId: '301234567890123456',
      sessionName: 'sess-1',
    })
  })

  it('hands the session policy to the caller as a parsed document', async () => {
    const document = parseSessionPolicy('{"Version":"1","Statement":[{"Effect":"Allow","Action":"sts:GetCallerIdentity","Resource":"*"}]}')
    const creds = mintCredentials(sessionClaims({ sessionPolicy: serializePolicyDocument(document) }), ring, NOW)
    const resolve = createSessionResolver(ring)
    const { caller } = await resolve(creds.AccessKeyId, creds.SecurityToken, NOW)
    expect(caller.type === 'assumed-role' && caller.sessionPolicy).toEqual(document)
    // Parsed once per distinct text: a second request reuses the same document.
    const again = await resolve(creds.AccessKeyId, creds.SecurityToken, NOW)
    expect(again.caller.type === 'assumed-role' && again.caller.sessionPolicy).toBe(caller.type === 'assumed-role' && caller.sessionPolicy)
  })

  it('rejects a SecurityToken presented with another AccessKeyId', async () => {
    const a = mintCredentials(sessionClaims(), ring, NOW)
    const b = mintCredentials(sessionClaims(), ring, NOW)
    expect(await rejection(createSessionResolver(ring)(b.AccessKeyId, a.SecurityToken, NOW), a.AccessKeySecret)).toBe('InvalidSecurityToken.MismatchWithAccessKey')
  })

  it('rejects expired, tampered and unknown-key tokens with their codes, never echoing the secret', async () => {
    const creds = mintCredentials(sessionClaims({ durationSeconds: 900 }), ring, NOW)
    const resolve = createSessionResolver(ring)
    expect(await rejection(resolve(creds.AccessKeyId, creds.SecurityToken, later(900)), creds.AccessKeySecret)).toBe('InvalidSecurityToken.Expired')
    const tampered = `${creds.SecurityToken.slice(0, -3)}${creds.SecurityToken.endsWith('AAA') ? 'BAA' : 'AAA'}`
    expect(await rejection(resolve(creds.AccessKeyId, tampered, NOW), creds.AccessKeySecret)).toBe('InvalidSecurityToken.Malformed')
    const rotatedAway = createSessionResolver(createTokenKeyRing([newKey]))
    expect(await rejection(rotatedAway(creds.AccessKeyId, creds.SecurityToken, NOW), creds.AccessKeySecret)).toBe('InvalidSecurityToken.KeyNotFound')
  })

  it('accepts old-key credentials during rotation and refuses them after', async () => {
    const creds = mintCredentials(sessionClaims(), ring, NOW)
    const rotating = createSessionResolver(createTokenKeyRing([newKey, oldKey]))
    expect((await rotating(creds.AccessKeyId, creds.SecurityToken, NOW)).secret).toBe(creds.AccessKeySecret)
    const done = createSessionResolver(createTokenKeyRing([newKey]))
    expect(await rejection(done(creds.AccessKeyId, creds.SecurityToken, NOW), creds.AccessKeySecret)).toBe('InvalidSecurityToken.KeyNotFound')
  })

  it('fails closed on a sealed session policy it cannot read', async () => {
    const creds = mintCredentials(sessionClaims(), ring, NOW)
    const payload = { ...unsealSecurityToken(creds.SecurityToken, ring, NOW), sessionPolicy: '{"Version":"1","Statement":"nonsense"}' }
    const token = sealSecurityToken(payload, ring)
    expect(await rejection(createSessionResolver(ring)(creds.AccessKeyId, token, NOW), creds.AccessKeySecret)).toBe('InvalidSecurityToken.Malformed')
  })
})
