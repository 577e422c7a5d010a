// JWKS parsing and key selection: which keys are usable, which are skipped and why.
import { describe, expect, it } from 'vitest'
import { InvalidJwksError, MAX_JWKS_KEYS, parseJwks, selectKey } from '../../shared/oidc/discovery-jwks.ts'
import { makeSigningKey } from '../support/https-idp.ts'

const rsa = makeSigningKey('rsa-1')
const rsa2 = makeSigningKey('rsa-2')
const ec256 = makeSigningKey('ec-256', { type: 'ec' })
const ec384 = makeSigningKey('ec-384', { type: 'ec', curve: 'P-384' })
const ec521 = makeSigningKey('ec-521', { type: 'ec', curve: 'P-521' })
const weak = makeSigningKey('weak', { type: 'rsa', modulusLength: 1024 })

const reasonFor = (keys: unknown[], kid: string) => parseJwks({ keys }).skipped.find((s) => s.kid === kid)?.reason

describe('parseJwks', () => {
  it('imports RSA and EC P-256/384/521 signing keys as node public KeyObjects', () => {
    const parsed = parseJwks({ keys: [rsa.jwk, ec256.jwk, ec384.jwk, ec521.jwk] })
    expect(parsed.skipped).toEqual([])
    expect([...parsed.byKid.keys()]).toEqual(['rsa-1', 'ec-256', 'ec-384', 'ec-521'])
    const k = parsed.byKid.get('rsa-1')!
    expect(k.key.type).toBe('public')
    expect(k.key.asymmetricKeyType).toBe('rsa')
    expect(k.key.asymmetricKeyDetails?.modulusLength).toBe(2048)
    expect(parsed.byKid.get('ec-521')!.key.asymmetricKeyDetails?.namedCurve).toBe('secp521r1')
    // Only public members are kept.
    expect(Object.keys(k.jwk).sort()).toEqual(['alg', 'e', 'kid', 'kty', 'n', 'use'])
  })

  it('accepts keys without use, alg or kid', () => {
    const { kid: _kid, alg: _alg, use: _use, ...bare } = rsa.jwk
    const parsed = parseJwks({ keys: [bare] })
    expect(parsed.usable).toHaveLength(1)
    expect(parsed.byKid.size).toBe(0)
  })

  it('skips RSA keys below 2048 bits', () => {
    expect(reasonFor([weak.jwk, rsa.jwk], 'weak')).toMatch(/1024 bits is below 2048/)
  })

  it.each([
    ['exponent 1', 'AQ'],
    ['an even exponent', 'AQAA'],
    ['exponent 0', 'AA'],
  ])('skips RSA keys with %s', (_what, e) => {
    expect(reasonFor([{ ...rsa.jwk, kid: 'bad-e', e }], 'bad-e')).toMatch(/exponent/)
  })

  it.each([
    ['use "enc"', { use: 'enc' }, /use is "enc"/],
    ['alg "none"', { alg: 'none' }, /not an allowed/],
    ['alg HS256', { alg: 'HS256' }, /not an allowed/],
    ['alg RSA-OAEP', { alg: 'RSA-OAEP' }, /not an allowed/],
    ['alg ES256 on an RSA key', { alg: 'ES256' }, /needs an EC key/],
    ['key_ops without verify', { key_ops: ['encrypt'] }, /key_ops/],
    ['private members', { d: 'AQAB' }, /private key material/],
    ['a non-string kid', { kid: 7 }, /kid is not a string/],
  ])('skips a key with %s', (_what, change, reason) => {
    const parsed = parseJwks({ keys: [{ ...rsa.jwk, ...change }, rsa2.jwk] })
    expect(parsed.usable.map((k) => k.kid)).toEqual(['rsa-2'])
    expect(parsed.skipped[0]?.reason).toMatch(reason)
  })

  it('skips EC keys whose alg does not fit the curve, unknown curves, and points not on the curve', () => {
    expect(reasonFor([{ ...ec256.jwk, alg: 'ES384' }], 'ec-256')).toMatch(/does not fit an EC P-256 key/)
    expect(reasonFor([{ ...ec256.jwk, crv: 'secp256k1' }], 'ec-256')).toMatch(/curve/)
    const offCurve = { ...ec256.jwk, y: Buffer.alloc(32, 1).toString('base64url') }
    expect(reasonFor([offCurve], 'ec-256')).toMatch(/could not be imported/)
    expect(reasonFor([{ kty: 'oct', k: 'c2VjcmV0', kid: 'sym' }], 'sym')).toMatch(/private key material|not RSA or EC/)
    expect(reasonFor([{ kty: 'OKP', crv: 'Ed25519', x: 'AA', kid: 'ed' }], 'ed')).toMatch(/not RSA or EC/)
  })

  it('uses neither key when two usable keys share a kid', () => {
    const parsed = parseJwks({ keys: [rsa.jwk, { ...rsa2.jwk, kid: 'rsa-1' }, ec256.jwk] })
    expect([...parsed.byKid.keys()]).toEqual(['ec-256'])
    expect(parsed.skipped.map((s) => [s.index, s.reason])).toEqual([
      [0, 'kid is shared by 2 usable keys (ambiguous); none of them is used'],
      [1, 'kid is shared by 2 usable keys (ambiguous); none of them is used'],
    ])
  })

  it('keeps a usable key whose kid is also used by a skipped (e.g. encryption) key', () => {
    const parsed = parseJwks({ keys: [rsa.jwk, { ...rsa2.jwk, kid: 'rsa-1', use: 'enc' }] })
    expect(parsed.byKid.get('rsa-1')?.jwk).toMatchObject({ kty: 'RSA', n: rsa.jwk.n })
  })

  it('refuses documents without a keys array or with too many keys', () => {
    expect(() => parseJwks({})).toThrow(InvalidJwksError)
    expect(() => parseJwks({ keys: {} })).toThrow(InvalidJwksError)
    expect(() => parseJwks([])).toThrow(InvalidJwksError)
    expect(() => parseJwks({ keys: Array.from({ length: MAX_JWKS_KEYS + 1 }, () => ({})) })).toThrow(/more than 100/)
  })

  it('returns no usable key, without throwing, when every key is skipped', () => {
    const parsed = parseJwks({ keys: [weak.jwk] })
    expect(parsed.usable).toEqual([])
    expect(parsed.skipped).toHaveLength(1)
  })
})

describe('selectKey', () => {
  const parsed = parseJwks({ keys: [rsa.jwk, ec256.jwk] })

  it('selects by kid and checks that the key fits the algorithm', () => {
    expect(selectKey(parsed, 'rsa-1', 'RS256')).toMatchObject({ key: { kid: 'rsa-1' } })
    expect(selectKey(parsed, 'rsa-1', 'PS256')).toMatchObject({ problem: 'unfit' }) // the JWK says alg RS256
    expect(selectKey(parsed, 'ec-256', 'ES384')).toMatchObject({ problem: 'unfit' })
    expect(selectKey(parsed, 'nope', 'RS256')).toMatchObject({ problem: 'unknown-kid' })
  })

  it('without a kid, selects the single key that fits the algorithm', () => {
    expect(selectKey(parsed, undefined, 'ES256')).toMatchObject({ key: { kid: 'ec-256' } })
    expect(selectKey(parsed, undefined, 'ES512')).toMatchObject({ problem: 'unknown-kid' })
    const two = parseJwks({ keys: [rsa.jwk, rsa2.jwk] })
    expect(selectKey(two, undefined, 'RS256')).toMatchObject({ problem: 'ambiguous' })
  })
})
