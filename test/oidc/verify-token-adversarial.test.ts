// Hostile tokens (issue 7 item 1): each case asserts the exact code, that no key is looked up when the
// check needs none, and that the message echoes neither the token nor its signature.

import { constants, createPublicKey, createHash, type KeyObject, sign } from 'node:crypto'
import fc from 'fast-check'
import { CompactEncrypt, exportJWK } from 'jose'
import { describe, expect, it } from 'vitest'
import { ApiError } from '../../shared/errors.ts'
import { JsonRejected, parseJsonStrict } from '../../shared/oidc/jws-json.ts'
import { MAX_JSON_DEPTH, MAX_TOKEN_LENGTH, type TokenPolicy, type VerifiedToken, verifyOidcToken } from '../../shared/oidc/verify-token.ts'
import {
  CLIENT_ID,
  ISSUER,
  KEYS,
  NOW_S,
  b64,
  claims,
  expectCode,
  makeToken,
  part,
  policy,
  recordingLookup,
} from './verify-token-fixtures.ts'

const INVALID = 'AuthenticationFail.OIDCToken.Invalid'
const SIGNATURE = 'AuthenticationFail.OIDCToken.InvalidSignature'
const ISSUER_NOT_MATCH = 'AuthenticationFail.OIDCToken.IssuerNotMatch'
const AUDIENCE = 'AuthenticationFail.OIDCToken.AudienceNotMatch'
const OK = 'verifies'

const ORDER = {
  ES256: 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n,
  ES384: 0xffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf581a0db248b0a77aecec196accc52973n,
  ES512: 0x01fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffa51868783bf2f966b7fcc0148f709a5d03bb5c9b8899c47aebb6fb71e91386409n,
} as const
const COORD = { ES256: 32, ES384: 48, ES512: 66 } as const
type EcAlg = keyof typeof ORDER

const toBytes = (n: bigint, length: number) => Buffer.from(n.toString(16).padStart(length * 2, '0'), 'hex')
const fromBytes = (b: Buffer) => BigInt(`0x${b.toString('hex') || '0'}`)
/** An ECDSA signature (r || s) rebuilt from a good one. */
const ecSig = (alg: EcAlg, f: (r: bigint, s: bigint, n: bigint) => [bigint, bigint]) => (good: Buffer) => {
  const c = COORD[alg]
  const [r, s] = f(fromBytes(good.subarray(0, c)), fromBytes(good.subarray(c)), ORDER[alg])
  return Buffer.concat([toBytes(r, c), toBytes(s, c)])
}

/** A claim set as raw JSON with one claim's value spelled verbatim (1e400, duplicates...). */
const rawClaims = (name: string, rawValue: string, base = claims()) =>
  JSON.stringify({ ...base, [name]: '__RAW__' }).replace('"__RAW__"', rawValue)

/** An RSA public key with the issuer's modulus and another exponent. */
const rsaWithExponent = (e: number) => {
  const jwk = KEYS.rsa.publicKey.export({ format: 'jwk' })
  return createPublicKey({ key: { kty: 'RSA', n: jwk.n as string, e: b64(toBytes(BigInt(e), e > 255 ? 3 : 1)) }, format: 'jwk' })
}

/** With e = 1 a "signature" is just the PKCS#1 v1.5 encoded message: forgeable by anyone. */
const forgedForExponentOne = (signingInput: string) => {
  const digestInfo = Buffer.concat([Buffer.from('3031300d060960864801650304020105000420', 'hex'), createHash('sha256').update(signingInput).digest()])
  return Buffer.concat([Buffer.from([0, 1]), Buffer.alloc(256 - 3 - digestInfo.length, 0xff), Buffer.from([0]), digestInfo])
}

const pemOfIssuerKey = KEYS.rsa.publicKey.export({ type: 'spki', format: 'pem' }) as string
const derOfIssuerKey = KEYS.rsa.publicKey.export({ type: 'spki', format: 'der' })
const attackerJwk = await exportJWK(KEYS.attackerRsa.publicKey)

const withParts = (token: string, f: (parts: string[]) => string[]) => f(token.split('.')).join('.')
const good = makeToken()

/** A token of exactly `length` characters, validly signed (RS256, 342-character signature), padded through a claim. */
function tokenOfLength(length: number): string {
  const SIGNATURE_CHARS = 342
  // Base64 lengths skip some values, so the kid length varies too.
  for (let kidLength = 2; kidLength < 6; kidLength++) {
    const header = part({ alg: 'RS256', typ: 'JWT', kid: 'k'.repeat(kidLength) })
    for (let pad = 0; pad < length; pad += 1) {
      const total = header.length + 1 + part(claims({ pad: 'x'.repeat(pad) })).length + 1 + SIGNATURE_CHARS
      if (total < length - 40) pad += Math.floor((length - 40 - total) * 0.7)
      else if (total === length) {
        const token = makeToken({ kid: 'k'.repeat(kidLength), payload: claims({ pad: 'x'.repeat(pad) }) })
        expect(token.length).toBe(length)
        return token
      } else if (total > length) break
    }
  }
  throw new Error(`no token of length ${length}`)
}

const nested = (depth: number) => `${'['.repeat(depth)}${']'.repeat(depth)}`

interface Case {
  name: string
  token: () => string
  code: string
  /** Keys the lookup serves (default: the issuer's RSA key as k1). */
  keys?: Record<string, KeyObject>
  policy?: Partial<TokenPolicy>
  /** Whether the check must happen before any key is looked up. */
  beforeKeyLookup?: boolean
  /** The exact key lookups the verifier must make (kid and alg as the token carries them). */
  lookups?: Array<{ kid: string | undefined; alg: string }>
  message?: string | RegExp
  /** Further checks on an accepted token's result. */
  verified?: (result: VerifiedToken) => void
}

const alg = (name: string, extra: Record<string, unknown> = {}) => () => makeToken({ header: { alg: name, kid: 'k1', ...extra }, key: KEYS.rsa.privateKey, alg: 'RS256' })

const CASES: Record<string, Case[]> = {
  'alg none and its case variants': ['none', 'None', 'NONE', 'nOnE', 'none '].flatMap((a) => [
    { name: `${JSON.stringify(a)} unsigned`, token: () => `${part({ alg: a, kid: 'k1' })}.${part(claims())}.`, code: INVALID, beforeKeyLookup: true, message: 'that be specified in Jwt header is unknown' },
    { name: `${JSON.stringify(a)} with an RS256 signature attached`, token: alg(a), code: INVALID, beforeKeyLookup: true },
  ]),
  'algorithm confusion: HMAC keyed with the RSA public key': [
    ...(['HS256', 'HS384', 'HS512'] as const).map((a) => ({
      name: `${a} keyed with the issuer's PEM public key`,
      token: () => makeToken({ alg: a, key: Buffer.from(pemOfIssuerKey) }),
      code: INVALID,
      beforeKeyLookup: true,
      message: `The algorithm ${a} that be specified in Jwt header is unknown.`,
    })),
    { name: "HS256 keyed with the issuer's DER public key", token: () => makeToken({ alg: 'HS256', key: derOfIssuerKey }), code: INVALID, beforeKeyLookup: true },
  ],
  'other algorithms outside the allow-list': ['rs256', 'RS256 ', 'ES256K', 'EdDSA', 'RSA-OAEP', 'dir', '', 'RS1'].map((a) => ({
    name: JSON.stringify(a),
    token: alg(a),
    code: INVALID,
    beforeKeyLookup: true,
  })).concat([
    { name: 'alg as an array', token: () => makeToken({ header: { alg: ['RS256'], kid: 'k1' } }), code: INVALID, beforeKeyLookup: true },
    { name: 'alg missing', token: () => makeToken({ header: { kid: 'k1' } }), code: INVALID, beforeKeyLookup: true },
  ]),
  'keys embedded in the header (CVE-2018-0114 class)': [
    { name: 'jwk with the attacker key, signed by the attacker', token: () => makeToken({ headerExtra: { jwk: attackerJwk }, key: KEYS.attackerRsa.privateKey }), code: INVALID, beforeKeyLookup: true, message: 'carries jwk' },
    { name: 'jku to the attacker JWKS', token: () => makeToken({ headerExtra: { jku: 'https://evil.example.com/jwks.json' }, key: KEYS.attackerRsa.privateKey }), code: INVALID, beforeKeyLookup: true },
    { name: 'x5u', token: () => makeToken({ headerExtra: { x5u: 'https://evil.example.com/cert.pem' }, key: KEYS.attackerRsa.privateKey }), code: INVALID, beforeKeyLookup: true },
    { name: 'x5c', token: () => makeToken({ headerExtra: { x5c: ['MIIB'] }, key: KEYS.attackerRsa.privateKey }), code: INVALID, beforeKeyLookup: true },
    { name: 'jwk even when signed by the issuer', token: () => makeToken({ headerExtra: { jwk: attackerJwk } }), code: INVALID, beforeKeyLookup: true },
  ],
  'hostile kid values': [
    ...['../../../../etc/passwd', '..%2f..%2fetc%2fpasswd', "k1' OR '1'='1", 'k1"; DROP TABLE keys; --', '{"$ne":null}', 'https://evil.example.com/key', 'k'.repeat(256)].map((kid) => ({
      name: `${JSON.stringify(kid.slice(0, 30))} is only an unknown lookup key`,
      token: () => makeToken({ kid }),
      code: SIGNATURE, // the test lookup's answer for an unknown kid
      // One lookup, with the kid exactly as the token spells it: not decoded, trimmed, truncated or replaced.
      lookups: [{ kid, alg: 'RS256' }],
      message: 'no key of the issuer has this kid',
    })),
    { name: '257 characters', token: () => makeToken({ kid: 'k'.repeat(257) }), code: INVALID, beforeKeyLookup: true },
    { name: '10 000 characters', token: () => makeToken({ kid: 'k'.repeat(10000) }), code: INVALID, beforeKeyLookup: true },
    { name: 'a number', token: () => makeToken({ headerExtra: { kid: 1 } }), code: INVALID, beforeKeyLookup: true },
    { name: 'null', token: () => makeToken({ headerExtra: { kid: null } }), code: INVALID, beforeKeyLookup: true },
    { name: 'an object', token: () => makeToken({ headerExtra: { kid: { $ne: null } } }), code: INVALID, beforeKeyLookup: true },
    { name: 'empty', token: () => makeToken({ kid: '' }), code: INVALID, beforeKeyLookup: true },
    { name: 'with a newline', token: () => makeToken({ kid: 'k1\nX-Injected: 1' }), code: INVALID, beforeKeyLookup: true },
  ],
  'ECDSA signature values (CVE-2022-21449 class), DER and length': [
    ...(['ES256', 'ES384', 'ES512'] as const).flatMap((a) => [
      { name: `${a} r = s = 0`, token: () => makeToken({ alg: a, signature: Buffer.alloc(2 * COORD[a]) }), code: SIGNATURE, keys: { k1: keyFor(a) } },
      { name: `${a} r = s = n`, token: () => makeToken({ alg: a, signature: ecSig(a, (_r, _s, n) => [n, n]) }), code: SIGNATURE, keys: { k1: keyFor(a) } },
      { name: `${a} r = 0, s valid`, token: () => makeToken({ alg: a, signature: ecSig(a, (_r, s) => [0n, s]) }), code: SIGNATURE, keys: { k1: keyFor(a) } },
      { name: `${a} r valid, s = 0`, token: () => makeToken({ alg: a, signature: ecSig(a, (r) => [r, 0n]) }), code: SIGNATURE, keys: { k1: keyFor(a) } },
      { name: `${a} r = n, s valid`, token: () => makeToken({ alg: a, signature: ecSig(a, (_r, s, n) => [n, s]) }), code: SIGNATURE, keys: { k1: keyFor(a) } },
      { name: `${a} r valid, s = n + 1`, token: () => makeToken({ alg: a, signature: ecSig(a, (r, _s, n) => [r, n + 1n]) }), code: SIGNATURE, keys: { k1: keyFor(a) } },
      { name: `${a} all bits set`, token: () => makeToken({ alg: a, signature: Buffer.alloc(2 * COORD[a], 0xff) }), code: SIGNATURE, keys: { k1: keyFor(a) } },
      { name: `${a} DER-encoded`, token: () => makeToken({ alg: a, signature: derSignature(a) }), code: SIGNATURE, keys: { k1: keyFor(a) } },
      { name: `${a} one byte short`, token: () => makeToken({ alg: a, signature: (g) => g.subarray(1) }), code: SIGNATURE, keys: { k1: keyFor(a) } },
      { name: `${a} one byte long`, token: () => makeToken({ alg: a, signature: (g) => Buffer.concat([Buffer.from([0]), g]) }), code: SIGNATURE, keys: { k1: keyFor(a) } },
      // Accepted by decision: malleability is no forgery, and IdPs that do not normalise produce high-s half the time.
      { name: `${a} high-s (n - s) is accepted`, token: () => makeToken({ alg: a, signature: ecSig(a, (r, s, n) => [r, n - s]) }), code: OK, keys: { k1: keyFor(a) } },
    ]),
  ],
  'weak RSA keys': [
    { name: '1024-bit key, validly signed', token: () => makeToken({ key: KEYS.rsa1024.privateKey }), code: SIGNATURE, keys: { k1: KEYS.rsa1024.publicKey }, message: 'below the minimum of 2048' },
    {
      name: 'exponent 1 with a forged "signature" equal to the encoded message',
      token: () => {
        const input = `${part({ alg: 'RS256', kid: 'k1' })}.${part(claims())}`
        return `${input}.${b64(forgedForExponentOne(input))}`
      },
      code: SIGNATURE,
      keys: { k1: rsaWithExponent(1) },
      message: 'weak or invalid public exponent',
    },
    { name: 'even exponent 65538', token: () => makeToken(), code: SIGNATURE, keys: { k1: rsaWithExponent(65538) }, message: 'weak or invalid public exponent' },
    { name: 'PS256 signature of 255 bytes (leading zero dropped)', token: () => makeToken({ alg: 'PS256', signature: (g) => g.subarray(1) }), code: SIGNATURE },
  ],
  'crit and b64': [
    { name: 'crit ["exp"]', token: () => makeToken({ headerExtra: { crit: ['exp'], exp: NOW_S + 60 } }), code: INVALID, beforeKeyLookup: true, message: 'crit' },
    { name: 'crit []', token: () => makeToken({ headerExtra: { crit: [] } }), code: INVALID, beforeKeyLookup: true },
    { name: 'crit "b64" (not even an array)', token: () => makeToken({ headerExtra: { crit: 'b64' } }), code: INVALID, beforeKeyLookup: true },
    { name: 'b64 false with crit', token: () => makeToken({ headerExtra: { b64: false, crit: ['b64'] } }), code: INVALID, beforeKeyLookup: true },
    { name: 'b64 false alone', token: () => makeToken({ headerExtra: { b64: false } }), code: INVALID, beforeKeyLookup: true, message: 'b64' },
    { name: 'b64 "false" as a string', token: () => makeToken({ headerExtra: { b64: 'false' } }), code: INVALID, beforeKeyLookup: true },
  ],
  'a JWE where a JWS is expected': [
    { name: 'a real compact JWE (RSA-OAEP-256 / A256GCM)', token: () => jwe, code: INVALID, beforeKeyLookup: true, message: /JWE/ },
    { name: 'five empty-looking parts', token: () => `${part({ alg: 'dir', enc: 'A256GCM' })}..AAAA.AAAA.AAAA`, code: INVALID, beforeKeyLookup: true, message: /JWE/ },
  ],
  'duplicate JSON members': [
    { name: 'header alg twice (none, then RS256)', token: () => makeToken({ header: '{"alg":"none","alg":"RS256","kid":"k1"}' }), code: INVALID, beforeKeyLookup: true, message: 'duplicate member "alg"' },
    { name: 'header kid twice', token: () => makeToken({ header: '{"alg":"RS256","kid":"k2","kid":"k1"}' }), code: INVALID, beforeKeyLookup: true },
    { name: 'payload sub twice', token: () => makeToken({ payload: rawClaims('sub', '"alice","sub":"admin"') }), code: INVALID, beforeKeyLookup: true, message: 'duplicate member "sub"' },
    { name: 'payload iss twice', token: () => makeToken({ payload: `{"iss":"https://evil.example.com",${rawClaims('x', '1').slice(1)}` }), code: INVALID, beforeKeyLookup: true },
    { name: 'payload aud twice, the second spelled with an escape', token: () => makeToken({ payload: rawClaims('x', `1,"a\\u0075d":"${CLIENT_ID}"`, claims({ aud: 'other' })) }), code: INVALID, beforeKeyLookup: true },
    { name: 'duplicate inside a nested claim', token: () => makeToken({ payload: rawClaims('groups', '{"admin":false,"admin":true}') }), code: INVALID, beforeKeyLookup: true },
  ],
  'NumericDate claims': [
    ...(['exp', 'iat', 'nbf'] as const).flatMap((c) => [
      { name: `${c} as a string`, token: () => makeToken({ payload: claims({ [c]: String(NOW_S) }) }), code: INVALID, message: 'NumericDate' },
      { name: `${c} negative`, token: () => makeToken({ payload: claims({ [c]: -1 }) }), code: INVALID },
      { name: `${c} 1e400 (Infinity)`, token: () => makeToken({ payload: rawClaims(c, '1e400') }), code: INVALID },
      { name: `${c} -1e400`, token: () => makeToken({ payload: rawClaims(c, '-1e400') }), code: INVALID },
      { name: `${c} null`, token: () => makeToken({ payload: claims({ [c]: null }) }), code: INVALID },
      { name: `${c} true`, token: () => makeToken({ payload: claims({ [c]: true }) }), code: INVALID },
      { name: `${c} an array`, token: () => makeToken({ payload: claims({ [c]: [NOW_S] }) }), code: INVALID },
    ]),
    { name: 'exp as a float', token: () => makeToken({ payload: claims({ exp: NOW_S + 0.5 }) }), code: OK },
    { name: 'exp missing', token: () => makeToken({ payload: { ...claims(), exp: undefined } }), code: INVALID },
    { name: 'iat missing', token: () => makeToken({ payload: { ...claims(), iat: undefined } }), code: INVALID },
    { name: 'exp at the last instant a four-digit year spells', token: () => makeToken({ payload: claims({ exp: 253402300799 }) }), code: OK },
    { name: 'exp in the year 10000', token: () => makeToken({ payload: claims({ exp: 253402300800 }) }), code: INVALID, message: 'beyond the latest representable time' },
    { name: 'exp at the end of the Date range', token: () => makeToken({ payload: claims({ exp: 8.64e12 }) }), code: INVALID, message: 'beyond the latest representable time' },
    { name: 'exp far beyond Date range', token: () => makeToken({ payload: claims({ exp: 1e300 }) }), code: INVALID, message: 'beyond the latest representable time' },
    { name: 'iat 61 s in the future', token: () => makeToken({ payload: claims({ iat: NOW_S + 61 }) }), code: INVALID, message: 'future' },
    { name: 'nbf far beyond Date range', token: () => makeToken({ payload: claims({ nbf: 1e300 }) }), code: INVALID, message: 'not valid yet' },
  ],
  'aud and azp': [
    { name: 'array without a registered client', token: () => makeToken({ payload: claims({ aud: ['a', 'b'] }) }), code: AUDIENCE },
    { name: 'array with a registered client', token: () => makeToken({ payload: claims({ aud: ['a', CLIENT_ID] }) }), code: OK },
    { name: 'array with a registered client and azp registered', token: () => makeToken({ payload: claims({ aud: ['a', CLIENT_ID], azp: CLIENT_ID }) }), code: OK },
    { name: 'array with a registered client and azp foreign', token: () => makeToken({ payload: claims({ aud: ['a', CLIENT_ID], azp: 'a' }) }), code: AUDIENCE },
    { name: 'azp not a string', token: () => makeToken({ payload: claims({ aud: ['a', CLIENT_ID], azp: 1 }) }), code: INVALID },
    { name: 'empty array', token: () => makeToken({ payload: claims({ aud: [] }) }), code: INVALID },
    { name: 'array with a number', token: () => makeToken({ payload: claims({ aud: [CLIENT_ID, 5] }) }), code: INVALID },
    { name: 'an object', token: () => makeToken({ payload: claims({ aud: { [CLIENT_ID]: true } }) }), code: INVALID },
    { name: 'empty string', token: () => makeToken({ payload: claims({ aud: '' }) }), code: INVALID },
    { name: 'missing', token: () => makeToken({ payload: { ...claims(), aud: undefined } }), code: INVALID },
    { name: 'registered id in another case', token: () => makeToken({ payload: claims({ aud: CLIENT_ID.toUpperCase() }) }), code: AUDIENCE },
  ],
  'issuer variants': [
    ...[
      `${ISSUER}/`,
      'https://IDP.example.com',
      'HTTPS://idp.example.com',
      'https://idp.example.com:443',
      'https://idp.example.com:8443',
      'https://idp%2Eexample.com',
      'https://idp.example.com%2F',
      `${ISSUER}/.`,
      `${ISSUER}/../idp.example.com`,
      ` ${ISSUER}`,
      `${ISSUER} `,
      'http://idp.example.com',
      `${ISSUER}\u0000`,
      'https://іdp.example.com', // Cyrillic і
      'https://idp.example.com.evil.example',
      '',
    ].map((iss) => ({ name: JSON.stringify(iss), token: () => makeToken({ payload: claims({ iss }) }), code: ISSUER_NOT_MATCH, beforeKeyLookup: true })),
    { name: 'registered with a trailing slash, token without', token: () => makeToken(), code: ISSUER_NOT_MATCH, policy: { issuer: `${ISSUER}/` }, beforeKeyLookup: true },
  ],
  'base64url and segments': [
    { name: 'padding on the header', token: () => withParts(good, ([h, p, s]) => [`${h}==`, p!, s!]), code: INVALID, beforeKeyLookup: true, message: 'base64' },
    { name: 'padding on the signature', token: () => withParts(good, ([h, p, s]) => [h!, p!, `${s}==`]), code: INVALID, beforeKeyLookup: true },
    { name: 'standard base64 alphabet (+ /) in the signature', token: () => withParts(good, ([h, p, s]) => [h!, p!, s!.replace(/-/g, '+').replace(/_/g, '/')]), code: INVALID, beforeKeyLookup: true },
    { name: 'a space inside the payload', token: () => withParts(good, ([h, p, s]) => [h!, `${p!.slice(0, 10)} ${p!.slice(10)}`, s!]), code: INVALID, beforeKeyLookup: true },
    { name: 'a newline inside the signature', token: () => withParts(good, ([h, p, s]) => [h!, p!, `${s!.slice(0, 10)}\n${s!.slice(10)}`]), code: INVALID, beforeKeyLookup: true },
    { name: 'a trailing newline (token file read raw)', token: () => `${good}\n`, code: INVALID, beforeKeyLookup: true },
    { name: 'leading whitespace', token: () => ` ${good}`, code: INVALID, beforeKeyLookup: true },
    { name: 'non-canonical last signature character', token: () => withParts(good, ([h, p, s]) => [h!, p!, nonCanonical(s!)]), code: INVALID, beforeKeyLookup: true },
    { name: 'impossible base64 length (4n+1)', token: () => withParts(good, ([h, p, s]) => [h!, p!, `${s}AAA`]), code: INVALID, beforeKeyLookup: true },
    { name: 'non-ASCII in the payload', token: () => withParts(good, ([h, p, s]) => [h!, `${p}é`, s!]), code: INVALID, beforeKeyLookup: true },
    { name: 'two segments', token: () => withParts(good, ([h, p]) => [h!, p!]), code: INVALID, beforeKeyLookup: true, message: '3 parts' },
    { name: 'four segments', token: () => `${good}.AAAA`, code: INVALID, beforeKeyLookup: true, message: '3 parts' },
    { name: 'one segment', token: () => good.replaceAll('.', ''), code: INVALID, beforeKeyLookup: true },
    { name: 'empty header', token: () => withParts(good, ([, p, s]) => ['', p!, s!]), code: INVALID, beforeKeyLookup: true },
    { name: 'empty payload', token: () => withParts(good, ([h, , s]) => [h!, '', s!]), code: INVALID, beforeKeyLookup: true },
    { name: 'empty signature', token: () => withParts(good, ([h, p]) => [h!, p!, '']), code: INVALID, beforeKeyLookup: true },
    { name: 'just dots', token: () => '....', code: INVALID, beforeKeyLookup: true },
    { name: 'a token wrapped in base64 (as some clients mistakenly send)', token: () => b64(good), code: INVALID, beforeKeyLookup: true },
  ],
  'garbage inside the parts': [
    { name: 'payload not UTF-8', token: () => `${part({ alg: 'RS256', kid: 'k1' })}.${b64(Buffer.from([0x7b, 0xff, 0xfe, 0x7d]))}.AAAA`, code: INVALID, beforeKeyLookup: true, message: 'UTF-8' },
    { name: 'header with a byte-order mark', token: () => `${b64(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('{"alg":"RS256"}')]))}.${part(claims())}.AAAA`, code: INVALID, beforeKeyLookup: true },
    { name: 'header with trailing garbage', token: () => makeToken({ header: '{"alg":"RS256","kid":"k1"}x' }), code: INVALID, beforeKeyLookup: true },
    { name: 'header with a trailing comma', token: () => makeToken({ header: '{"alg":"RS256","kid":"k1",}' }), code: INVALID, beforeKeyLookup: true },
    { name: 'header a JSON array', token: () => makeToken({ header: '["RS256"]' }), code: INVALID, beforeKeyLookup: true },
    { name: 'payload with single quotes', token: () => makeToken({ payload: "{'iss':'x'}" }), code: INVALID, beforeKeyLookup: true },
    { name: 'payload with a raw control character in a string', token: () => makeToken({ payload: rawClaims('x', '"a\u0001b"') }), code: INVALID, beforeKeyLookup: true },
    { name: 'payload with NaN', token: () => makeToken({ payload: rawClaims('x', 'NaN') }), code: INVALID, beforeKeyLookup: true },
    { name: 'payload with a leading-zero number', token: () => makeToken({ payload: rawClaims('x', '01') }), code: INVALID, beforeKeyLookup: true },
  ],
  // A parser or copy that treated "__proto__" (or constructor.prototype) as anything but data would
  // either give the parsed object a prototype (inherited alg/iss) or write into Object.prototype.
  'prototype pollution through __proto__ and constructor members': [
    {
      name: '__proto__ in the header is kept as data',
      token: () => makeToken({ header: '{"alg":"RS256","typ":"JWT","kid":"k1","__proto__":{"polluted":true,"alg":"none"}}' }),
      code: OK,
      verified: (r) => {
        expect(r.header.alg).toBe('RS256')
        expect(Object.getPrototypeOf(r.header)).toBe(Object.prototype)
        expect((r.header as Record<string, unknown>).polluted).toBeUndefined()
      },
    },
    {
      name: '__proto__ in the payload is kept as data',
      token: () => makeToken({ payload: rawClaims('__proto__', '{"polluted":true,"sub":"admin"}') }),
      code: OK,
      verified: (r) => {
        expect(Object.getPrototypeOf(r.claims)).toBe(Object.prototype)
        expect(r.claims.polluted).toBeUndefined()
        expect(r.claims.sub).toBe(claims().sub)
      },
    },
    {
      name: '__proto__ nested inside a claim is kept as data',
      token: () => makeToken({ payload: rawClaims('kubernetes.io', '{"namespace":"prod","__proto__":{"polluted":true}}') }),
      code: OK,
      verified: (r) => {
        const nestedClaim = r.claims['kubernetes.io'] as Record<string, unknown>
        expect(Object.getPrototypeOf(nestedClaim)).toBe(Object.prototype)
        expect(nestedClaim.polluted).toBeUndefined()
      },
    },
    {
      name: 'constructor.prototype in the payload is kept as data',
      token: () => makeToken({ payload: rawClaims('constructor', '{"prototype":{"polluted":true}}') }),
      code: OK,
      verified: (r) => expect(Object.hasOwn(r.claims, 'constructor')).toBe(true),
    },
    {
      name: 'an alg supplied only through __proto__ in the header is missing',
      token: () => makeToken({ header: '{"typ":"JWT","kid":"k1","__proto__":{"alg":"RS256","polluted":true}}' }),
      code: INVALID,
      beforeKeyLookup: true,
      message: 'no alg string',
    },
    {
      name: 'iss supplied only through __proto__ in the payload is missing',
      token: () => {
        const { iss: _iss, ...rest } = claims()
        return makeToken({ payload: `{"__proto__":{"iss":"${ISSUER}","polluted":true},${JSON.stringify(rest).slice(1)}` })
      },
      code: INVALID,
      beforeKeyLookup: true,
      message: 'the claim iss must be a string',
    },
    {
      name: '__proto__ in the header of an alg none token',
      token: () => `${part('{"alg":"none","kid":"k1","__proto__":{"polluted":true}}')}.${part(rawClaims('__proto__', '{"polluted":true}'))}.`,
      code: INVALID,
      beforeKeyLookup: true,
    },
    {
      name: '__proto__ in the payload with a bad signature',
      token: () => makeToken({ payload: rawClaims('__proto__', '{"polluted":true}'), key: KEYS.attackerRsa.privateKey }),
      code: SIGNATURE,
      lookups: [{ kid: 'k1', alg: 'RS256' }],
    },
  ],
  'length limits': [
    { name: `exactly ${MAX_TOKEN_LENGTH} characters, validly signed`, token: () => tokenOfLength(MAX_TOKEN_LENGTH), code: OK, keys: Object.fromEntries([2, 3, 4, 5].map((n) => ['k'.repeat(n), KEYS.rsa.publicKey])) },
    { name: `${MAX_TOKEN_LENGTH + 1} characters, validly signed`, token: () => tokenOfLength(MAX_TOKEN_LENGTH + 1), code: INVALID, beforeKeyLookup: true, message: `4 to ${MAX_TOKEN_LENGTH} characters` },
    { name: '1 MB', token: () => `${good}${'A'.repeat(1_000_000)}`, code: INVALID, beforeKeyLookup: true },
    { name: 'empty', token: () => '', code: INVALID, beforeKeyLookup: true, message: 'The OIDCToken can not empty.' },
    { name: '3 characters', token: () => 'a.b', code: INVALID, beforeKeyLookup: true },
  ],
  'deeply nested claims': [
    { name: '7000 nested arrays in a signed payload (within the length limit)', token: () => makeToken({ payload: rawClaims('x', nested(7000)) }), code: INVALID, beforeKeyLookup: true, message: 'nesting deeper than' },
    { name: '5000 nested objects in the header', token: () => makeToken({ header: `{"alg":"RS256","x":${'{"a":'.repeat(5000)}1${'}'.repeat(5000)}}` }), code: INVALID, beforeKeyLookup: true },
    { name: `claims nested ${MAX_JSON_DEPTH} deep in all (accepted)`, token: () => makeToken({ payload: rawClaims('x', nested(MAX_JSON_DEPTH - 1)) }), code: OK },
    { name: `claims nested ${MAX_JSON_DEPTH + 1} deep in all`, token: () => makeToken({ payload: rawClaims('x', nested(MAX_JSON_DEPTH)) }), code: INVALID, beforeKeyLookup: true },
  ],
}

function keyFor(a: EcAlg): KeyObject {
  return { ES256: KEYS.p256, ES384: KEYS.p384, ES512: KEYS.p521 }[a].publicKey
}

function derSignature(a: EcAlg) {
  const key = { ES256: KEYS.p256, ES384: KEYS.p384, ES512: KEYS.p521 }[a].privateKey
  const hash = { ES256: 'sha256', ES384: 'sha384', ES512: 'sha512' }[a]
  return () => sign(hash, Buffer.from(`${part({ alg: a, typ: 'JWT', kid: 'k1' })}.${part(claims())}`), { key, dsaEncoding: 'der' })
}

/** The same bytes spelled differently: the last character's unused low bits set. */
function nonCanonical(sig: string): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'
  const last = alphabet.indexOf(sig.at(-1)!)
  const changed = `${sig.slice(0, -1)}${alphabet[last | 1]}`
  // Node's decoder ignores those bits: without the strict check this token would verify.
  expect(Buffer.from(changed, 'base64url').equals(Buffer.from(sig, 'base64url'))).toBe(true)
  expect(changed).not.toBe(sig)
  return changed
}

const jwe = await new CompactEncrypt(new TextEncoder().encode(JSON.stringify(claims())))
  .setProtectedHeader({ alg: 'RSA-OAEP-256', enc: 'A256GCM', kid: 'k1' })
  .encrypt(KEYS.rsa.publicKey)

describe.each(Object.entries(CASES))('hostile tokens: %s', (_, cases) => {
  it.each(cases.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    const token = c.token()
    const lookup = recordingLookup(c.keys ?? { k1: KEYS.rsa.publicKey })
    const run = verifyOidcToken(token, policy(c.policy), lookup)
    if (c.code === OK) {
      const result = await run
      expect(result).toBeTruthy()
      c.verified?.(result)
      if (c.lookups) expect(lookup.calls).toEqual(c.lookups)
      expect(Object.prototype).not.toHaveProperty('polluted')
      return
    }
    const e = await expectCode(run, c.code)
    expect(Object.prototype).not.toHaveProperty('polluted')
    if (c.beforeKeyLookup) expect(lookup.calls).toEqual([])
    if (c.lookups) expect(lookup.calls).toEqual(c.lookups)
    if (c.message !== undefined) expect(e.message).toMatch(c.message)
    // Never echo the token or its signature; bounded size whatever the input.
    const signaturePart = token.split('.')[2] ?? ''
    if (signaturePart.length >= 16) expect(e.message).not.toContain(signaturePart.slice(0, 16))
    if (token.length >= 16) expect(e.message).not.toContain(token)
    expect(e.message.length).toBeLessThan(700)
  })
})

describe('strict JSON (parseJsonStrict)', () => {
  it('refuses 10 000 and 1 000 000 nested arrays without a stack overflow', () => {
    for (const depth of [10_000, 1_000_000]) {
      expect(() => parseJsonStrict(nested(depth), MAX_JSON_DEPTH)).toThrow(JsonRejected)
      expect(() => parseJsonStrict(`${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`, MAX_JSON_DEPTH)).toThrow(JsonRejected)
    }
  })

  it('bounds the depth at exactly the limit, compact or not', () => {
    for (const sep of ['', ' ']) {
      expect(parseJsonStrict(`${'['.repeat(MAX_JSON_DEPTH)}${sep}${']'.repeat(MAX_JSON_DEPTH)}`, MAX_JSON_DEPTH)).toBeInstanceOf(Array)
      expect(() => parseJsonStrict(`${'['.repeat(MAX_JSON_DEPTH + 1)}${sep}${']'.repeat(MAX_JSON_DEPTH + 1)}`, MAX_JSON_DEPTH)).toThrowError(/nesting deeper/)
      const objects = `${'{"a":'.repeat(MAX_JSON_DEPTH + 1)}${sep}1${'}'.repeat(MAX_JSON_DEPTH + 1)}`
      expect(() => parseJsonStrict(objects, MAX_JSON_DEPTH)).toThrowError(/nesting deeper/)
    }
    // Shallow, with more brackets inside strings than the bound: accepted.
    const text = JSON.stringify({ a: '{'.repeat(50), b: ['['.repeat(50)] })
    expect(parseJsonStrict(text, MAX_JSON_DEPTH)).toStrictEqual(JSON.parse(text))
  })

  it('accepts text JSON.stringify would not write (whitespace, escapes, number spellings)', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 6 }), (value) => {
        const text = JSON.stringify(value, null, 1).replace(/\//g, '\\/')
        expect(parseJsonStrict(text, 50)).toStrictEqual(JSON.parse(text))
      }),
      { numRuns: 300 },
    )
    expect(parseJsonStrict('{"a":1.0,"b":"\\u003c","c":1e2}', 5)).toStrictEqual({ a: 1, b: '<', c: 100 })
  })

  it('parses what JSON.parse parses, for every JSON value fast-check can build', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 6 }), (value) => {
        const text = JSON.stringify(value)
        expect(parseJsonStrict(text, 50)).toStrictEqual(JSON.parse(text))
      }),
      { numRuns: 500 },
    )
  })

  it('refuses what JSON.parse refuses', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 30 }), (text) => {
        let native: unknown = 'refused'
        try {
          native = JSON.parse(text)
        } catch {
          expect(() => parseJsonStrict(text, 50)).toThrow(JsonRejected)
          return
        }
        // Accepted by both (no objects with duplicates can come out of 30 random characters often, but check anyway).
        try {
          expect(parseJsonStrict(text, 50)).toStrictEqual(native)
        } catch (e) {
          expect(e).toBeInstanceOf(JsonRejected)
          expect(String((e as Error).message)).toMatch(/duplicate/)
        }
      }),
      { numRuns: 2000 },
    )
  })

  it.each(['{"a":1,"a":1}', '{"a":1,"b":{"c":1,"c":2}}', '[{"x":1,"x":1}]', '{"\\u0061":1,"a":2}', '{"__proto__":1,"__proto__":2}'])('refuses duplicates in %s', (text) => {
    expect(() => parseJsonStrict(text, 50)).toThrowError(/duplicate member/)
  })

  it('counts member names only outside strings: escaped quotes, backslashes, colons and braces inside strings', () => {
    for (const text of ['{"a":"\\\\","b":":"}', '{"a\\"":1,"b":"x\\":"}', '{"a":"{\\"a\\":1}","b":"[\\"a\\":"}', '{"k":"\\\\\\"","k2":{"k":1}}', '[":",{"a":":"},"{\\"a\\":"]']) {
      expect(parseJsonStrict(text, 10), text).toStrictEqual(JSON.parse(text))
    }
    expect(() => parseJsonStrict('{"a":"\\\\", "a" :2}', 10)).toThrowError(/duplicate member "a"/)
    expect(() => parseJsonStrict('{"x":{"a":1},"y":{"a":1,"b":{"a":1}},"a":1,"z":{"c":1, "c":1}}', 10)).toThrowError(/duplicate member "c"/)
  })

  it('refuses every object with a duplicated name that fast-check can build, and names it', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string({ maxLength: 6 }), fc.jsonValue({ maxDepth: 3 }), { minKeys: 1, maxKeys: 6 }), fc.nat(), fc.jsonValue({ maxDepth: 2 }), (obj, pick, extra) => {
        const keys = Object.keys(obj)
        const dup = keys[pick % keys.length]!
        const text = `${JSON.stringify(obj).slice(0, -1)},${JSON.stringify(dup)}:${JSON.stringify(extra)}}`
        expect(() => parseJsonStrict(text, 50)).toThrowError(`duplicate member ${JSON.stringify(dup.slice(0, 40))}`)
        expect(() => parseJsonStrict(`[1,{"w":${text}}]`, 50)).toThrowError(JsonRejected)
      }),
      { numRuns: 500 },
    )
  })

  it('keeps whitespace rules and escapes of RFC 8259', () => {
    expect(parseJsonStrict(' {\t"a" :\n[1 , -2.5e3, "\\u00e9\\n\\/"]\r} ', 5)).toEqual({ a: [1, -2500, 'é\n/'] })
    for (const bad of ['{"a":1}\u00a0', '{"a":\u000b1}', '{"a":"\\x41"}', '{"a":"\\u12"}', '{"a":+1}', '{"a":.5}', '{"a":1.}', '{"a":tru}', '']) {
      expect(() => parseJsonStrict(bad, 5), JSON.stringify(bad)).toThrow(JsonRejected)
    }
  })
})

describe('properties over mutated and random tokens', () => {
  const goodTokens = { RS256: makeToken(), ES256: makeToken({ alg: 'ES256' }) }
  const lookupFor = { RS256: { k1: KEYS.rsa.publicKey }, ES256: { k1: KEYS.p256.publicKey } }
  const replacement = fc.constantFrom(...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.=+/ \n\u00e9\u0000'.split(''))

  it.each(['RS256', 'ES256'] as const)('rejects every single-character change of a good %s token with an OIDCToken code', async (a) => {
    const token = goodTokens[a]
    await fc.assert(
      fc.asyncProperty(fc.nat({ max: token.length - 1 }), replacement, async (index, ch) => {
        fc.pre(token[index] !== ch)
        const mutated = `${token.slice(0, index)}${ch}${token.slice(index + 1)}`
        const error = await verifyOidcToken(mutated, policy(), recordingLookup(lookupFor[a])).then(
          () => undefined,
          (e: unknown) => e,
        )
        expect(error).toBeInstanceOf(ApiError)
        expect((error as ApiError).code).toMatch(/^AuthenticationFail\.OIDCToken\./)
      }),
      { numRuns: 400 },
    )
  })

  it('rejects every one-character deletion or insertion', async () => {
    const token = goodTokens.RS256
    await fc.assert(
      fc.asyncProperty(fc.nat({ max: token.length - 1 }), fc.boolean(), replacement, async (index, insert, ch) => {
        const mutated = insert ? `${token.slice(0, index)}${ch}${token.slice(index)}` : `${token.slice(0, index)}${token.slice(index + 1)}`
        await expect(verifyOidcToken(mutated, policy(), recordingLookup())).rejects.toBeInstanceOf(ApiError)
      }),
      { numRuns: 300 },
    )
  })

  it('answers arbitrary strings and arbitrary signed JSON with an ApiError, never a crash', async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.string({ maxLength: 200 }), fc.array(fc.base64String({ maxLength: 80 }), { maxLength: 6 }).map((p) => p.join('.'))), async (text) => {
        await expect(verifyOidcToken(text, policy(), recordingLookup())).rejects.toBeInstanceOf(ApiError)
      }),
      { numRuns: 500 },
    )
    await fc.assert(
      fc.asyncProperty(fc.jsonValue({ maxDepth: 4 }), fc.jsonValue({ maxDepth: 4 }), async (header, payload) => {
        const asHeader = typeof header === 'object' && header !== null && !Array.isArray(header) ? { ...header, alg: 'RS256', kid: 'k1' } : header
        const token = makeToken({ header: JSON.stringify(asHeader), payload: JSON.stringify(payload) })
        await expect(verifyOidcToken(token, policy(), recordingLookup())).rejects.toBeInstanceOf(ApiError)
      }),
      { numRuns: 300 },
    )
  })
})

describe('after every attack', () => {
  it('still verifies a good token', async () => {
    const result = await verifyOidcToken(good, policy(), recordingLookup())
    expect(result.claims.iss).toBe(ISSUER)
    expect(Object.prototype).not.toHaveProperty('polluted')
  })

  it('checks the PSS parameters: a PS256 signature made with salt length 0 is refused', async () => {
    const input = `${part({ alg: 'PS256', kid: 'k1' })}.${part(claims())}`
    const sig = sign('sha256', Buffer.from(input), { key: KEYS.rsa.privateKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 0 })
    await expectCode(verifyOidcToken(`${input}.${b64(sig)}`, policy(), recordingLookup()), SIGNATURE)
  })
})
