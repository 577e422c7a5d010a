// verifyRequestSignature: every acceptance path and every rejection code, with in-memory seams.

import { describe, it, expect } from 'vitest'
import type { ApiError } from '../../shared/errors.ts'
import {
  buildCanonicalRequestV3,
  hashPayload,
  requiredSignedHeaders,
  signV3,
  stringToSignV3,
} from '../../shared/signing/acs3.ts'
import { verifyRequestSignature, type RpcRequestForSigning } from '../../shared/signing/verify.ts'
import { apiFailure } from '../support/errors.ts'
import { INACTIVE, LONG_TERM, NOW, STS, memorySeams } from './memory-seams.ts'
import { sdkSignedV1, sdkSignedV3 } from './sdk-signer.ts'

const DATE = '2024-01-01T00:00:00Z'
const NONCE = '3b1a5b6e0b0f4c33a1b2c3d4e5f60718'

async function rejection(p: Promise<unknown>, code: string): Promise<ApiError> {
  const e = await apiFailure(p)
  expect(e.code).toBe(code)
  return e
}

const withHeaders = (req: RpcRequestForSigning, patch: Record<string, string | string[] | undefined>): RpcRequestForSigning => ({
  ...req,
  headers: { ...req.headers, ...patch },
})

const secondsFrom = (date: Date, seconds: number) => new Date(date.getTime() + seconds * 1000).toISOString().replace('.000Z', 'Z')

// A V3 request signed by the official SDK; options override the defaults.
/** What a valid V3 request signed with the long-term key verifies to. */
const LONG_TERM_V3 = { accessKeyId: LONG_TERM.accessKeyId, securityToken: undefined, scheme: 'ACS3-HMAC-SHA256' }
const v3 = (o: Partial<Parameters<typeof sdkSignedV3>[0]> = {}) =>
  sdkSignedV3({ ...LONG_TERM, date: DATE, nonce: NONCE, query: { OIDCProviderName: 'p' }, ...o })

const v1 = (o: Partial<Parameters<typeof sdkSignedV1>[0]> = {}) =>
  sdkSignedV1({ ...LONG_TERM, timestamp: DATE, nonce: NONCE, query: { RoleArn: 'acs:ram::1234567890123456:role/demo', RoleSessionName: 's' }, ...o })

/**
 * Signs with our own primitives over exactly the headers given, for requests the SDK would never
 * produce (a missing x-acs-content-sha256, a mismatched x-acs-accesskey-id).
 */
function signOwn(req: RpcRequestForSigning, key: { accessKeyId: string; secret: string }): RpcRequestForSigning {
  const signed = requiredSignedHeaders(req.headers)
  const canonical = buildCanonicalRequestV3({ ...req, hashedPayload: hashPayload(req.body) }, signed)
  const signature = signV3(key.secret, stringToSignV3(canonical))
  return withHeaders(req, { authorization: `ACS3-HMAC-SHA256 Credential=${key.accessKeyId},SignedHeaders=${signed.join(';')},Signature=${signature}` })
}

const unsignedBase = (): RpcRequestForSigning => ({
  method: 'POST',
  path: '/',
  query: [],
  form: [],
  headers: {
    host: 'sts.aliyuncs.com',
    'x-acs-action': 'GetCallerIdentity',
    'x-acs-version': '2015-04-01',
    'x-acs-date': DATE,
    'x-acs-signature-nonce': NONCE,
    'x-acs-content-sha256': hashPayload(''),
  },
  body: Buffer.alloc(0),
})

describe('verifyRequestSignature V3 (ACS3-HMAC-SHA256)', () => {
  it('accepts the spec §5.4 main example exactly as printed', async () => {
    const req: RpcRequestForSigning = {
      method: 'POST',
      path: '/',
      query: [
        ['OIDCProviderName', 'TestOIDCProvider'],
        ['IssuerUrl', 'https://idp.example.com'],
        ['Fingerprints', '902ef2deeb3c5b13ea4c3d5193629309e231ae55'],
        ['ClientIds', 'sts.aliyuncs.com'],
        ['IssuanceLimitTime', '12'],
        ['Description', 'demo (OIDC) *test*'],
      ],
      form: [],
      headers: {
        host: 'ims.aliyuncs.com',
        'x-acs-action': 'CreateOIDCProvider',
        'x-acs-version': '2019-08-15',
        'x-acs-date': DATE,
        'x-acs-signature-nonce': NONCE,
        'x-acs-content-sha256': 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
        accept: 'application/json',
        'user-agent': 'AlibabaCloud',
        authorization:
          'ACS3-HMAC-SHA256 Credential=LTAI5tExampleKeyId000,SignedHeaders=host;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version,Signature=f7b3ca77b9711c3c0e3fc2f5ad9012db55229825020c3ff25e8504abdaecb655',
      },
      body: Buffer.alloc(0),
    }
    const seams = memorySeams()
    await expect(verifyRequestSignature(req, seams.deps)).resolves.toEqual({
      accessKeyId: LONG_TERM.accessKeyId,
      securityToken: undefined,
      scheme: 'ACS3-HMAC-SHA256',
    })
    expect(seams.resolveCalls).toEqual([[LONG_TERM.accessKeyId, undefined]])
    expect(seams.consumeCalls).toEqual([[LONG_TERM.accessKeyId, NONCE, 1800]])
  })

  it('accepts STS credentials (spec Variant A shape) and returns the security token', async () => {
    const seams = memorySeams()
    const req = v3({ ...STS, host: 'sts.aliyuncs.com', action: 'GetCallerIdentity', version: '2015-04-01', query: {} })
    await expect(verifyRequestSignature(req, seams.deps)).resolves.toEqual({
      accessKeyId: STS.accessKeyId,
      securityToken: STS.securityToken,
      scheme: 'ACS3-HMAC-SHA256',
    })
    expect(seams.resolveCalls).toEqual([[STS.accessKeyId, STS.securityToken]])
  })

  it('accepts a form body with a signed content-type (spec Variant B shape)', async () => {
    const req = v3({ query: {}, form: { Foo: 'bar baz', N: '1' } })
    expect(req.headers['content-type']).toBe('application/x-www-form-urlencoded')
    await expect(verifyRequestSignature(req, memorySeams().deps)).resolves.toMatchObject({ scheme: 'ACS3-HMAC-SHA256' })
  })

  it('accepts dates at exactly the edge of the window both ways', async () => {
    await expect(verifyRequestSignature(v3({ date: secondsFrom(NOW, -900) }), memorySeams().deps)).resolves.toEqual(LONG_TERM_V3)
    await expect(verifyRequestSignature(v3({ date: secondsFrom(NOW, 900) }), memorySeams().deps)).resolves.toEqual(LONG_TERM_V3)
  })

  it('rejects an unsigned request with IncompleteSignature', async () => {
    const e = await rejection(verifyRequestSignature(unsignedBase(), memorySeams().deps), 'IncompleteSignature')
    expect(e.message).toMatch(/^The request is not signed/)
  })

  it('rejects a request carrying both an Authorization header and a Signature parameter with IncompleteSignature', async () => {
    const req = { ...v3(), query: [...v3().query, ['Signature', 'cqQ1MTdYkRnHncKCGO6wFmxQFmY='] as const] }
    await rejection(verifyRequestSignature(req, memorySeams().deps), 'IncompleteSignature')
  })

  it('rejects a non-ACS3 Authorization scheme with IncompleteSignature', async () => {
    await rejection(verifyRequestSignature(withHeaders(unsignedBase(), { authorization: 'Bearer abc' }), memorySeams().deps), 'IncompleteSignature')
  })

  it('rejects a malformed Authorization header with IncompleteSignature and looks up no key', async () => {
    const req = v3()
    const seams = memorySeams()
    const broken = withHeaders(req, { authorization: (req.headers['authorization'] as string).replace(',Signature=', ',Sig=') })
    await rejection(verifyRequestSignature(broken, seams.deps), 'IncompleteSignature')
    expect(seams.resolveCalls).toEqual([])
  })

  // The only lower-case names (SignedHeaders are lower-case) an ordinary object inherits.
  it.each(['constructor', '__proto__'])('rejects a signed header named %s that the request does not carry with IncompleteSignature (no Object.prototype lookup)', async (name) => {
    const req = v3()
    const authorization = (req.headers['authorization'] as string).replace('SignedHeaders=', `SignedHeaders=${name};`)
    const seams = memorySeams()
    const e = await rejection(verifyRequestSignature(withHeaders(req, { authorization }), seams.deps), 'IncompleteSignature')
    expect(e.message).toContain(name)
    expect(seams.resolveCalls).toEqual([])
  })

  it('rejects an unsupported V3 algorithm (ACS3-HMAC-SM3) with IncompleteSignature', async () => {
    const req = v3()
    const sm3 = withHeaders(req, { authorization: (req.headers['authorization'] as string).replace('ACS3-HMAC-SHA256', 'ACS3-HMAC-SM3') })
    const e = await rejection(verifyRequestSignature(sm3, memorySeams().deps), 'IncompleteSignature')
    expect(e.message).toContain('not supported')
  })

  it('rejects a repeated Authorization header with IncompleteSignature', async () => {
    const req = v3()
    const twice = withHeaders(req, { authorization: [req.headers['authorization'] as string, req.headers['authorization'] as string] })
    await rejection(verifyRequestSignature(twice, memorySeams().deps), 'IncompleteSignature')
  })

  it('rejects an unknown access key with InvalidAccessKeyId.NotFound', async () => {
    const e = await rejection(verifyRequestSignature(v3({ accessKeyId: 'LTAI5tNobodyHasThisKey' }), memorySeams().deps), 'InvalidAccessKeyId.NotFound')
    expect(e.message).toBe('Specified access key is not found.')
  })

  it('rejects an inactive access key with InvalidAccessKeyId.Inactive', async () => {
    await rejection(verifyRequestSignature(v3(INACTIVE), memorySeams().deps), 'InvalidAccessKeyId.Inactive')
  })

  it('rejects a signature made with the wrong secret with SignatureDoesNotMatch, revealing nothing', async () => {
    const req = v3({ secret: 'not-the-secret' })
    const e = await rejection(verifyRequestSignature(req, memorySeams().deps), 'SignatureDoesNotMatch')
    expect(e.message).toBe('Specified signature is not matched with our calculation.')
  })

  it('rejects a changed query value with SignatureDoesNotMatch', async () => {
    const req = v3({ query: { OIDCProviderName: 'p', Description: 'a (b)' } })
    const tampered = { ...req, query: req.query.map(([n, v]) => [n, n === 'Description' ? 'a (c)' : v] as const) }
    await rejection(verifyRequestSignature(tampered, memorySeams().deps), 'SignatureDoesNotMatch')
  })

  it('rejects an added query parameter with SignatureDoesNotMatch', async () => {
    const req = v3()
    await rejection(verifyRequestSignature({ ...req, query: [...req.query, ['Extra', '1']] }, memorySeams().deps), 'SignatureDoesNotMatch')
  })

  it('rejects a changed signed header with SignatureDoesNotMatch', async () => {
    await rejection(verifyRequestSignature(withHeaders(v3(), { 'x-acs-action': 'DeleteOIDCProvider' }), memorySeams().deps), 'SignatureDoesNotMatch')
  })

  it('rejects a tampered body with SignatureDoesNotMatch about the payload hash', async () => {
    const req = v3({ query: {}, form: { Foo: 'bar' } })
    const e = await rejection(verifyRequestSignature({ ...req, body: Buffer.from('Foo=baz') }, memorySeams().deps), 'SignatureDoesNotMatch')
    expect(e.message).toContain('x-acs-content-sha256')
  })

  it('rejects a request without x-acs-content-sha256 with SignatureDoesNotMatch', async () => {
    const base = unsignedBase()
    const req = signOwn(withHeaders(base, { 'x-acs-content-sha256': undefined }), LONG_TERM)
    const e = await rejection(verifyRequestSignature(req, memorySeams().deps), 'SignatureDoesNotMatch')
    expect(e.message).toContain('x-acs-content-sha256')
  })

  it('rejects an x-acs-* header added after signing with IncompleteSignature naming it', async () => {
    const req = withHeaders(v3(), { 'x-acs-security-token': 'CAIStolen==' })
    const e = await rejection(verifyRequestSignature(req, memorySeams().deps), 'IncompleteSignature')
    expect(e.message).toContain('x-acs-security-token is not signed')
  })

  it('rejects an unsigned content-type with IncompleteSignature', async () => {
    const req = withHeaders(v3(), { 'content-type': 'application/json' })
    await rejection(verifyRequestSignature(req, memorySeams().deps), 'IncompleteSignature')
  })

  it('rejects a signed header that is absent from the request with IncompleteSignature', async () => {
    const req = v3({ extraHeaders: { 'x-acs-credentials-provider': 'default/oidc_role_arn' } })
    const e = await rejection(verifyRequestSignature(withHeaders(req, { 'x-acs-credentials-provider': undefined }), memorySeams().deps), 'IncompleteSignature')
    expect(e.message).toContain('x-acs-credentials-provider')
  })

  it('rejects a stale x-acs-date with InvalidTimeStamp.Expired saying so, with the server time', async () => {
    const e = await rejection(verifyRequestSignature(v3({ date: secondsFrom(NOW, -901) }), memorySeams().deps), 'InvalidTimeStamp.Expired')
    expect(e.message).toContain('stale')
    expect(e.message).toContain(DATE)
  })

  it('rejects a future x-acs-date with InvalidTimeStamp.Expired saying so', async () => {
    const e = await rejection(verifyRequestSignature(v3({ date: secondsFrom(NOW, 901) }), memorySeams().deps), 'InvalidTimeStamp.Expired')
    expect(e.message).toContain('future')
  })

  it('checks the clock before the key, so a stale request from an unknown key is InvalidTimeStamp.Expired', async () => {
    const seams = memorySeams()
    await rejection(verifyRequestSignature(v3({ accessKeyId: 'LTAI5tNobody', date: secondsFrom(NOW, -3600) }), seams.deps), 'InvalidTimeStamp.Expired')
    expect(seams.resolveCalls).toEqual([])
  })

  for (const date of ['2024-01-01 00:00:00', '2024-01-01T00:00:00.000Z', '2024-01-01T00:00:00+00:00', '2024-02-30T00:00:00Z', '2024-01-01T24:00:00Z', '1704067200', '']) {
    it(`rejects x-acs-date ${JSON.stringify(date)} with InvalidTimeStamp.Format`, async () => {
      await rejection(verifyRequestSignature(v3({ date }), memorySeams().deps), 'InvalidTimeStamp.Format')
    })
  }

  it('rejects a missing x-acs-date with InvalidTimeStamp.Format', async () => {
    const req = signOwn(withHeaders(unsignedBase(), { 'x-acs-date': undefined }), LONG_TERM)
    await rejection(verifyRequestSignature(req, memorySeams().deps), 'InvalidTimeStamp.Format')
  })

  it('rejects a missing or oversized signature nonce with IncompleteSignature', async () => {
    const missing = signOwn(withHeaders(unsignedBase(), { 'x-acs-signature-nonce': undefined }), LONG_TERM)
    await rejection(verifyRequestSignature(missing, memorySeams().deps), 'IncompleteSignature')
    await rejection(verifyRequestSignature(v3({ nonce: 'n'.repeat(129) }), memorySeams().deps), 'IncompleteSignature')
    await rejection(verifyRequestSignature(v3({ nonce: 'nonce\u00e9' }), memorySeams().deps), 'IncompleteSignature')
  })

  it('rejects an x-acs-accesskey-id that differs from the Credential with InvalidSecurityToken.MismatchWithAccessKey', async () => {
    const req = signOwn(withHeaders(unsignedBase(), { 'x-acs-security-token': STS.securityToken, 'x-acs-accesskey-id': 'STS.SomeoneElse' }), STS)
    await rejection(verifyRequestSignature(req, memorySeams().deps), 'InvalidSecurityToken.MismatchWithAccessKey')
  })

  it('passes a security-token error from resolveKey through and consumes no nonce', async () => {
    const seams = memorySeams()
    const req = v3({ ...STS, securityToken: 'CAIWrongToken==' })
    await rejection(verifyRequestSignature(req, seams.deps), 'InvalidSecurityToken.Malformed')
    expect(seams.consumeCalls).toEqual([])
  })

  it('rejects a replayed request with SignatureNonceUsed', async () => {
    const seams = memorySeams()
    const req = v3()
    await verifyRequestSignature(req, seams.deps)
    const e = await rejection(verifyRequestSignature(req, seams.deps), 'SignatureNonceUsed')
    expect(e.message).toBe('Specified signature nonce was used already.')
  })

  it('does not burn the nonce of a request whose signature fails', async () => {
    const seams = memorySeams()
    await rejection(verifyRequestSignature(v3({ secret: 'forged' }), seams.deps), 'SignatureDoesNotMatch')
    expect(seams.consumeCalls).toEqual([])
    await expect(verifyRequestSignature(v3(), seams.deps)).resolves.toEqual(LONG_TERM_V3)
  })

  it('rejects a query value that is not well-formed Unicode with InvalidParameter', async () => {
    const req = v3()
    await rejection(verifyRequestSignature({ ...req, query: [...req.query, ['X', '\uD800']] }, memorySeams().deps), 'InvalidParameter')
  })
})

describe('verifyRequestSignature V1 (HMAC-SHA1)', () => {
  it('accepts the spec §5.5 example exactly as printed', async () => {
    const req: RpcRequestForSigning = {
      method: 'POST',
      path: '/',
      query: [
        ['AccessKeyId', 'LTAI5tExampleKeyId000'],
        ['Action', 'AssumeRole'],
        ['DurationSeconds', '3600'],
        ['Format', 'JSON'],
        ['RoleArn', 'acs:ram::1234567890123456:role/demo-role'],
        ['RoleSessionName', 'alice@example'],
        ['SignatureMethod', 'HMAC-SHA1'],
        ['SignatureNonce', NONCE],
        ['SignatureVersion', '1.0'],
        ['Timestamp', DATE],
        ['Version', '2015-04-01'],
        ['Signature', 'cqQ1MTdYkRnHncKCGO6wFmxQFmY='],
      ],
      form: [],
      headers: { host: 'sts.aliyuncs.com' },
      body: Buffer.alloc(0),
    }
    const seams = memorySeams()
    await expect(verifyRequestSignature(req, seams.deps)).resolves.toEqual({ accessKeyId: LONG_TERM.accessKeyId, securityToken: undefined, scheme: 'HMAC-SHA1' })
    expect(seams.consumeCalls).toEqual([[LONG_TERM.accessKeyId, NONCE, 1800]])
  })

  it('accepts common params in the query and business params in the form body, with a SecurityToken', async () => {
    const seams = memorySeams()
    const req = v1({ ...STS, query: {}, form: { RoleArn: 'acs:ram::1234567890123456:role/demo', RoleSessionName: 'a (b) *c*' } })
    expect(req.form.length).toBe(2)
    await expect(verifyRequestSignature(req, seams.deps)).resolves.toEqual({ accessKeyId: STS.accessKeyId, securityToken: STS.securityToken, scheme: 'HMAC-SHA1' })
    expect(seams.resolveCalls).toEqual([[STS.accessKeyId, STS.securityToken]])
  })

  it('accepts a GET request signed as GET', async () => {
    await expect(verifyRequestSignature(v1({ method: 'GET' }), memorySeams().deps)).resolves.toMatchObject({ scheme: 'HMAC-SHA1' })
  })

  const withParam = (req: RpcRequestForSigning, name: string, value: string | undefined): RpcRequestForSigning => {
    const query = req.query.filter(([n]) => n !== name)
    return { ...req, query: value === undefined ? query : [...query, [name, value]] }
  }

  for (const [name, value] of [
    ['AccessKeyId', undefined],
    ['AccessKeyId', ''],
    ['SignatureMethod', undefined],
    ['SignatureMethod', 'HMAC-SHA256'],
    ['SignatureVersion', undefined],
    ['SignatureVersion', '2.0'],
    ['SignatureNonce', undefined],
    ['SignatureNonce', ''],
    ['Signature', 'not base64 at all'],
    // V1 signs parameters only: an action taken from the unsigned x-acs-action header would be anyone's to change.
    ['Action', undefined],
    ['Action', ''],
    ['Version', undefined],
  ] as const) {
    it(`rejects ${name}=${JSON.stringify(value)} with IncompleteSignature`, async () => {
      const seams = memorySeams()
      await rejection(verifyRequestSignature(withParam(v1(), name, value), seams.deps), 'IncompleteSignature')
      expect(seams.resolveCalls).toEqual([])
    })
  }

  it('rejects a parameter given in both query and form with InvalidParameter', async () => {
    const req = v1({ form: { RoleSessionName: 'other' } })
    await rejection(verifyRequestSignature(req, memorySeams().deps), 'InvalidParameter')
  })

  it('rejects a parameter given twice in the query with InvalidParameter', async () => {
    const req = v1()
    await rejection(verifyRequestSignature({ ...req, query: [...req.query, ['RoleSessionName', 's']] }, memorySeams().deps), 'InvalidParameter')
  })

  for (const timestamp of ['2024-01-01T00:00:00.000Z', '2024-01-01T00:00Z', '2024-13-01T00:00:00Z']) {
    it(`rejects Timestamp ${timestamp} with InvalidTimeStamp.Format`, async () => {
      await rejection(verifyRequestSignature(v1({ timestamp }), memorySeams().deps), 'InvalidTimeStamp.Format')
    })
  }

  it('rejects a missing Timestamp with InvalidTimeStamp.Format', async () => {
    await rejection(verifyRequestSignature(withParam(v1(), 'Timestamp', undefined), memorySeams().deps), 'InvalidTimeStamp.Format')
  })

  it('rejects a stale or future Timestamp with InvalidTimeStamp.Expired', async () => {
    const stale = await rejection(verifyRequestSignature(v1({ timestamp: secondsFrom(NOW, -901) }), memorySeams().deps), 'InvalidTimeStamp.Expired')
    expect(stale.message).toContain('stale')
    const future = await rejection(verifyRequestSignature(v1({ timestamp: secondsFrom(NOW, 901) }), memorySeams().deps), 'InvalidTimeStamp.Expired')
    expect(future.message).toContain('future')
  })

  it('rejects an unknown access key with InvalidAccessKeyId.NotFound', async () => {
    await rejection(verifyRequestSignature(v1({ accessKeyId: 'LTAI5tNobody' }), memorySeams().deps), 'InvalidAccessKeyId.NotFound')
  })

  it('rejects an inactive access key with InvalidAccessKeyId.Inactive', async () => {
    await rejection(verifyRequestSignature(v1(INACTIVE), memorySeams().deps), 'InvalidAccessKeyId.Inactive')
  })

  it('rejects a wrong secret, a changed parameter or a changed method with SignatureDoesNotMatch', async () => {
    await rejection(verifyRequestSignature(v1({ secret: 'forged' }), memorySeams().deps), 'SignatureDoesNotMatch')
    await rejection(verifyRequestSignature(withParam(v1(), 'RoleSessionName', 'mallory'), memorySeams().deps), 'SignatureDoesNotMatch')
    await rejection(verifyRequestSignature({ ...v1(), method: 'GET' }, memorySeams().deps), 'SignatureDoesNotMatch')
    const form = v1({ query: {}, form: { RoleSessionName: 'alice' } })
    await rejection(verifyRequestSignature({ ...form, form: [['RoleSessionName', 'mallory']] }, memorySeams().deps), 'SignatureDoesNotMatch')
  })

  it('rejects a replayed request with SignatureNonceUsed, and a failed signature does not burn the nonce', async () => {
    const seams = memorySeams()
    await rejection(verifyRequestSignature(v1({ secret: 'forged' }), seams.deps), 'SignatureDoesNotMatch')
    await expect(verifyRequestSignature(v1(), seams.deps)).resolves.toEqual({ accessKeyId: LONG_TERM.accessKeyId, securityToken: undefined, scheme: 'HMAC-SHA1' })
    await rejection(verifyRequestSignature(v1(), seams.deps), 'SignatureNonceUsed')
  })
})
