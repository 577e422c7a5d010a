// ACS3-HMAC-SHA256 canonicalisation against the worked examples of spec §5.4, and Authorization parsing.

import { describe, it, expect } from 'vitest'
import {
  buildCanonicalRequestV3,
  canonicalQueryStringV3,
  hashPayload,
  parseAcs3Authorization,
  requiredSignedHeaders,
  signV3,
  stringToSignV3,
  unsignedRequiredHeaders,
  type CanonicalInput,
} from '../../shared/signing/acs3.ts'
import { ApiError } from '../../shared/errors.ts'

const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'
const SECRET = 'ExampleSecretForDocsOnly000000'

// §5.4 main example, as the server receives it (decoded query, node's lower-case headers).
const mainExample = (): CanonicalInput => ({
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
  headers: {
    host: 'ims.aliyuncs.com',
    'x-acs-action': 'CreateOIDCProvider',
    'x-acs-version': '2019-08-15',
    'x-acs-date': '2024-01-01T00:00:00Z',
    'x-acs-signature-nonce': '3b1a5b6e0b0f4c33a1b2c3d4e5f60718',
    'x-acs-content-sha256': EMPTY_SHA256,
    accept: 'application/json',
    'user-agent': 'AlibabaCloud (linux; x64) Node.js/v20 Core/1.0.8',
  },
  hashedPayload: EMPTY_SHA256,
})
const MAIN_SIGNED = ['host', 'x-acs-action', 'x-acs-content-sha256', 'x-acs-date', 'x-acs-signature-nonce', 'x-acs-version']

describe('V3 worked examples (spec §5.4)', () => {
  it('reproduces the main example canonical request, string to sign, signature and Authorization', () => {
    const canonical = buildCanonicalRequestV3(mainExample(), MAIN_SIGNED)
    expect(canonical).toBe(
      [
        'POST',
        '/',
        'ClientIds=sts.aliyuncs.com&Description=demo%20%28OIDC%29%20%2Atest%2A&Fingerprints=902ef2deeb3c5b13ea4c3d5193629309e231ae55&IssuanceLimitTime=12&IssuerUrl=https%3A%2F%2Fidp.example.com&OIDCProviderName=TestOIDCProvider',
        'host:ims.aliyuncs.com',
        'x-acs-action:CreateOIDCProvider',
        'x-acs-content-sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
        'x-acs-date:2024-01-01T00:00:00Z',
        'x-acs-signature-nonce:3b1a5b6e0b0f4c33a1b2c3d4e5f60718',
        'x-acs-version:2019-08-15',
        '',
        'host;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version',
        'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
      ].join('\n'),
    )
    const toSign = stringToSignV3(canonical)
    expect(toSign).toBe('ACS3-HMAC-SHA256\nbdc4e877ba7c7b30f6c2ae37414ba7fd6af3e064ec326a8330da28b3b5ddf4a3')
    const signature = signV3(SECRET, toSign)
    expect(signature).toBe('f7b3ca77b9711c3c0e3fc2f5ad9012db55229825020c3ff25e8504abdaecb655')
    const authorization = `ACS3-HMAC-SHA256 Credential=LTAI5tExampleKeyId000,SignedHeaders=${MAIN_SIGNED.join(';')},Signature=${signature}`
    expect(authorization).toBe(
      'ACS3-HMAC-SHA256 Credential=LTAI5tExampleKeyId000,SignedHeaders=host;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version,Signature=f7b3ca77b9711c3c0e3fc2f5ad9012db55229825020c3ff25e8504abdaecb655',
    )
    expect(parseAcs3Authorization(authorization)).toEqual({
      algorithm: 'ACS3-HMAC-SHA256',
      accessKeyId: 'LTAI5tExampleKeyId000',
      signedHeaders: MAIN_SIGNED,
      signature,
    })
  })

  it('reproduces Variant A (STS credentials: x-acs-accesskey-id and x-acs-security-token signed)', () => {
    const signed = ['host', 'x-acs-accesskey-id', 'x-acs-action', 'x-acs-content-sha256', 'x-acs-date', 'x-acs-security-token', 'x-acs-signature-nonce', 'x-acs-version']
    const input: CanonicalInput = {
      ...mainExample(),
      query: [],
      headers: {
        ...mainExample().headers,
        host: 'sts.aliyuncs.com',
        'x-acs-action': 'GetCallerIdentity',
        'x-acs-version': '2015-04-01',
        'x-acs-accesskey-id': 'STS.ExampleTempKeyId',
        'x-acs-security-token': 'CAIExampleSecurityToken==',
      },
    }
    expect(signed.join(';')).toBe('host;x-acs-accesskey-id;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-security-token;x-acs-signature-nonce;x-acs-version')
    expect(requiredSignedHeaders(input.headers)).toEqual(signed)
    const toSign = stringToSignV3(buildCanonicalRequestV3(input, signed))
    expect(toSign).toBe('ACS3-HMAC-SHA256\n2a2bdd96bb4fd0c61e6a2e51cd802931ef560142852239120ab1e8dd61d8629c')
    expect(signV3('ExampleTempSecret', toSign)).toBe('5293f54e5a5cc0dd58cf9c2374d592098b94fc01a2aa96259ed9b7e24150c1fb')
  })

  it('reproduces Variant B (form body: payload hash and signed content-type)', () => {
    const body = Buffer.from('Foo=bar%20baz&N=1')
    const payloadHash = hashPayload(body)
    expect(payloadHash).toBe('9217bd33c2095df4973a5d1041c0f0c4b83bb701d512945db43a80dabcb2d1ee')
    const input: CanonicalInput = {
      ...mainExample(),
      query: [],
      headers: { ...mainExample().headers, 'content-type': 'application/x-www-form-urlencoded', 'x-acs-content-sha256': payloadHash },
      hashedPayload: payloadHash,
    }
    const signed = requiredSignedHeaders(input.headers)
    expect(signed.join(';')).toMatch(/^content-type;host;/)
    expect(signV3(SECRET, stringToSignV3(buildCanonicalRequestV3(input, signed)))).toBe('774c7de52f197d7e2fa5b6de96e7dabb44cf3ac3f390ade2c59d346229685a19')
  })

  it('hashes an empty body to the well-known empty SHA-256', () => {
    expect(hashPayload(Buffer.alloc(0))).toBe(EMPTY_SHA256)
    expect(hashPayload('')).toBe(EMPTY_SHA256)
  })
})

describe('canonical query string', () => {
  it('sorts by name then value, encodes names and values, and keeps empty values as name=', () => {
    expect(canonicalQueryStringV3([['b', '2'], ['a', 'x y'], ['b', '1'], ['c', '']])).toBe('a=x%20y&b=1&b=2&c=')
  })

  it('re-encodes reserved characters that the SDK sends raw in the URL but signs escaped', () => {
    expect(canonicalQueryStringV3([['V', "!'()*~ é+/"]])).toBe('V=%21%27%28%29%2A~%20%C3%A9%2B%2F')
  })

  it('writes names raw in the SDK style and percent-encoded in the documented style', () => {
    expect(canonicalQueryStringV3([['a b', '1']], 'rfc3986')).toBe('a%20b=1')
    expect(canonicalQueryStringV3([['a b', '1']], 'sdk')).toBe('a b=1')
  })

  it('sorts names by UTF-8 bytes in the documented style and by UTF-16 units in the SDK style', () => {
    const astral = '\u{1F600}' // UTF-16 D83D..., UTF-8 F0 9F ...
    const privateUse = '\uE000' // UTF-16 E000, UTF-8 EE 80 80
    expect(canonicalQueryStringV3([[astral, '1'], [privateUse, '2']], 'rfc3986')).toBe('%EE%80%80=2&%F0%9F%98%80=1')
    expect(canonicalQueryStringV3([[privateUse, '2'], [astral, '1']], 'sdk')).toBe(`${astral}=1&${privateUse}=2`)
  })
})

describe('canonical headers', () => {
  const base = (): CanonicalInput => ({ method: 'POST', path: '', query: [], headers: { host: 'h' }, hashedPayload: EMPTY_SHA256 })

  it('trims values, keeps inner whitespace, sorts and comma-joins repeated headers, and uses / for an empty path', () => {
    const input = { ...base(), headers: { host: ' h ', 'x-acs-a': ['  b  2', 'a 1 '] } }
    expect(buildCanonicalRequestV3(input, ['host', 'x-acs-a'])).toBe(`POST\n/\n\nhost:h\nx-acs-a:a 1,b  2\n\nhost;x-acs-a\n${EMPTY_SHA256}`)
  })

  it('rejects a signed header that the request does not carry with IncompleteSignature naming it', () => {
    expect(() => buildCanonicalRequestV3(base(), ['host', 'x-acs-missing'])).toThrow(
      expect.objectContaining({ code: 'IncompleteSignature', message: expect.stringContaining('x-acs-missing') }),
    )
  })

  it('requires host, content-type and every x-acs-* header to be signed, and nothing else', () => {
    const headers = { host: 'h', 'content-type': 'text/plain', 'x-acs-security-token': 't', 'x-acs-date': 'd', 'user-agent': 'u', accept: 'a' }
    expect(requiredSignedHeaders(headers)).toEqual(['content-type', 'host', 'x-acs-date', 'x-acs-security-token'])
    expect(unsignedRequiredHeaders(headers, ['content-type', 'host', 'x-acs-date'])).toEqual(['x-acs-security-token'])
    expect(unsignedRequiredHeaders(headers, ['accept', 'content-type', 'host', 'user-agent', 'x-acs-date', 'x-acs-security-token'])).toEqual([])
  })
})

describe('parseAcs3Authorization', () => {
  const sig = 'f7b3ca77b9711c3c0e3fc2f5ad9012db55229825020c3ff25e8504abdaecb655'
  const good = `ACS3-HMAC-SHA256 Credential=AK,SignedHeaders=host;x-acs-date,Signature=${sig}`

  it('accepts the SDK form and tolerates spaces after the commas', () => {
    const expected = { algorithm: 'ACS3-HMAC-SHA256', accessKeyId: 'AK', signedHeaders: ['host', 'x-acs-date'], signature: sig }
    expect(parseAcs3Authorization(good)).toEqual(expected)
    expect(parseAcs3Authorization(`ACS3-HMAC-SHA256 Credential=AK, SignedHeaders=host;x-acs-date,  Signature=${sig}`)).toEqual(expected)
    expect(parseAcs3Authorization(`ACS3-HMAC-SHA256 Signature=${sig},Credential=AK,SignedHeaders=host;x-acs-date`)).toEqual(expected)
  })

  const malformed: Array<[string, string]> = [
    ['an SM3 signature', good.replace('ACS3-HMAC-SHA256', 'ACS3-HMAC-SM3')],
    ['an RSA signature', good.replace('ACS3-HMAC-SHA256', 'ACS3-RSA-SHA256')],
    ['an unknown algorithm', good.replace('ACS3-HMAC-SHA256', 'AWS4-HMAC-SHA256')],
    ['only the algorithm', 'ACS3-HMAC-SHA256'],
    ['no Credential', `ACS3-HMAC-SHA256 SignedHeaders=host,Signature=${sig}`],
    ['no SignedHeaders', `ACS3-HMAC-SHA256 Credential=AK,Signature=${sig}`],
    ['no Signature', 'ACS3-HMAC-SHA256 Credential=AK,SignedHeaders=host'],
    ['an empty Credential', `ACS3-HMAC-SHA256 Credential=,SignedHeaders=host,Signature=${sig}`],
    ['an empty element', `ACS3-HMAC-SHA256 Credential=AK,,SignedHeaders=host,Signature=${sig}`],
    ['a trailing comma', `${good},`],
    ['a duplicate Credential', `ACS3-HMAC-SHA256 Credential=AK,Credential=AK,SignedHeaders=host,Signature=${sig}`],
    ['an unknown element', `${good},Region=cn-hangzhou`],
    ['an element without =', `ACS3-HMAC-SHA256 Credential,SignedHeaders=host,Signature=${sig}`],
    ['an upper-case signature', good.replace(sig, sig.toUpperCase())],
    ['a short signature', good.replace(sig, sig.slice(1))],
    ['a base64 signature', good.replace(sig, 'cqQ1MTdYkRnHncKCGO6wFmxQFmY=')],
    ['unsorted SignedHeaders', good.replace('host;x-acs-date', 'x-acs-date;host')],
    ['duplicate SignedHeaders', good.replace('host;x-acs-date', 'host;host;x-acs-date')],
    ['upper-case SignedHeaders', good.replace('host;x-acs-date', 'Host;x-acs-date')],
    ['an empty SignedHeaders entry', good.replace('host;x-acs-date', 'host;;x-acs-date')],
    ['a Credential with a space', good.replace('Credential=AK', 'Credential=A K')],
  ]
  for (const [what, header] of malformed) {
    it(`rejects ${what} with IncompleteSignature`, () => {
      let thrown: unknown
      try {
        parseAcs3Authorization(header)
      } catch (e) {
        thrown = e
      }
      expect(thrown).toBeInstanceOf(ApiError)
      expect(thrown).toMatchObject({ code: 'IncompleteSignature' })
    })
  }

  it('says that SM3 is unsupported rather than malformed', () => {
    expect(() => parseAcs3Authorization(good.replace('ACS3-HMAC-SHA256', 'ACS3-HMAC-SM3'))).toThrow(/not supported/)
  })
})
