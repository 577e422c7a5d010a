import { createCipheriv, randomBytes } from 'node:crypto'
import fc from 'fast-check'
import { compactDecrypt } from 'jose'
import { describe, expect, it } from 'vitest'
import {
  MAX_SECURITY_TOKEN_LENGTH,
  type SecurityTokenPayload,
  sealSecurityToken,
  unsealSecurityToken,
} from '../../shared/credentials/seal.ts'
import { createTokenKeyRing, generateTokenKey, makeTokenKey } from '../../shared/credentials/token-keys.ts'
import { thrownApiError } from '../support/errors.ts'

const NOW = new Date('2026-11-28T10:00:00Z')
const NOW_S = NOW.getTime() / 1000
const SECRET = 'Fq3vZ8kR2mN5pW7xY9aB4cD6eG1hJ3kL5mN7pQ9rS2tU'

const payload = (over: Partial<SecurityTokenPayload> = {}): SecurityTokenPayload => ({
  v: 1,
  account: '1234567890123456',
  roleArn: 'acs:ram::1234567890123456:role/demo-role',
  roleName: 'demo-role',
  roleId: '301234567890123456',
  sessionName: 'sess-1',
  akid: 'STS.NV3xqHk7Lm2Pq9Rs4Tu6Vw8X',
  secret: SECRET,
  iat: NOW_S,
  exp: NOW_S + 3600,
  sessionPolicy: '{"Version":"1","Statement":[{"Effect":"Allow","Action":["ram:Get*"],"Resource":["*"]}]}',
  providerArn: 'acs:ram::1234567890123456:oidc-provider/demo-idp',
  sub: 'system:serviceaccount:prod:billing',
  issuer: 'https://idp.example.com',
  ...over,
})

const oldKey = generateTokenKey(new Date('2026-01-01T00:00:00Z'))
const newKey = generateTokenKey(NOW)
const ringOld = createTokenKeyRing([oldKey])
const ringRotated = createTokenKeyRing([newKey, oldKey])
const ringNewOnly = createTokenKeyRing([newKey])

/** The code of the ApiError `f` throws, whose message must not carry the secret (fails the test if it returns or throws something else). */
const codeOf = (f: () => unknown): string => {
  const e = thrownApiError(f)
  expect(e.message).not.toContain(SECRET)
  return e.code
}

describe('sealSecurityToken / unsealSecurityToken', () => {
  it('round-trips the payload', () => {
    const token = sealSecurityToken(payload(), ringOld)
    expect(unsealSecurityToken(token, ringOld, NOW)).toEqual(payload())
  })

  it('writes a standard compact JWE (dir / A256GCM) that jose decrypts', async () => {
    const token = sealSecurityToken(payload(), ringOld)
    const [header, encryptedKey, iv, , tag] = token.split('.')
    expect(JSON.parse(Buffer.from(header!, 'base64url').toString())).toEqual({ alg: 'dir', enc: 'A256GCM', kid: oldKey.kid })
    expect(encryptedKey).toBe('')
    expect(Buffer.from(iv!, 'base64url')).toHaveLength(12)
    expect(Buffer.from(tag!, 'base64url')).toHaveLength(16)
    const { plaintext } = await compactDecrypt(token, oldKey.key)
    expect(JSON.parse(new TextDecoder().decode(plaintext))).toEqual(payload())
  })

  it('uses a fresh IV for every token and never shows the secret in clear', () => {
    const a = sealSecurityToken(payload(), ringOld)
    const b = sealSecurityToken(payload(), ringOld)
    expect(a.split('.')[2]).not.toBe(b.split('.')[2])
    expect(a).not.toContain(SECRET)
    expect(Buffer.from(a.split('.')[3]!, 'base64url').toString('latin1')).not.toContain(SECRET)
  })

  it('omits sessionPolicy when there is none', () => {
    const { sessionPolicy: _, ...rest } = payload()
    const token = sealSecurityToken(rest, ringOld)
    expect(unsealSecurityToken(token, ringOld, NOW)).not.toHaveProperty('sessionPolicy')
  })
})

describe('key rotation', () => {
  it('accepts a token sealed with the old key when the ring is [new, old], and seals new tokens with the new key', () => {
    const oldToken = sealSecurityToken(payload(), ringOld)
    expect(unsealSecurityToken(oldToken, ringRotated, NOW).akid).toBe(payload().akid)
    const newToken = sealSecurityToken(payload(), ringRotated)
    expect(JSON.parse(Buffer.from(newToken.split('.')[0]!, 'base64url').toString()).kid).toBe(newKey.kid)
  })

  it('rejects the old token with InvalidSecurityToken.KeyNotFound once the old key is dropped', () => {
    const oldToken = sealSecurityToken(payload(), ringOld)
    expect(codeOf(() => unsealSecurityToken(oldToken, ringNewOnly, NOW))).toBe('InvalidSecurityToken.KeyNotFound')
  })

  it('rejects a token whose header names a known kid but under another key (wrong key) as Malformed', () => {
    const impostor = makeTokenKey(newKey.kid, randomBytes(32))
    const token = sealSecurityToken(payload(), createTokenKeyRing([impostor]))
    expect(codeOf(() => unsealSecurityToken(token, ringNewOnly, NOW))).toBe('InvalidSecurityToken.Malformed')
  })
})

describe('expiry (controlled clock)', () => {
  it('accepts until one second before exp, rejects from exp on with InvalidSecurityToken.Expired', () => {
    const token = sealSecurityToken(payload(), ringOld)
    expect(unsealSecurityToken(token, ringOld, new Date((NOW_S + 3599) * 1000)).akid).toBe(payload().akid)
    expect(codeOf(() => unsealSecurityToken(token, ringOld, new Date((NOW_S + 3600) * 1000)))).toBe('InvalidSecurityToken.Expired')
    expect(() => unsealSecurityToken(token, ringOld, new Date((NOW_S + 7200) * 1000))).toThrow(
      'The SecurityToken expired at 2026-11-28T11:00:00Z; server time is 2026-11-28T12:00:00Z.',
    )
  })

  it('refuses an invalid clock instead of accepting every token', () => {
    const token = sealSecurityToken(payload(), ringOld)
    expect(() => unsealSecurityToken(token, ringOld, new Date(Number.NaN))).toThrow(/valid Date/)
  })
})

describe('tampering and garbage', () => {
  const token = sealSecurityToken(payload(), ringOld)

  it.each([
    ['empty', ''],
    ['not a JWE', 'hello'],
    ['a JWS', 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln'],
    ['four parts', token.split('.').slice(0, 4).join('.')],
    ['six parts', `${token}.x`],
    ['a non-empty encrypted key', token.replace('..', '.AAAA.')],
    ['the IV cut short', token.split('.').map((p, i) => (i === 2 ? p.slice(0, 12) : p)).join('.')],
    ['the tag cut short', token.slice(0, -4)],
    ['an empty ciphertext', token.split('.').map((p, i) => (i === 3 ? '' : p)).join('.')],
    ['padding added', `${token}==`],
    ['whitespace', ` ${token}`],
    ['a header with alg none', `${Buffer.from('{"alg":"none","kid":"x"}').toString('base64url')}${token.slice(token.indexOf('.'))}`],
    ['the header re-spelled with the same kid', `${Buffer.from(JSON.stringify({ kid: oldKey.kid, alg: 'dir', enc: 'A256GCM' })).toString('base64url')}${token.slice(token.indexOf('.'))}`],
    ['a header of a different enc', `${Buffer.from(JSON.stringify({ alg: 'dir', enc: 'A128GCM', kid: 'gone' })).toString('base64url')}${token.slice(token.indexOf('.'))}`],
    ['over the length bound', `${token.slice(0, token.lastIndexOf('.'))}${'A'.repeat(MAX_SECURITY_TOKEN_LENGTH)}`],
  ])('rejects %s as InvalidSecurityToken.Malformed', (_, bad) => {
    expect(codeOf(() => unsealSecurityToken(bad, ringOld, NOW))).toBe('InvalidSecurityToken.Malformed')
  })

  it('rejects non-strings without crashing', () => {
    for (const bad of [undefined, null, 42, {}, ['a']]) {
      expect(codeOf(() => unsealSecurityToken(bad as unknown as string, ringOld, NOW))).toBe('InvalidSecurityToken.Malformed')
    }
  })

  it('rejects a validly encrypted payload of another format version', () => {
    const { key, protectedHeader } = oldKey
    const iv = randomBytes(12)
    const cipher = createCipheriv('aes-256-gcm', key, iv)
    cipher.setAAD(Buffer.from(protectedHeader))
    const ct = Buffer.concat([cipher.update(JSON.stringify({ ...payload(), v: 2 })), cipher.final()])
    const forged = `${protectedHeader}..${iv.toString('base64url')}.${ct.toString('base64url')}.${cipher.getAuthTag().toString('base64url')}`
    expect(codeOf(() => unsealSecurityToken(forged, ringOld, NOW))).toBe('InvalidSecurityToken.Malformed')
  })

  it('rejects a flipped bit in any byte of the ciphertext, IV or tag', () => {
    const parts = token.split('.')
    for (const index of [2, 3, 4]) {
      const bytes = Buffer.from(parts[index]!, 'base64url')
      for (let i = 0; i < bytes.length; i++) {
        const copy = Buffer.from(bytes)
        copy[i]! ^= 0x01
        const tampered = parts.map((p, j) => (j === index ? copy.toString('base64url') : p)).join('.')
        expect(codeOf(() => unsealSecurityToken(tampered, ringOld, NOW))).toBe('InvalidSecurityToken.Malformed')
      }
    }
  })

  it('property: any single-character change anywhere in the token is rejected with an InvalidSecurityToken code', () => {
    fc.assert(
      fc.property(fc.nat({ max: token.length - 1 }), fc.constantFrom(...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.=+/ é'.split('')), (index, ch) => {
        fc.pre(token[index] !== ch)
        const mutated = `${token.slice(0, index)}${ch}${token.slice(index + 1)}`
        expect(codeOf(() => unsealSecurityToken(mutated, ringRotated, NOW))).toMatch(/^InvalidSecurityToken\.(Malformed|KeyNotFound)$/)
      }),
      { numRuns: 2000 },
    )
  })

  it('property: arbitrary strings are rejected with an ApiError, never a crash', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 300 }), fc.array(fc.base64String({ maxLength: 60 }), { maxLength: 7 }).map((p) => p.join('.'))), (text) => {
        expect(codeOf(() => unsealSecurityToken(text, ringRotated, NOW))).toMatch(/^InvalidSecurityToken\./)
      }),
      { numRuns: 1000 },
    )
  })
})
