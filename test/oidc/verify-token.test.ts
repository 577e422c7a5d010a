import { CompactSign, SignJWT } from 'jose'
import { describe, expect, it } from 'vitest'
import { ApiError } from '../../shared/errors.ts'
import { parseCompactJws, verifyOidcToken } from '../../shared/oidc/verify-token.ts'
import {
  ALGS,
  CLIENT_ID,
  ISSUER,
  KEY_FOR,
  KEYS,
  NOW,
  NOW_S,
  OTHER_CLIENT_ID,
  SUBJECT,
  claims,
  expectCode,
  lookupByAlg,
  makeToken,
  part,
  policy,
  recordingLookup,
} from './verify-token-fixtures.ts'

const INVALID = 'AuthenticationFail.OIDCToken.Invalid'
const EXPIRED = 'AuthenticationFail.OIDCToken.Expired'
const TOO_OLD = 'AuthenticationFail.OIDCToken.IssuanceTimeLimitExceeded'
const AUDIENCE = 'AuthenticationFail.OIDCToken.AudienceNotMatch'
const ISSUER_NOT_MATCH = 'AuthenticationFail.OIDCToken.IssuerNotMatch'
const SIGNATURE = 'AuthenticationFail.OIDCToken.InvalidSignature'

const verify = (token: string, over: Parameters<typeof policy>[0] = {}, lookup = recordingLookup()) => verifyOidcToken(token, policy(over), lookup)
const at = (secondsFromNow: number) => new Date(NOW.getTime() + secondsFromNow * 1000)

describe('verifyOidcToken: good tokens', () => {
  it.each(ALGS)('verifies a %s token signed with node:crypto and passes kid and alg to the key lookup', async (alg) => {
    const lookup = lookupByAlg()
    const result = await verifyOidcToken(makeToken({ alg, kid: alg }), policy(), lookup)
    expect(result.header).toEqual({ alg, kid: alg })
    expect(result.claims).toMatchObject({ iss: ISSUER, sub: SUBJECT, aud: [CLIENT_ID], exp: NOW_S + 3600, iat: NOW_S - 60 })
    expect(lookup.calls).toEqual([{ kid: alg, alg }])
  })

  it.each(ALGS)('verifies a %s token signed by jose (interoperability)', async (alg) => {
    const token = await new SignJWT(claims())
      .setProtectedHeader({ alg, kid: alg, typ: 'JWT' })
      .sign(KEY_FOR[alg].privateKey)
    const result = await verifyOidcToken(token, policy(), lookupByAlg())
    expect(result.claims.sub).toBe(SUBJECT)
  })

  it('returns every claim, aud as an array, and keeps custom claims', async () => {
    const result = await verify(makeToken({ payload: claims({ aud: [OTHER_CLIENT_ID], azp: OTHER_CLIENT_ID, email: 'a@example.com' }) }))
    expect(result.claims.aud).toEqual([OTHER_CLIENT_ID])
    expect(result.claims.azp).toBe(OTHER_CLIENT_ID)
    expect(result.claims.email).toBe('a@example.com')
    expect(result.claims['kubernetes.io']).toEqual({ namespace: 'prod', serviceaccount: { name: 'billing', uid: '7d3b' } })
  })

  it('accepts a token without kid (lookup gets undefined) and without nbf or jti', async () => {
    const lookup = recordingLookup({ default: KEYS.rsa.publicKey })
    const { nbf: _n, jti: _j, ...rest } = claims()
    const result = await verify(makeToken({ kid: undefined, payload: rest }), {}, lookup)
    expect(result.header).toEqual({ alg: 'RS256' })
    expect(lookup.calls).toEqual([{ kid: undefined, alg: 'RS256' }])
  })

  it('accepts fractional NumericDates (RFC 7519 allows them)', async () => {
    await expect(verify(makeToken({ payload: claims({ iat: NOW_S - 60.5, exp: NOW_S + 10.25, nbf: NOW_S - 0.5 }) }))).resolves.toBeTruthy()
  })

  it('accepts a Kubernetes subject longer than 255 characters', async () => {
    const sub = `system:serviceaccount:${'n'.repeat(63)}:${'s'.repeat(253)}`
    expect((await verify(makeToken({ payload: claims({ sub }) }))).claims.sub).toBe(sub)
  })

  it('keeps a __proto__ claim as data and never touches the prototype', async () => {
    const token = makeToken({ payload: `{"iss":"${ISSUER}","sub":"s","aud":"${CLIENT_ID}","iat":${NOW_S},"exp":${NOW_S + 60},"__proto__":{"polluted":true}}` })
    const result = await verify(token)
    expect(Object.getPrototypeOf(result.claims)).toBe(Object.prototype)
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
    expect(Object.hasOwn(result.claims, '__proto__')).toBe(true)
  })
})

describe('verifyOidcToken: issuer', () => {
  it('rejects another issuer with IssuerNotMatch before any key is looked up, naming both', async () => {
    const lookup = recordingLookup()
    const e = await expectCode(verify(makeToken({ payload: claims({ iss: 'https://evil.example.com' }) }), {}, lookup), ISSUER_NOT_MATCH)
    expect(e.message).toContain('"https://idp.example.com"')
    expect(e.message).toContain('"https://evil.example.com"')
    expect(lookup.calls).toEqual([])
  })

  it('truncates a long issuer in the message', async () => {
    const e = await expectCode(verify(makeToken({ payload: claims({ iss: `https://${'x'.repeat(5000)}` }) })), ISSUER_NOT_MATCH)
    expect(e.message.length).toBeLessThan(600)
  })

  it.each([
    ['missing', undefined],
    ['a number', 1],
    ['an array', [ISSUER]],
  ])('rejects iss that is %s as Invalid', async (_, iss) => {
    await expectCode(verify(makeToken({ payload: claims({ iss }) })), INVALID)
  })
})

describe('verifyOidcToken: key and signature', () => {
  it('rejects a signature by another key with InvalidSignature', async () => {
    const e = await expectCode(verify(makeToken({ key: KEYS.attackerRsa.privateKey })), SIGNATURE)
    expect(e.message).toBe('OIDC token validate failed: invalid signature.')
  })

  it('rejects a PS256 signature presented as RS256 and an RS256 one relabelled RS512', async () => {
    const ps = makeToken({ alg: 'PS256' }).split('.')
    const rs = makeToken({ alg: 'RS256' }).split('.')
    await expectCode(verify(`${part({ alg: 'RS256', kid: 'k1' })}.${ps[1]}.${ps[2]}`), SIGNATURE)
    await expectCode(verify(`${part({ alg: 'RS512', kid: 'k1' })}.${rs[1]}.${rs[2]}`), SIGNATURE)
  })

  it('rejects a changed claim under the original signature', async () => {
    const [h, , s] = makeToken().split('.')
    await expectCode(verify(`${h}.${part(claims({ sub: 'admin' }))}.${s}`), SIGNATURE)
  })

  it.each([
    ['an RSA key for ES256', 'ES256', KEYS.rsa.publicKey, 'needs an EC P-256 key'],
    ['a P-384 key for ES256', 'ES256', KEYS.p384.publicKey, 'needs curve P-256'],
    ['a P-256 key for ES512', 'ES512', KEYS.p256.publicKey, 'needs curve P-521'],
    ['an EC key for RS256', 'RS256', KEYS.p256.publicKey, 'needs an RSA key'],
    ['a private key', 'RS256', KEYS.rsa.privateKey, 'not a public key'],
  ])('rejects %s with InvalidSignature naming the mismatch', async (_, alg, key, why) => {
    const e = await expectCode(verifyOidcToken(makeToken({ alg }), policy(), recordingLookup({ k1: key })), SIGNATURE)
    expect(e.message).toContain(why)
  })

  it('propagates the lookup error unchanged (unknown kid, IdP down)', async () => {
    const broken = new ApiError('AuthenticationFail.OIDCToken.IssuerConfigurationBroken', 'Get public keys from OIDC Provider failed, the issuer is x.')
    const lookup = async () => {
      throw broken
    }
    await expect(verifyOidcToken(makeToken(), policy(), lookup)).rejects.toBe(broken)
  })
})

describe('verifyOidcToken: times (controlled clock)', () => {
  it('accepts up to exp + leeway and rejects one second later with Expired, giving both times', async () => {
    const token = makeToken({ payload: claims({ iat: NOW_S - 600, exp: NOW_S - 60 }) })
    await expect(verify(token)).resolves.toBeTruthy()
    const e = await expectCode(verify(token, { now: at(1) }), EXPIRED)
    expect(e.message).toContain('This JsonWebToken is expired.')
    expect(e.message).toContain('2026-11-28T10:00:01Z')
    expect(e.message).toContain('2026-11-28T09:59:00Z')
  })

  it('honours a configured leeway of 0', async () => {
    const token = makeToken({ payload: claims({ iat: NOW_S - 600, exp: NOW_S }) })
    await expect(verify(token, { leewaySeconds: 0 })).resolves.toBeTruthy()
    await expectCode(verify(token, { leewaySeconds: 0, now: at(0.001) }), EXPIRED)
  })

  it('defaults the leeway to 60 seconds', async () => {
    const token = makeToken({ payload: claims({ iat: NOW_S - 600, exp: NOW_S - 60 }) })
    await expect(verifyOidcToken(token, { ...policy(), leewaySeconds: undefined }, recordingLookup())).resolves.toBeTruthy()
    await expectCode(verifyOidcToken(token, { ...policy({ now: at(1) }), leewaySeconds: undefined }, recordingLookup()), EXPIRED)
  })

  it('rejects a token not valid yet (nbf beyond the leeway) as Invalid', async () => {
    await expect(verify(makeToken({ payload: claims({ nbf: NOW_S + 60 }) }))).resolves.toBeTruthy()
    const e = await expectCode(verify(makeToken({ payload: claims({ nbf: NOW_S + 61 }) })), INVALID)
    expect(e.message).toContain('not valid yet')
  })

  it('rejects iat in the future beyond the leeway as Invalid', async () => {
    await expect(verify(makeToken({ payload: claims({ iat: NOW_S + 60 }) }))).resolves.toBeTruthy()
    const e = await expectCode(verify(makeToken({ payload: claims({ iat: NOW_S + 61 }) })), INVALID)
    expect(e.message).toContain('issued in the future')
  })

  it("rejects a token issued longer ago than the provider's IssuanceLimitTime", async () => {
    const limit = 12 * 3600
    await expect(verify(makeToken({ payload: claims({ iat: NOW_S - limit - 60 }) }))).resolves.toBeTruthy()
    const e = await expectCode(verify(makeToken({ payload: claims({ iat: NOW_S - limit - 61 }) })), TOO_OLD)
    expect(e.message).toContain('12 hours')
    await expectCode(verify(makeToken({ payload: claims({ iat: NOW_S - 3661 }) }), { issuanceLimitHours: 1 }), TOO_OLD)
  })

  it('requires exp and iat', async () => {
    const { exp: _e, ...noExp } = claims()
    const { iat: _i, ...noIat } = claims()
    expect((await expectCode(verify(makeToken({ payload: noExp })), INVALID)).message).toContain('exp is required')
    expect((await expectCode(verify(makeToken({ payload: noIat })), INVALID)).message).toContain('iat is required')
  })

  it('checks Expired before the issuance limit and the audience (spec §1.4 order)', async () => {
    const token = makeToken({ payload: claims({ iat: NOW_S - 100 * 3600, exp: NOW_S - 3600, aud: 'nobody' }) })
    await expectCode(verify(token), EXPIRED)
  })
})

describe('verifyOidcToken: caller mistakes fail closed', () => {
  it.each([
    ['an invalid Date', { now: new Date(Number.NaN) }],
    ['a negative leeway', { leewaySeconds: -1 }],
    ['a NaN leeway', { leewaySeconds: Number.NaN }],
    ['a zero issuance limit', { issuanceLimitHours: 0 }],
  ])('refuses to verify with %s (a programming error, not a client error)', async (_, over) => {
    await expect(verify(makeToken(), over)).rejects.not.toBeInstanceOf(ApiError)
    await expect(verify(makeToken(), over)).rejects.toThrow(/verifyOidcToken/)
  })
})

describe('verifyOidcToken: audience and azp', () => {
  it('rejects a token for another client with AudienceNotMatch listing the audiences found', async () => {
    const e = await expectCode(verify(makeToken({ payload: claims({ aud: ['app-a', 'app-b'] }) })), AUDIENCE)
    expect(e.message).toContain('Invalid audience.')
    expect(e.message).toContain('"app-a", "app-b"')
  })

  it('truncates the audience list', async () => {
    const aud = Array.from({ length: 40 }, (_, i) => `aud-${i}-${'x'.repeat(200)}`)
    const e = await expectCode(verify(makeToken({ payload: claims({ aud }) })), AUDIENCE)
    expect(e.message).toContain('and 35 more')
    expect(e.message.length).toBeLessThan(600)
  })

  it('accepts several audiences when one is registered, with or without azp naming a client', async () => {
    await expect(verify(makeToken({ payload: claims({ aud: ['unrelated', CLIENT_ID] }) }))).resolves.toBeTruthy()
    await expect(verify(makeToken({ payload: claims({ aud: ['unrelated', CLIENT_ID], azp: CLIENT_ID }) }))).resolves.toBeTruthy()
  })

  it('rejects several audiences whose azp is not a registered client with AudienceNotMatch', async () => {
    const e = await expectCode(verify(makeToken({ payload: claims({ aud: ['unrelated', CLIENT_ID], azp: 'unrelated' }) })), AUDIENCE)
    expect(e.message).toContain('azp "unrelated"')
  })

  it('does not check azp for a single audience (OIDC Core §2: azp matters with several)', async () => {
    await expect(verify(makeToken({ payload: claims({ aud: CLIENT_ID, azp: 'web-frontend' }) }))).resolves.toBeTruthy()
  })

  it('rejects a provider with no client IDs for every token', async () => {
    await expectCode(verify(makeToken(), { clientIds: [] }), AUDIENCE)
  })
})

describe('verifyOidcToken: subject and identifiers', () => {
  it.each([
    ['missing', undefined],
    ['empty', ''],
    ['a number', 42],
    ['too long', 's'.repeat(1025)],
    ['with a newline', 'alice\nadmin'],
    ['with NUL', 'alice\u0000'],
    ['with a C1 control (CSI)', 'alice\u009b31m'],
    ['with a paragraph separator', 'alice\u2029admin'],
    // JSON.parse decodes the escape \ud800 to a lone surrogate: no Unicode text.
    ['with a lone surrogate', 'a\ud800b'],
  ])('rejects sub %s as Invalid', async (_, sub) => {
    await expectCode(verify(makeToken({ payload: claims({ sub }) })), INVALID)
  })

  it.each([
    ['a number', 7],
    ['too long', 'j'.repeat(1025)],
    ['with an escape sequence and a line break', '\u001b[31mFAKE\u001b[0m\r\nline2'],
    ['with DEL', 'id\u007f'],
    ['with a C1 control (CSI)', 'id\u009b31m'],
    ['with NEL', 'id\u0085x'],
    ['with a line separator', 'id\u2028x'],
    ['with a lone surrogate', 'x\udc00'],
  ])('rejects jti %s as Invalid (it is audited and shown to operators)', async (_, jti) => {
    await expectCode(verify(makeToken({ payload: claims({ jti }) })), INVALID)
  })

  it('accepts a jti of 1024 characters, and any printable one', async () => {
    for (const jti of ['j'.repeat(1024), 'ünïcode ✓ 🔑', '']) {
      await expect(verify(makeToken({ payload: claims({ jti }) }))).resolves.toMatchObject({ claims: { jti } })
    }
  })
})

describe('parseCompactJws', () => {
  it('returns header, payload, the signing input and the signature bytes', () => {
    const token = makeToken()
    const parsed = parseCompactJws(token)
    const [h, p, s] = token.split('.') as [string, string, string]
    expect(parsed.header).toEqual({ alg: 'RS256', typ: 'JWT', kid: 'k1' })
    expect(parsed.payload.sub).toBe(SUBJECT)
    expect(parsed.signingInput.toString('latin1')).toBe(`${h}.${p}`)
    expect(parsed.signature.equals(Buffer.from(s, 'base64url'))).toBe(true)
  })

  it('rejects a payload that is not a JSON object', () => {
    for (const payload of ['[]', 'null', '"x"', '1']) {
      expect(() => parseCompactJws(`${part({ alg: 'RS256' })}.${part(payload)}.AAAA`)).toThrowError(/not a JSON object/)
    }
  })

  it('keeps other header members (cty) of a jose-signed token', async () => {
    const token = await new CompactSign(new TextEncoder().encode(JSON.stringify(claims())))
      .setProtectedHeader({ alg: 'ES256', kid: 'ES256', typ: 'JWT', cty: 'JWT' })
      .sign(KEY_FOR.ES256.privateKey)
    expect(parseCompactJws(token).header.cty).toBe('JWT')
  })
})
