// The verifier agrees with the official SDK's own signers (openapi-core), including on reserved and unicode characters.

import { stringify } from 'node:querystring'
import { describe, it, expect } from 'vitest'
import fc from 'fast-check'
import { ApiError } from '../../shared/errors.ts'
import { verifyRequestSignature, type RpcRequestForSigning } from '../../shared/signing/verify.ts'
import { LONG_TERM, STS, memorySeams } from './memory-seams.ts'
import { sdkSignedV1, sdkSignedV3 } from './sdk-signer.ts'

const DATE = '2024-01-01T00:00:00Z'
const AWKWARD = "demo (OIDC) *test* ~tilde~ !bang! 'quote' a+b c/d:e?f#g[h]@i$j,k;l é中文😀 tab\there %25 &amp= \uE000"

const errorCode = (p: Promise<unknown>) =>
  p.then(
    () => 'resolved',
    (e: unknown) => (e instanceof ApiError ? e.code : `not an ApiError: ${String(e)}`),
  )

const authorizationOf = (req: RpcRequestForSigning) => req.headers['authorization'] as string

describe('official SDK signatures', () => {
  it('sends ( ) * ! \' raw in the URL while signing them escaped, and V3 verify accepts the decoded query', async () => {
    const query = { Description: AWKWARD, OIDCProviderName: 'p(1)*', IssuerUrl: 'https://idp.example.com/a b' }
    expect(stringify(query)).toContain('p(1)*')
    const req = sdkSignedV3({ ...LONG_TERM, date: DATE, nonce: 'n-1', query })
    expect(req.query).toContainEqual(['Description', AWKWARD])
    await expect(verifyRequestSignature(req, memorySeams().deps)).resolves.toMatchObject({ accessKeyId: LONG_TERM.accessKeyId })
  })

  it('accepts a V3 form body and STS credentials signed by the SDK', async () => {
    const req = sdkSignedV3({ ...STS, date: DATE, nonce: 'n-2', query: { A: '(x)' }, form: { Policy: '{"Statement":[{"Action":"*"}]}', Name: AWKWARD } })
    await expect(verifyRequestSignature(req, memorySeams().deps)).resolves.toMatchObject({ securityToken: STS.securityToken })
  })

  it('accepts SDK-signed V3 query names that are not unreserved (the SDK signs names raw)', async () => {
    const req = sdkSignedV3({ ...LONG_TERM, date: DATE, nonce: 'n-3', query: { 'Tag (1)*': 'v', 'ñame': 'w', Plain: 'x' } })
    await expect(verifyRequestSignature(req, memorySeams().deps)).resolves.toEqual({ accessKeyId: LONG_TERM.accessKeyId, securityToken: undefined, scheme: 'ACS3-HMAC-SHA256' })
  })

  it('refuses the raw-name form when a name contains = (it would be ambiguous), so such a request fails its signature', async () => {
    const req = sdkSignedV3({ ...LONG_TERM, date: DATE, nonce: 'n-4', query: { 'a=b': 'v' } })
    expect(await errorCode(verifyRequestSignature(req, memorySeams().deps))).toBe('SignatureDoesNotMatch')
  })

  it('accepts the SDK V1 signature over the same awkward values, in query and form', async () => {
    const req = sdkSignedV1({ ...LONG_TERM, timestamp: DATE, nonce: 'n-5', query: { RoleSessionName: AWKWARD }, form: { 'Odd (name)*': AWKWARD } })
    await expect(verifyRequestSignature(req, memorySeams().deps)).resolves.toMatchObject({ scheme: 'HMAC-SHA1' })
  })
})

// Characters that exercise every branch of the encoder: sub-delims the URL leaves raw, gen-delims,
// space and plus, the unreserved tilde, BMP and astral unicode, private use (sorts differently in
// UTF-8 and UTF-16), and anything else fast-check finds.
const SPECIAL = [...`()*!' ~-_.+/:?#[]@$,;"<>\\^\`{|}`, 'é', '中', '😀', '\uE000', '\u{10FFFD}', '\u00A0']
const unit = fc.oneof(fc.constantFrom(...SPECIAL), fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }))
const value = fc.string({ unit, maxLength: 16 })
// Names: everything but % & = and control characters, which make the SDK's raw-name form ambiguous
// (verify.ts refuses it for them); "Signature" would make the request look V1 as well.
const name = fc
  .string({ unit, minLength: 1, maxLength: 8 })
  .filter((n) => !/[%&=\x00-\x1F\x7F]/.test(n) && n !== 'Signature' && n !== '__proto__')
const params = fc.uniqueArray(fc.tuple(name, value), { selector: ([n]) => n, maxLength: 6 })
const HEX = '0123456789abcdef'
const BASE64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'

describe('property: SDK-signed requests verify, and any changed signature character fails', () => {
  it('V3 (ACS3-HMAC-SHA256)', async () => {
    let run = 0
    await fc.assert(
      fc.asyncProperty(params, fc.nat(63), fc.integer({ min: 1, max: 15 }), async (pairs, at, shift) => {
        const req = sdkSignedV3({ ...LONG_TERM, date: DATE, nonce: `v3-${run++}`, query: Object.fromEntries(pairs) })
        const seams = memorySeams()
        const auth = authorizationOf(req)
        const signature = auth.slice(-64)
        const flipped = HEX[(HEX.indexOf(signature[at] as string) + shift) % 16] as string
        const forged = { ...req, headers: { ...req.headers, authorization: auth.slice(0, -64) + signature.slice(0, at) + flipped + signature.slice(at + 1) } }
        expect(await errorCode(verifyRequestSignature(forged, seams.deps))).toBe('SignatureDoesNotMatch')
        expect(await errorCode(verifyRequestSignature(req, seams.deps))).toBe('resolved')
      }),
      { numRuns: 300 },
    )
  })

  it('V1 (HMAC-SHA1)', async () => {
    let run = 0
    await fc.assert(
      fc.asyncProperty(params, fc.nat(26), fc.integer({ min: 1, max: 63 }), async (pairs, at, shift) => {
        const business = Object.fromEntries(pairs.map(([n, v]) => [`X${n}`, v]))
        const req = sdkSignedV1({ ...LONG_TERM, timestamp: DATE, nonce: `v1-${run++}`, query: business })
        const seams = memorySeams()
        const signature = req.query.find(([n]) => n === 'Signature')?.[1] as string
        const flipped = BASE64[(BASE64.indexOf(signature[at] as string) + shift) % 64] as string
        const forgedSignature = signature.slice(0, at) + flipped + signature.slice(at + 1)
        const forged = { ...req, query: req.query.map(([n, v]) => [n, n === 'Signature' ? forgedSignature : v] as const) }
        expect(await errorCode(verifyRequestSignature(forged, seams.deps))).toBe('SignatureDoesNotMatch')
        expect(await errorCode(verifyRequestSignature(req, seams.deps))).toBe('resolved')
      }),
      { numRuns: 300 },
    )
  })
})
