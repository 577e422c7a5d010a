// Hostile ID tokens through the REAL exchange (issue 7 item 1): a local HTTPS IdP serving the issuer's
// RSA key, an ES256 key and weak RSA keys; AssumeRoleWithOIDC over app.inject exactly as the credentials
// provider sends it. test/oidc/verify-token-adversarial.test.ts proves the verifier's decisions one by
// one; this file proves they hold end to end. Each case asserts: a 4xx with the expected code, no
// credentials anywhere in the answer, the token not echoed, nothing written to the table but Failure
// audit records (a Scan before and after), and that a good exchange still succeeds right after.

import { createHash, createPublicKey, sign } from 'node:crypto'
import { CompactEncrypt } from 'jose'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { MAX_JSON_DEPTH, MAX_TOKEN_LENGTH } from '../../shared/oidc/verify-token.ts'
import { makeToken, part, b64, type TokenOptions } from '../oidc/verify-token-fixtures.ts'
import { createExchangeFixture, injectExchange, type ExchangeFixture } from '../support/exchange-fixture.ts'
import { makeSigningKey, type TestSigningKey } from '../support/https-idp.ts'
import { diffTables, expectErrorEnvelope, expectNoCredentials, expectOnlyFailureAudit, scanTable } from './helpers.ts'

const INVALID = 'AuthenticationFail.OIDCToken.Invalid'
const SIGNATURE = 'AuthenticationFail.OIDCToken.InvalidSignature'
const ISSUER_NOT_MATCH = 'AuthenticationFail.OIDCToken.IssuerNotMatch'
const AUDIENCE = 'AuthenticationFail.OIDCToken.AudienceNotMatch'
const EXPIRED = 'AuthenticationFail.OIDCToken.Expired'
const TOO_LARGE = 'Request.TooLarge'

const NOW = new Date('2026-11-28T10:00:00Z')
const NOW_S = NOW.getTime() / 1000
const CLIENT_ID = 'sts.aliyuncs.com'
const SUBJECT = 'repo:octo-org/app:ref:refs/heads/main'
const P256_ORDER = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n

let fx: ExchangeFixture
let ISS = ''
let PORT = 0
// The IdP publishes these next to the fixture's RSA key `k1`.
const ec = makeSigningKey('e1', { type: 'ec', curve: 'P-256' })
const weak1024 = makeSigningKey('w1024', { type: 'rsa', modulusLength: 1024 })
let rsa: TestSigningKey

beforeAll(async () => {
  fx = await createExchangeFixture({ clock: () => NOW })
  rsa = fx.key
  ISS = fx.idp.issuer
  PORT = fx.idp.port
  const n = rsa.jwk.n as string
  fx.idp.setKeys([
    rsa.jwk,
    ec.jwk,
    weak1024.jwk,
    // The issuer's modulus with exponent 1 (every "signature" is the padded message) and an even one.
    { kty: 'RSA', n, e: 'AQ', kid: 'exp1', alg: 'RS256', use: 'sig' },
    { kty: 'RSA', n, e: 'AQAC', kid: 'even', alg: 'RS256', use: 'sig' },
  ])
  // The JWKS is fetched once (the clock is fixed, so the cache stays fresh and unknown kids never
  // refetch after the first): warm it, and check the world works before attacking it.
  const first = await send(good())
  expect(first.status, JSON.stringify(first.body)).toBe(200)
}, 60_000)
afterAll(async () => {
  await fx?.close()
})

// ----- token builders (verify-token-fixtures' makeToken, with this IdP's issuer, keys and clock)

const claims = (over: Record<string, unknown> = {}): Record<string, unknown> => ({
  iss: ISS,
  sub: SUBJECT,
  aud: CLIENT_ID,
  iat: NOW_S - 60,
  exp: NOW_S + 600,
  jti: 'a7c3e0f2-0000-4000-8000-000000000001',
  ...over,
})
/** The claim set as raw JSON with one claim spelled verbatim (1e400, duplicates, deep nesting...). */
const rawClaims = (name: string, rawValue: string, base = claims()) => JSON.stringify({ ...base, [name]: '__RAW__' }).replace('"__RAW__"', rawValue)
const withoutClaim = (name: string) => {
  const c = claims()
  delete c[name]
  return c
}

/** A token signed by the issuer's key for `alg` unless told otherwise; claims merged into the defaults. */
function T(o: TokenOptions & { claims?: Record<string, unknown> } = {}): string {
  const { claims: over, ...rest } = o
  const alg = o.alg ?? 'RS256'
  const key = alg.startsWith('ES') ? ec.privateKey : rsa.privateKey
  return makeToken({ key, ...(alg.startsWith('ES') && !('kid' in o) ? { kid: 'e1' } : {}), ...rest, payload: o.payload ?? claims(over) })
}
const good = () => T({ claims: { jti: `good-${Math.random()}` } })
const withParts = (token: string, f: (parts: string[]) => string[]) => f(token.split('.')).join('.')

const toBytes = (v: bigint, length: number) => Buffer.from(v.toString(16).padStart(length * 2, '0'), 'hex')
/** An ES256 signature (r || s) rebuilt from a good one. */
const es256 = (f: (r: bigint, s: bigint, n: bigint) => [bigint, bigint]) => (g: Buffer) => {
  const [r, s] = f(BigInt(`0x${g.subarray(0, 32).toString('hex')}`), BigInt(`0x${g.subarray(32).toString('hex')}`), P256_ORDER)
  return Buffer.concat([toBytes(r, 32), toBytes(s, 32)])
}

/** With e = 1 a "signature" is just the PKCS#1 v1.5 encoded message: forgeable by anyone. */
function forgedForExponentOne(): string {
  const input = `${part({ alg: 'RS256', typ: 'JWT', kid: 'exp1' })}.${part(claims())}`
  const digestInfo = Buffer.concat([Buffer.from('3031300d060960864801650304020105000420', 'hex'), createHash('sha256').update(input).digest()])
  const em = Buffer.concat([Buffer.from([0, 1]), Buffer.alloc(256 - 3 - digestInfo.length, 0xff), Buffer.from([0]), digestInfo])
  return `${input}.${b64(em)}`
}

/** A validly signed RS256 token of exactly `length` characters (padding claim + a header member). */
function tokenOfLength(length: number): string {
  const SIGNATURE_CHARS = 342 // 256 bytes
  for (let h = 0; h < 4; h++) {
    const header = { alg: 'RS256', typ: 'JWT', kid: 'k1', ...(h > 0 ? { x: 'y'.repeat(h) } : {}) }
    const payloadChars = length - part(header).length - 2 - SIGNATURE_CHARS
    const emptyPad = Buffer.byteLength(JSON.stringify(claims({ pad: '' })))
    for (let bytes = Math.floor((payloadChars * 3) / 4) - 2; bytes <= Math.floor((payloadChars * 3) / 4) + 2; bytes++) {
      if (Math.ceil((bytes * 4) / 3) !== payloadChars || bytes < emptyPad) continue
      const token = T({ header, claims: { pad: 'x'.repeat(bytes - emptyPad) } })
      if (token.length === length) return token
    }
  }
  throw new Error(`no token of length ${length}`)
}

const nested = (depth: number) => `${'['.repeat(depth)}${']'.repeat(depth)}`
const pemOfIssuerKey = () => Buffer.from(rsa.publicKey.export({ type: 'spki', format: 'pem' }) as string)

// ----- the exchange, as the credentials provider sends it (form body), or the STS SDK (query)

interface Answer {
  status: number
  body: Record<string, any> // eslint-disable-line @typescript-eslint/no-explicit-any
  raw: string
}

async function send(token: string, where: 'form' | 'query' = 'form'): Promise<Answer> {
  const res = await injectExchange(fx.svc.app, {
    OIDCProviderArn: `acs:ram::${fx.account}:oidc-provider/ci`,
    RoleArn: `acs:ram::${fx.account}:role/deployer`,
    RoleSessionName: 'build-42',
    OIDCToken: token,
  }, { timestamp: NOW, remoteAddress: '203.0.113.9', in: where })
  return { status: res.statusCode, body: res.json(), raw: res.body }
}

// ----- the table

interface Case {
  name: string
  token: () => string | Promise<string>
  code: string
  status?: number
  where?: 'form' | 'query'
}

const alg = (name: string, extra: Record<string, unknown> = {}) => () => T({ header: { alg: name, typ: 'JWT', kid: 'k1', ...extra } })

const CASES: Record<string, Case[]> = {
  'alg none and its case variants': ['none', 'None', 'NONE', 'nOnE', 'none '].flatMap((a) => [
    { name: `${JSON.stringify(a)}, unsigned`, token: () => `${part({ alg: a, typ: 'JWT', kid: 'k1' })}.${part(claims())}.`, code: INVALID },
    { name: `${JSON.stringify(a)}, with the issuer's RS256 signature attached`, token: alg(a), code: INVALID },
  ]),
  'algorithm confusion: HMAC keyed with the RSA public key': [
    ...(['HS256', 'HS384', 'HS512'] as const).map((a) => ({ name: `${a} keyed with the issuer's PEM`, token: () => T({ alg: a, key: pemOfIssuerKey() }), code: INVALID })),
    { name: "HS256 keyed with the issuer's DER", token: () => T({ alg: 'HS256', key: rsa.publicKey.export({ type: 'spki', format: 'der' }) }), code: INVALID },
    { name: "HS256 keyed with the issuer's JWK n", token: () => T({ alg: 'HS256', key: Buffer.from(rsa.jwk.n as string) }), code: INVALID },
    { name: 'RS256 header over an ES256 key id', token: () => T({ kid: 'e1' }), code: SIGNATURE },
    { name: 'ES256 header over the RSA key id', token: () => T({ alg: 'ES256', kid: 'k1' }), code: SIGNATURE },
    { name: 'PS256 header over a key published for RS256', token: () => T({ alg: 'PS256' }), code: SIGNATURE },
  ],
  'keys embedded in the header (CVE-2018-0114 class)': [
    { name: 'jwk with the attacker key, signed by the attacker', token: () => attackerToken({ jwk: attacker.jwk }), code: INVALID },
    { name: 'jku to the attacker JWKS', token: () => attackerToken({ jku: 'https://evil.example.com/jwks.json' }), code: INVALID },
    { name: 'jku to the issuer itself', token: () => T({ headerExtra: { jku: `${ISS}/jwks` } }), code: INVALID },
    { name: 'x5u', token: () => attackerToken({ x5u: 'https://evil.example.com/cert.pem' }), code: INVALID },
    { name: 'x5c', token: () => attackerToken({ x5c: ['MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA'] }), code: INVALID },
    { name: 'jwk even when signed by the issuer', token: () => T({ headerExtra: { jwk: rsa.jwk } }), code: INVALID },
  ],
  'hostile kid values': [
    ...['../../../../etc/passwd', '..%2f..%2fjwks', "k1' OR '1'='1", 'k1"; DROP TABLE keys; --', '{"$ne":null}', '{"$gt":""}', 'https://evil.example.com/key', '*', 'k'.repeat(256)].map((kid) => ({
      name: `${JSON.stringify(kid.slice(0, 30))} is only an unknown lookup key`,
      token: () => T({ kid }),
      code: SIGNATURE,
    })),
    { name: '257 characters', token: () => T({ kid: 'k'.repeat(257) }), code: INVALID },
    { name: '10 000 characters', token: () => T({ kid: 'k'.repeat(10_000) }), code: INVALID },
    { name: 'a number', token: () => T({ headerExtra: { kid: 1 } }), code: INVALID },
    { name: 'null', token: () => T({ headerExtra: { kid: null } }), code: INVALID },
    { name: 'an object (NoSQL operator)', token: () => T({ headerExtra: { kid: { $ne: null } } }), code: INVALID },
    { name: 'an array', token: () => T({ headerExtra: { kid: ['k1'] } }), code: INVALID },
    { name: 'empty', token: () => T({ kid: '' }), code: INVALID },
    { name: 'with a NUL byte', token: () => T({ kid: 'k1\u0000' }), code: INVALID },
    { name: 'with a newline (header injection)', token: () => T({ kid: 'k1\nX-Injected: 1' }), code: INVALID },
  ],
  'ECDSA signature values (CVE-2022-21449 class), DER and length, on an ES256 key the IdP publishes': [
    { name: 'r = s = 0', token: () => T({ alg: 'ES256', signature: Buffer.alloc(64) }), code: SIGNATURE },
    { name: 'r = s = n', token: () => T({ alg: 'ES256', signature: es256((_r, _s, n) => [n, n]) }), code: SIGNATURE },
    { name: 'r = 0, s valid', token: () => T({ alg: 'ES256', signature: es256((_r, s) => [0n, s]) }), code: SIGNATURE },
    { name: 'r valid, s = 0', token: () => T({ alg: 'ES256', signature: es256((r) => [r, 0n]) }), code: SIGNATURE },
    { name: 'r + n (out of range, same residue)', token: () => T({ alg: 'ES256', signature: (g) => { const r = BigInt(`0x${g.subarray(0, 32).toString('hex')}`) + P256_ORDER; return r < 2n ** 256n ? Buffer.concat([toBytes(r, 32), g.subarray(32)]) : Buffer.concat([Buffer.alloc(32, 0xff), g.subarray(32)]) } }), code: SIGNATURE },
    { name: 'r = s = 2^256 - 1', token: () => T({ alg: 'ES256', signature: Buffer.alloc(64, 0xff) }), code: SIGNATURE },
    { name: 'DER-encoded (what node signs by default)', token: () => {
      const input = `${part({ alg: 'ES256', typ: 'JWT', kid: 'e1' })}.${part(claims())}`
      return `${input}.${b64(sign('sha256', Buffer.from(input), { key: ec.privateKey, dsaEncoding: 'der' }))}`
    }, code: SIGNATURE },
    { name: 'one byte short', token: () => T({ alg: 'ES256', signature: (g) => g.subarray(1) }), code: SIGNATURE },
    { name: 'one byte long', token: () => T({ alg: 'ES256', signature: (g) => Buffer.concat([Buffer.from([0]), g]) }), code: SIGNATURE },
  ],
  'weak RSA keys the IdP serves': [
    { name: '1024-bit key, validly signed with it', token: () => T({ kid: 'w1024', key: weak1024.privateKey }), code: SIGNATURE },
    { name: 'exponent 1 with a forged "signature" equal to the encoded message', token: forgedForExponentOne, code: SIGNATURE },
    { name: 'even exponent 65538, signed with the issuer key', token: () => T({ kid: 'even' }), code: SIGNATURE },
  ],
  'crit and b64': [
    { name: 'crit ["exp"]', token: () => T({ headerExtra: { crit: ['exp'], exp: NOW_S + 60 } }), code: INVALID },
    { name: 'crit []', token: () => T({ headerExtra: { crit: [] } }), code: INVALID },
    { name: 'b64 false with crit ["b64"]', token: () => T({ headerExtra: { b64: false, crit: ['b64'] } }), code: INVALID },
    { name: 'b64 false alone', token: () => T({ headerExtra: { b64: false } }), code: INVALID },
    { name: 'b64 false with an unencoded payload', token: () => {
      const header = part({ alg: 'RS256', kid: 'k1', b64: false, crit: ['b64'] })
      const payload = JSON.stringify(claims())
      const s = sign('sha256', Buffer.from(`${header}.${payload}`), rsa.privateKey)
      return `${header}.${payload}.${b64(s)}`
    }, code: INVALID },
  ],
  'a JWE where a JWS is expected': [
    { name: 'a real compact JWE (RSA-OAEP-256 / A256GCM) to the issuer key', token: async () => new CompactEncrypt(new TextEncoder().encode(JSON.stringify(claims()))).setProtectedHeader({ alg: 'RSA-OAEP-256', enc: 'A256GCM', kid: 'k1' }).encrypt(rsa.publicKey), code: INVALID },
    { name: 'a "dir" JWE shape', token: () => `${part({ alg: 'dir', enc: 'A256GCM' })}..AAAA.AAAA.AAAA`, code: INVALID },
  ],
  'duplicate JSON members': [
    { name: 'header alg twice (none, then RS256)', token: () => T({ header: '{"alg":"none","alg":"RS256","kid":"k1"}' }), code: INVALID },
    { name: 'header kid twice', token: () => T({ header: '{"alg":"RS256","kid":"w1024","kid":"k1"}' }), code: INVALID },
    { name: 'payload sub twice', token: () => T({ payload: rawClaims('sub', `"repo:other/x","sub":"${SUBJECT}"`) }), code: INVALID },
    { name: 'payload iss twice', token: () => T({ payload: `{"iss":"https://evil.example.com",${rawClaims('x', '1').slice(1)}` }), code: INVALID },
    { name: 'payload aud twice, the second spelled with an escape', token: () => T({ payload: rawClaims('x', `1,"a\\u0075d":"${CLIENT_ID}"`, claims({ aud: 'other' })) }), code: INVALID },
    { name: 'duplicate inside a nested claim', token: () => T({ payload: rawClaims('groups', '{"admin":false,"admin":true}') }), code: INVALID },
  ],
  'NumericDate claims': [
    ...(['exp', 'iat', 'nbf'] as const).flatMap((c) => [
      { name: `${c} as a string`, token: () => T({ claims: { [c]: String(NOW_S) } }), code: INVALID },
      { name: `${c} negative`, token: () => T({ claims: { [c]: -1 } }), code: INVALID },
      { name: `${c} 1e400 (Infinity)`, token: () => T({ payload: rawClaims(c, '1e400') }), code: INVALID },
      { name: `${c} -1e400`, token: () => T({ payload: rawClaims(c, '-1e400') }), code: INVALID },
      { name: `${c} null`, token: () => T({ claims: { [c]: null } }), code: INVALID },
      { name: `${c} an array`, token: () => T({ claims: { [c]: [NOW_S] } }), code: INVALID },
    ]),
    { name: 'exp missing', token: () => T({ payload: withoutClaim('exp') }), code: INVALID },
    { name: 'iat missing', token: () => T({ payload: withoutClaim('iat') }), code: INVALID },
    { name: 'exp in the past beyond the leeway', token: () => T({ claims: { iat: NOW_S - 3600, exp: NOW_S - 61 } }), code: EXPIRED },
    { name: 'iat 61 s in the future (beyond the 60 s leeway)', token: () => T({ claims: { iat: NOW_S + 61 } }), code: INVALID },
    { name: 'iat a year in the future', token: () => T({ claims: { iat: NOW_S + 365 * 86400, exp: NOW_S + 366 * 86400 } }), code: INVALID },
    { name: 'nbf in the future', token: () => T({ claims: { nbf: NOW_S + 120 } }), code: INVALID },
    { name: 'nbf far beyond the Date range', token: () => T({ claims: { nbf: 1e300 } }), code: INVALID },
    // Once accepted, it made formatting OIDCTokenInfo.ExpirationTime throw: a 500 any IdP could cause.
    { name: 'exp far beyond the Date range', token: () => T({ claims: { exp: 1e300 } }), code: INVALID },
    { name: 'iat older than the IssuanceLimitTime (12 h)', token: () => T({ claims: { iat: NOW_S - 13 * 3600, exp: NOW_S + 600 } }), code: 'AuthenticationFail.OIDCToken.IssuanceTimeLimitExceeded' },
  ],
  'aud and azp': [
    { name: 'array without a registered client ID', token: () => T({ claims: { aud: ['a', 'b'] } }), code: AUDIENCE },
    { name: 'array with a registered client ID and a foreign azp', token: () => T({ claims: { aud: ['a', CLIENT_ID], azp: 'a' } }), code: AUDIENCE },
    { name: 'single foreign aud with a registered azp', token: () => T({ claims: { aud: 'a', azp: CLIENT_ID } }), code: AUDIENCE },
    { name: 'azp not a string', token: () => T({ claims: { aud: ['a', CLIENT_ID], azp: 1 } }), code: INVALID },
    { name: 'empty array', token: () => T({ claims: { aud: [] } }), code: INVALID },
    { name: 'array with a number', token: () => T({ claims: { aud: [CLIENT_ID, 5] } }), code: INVALID },
    { name: 'an object', token: () => T({ claims: { aud: { [CLIENT_ID]: true } } }), code: INVALID },
    { name: 'missing', token: () => T({ payload: withoutClaim('aud') }), code: INVALID },
    { name: 'the registered ID in another case', token: () => T({ claims: { aud: CLIENT_ID.toUpperCase() } }), code: AUDIENCE },
    { name: 'the registered ID with a trailing space', token: () => T({ claims: { aud: `${CLIENT_ID} ` } }), code: AUDIENCE },
  ],
  'issuer variants': [
    ...([
      ['with a trailing slash', () => `${ISS}/`],
      ['scheme upper-cased', () => ISS.replace('https:', 'HTTPS:')],
      ['plain http', () => ISS.replace('https:', 'http:')],
      ['host spelled LOCALHOST', () => `https://LOCALHOST:${PORT}`],
      ['host localhost (same address)', () => `https://localhost:${PORT}`],
      ['without the port', () => 'https://127.0.0.1'],
      ['with port 443', () => 'https://127.0.0.1:443'],
      ['another port', () => `https://127.0.0.1:${PORT + 1}`],
      ['port with a leading zero', () => `https://127.0.0.1:0${PORT}`],
      // The same address in decimal: WHATWG URL would normalise it; iss is compared byte for byte.
      ['host in decimal (2130706433)', () => `https://2130706433:${PORT}`],
      ['":" percent-encoded', () => `https://127.0.0.1%3A${PORT}`],
      ['"." percent-encoded', () => `https://127%2E0.0.1:${PORT}`],
      ['"/" percent-encoded appended', () => `${ISS}%2F`],
      ['"/." appended', () => `${ISS}/.`],
      ['a leading space', () => ` ${ISS}`],
      ['a trailing NUL', () => `${ISS}\u0000`],
      ['as a prefix of another host', () => `${ISS}.evil.example`],
      ['empty', () => ''],
    ] as const).map(([name, iss]) => ({ name: `iss ${name}`, token: () => T({ claims: { iss: iss() } }), code: ISSUER_NOT_MATCH })),
    { name: 'iss a number', token: () => T({ claims: { iss: 1 } }), code: INVALID },
    { name: 'iss an array holding the issuer', token: () => T({ claims: { iss: [ISS] } }), code: INVALID },
  ],
  'base64url and segments': [
    { name: 'padding on the header', token: () => withParts(good(), ([h, p, s]) => [`${h}==`, p!, s!]), code: INVALID },
    { name: 'padding on the signature', token: () => withParts(good(), ([h, p, s]) => [h!, p!, `${s}==`]), code: INVALID },
    { name: 'standard base64 alphabet (+ /) in the signature', token: () => withParts(good(), ([h, p, s]) => [h!, p!, s!.replace(/-/g, '+').replace(/_/g, '/')]), code: INVALID },
    { name: 'a space inside the payload', token: () => withParts(good(), ([h, p, s]) => [h!, `${p!.slice(0, 10)} ${p!.slice(10)}`, s!]), code: INVALID },
    { name: 'a newline inside the signature', token: () => withParts(good(), ([h, p, s]) => [h!, p!, `${s!.slice(0, 10)}\n${s!.slice(10)}`]), code: INVALID },
    { name: 'a trailing newline (token file read raw)', token: () => `${good()}\n`, code: INVALID },
    { name: 'leading whitespace', token: () => ` ${good()}`, code: INVALID },
    { name: 'a tab between segments', token: () => good().replace('.', '.\t'), code: INVALID },
    { name: 'non-canonical last signature character', token: () => withParts(good(), ([h, p, s]) => [h!, p!, nonCanonical(s!)]), code: INVALID },
    { name: 'impossible base64 length (4n+1)', token: () => withParts(good(), ([h, p, s]) => [h!, p!, `${s}AAA`]), code: INVALID },
    { name: 'non-ASCII in the payload', token: () => withParts(good(), ([h, p, s]) => [h!, `${p}é`, s!]), code: INVALID },
    { name: 'two segments', token: () => withParts(good(), ([h, p]) => [h!, p!]), code: INVALID },
    { name: 'four segments', token: () => `${good()}.AAAA`, code: INVALID },
    { name: 'four segments, the last empty', token: () => `${good()}.`, code: INVALID },
    { name: 'one segment', token: () => good().replaceAll('.', ''), code: INVALID },
    { name: 'empty signature', token: () => withParts(good(), ([h, p]) => [h!, p!, '']), code: INVALID },
    { name: 'just dots', token: () => '....', code: INVALID },
    { name: 'a token wrapped in base64', token: () => b64(good()), code: INVALID },
    { name: 'payload not UTF-8', token: () => `${part({ alg: 'RS256', kid: 'k1' })}.${b64(Buffer.from([0x7b, 0xff, 0xfe, 0x7d]))}.AAAA`, code: INVALID },
    { name: 'header a JSON array', token: () => T({ header: '["RS256"]' }), code: INVALID },
  ],
  // "__proto__" and constructor.prototype as JSON members: data, never a prototype. A parser or copy
  // that honoured them would lend the header an alg or the claims an iss (these would then verify)
  // or write into Object.prototype ("nothing was polluted" below).
  'prototype pollution through __proto__ and constructor members': [
    { name: 'alg supplied only through __proto__ in the header', token: () => T({ header: '{"typ":"JWT","kid":"k1","__proto__":{"alg":"RS256","polluted":true,"admin":true}}' }), code: INVALID },
    {
      name: 'iss supplied only through __proto__ in the payload',
      token: () => T({ payload: `{"__proto__":{"iss":"${ISS}","polluted":true,"admin":true},${JSON.stringify(withoutClaim('iss')).slice(1)}` }),
      code: INVALID,
    },
    { name: 'aud supplied only through __proto__ in the payload', token: () => T({ payload: rawClaims('__proto__', `{"aud":"${CLIENT_ID}","polluted":true}`, withoutClaim('aud')) }), code: INVALID },
    { name: '__proto__ in the header and the payload, signed by the attacker', token: () => T({ header: '{"alg":"RS256","typ":"JWT","kid":"k1","__proto__":{"polluted":true}}', payload: rawClaims('__proto__', '{"polluted":true,"admin":true}'), key: attacker.privateKey }), code: SIGNATURE },
    { name: 'constructor.prototype in the header of an alg none token', token: () => `${part('{"alg":"none","kid":"k1","constructor":{"prototype":{"polluted":true}}}')}.${part(rawClaims('constructor', '{"prototype":{"polluted":true}}'))}.`, code: INVALID },
  ],
  'length limits': [
    { name: `${MAX_TOKEN_LENGTH + 1} characters, validly signed`, token: () => tokenOfLength(MAX_TOKEN_LENGTH + 1), code: INVALID },
    { name: `${MAX_TOKEN_LENGTH + 1} characters in the query string (as the STS SDK sends it)`, token: () => tokenOfLength(MAX_TOKEN_LENGTH + 1), code: INVALID, where: 'query' },
    { name: '200 000 characters (within the body limit)', token: () => `${good()}${'A'.repeat(200_000)}`, code: INVALID },
    { name: '1 MB (over the body limit: refused before the action, and audited all the same)', token: () => `${good()}${'A'.repeat(1_000_000)}`, code: TOO_LARGE, status: 413 },
    { name: '3 characters', token: () => 'a.b', code: INVALID },
  ],
  'deeply nested claims': [
    { name: '7000 nested arrays in a signed payload (within the length limit)', token: () => T({ payload: rawClaims('x', nested(7000)) }), code: INVALID },
    { name: '3000 nested objects in the header', token: () => T({ header: `{"alg":"RS256","kid":"k1","x":${'{"a":'.repeat(3000)}1${'}'.repeat(3000)}}` }), code: INVALID },
    { name: `claims nested ${MAX_JSON_DEPTH + 1} deep in all`, token: () => T({ payload: rawClaims('x', nested(MAX_JSON_DEPTH)) }), code: INVALID },
  ],
}

/** Legitimate edge cases the same checks must let through (else the suite would pass by refusing everything). */
const ACCEPTED: Array<{ name: string; token: () => string; where?: 'form' | 'query' }> = [
  { name: 'a good RS256 token', token: good },
  { name: 'a good ES256 token from the same IdP', token: () => T({ alg: 'ES256' }) },
  { name: 'ES256 high-s (n - s): accepted by decision (malleability is no forgery; see jws-algorithms.ts)', token: () => T({ alg: 'ES256', signature: es256((r, s, n) => [r, n - s]) }) },
  { name: 'exp as a float', token: () => T({ claims: { exp: NOW_S + 600.5 } }) },
  { name: 'iat 59 s in the future (within the leeway)', token: () => T({ claims: { iat: NOW_S + 59 } }) },
  { name: 'nbf absent', token: () => T({ payload: withoutClaim('nbf') }) },
  { name: 'aud an array with the registered client ID', token: () => T({ claims: { aud: ['a', CLIENT_ID] } }) },
  { name: 'aud an array with the registered client ID and azp registered', token: () => T({ claims: { aud: ['a', CLIENT_ID], azp: CLIENT_ID } }) },
  { name: `exactly ${MAX_TOKEN_LENGTH} characters, in the form body`, token: () => tokenOfLength(MAX_TOKEN_LENGTH) },
  { name: `exactly ${MAX_TOKEN_LENGTH} characters, in the query string`, token: () => tokenOfLength(MAX_TOKEN_LENGTH), where: 'query' },
  { name: `claims nested ${MAX_JSON_DEPTH} deep in all`, token: () => T({ payload: rawClaims('x', nested(MAX_JSON_DEPTH - 1)) }) },
  { name: '__proto__ members in the header and in the claims are plain data', token: () => T({ header: '{"alg":"RS256","typ":"JWT","kid":"k1","__proto__":{"polluted":true,"alg":"none"}}', payload: rawClaims('__proto__', '{"polluted":true,"admin":true,"sub":"repo:other/x"}') }) },
  { name: '__proto__ nested inside a claim is plain data', token: () => T({ payload: rawClaims('groups', '{"dev":true,"__proto__":{"polluted":true,"admin":true}}') }) },
  { name: 'constructor.prototype in the header and in the claims is plain data', token: () => T({ header: '{"alg":"RS256","typ":"JWT","kid":"k1","constructor":{"prototype":{"polluted":true}}}', payload: rawClaims('constructor', '{"prototype":{"polluted":true,"admin":true}}') }) },
]

const attacker = makeSigningKey('k1')
const attackerToken = (headerExtra: Record<string, unknown>) => T({ headerExtra, key: attacker.privateKey })

/** The same bytes spelled differently: the last character's unused low bits set. */
function nonCanonical(sig: string): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'
  const changed = `${sig.slice(0, -1)}${alphabet[alphabet.indexOf(sig.at(-1)!) | 1]}`
  expect(Buffer.from(changed, 'base64url').equals(Buffer.from(sig, 'base64url'))).toBe(true)
  expect(changed).not.toBe(sig)
  return changed
}

describe.each(Object.entries(CASES))('hostile tokens through AssumeRoleWithOIDC: %s', (_group, cases) => {
  it.each(cases.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    const token = await c.token()
    await fx.svc.app.sts.audit.flush()
    const before = await scanTable(fx.svc.stores)

    const res = await send(token, c.where)
    expect(res.status, res.raw.slice(0, 300)).toBe(c.status ?? 401)
    expectErrorEnvelope(res.body)
    expect(res.body.Code).toBe(c.code)
    expectNoCredentials(res.body, res.raw)
    // Neither the token nor its signature comes back; the message stays short whatever the input.
    const signature = token.split('.')[2] ?? ''
    if (signature.length >= 16) expect(res.raw).not.toContain(signature.slice(0, 16))
    if (token.length >= 16) expect(res.raw).not.toContain(token.slice(0, 64))
    expect(res.body.Message.length).toBeLessThan(700)

    await fx.svc.app.sts.audit.flush()
    const diff = diffTables(before, await scanTable(fx.svc.stores))
    expectOnlyFailureAudit(diff, c.code)
    // Every exchange is audited, once: a body refused by the HTTP layer, before the action, too.
    expect(diff.added).toHaveLength(1)
    expect(Object.prototype).not.toHaveProperty('polluted')

    const after = await send(good())
    expect(after.status, after.raw.slice(0, 300)).toBe(200)
    expect(after.body.Credentials.AccessKeyId).toMatch(/^STS\./)
  })
})

describe('legitimate edge cases still exchange', () => {
  it.each(ACCEPTED.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    const res = await send(c.token(), c.where)
    expect(res.status, res.raw.slice(0, 300)).toBe(200)
    expect(res.body.Credentials.AccessKeyId).toMatch(/^STS\./)
    expect(res.body.OIDCTokenInfo.Issuer).toBe(ISS)
    expect(res.body.OIDCTokenInfo.Subject).toBe(SUBJECT)
    expect(Object.prototype).not.toHaveProperty('polluted')
  })
})

describe('after every attack', () => {
  it('the JWKS was fetched once: no hostile kid, key or header made the service refetch or fetch elsewhere', () => {
    expect(fx.idp.requests(fx.idp.discoveryPath)).toBe(1)
    expect(fx.idp.requests(fx.idp.jwksPath)).toBe(1)
    expect(fx.svc.app.sts.jwks.issuers()).toEqual([ISS])
  })

  it('nothing was polluted (the __proto__ and constructor cases above carried "polluted" and "admin")', () => {
    expect(Object.prototype).not.toHaveProperty('polluted')
    expect(({} as Record<string, unknown>).admin).toBeUndefined()
  })

  it('a token signed by the attacker with the issuer kid (no embedded key) is a plain InvalidSignature', async () => {
    const res = await send(T({ key: attacker.privateKey }))
    expect(res.status).toBe(401)
    expect(res.body.Code).toBe(SIGNATURE)
    // The attacker key is a real 2048-bit RSA key: only the IdP's published key decides.
    expect(createPublicKey(attacker.privateKey).asymmetricKeyDetails?.modulusLength).toBe(2048)
  })
})
