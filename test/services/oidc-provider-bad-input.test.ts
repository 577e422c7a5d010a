// Every IMS OIDC provider action against every §3.1 parameter rule, table-driven: each bad input gets
// a 4xx with the code naming the parameter, the Alibaba error envelope, and nothing is written
// (the provider list and the account's quota counter are compared before and after). Also the
// request-level rejections (duplicate parameters, unknown Action/Version, paths, body size).

import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { IMS, startTestService, type TestService } from '../support/service.ts'
import { signRpc } from '../support/sign.ts'

let svc: TestService

type Action =
  | 'CreateOIDCProvider'
  | 'GetOIDCProvider'
  | 'ListOIDCProviders'
  | 'UpdateOIDCProvider'
  | 'DeleteOIDCProvider'
  | 'AddClientIdToOIDCProvider'
  | 'RemoveClientIdFromOIDCProvider'
  | 'AddFingerprintToOIDCProvider'
  | 'RemoveFingerprintFromOIDCProvider'

const NAMED_ACTIONS: Action[] = [
  'CreateOIDCProvider',
  'GetOIDCProvider',
  'UpdateOIDCProvider',
  'DeleteOIDCProvider',
  'AddClientIdToOIDCProvider',
  'RemoveClientIdFromOIDCProvider',
  'AddFingerprintToOIDCProvider',
  'RemoveFingerprintFromOIDCProvider',
]

const EXISTING = 'existing'
const OTHER = 'other'
const EXISTING_URL = 'https://existing.example.com'
const FP_A = '6938fd4d98bab03faadb97b34396831e3780aea1'
const FP_B = '1c58a3a8518e8759bf075b76b750d4f2df264fcd'
const FP_NEW = '902ef2deeb3c5b13ea4c3d5193629309e231ae55'
const hex40 = (i: number) => i.toString(16).padStart(40, '0')

/** Parameters with which each action succeeds (checked by the last test); cases change one of them. */
const VALID: Record<Action, Record<string, string>> = {
  CreateOIDCProvider: { OIDCProviderName: 'fresh', IssuerUrl: 'https://fresh.example.com' },
  GetOIDCProvider: { OIDCProviderName: EXISTING },
  ListOIDCProviders: {},
  UpdateOIDCProvider: { OIDCProviderName: EXISTING, NewDescription: 'changed' },
  DeleteOIDCProvider: { OIDCProviderName: OTHER },
  AddClientIdToOIDCProvider: { OIDCProviderName: EXISTING, ClientId: 'client-new' },
  RemoveClientIdFromOIDCProvider: { OIDCProviderName: EXISTING, ClientId: 'client-a' },
  AddFingerprintToOIDCProvider: { OIDCProviderName: EXISTING, Fingerprint: FP_NEW },
  RemoveFingerprintFromOIDCProvider: { OIDCProviderName: EXISTING, Fingerprint: FP_A },
}

interface Case {
  action: Action
  what: string
  params: Record<string, string>
  code: string
  status: number
}

/** The action's valid parameters with `change` applied (`undefined` removes a parameter). */
function withParams(action: Action, change: Record<string, string | undefined>): Record<string, string> {
  const out: Record<string, string> = { ...VALID[action] }
  for (const [k, v] of Object.entries(change)) {
    if (v === undefined) delete out[k]
    else out[k] = v
  }
  return out
}

const bad = (action: Action, what: string, change: Record<string, string | undefined>, code: string, status = 400): Case => ({
  action,
  what,
  params: withParams(action, change),
  code,
  status,
})

const BAD_NAMES: Array<[string, string | undefined, string]> = [
  ['missing', undefined, 'MissingParameter.OIDCProviderName'],
  ['empty', '', 'MissingParameter.OIDCProviderName'],
  ['129 characters', 'a'.repeat(129), 'InvalidParameter.OIDCProviderName.Length'],
  ['starting with "."', '.abc', 'InvalidParameter.OIDCProviderName.InvalidChars'],
  ['starting with "-"', '-abc', 'InvalidParameter.OIDCProviderName.InvalidChars'],
  ['starting with "_"', '_abc', 'InvalidParameter.OIDCProviderName.InvalidChars'],
  ['ending with "."', 'abc.', 'InvalidParameter.OIDCProviderName.InvalidChars'],
  ['ending with "-"', 'abc-', 'InvalidParameter.OIDCProviderName.InvalidChars'],
  ['ending with "_"', 'abc_', 'InvalidParameter.OIDCProviderName.InvalidChars'],
  ['a single "-"', '-', 'InvalidParameter.OIDCProviderName.InvalidChars'],
  ['a space', 'my provider', 'InvalidParameter.OIDCProviderName.InvalidChars'],
  ['a "/"', 'my/provider', 'InvalidParameter.OIDCProviderName.InvalidChars'],
  ['a ":"', 'my:provider', 'InvalidParameter.OIDCProviderName.InvalidChars'],
  ['non-ASCII letters', 'prövider', 'InvalidParameter.OIDCProviderName.InvalidChars'],
  ['CJK characters', '身份提供商', 'InvalidParameter.OIDCProviderName.InvalidChars'],
  ['an emoji', 'idp😀x', 'InvalidParameter.OIDCProviderName.InvalidChars'],
]

const nameCases: Case[] = NAMED_ACTIONS.flatMap((action) =>
  BAD_NAMES.map(([what, value, code]) => bad(action, `an OIDCProviderName ${what}`, { OIDCProviderName: value }, code)),
)

const create = (what: string, change: Record<string, string | undefined>, code: string, status = 400) =>
  bad('CreateOIDCProvider', what, change, code, status)

const issuerCases: Case[] = [
  create('a missing IssuerUrl', { IssuerUrl: undefined }, 'MissingParameter.IssuerUrl'),
  create('an empty IssuerUrl', { IssuerUrl: '' }, 'MissingParameter.IssuerUrl'),
  create('an http:// IssuerUrl', { IssuerUrl: 'http://idp.example.com' }, 'InvalidParameter.IssuerUrl.Format'),
  create('an IssuerUrl without scheme', { IssuerUrl: 'idp.example.com' }, 'InvalidParameter.IssuerUrl.Format'),
  create('an IssuerUrl of another scheme', { IssuerUrl: 'ftp://idp.example.com' }, 'InvalidParameter.IssuerUrl.Format'),
  create('an IssuerUrl that is only "https://"', { IssuerUrl: 'https://' }, 'InvalidParameter.IssuerUrl.Format'),
  create('an IssuerUrl of 256 characters', { IssuerUrl: `https://idp.example.com/${'a'.repeat(256 - 24)}` }, 'InvalidParameter.IssuerUrl.Length'),
  create('an IssuerUrl with a query', { IssuerUrl: 'https://idp.example.com/?tenant=a' }, 'InvalidParameter.IssuerUrl.Format'),
  create('an IssuerUrl with an empty query', { IssuerUrl: 'https://idp.example.com/?' }, 'InvalidParameter.IssuerUrl.Format'),
  create('an IssuerUrl with a fragment', { IssuerUrl: 'https://idp.example.com/#x' }, 'InvalidParameter.IssuerUrl.Format'),
  create('an IssuerUrl with an empty fragment', { IssuerUrl: 'https://idp.example.com#' }, 'InvalidParameter.IssuerUrl.Format'),
  create('an IssuerUrl with a user', { IssuerUrl: 'https://user@idp.example.com' }, 'InvalidParameter.IssuerUrl.Format'),
  create('an IssuerUrl with user and password', { IssuerUrl: 'https://user:pw@idp.example.com' }, 'InvalidParameter.IssuerUrl.Format'),
  create('an IssuerUrl with an empty userinfo', { IssuerUrl: 'https://@idp.example.com' }, 'InvalidParameter.IssuerUrl.Format'),
  create('an IssuerUrl with inner whitespace', { IssuerUrl: 'https://idp.example.com/a b' }, 'InvalidParameter.IssuerUrl.Format'),
  create('an IssuerUrl with leading whitespace', { IssuerUrl: ' https://idp.example.com' }, 'InvalidParameter.IssuerUrl.Format'),
  create('an IssuerUrl with trailing whitespace', { IssuerUrl: 'https://idp.example.com\t' }, 'InvalidParameter.IssuerUrl.Format'),
  create('an IssuerUrl with a newline', { IssuerUrl: 'https://idp.example.com/\nx' }, 'InvalidParameter.IssuerUrl.Format'),
  create('an IssuerUrl with a NUL', { IssuerUrl: 'https://idp.example.com/\u0000' }, 'InvalidParameter.IssuerUrl.Format'),
  create('an IssuerUrl with a DEL', { IssuerUrl: 'https://idp.example.com/\u007f' }, 'InvalidParameter.IssuerUrl.Format'),
  create('an IssuerUrl with an empty host ("https:///host")', { IssuerUrl: 'https:///idp.example.com' }, 'InvalidParameter.IssuerUrl.Format'),
  create('an IssuerUrl with a backslash', { IssuerUrl: 'https://idp.example.com\\tenant' }, 'InvalidParameter.IssuerUrl.Format'),
  create('an unparsable IssuerUrl (open IPv6 bracket)', { IssuerUrl: 'https://[::1' }, 'InvalidParameter.IssuerUrl.Format'),
  create('an unparsable IssuerUrl (bad port)', { IssuerUrl: 'https://idp.example.com:99999' }, 'InvalidParameter.IssuerUrl.Format'),
]

const fingerprintListCases: Case[] = [
  create('non-hex Fingerprints', { Fingerprints: 'g'.repeat(40) }, 'InvalidParameter.Fingerprints.Format'),
  create('a 39-digit fingerprint', { Fingerprints: FP_A.slice(0, 39) }, 'InvalidParameter.Fingerprints.Format'),
  create('a 41-digit fingerprint', { Fingerprints: `${FP_A}0` }, 'InvalidParameter.Fingerprints.Format'),
  create('a colon-separated fingerprint', { Fingerprints: FP_A.match(/../g)!.join(':') }, 'InvalidParameter.Fingerprints.InvalidChars'),
  create('an empty item in Fingerprints', { Fingerprints: `${FP_A},,${FP_B}` }, 'InvalidParameter.Fingerprints.Format'),
  create('a trailing comma in Fingerprints', { Fingerprints: `${FP_A},` }, 'InvalidParameter.Fingerprints.Format'),
  create('a bad fingerprint after a good one', { Fingerprints: `${FP_A},xyz` }, 'InvalidParameter.Fingerprints.Format'),
  create('6 fingerprints', { Fingerprints: [1, 2, 3, 4, 5, 6].map(hex40).join(',') }, 'LimitExceeded.OIDCProvider.Fingerprint', 409),
]

const clientIdListCases = (action: 'CreateOIDCProvider' | 'UpdateOIDCProvider'): Case[] => [
  bad(action, 'a ClientIds item with a space', { ClientIds: 'client one' }, 'InvalidParameter.ClientIds.InvalidChars'),
  bad(action, 'a ClientIds item with "@"', { ClientIds: 'a@b' }, 'InvalidParameter.ClientIds.InvalidChars'),
  bad(action, 'a ClientIds item with "*"', { ClientIds: 'ok,a*b' }, 'InvalidParameter.ClientIds.InvalidChars'),
  bad(action, 'a ClientIds item with non-ASCII letters', { ClientIds: 'clïent' }, 'InvalidParameter.ClientIds.InvalidChars'),
  bad(action, 'a ClientIds item starting with "."', { ClientIds: '.client' }, 'InvalidParameter.ClientIds.InvalidChars'),
  bad(action, 'a ClientIds item starting with "-"', { ClientIds: '-client' }, 'InvalidParameter.ClientIds.InvalidChars'),
  bad(action, 'a ClientIds item starting with "_"', { ClientIds: '_client' }, 'InvalidParameter.ClientIds.InvalidChars'),
  bad(action, 'a ClientIds item starting with ":"', { ClientIds: ':client' }, 'InvalidParameter.ClientIds.InvalidChars'),
  bad(action, 'a ClientIds item starting with "/"', { ClientIds: '/client' }, 'InvalidParameter.ClientIds.InvalidChars'),
  bad(action, 'a ClientIds item of 129 characters', { ClientIds: 'c'.repeat(129) }, 'InvalidParameter.ClientIds.Length'),
  bad(action, 'an empty item in ClientIds', { ClientIds: 'a,,b' }, 'InvalidParameter.ClientIds.Format'),
  bad(action, 'a blank item in ClientIds', { ClientIds: 'a, ,b' }, 'InvalidParameter.ClientIds.Format'),
  bad(action, '51 client IDs', { ClientIds: Array.from({ length: 51 }, (_, i) => `client-${i}`).join(',') }, 'LimitExceeded.OIDCProvider.ClientId', 409),
]

const issuanceCases = (action: 'CreateOIDCProvider' | 'UpdateOIDCProvider'): Case[] => [
  bad(action, 'IssuanceLimitTime 0', { IssuanceLimitTime: '0' }, 'InvalidParameter.IssuanceLimitTime.Value'),
  bad(action, 'IssuanceLimitTime 169', { IssuanceLimitTime: '169' }, 'InvalidParameter.IssuanceLimitTime.Value'),
  bad(action, 'IssuanceLimitTime -1', { IssuanceLimitTime: '-1' }, 'InvalidParameter.IssuanceLimitTime.Value'),
  bad(action, 'IssuanceLimitTime 1.5', { IssuanceLimitTime: '1.5' }, 'InvalidParameter.IssuanceLimitTime.Format'),
  bad(action, 'IssuanceLimitTime "abc"', { IssuanceLimitTime: 'abc' }, 'InvalidParameter.IssuanceLimitTime.Format'),
  bad(action, 'IssuanceLimitTime 1e3', { IssuanceLimitTime: '1e3' }, 'InvalidParameter.IssuanceLimitTime.Format'),
  bad(action, 'IssuanceLimitTime 0x10', { IssuanceLimitTime: '0x10' }, 'InvalidParameter.IssuanceLimitTime.Format'),
  bad(action, 'IssuanceLimitTime " 12"', { IssuanceLimitTime: ' 12' }, 'InvalidParameter.IssuanceLimitTime.Format'),
]

const otherCases: Case[] = [
  create('a Description of 257 characters', { Description: 'd'.repeat(257) }, 'InvalidParameter.Description.Length'),
  bad('UpdateOIDCProvider', 'a NewDescription of 257 characters', { NewDescription: 'd'.repeat(257) }, 'InvalidParameter.NewDescription.Length'),
  bad('ListOIDCProviders', 'MaxItems 0', { MaxItems: '0' }, 'InvalidParameter.MaxItems.Value'),
  bad('ListOIDCProviders', 'MaxItems 101', { MaxItems: '101' }, 'InvalidParameter.MaxItems.Value'),
  bad('ListOIDCProviders', 'MaxItems -1', { MaxItems: '-1' }, 'InvalidParameter.MaxItems.Value'),
  bad('ListOIDCProviders', 'MaxItems "x"', { MaxItems: 'x' }, 'InvalidParameter.MaxItems.Format'),
  bad('ListOIDCProviders', 'a Marker with non-base64url characters', { Marker: 'not a marker!' }, 'InvalidParameter.Marker.Format'),
  bad('ListOIDCProviders', 'a Marker that is base64url of garbage', { Marker: 'garbage' }, 'InvalidParameter.Marker.Format'),
  bad('ListOIDCProviders', 'a Marker that is base64url of a JSON array', { Marker: Buffer.from('["existing"]').toString('base64url') }, 'InvalidParameter.Marker.Format'),
  bad('ListOIDCProviders', 'a Marker whose position is not a string', { Marker: Buffer.from('{"n":1}').toString('base64url') }, 'InvalidParameter.Marker.Format'),
  bad('ListOIDCProviders', 'a Marker naming an invalid provider name', { Marker: Buffer.from('{"n":"../x"}').toString('base64url') }, 'InvalidParameter.Marker.Format'),
  bad('ListOIDCProviders', 'a Marker without a position', { Marker: Buffer.from('{"x":"existing"}').toString('base64url') }, 'InvalidParameter.Marker.Format'),
  bad('ListOIDCProviders', 'an over-long Marker', { Marker: 'A'.repeat(4096) }, 'InvalidParameter.Marker.Format'),
  // Well-formed names, but longer than a provider's (128): the marker's name becomes a DynamoDB sort
  // key, which the real service may refuse with a ValidationException (a 500) where this is a 400.
  bad('ListOIDCProviders', 'a Marker naming a 129-character provider', { Marker: Buffer.from(JSON.stringify({ n: 'a'.repeat(129) })).toString('base64url') }, 'InvalidParameter.Marker.Format'),
  bad('ListOIDCProviders', 'a Marker naming a 1500-character provider', { Marker: Buffer.from(JSON.stringify({ n: 'a'.repeat(1500) })).toString('base64url') }, 'InvalidParameter.Marker.Format'),
]

const memberCases: Case[] = [
  ...(['AddClientIdToOIDCProvider', 'RemoveClientIdFromOIDCProvider'] as const).flatMap((action) => [
    bad(action, 'a missing ClientId', { ClientId: undefined }, 'MissingParameter.ClientId'),
    bad(action, 'an empty ClientId', { ClientId: '' }, 'MissingParameter.ClientId'),
    bad(action, 'a ClientId with a space', { ClientId: 'client one' }, 'InvalidParameter.ClientId.InvalidChars'),
    bad(action, 'a ClientId with ","', { ClientId: 'a,b' }, 'InvalidParameter.ClientId.InvalidChars'),
    bad(action, 'a ClientId starting with "-"', { ClientId: '-client' }, 'InvalidParameter.ClientId.InvalidChars'),
    bad(action, 'a ClientId starting with "/"', { ClientId: '/client' }, 'InvalidParameter.ClientId.InvalidChars'),
    bad(action, 'a ClientId of 129 characters', { ClientId: 'c'.repeat(129) }, 'InvalidParameter.ClientId.Length'),
  ]),
  ...(['AddFingerprintToOIDCProvider', 'RemoveFingerprintFromOIDCProvider'] as const).flatMap((action) => [
    bad(action, 'a missing Fingerprint', { Fingerprint: undefined }, 'MissingParameter.Fingerprint'),
    bad(action, 'an empty Fingerprint', { Fingerprint: '' }, 'MissingParameter.Fingerprint'),
    bad(action, 'a non-hex Fingerprint', { Fingerprint: 'z'.repeat(40) }, 'InvalidParameter.Fingerprint.Format'),
    bad(action, 'a 39-digit Fingerprint', { Fingerprint: FP_NEW.slice(0, 39) }, 'InvalidParameter.Fingerprint.Format'),
    bad(action, 'a 41-digit Fingerprint', { Fingerprint: `${FP_NEW}a` }, 'InvalidParameter.Fingerprint.Format'),
    bad(action, 'a colon-separated Fingerprint', { Fingerprint: FP_NEW.match(/../g)!.join(':') }, 'InvalidParameter.Fingerprint.InvalidChars'),
    bad(action, 'a comma-joined pair in Fingerprint', { Fingerprint: `${FP_A},${FP_B}` }, 'InvalidParameter.Fingerprint.InvalidChars'),
    bad(action, 'a Fingerprint of 129 characters', { Fingerprint: 'a'.repeat(129) }, 'InvalidParameter.Fingerprint.Length'),
  ]),
]

/** Rejections that pass validation but fail on the stored state. */
const stateCases: Case[] = [
  bad('AddClientIdToOIDCProvider', 'a ClientId already registered', { ClientId: 'client-a' }, 'EntityAlreadyExists.OIDCProvider.ClientId', 409),
  bad('RemoveClientIdFromOIDCProvider', 'a ClientId not registered', { ClientId: 'client-zzz' }, 'EntityNotExist.OIDCProvider.ClientId', 404),
  bad('RemoveClientIdFromOIDCProvider', 'a ClientId differing only in case', { ClientId: 'CLIENT-A' }, 'EntityNotExist.OIDCProvider.ClientId', 404),
  bad('AddFingerprintToOIDCProvider', 'a Fingerprint already registered', { Fingerprint: FP_A }, 'EntityAlreadyExists.OIDCProvider.Fingerprint', 409),
  bad('AddFingerprintToOIDCProvider', 'the upper-case form of a registered Fingerprint', { Fingerprint: FP_A.toUpperCase() }, 'EntityAlreadyExists.OIDCProvider.Fingerprint', 409),
  bad('RemoveFingerprintFromOIDCProvider', 'a Fingerprint not registered', { Fingerprint: FP_NEW }, 'EntityNotExist.OIDCProvider.Fingerprint', 404),
  create('a name already taken', { OIDCProviderName: EXISTING }, 'EntityAlreadyExists.OIDCProvider', 409),
  create('an IssuerUrl already registered', { IssuerUrl: EXISTING_URL }, 'EntityAlreadyExists.OIDCProvider.Url', 409),
  ...NAMED_ACTIONS.filter((a) => a !== 'CreateOIDCProvider').map((action) =>
    bad(action, 'an unknown provider', { OIDCProviderName: 'no-such-provider' }, 'EntityNotExist.OIDCProvider', 404),
  ),
]

const ENVELOPE_KEYS = ['Code', 'HostId', 'Message', 'Recommend', 'RequestId']
const STACK_TRACE = /\bat .+:\d+:\d+|node_modules|\.ts:\d+|Error: /

/** The documented error envelope, and no stack trace or internal text in it. */
function expectErrorEnvelope(res: { status: number; body: Record<string, unknown> }, code: string, status: number) {
  expect({ status: res.status, code: res.body.Code }).toEqual({ status, code })
  expect(Object.keys(res.body).sort()).toEqual(ENVELOPE_KEYS)
  expect(res.body.RequestId).toMatch(/^[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}$/)
  expect(typeof res.body.HostId).toBe('string')
  expect(res.body.Recommend).toContain(`q=${encodeURIComponent(code)}`)
  expect(res.body.Recommend).toContain(`requestId=${res.body.RequestId as string}`)
  expect(typeof res.body.Message).toBe('string')
  expect(JSON.stringify(res.body)).not.toMatch(STACK_TRACE)
}

/** Everything a write could change: every provider as the API shows it, and the quota counter. */
async function storedState() {
  const providers: unknown[] = []
  let marker: string | undefined
  do {
    const page = await svc.call('ListOIDCProviders', IMS, { MaxItems: 100, ...(marker ? { Marker: marker } : {}) })
    expect(page.status).toBe(200)
    providers.push(...(page.body.OIDCProviders.OIDCProvider as unknown[]))
    marker = page.body.IsTruncated ? (page.body.Marker as string) : undefined
  } while (marker)
  const account = await svc.stores.accounts.getAccount(svc.root.AccountId)
  return { providers, providerCount: account?.providerCount }
}

let baseline: Awaited<ReturnType<typeof storedState>>

beforeAll(async () => {
  svc = await startTestService()
  const made = [
    await svc.call('CreateOIDCProvider', IMS, {
      OIDCProviderName: EXISTING,
      IssuerUrl: EXISTING_URL,
      ClientIds: 'client-a,client-b',
      Fingerprints: `${FP_A},${FP_B}`,
    }),
    await svc.call('CreateOIDCProvider', IMS, { OIDCProviderName: OTHER, IssuerUrl: 'https://other.example.com' }),
  ]
  expect(made.map((r) => r.status)).toEqual([200, 200])
  baseline = await storedState()
  expect(baseline.providerCount).toBe(2)
})
afterAll(async () => { await svc?.close() })

describe.each([
  ['OIDCProviderName', nameCases],
  ['IssuerUrl', issuerCases],
  ['Fingerprints', fingerprintListCases],
  ['ClientIds', [...clientIdListCases('CreateOIDCProvider'), ...clientIdListCases('UpdateOIDCProvider')]],
  ['IssuanceLimitTime', [...issuanceCases('CreateOIDCProvider'), ...issuanceCases('UpdateOIDCProvider')]],
  ['Description, MaxItems, Marker', otherCases],
  ['ClientId and Fingerprint of Add/Remove', memberCases],
  ['stored state', stateCases],
])('rejects bad %s without writing anything', (_group, cases) => {
  it.each(cases)('$action rejects $what with $code', async ({ action, params, code, status }) => {
    const res = await svc.call(action, IMS, params)
    expectErrorEnvelope(res, code, status)
    expect(await storedState()).toEqual(baseline)
  })
})

describe('accepts the boundaries of the rules', () => {
  it.each(NAMED_ACTIONS.filter((a) => a !== 'CreateOIDCProvider'))('%s accepts 1- and 128-character names (then finds no such provider)', async (action) => {
    for (const name of ['a', `a${'b'.repeat(126)}c`]) {
      const res = await svc.call(action, IMS, withParams(action, { OIDCProviderName: name }))
      expectErrorEnvelope(res, 'EntityNotExist.OIDCProvider', 404)
    }
  })

  it('ListOIDCProviders accepts a Marker naming a 128-character provider, the longest name, and lists what follows it', async () => {
    const res = await svc.call('ListOIDCProviders', IMS, { Marker: Buffer.from(JSON.stringify({ n: 'a'.repeat(128) })).toString('base64url') })
    expect(res.status).toBe(200)
    expect(res.body.OIDCProviders.OIDCProvider.map((p: { OIDCProviderName: string }) => p.OIDCProviderName)).toEqual([EXISTING, OTHER])
  })

  it('creates providers named with 1 and 128 characters and ".", "-", "_" inside', async () => {
    for (const [name, url] of [['a', 'https://one.example.com'], [`A${'.-_9'.repeat(31)}bcZ`, 'https://long.example.com']] as const) {
      const res = await svc.call('CreateOIDCProvider', IMS, { OIDCProviderName: name, IssuerUrl: url })
      expect(res.status).toBe(200)
      expect(res.body.OIDCProvider.OIDCProviderName).toBe(name)
      expect((await svc.call('DeleteOIDCProvider', IMS, { OIDCProviderName: name })).status).toBe(200)
    }
    expect(await storedState()).toEqual(baseline)
  })

  it('accepts the limits: 255-character IssuerUrl, 5 fingerprints, 50 client IDs of 128 characters, IssuanceLimitTime 1 and 168, 256-character Description', async () => {
    const url = `https://idp.example.com/${'a'.repeat(255 - 24)}`
    const res = await svc.call('CreateOIDCProvider', IMS, {
      OIDCProviderName: 'limits',
      IssuerUrl: url,
      Fingerprints: [1, 2, 3, 4, 5].map(hex40).join(','),
      ClientIds: Array.from({ length: 50 }, (_, i) => `${i}`.padEnd(128, 'x')).join(','),
      IssuanceLimitTime: 168,
      Description: 'd'.repeat(256),
    })
    expect(res.status).toBe(200)
    expect(res.body.OIDCProvider.IssuerUrl).toBe(url)
    expect(res.body.OIDCProvider.Fingerprints.split(',')).toHaveLength(5)
    expect(res.body.OIDCProvider.ClientIds.split(',')).toHaveLength(50)
    const updated = await svc.call('UpdateOIDCProvider', IMS, { OIDCProviderName: 'limits', IssuanceLimitTime: 1 })
    expect(updated.body.OIDCProvider.IssuanceLimitTime).toBe(1)
    expect((await svc.call('DeleteOIDCProvider', IMS, { OIDCProviderName: 'limits' })).status).toBe(200)
    expect(await storedState()).toEqual(baseline)
  })

  it('de-duplicates repeated fingerprints case-insensitively, so 6 items naming 5 distinct fingerprints are accepted', async () => {
    const five = [1, 2, 3, 4, 5].map(hex40)
    const res = await svc.call('CreateOIDCProvider', IMS, {
      OIDCProviderName: 'dedup',
      IssuerUrl: 'https://dedup.example.com',
      Fingerprints: [...five, five[0]!.toUpperCase()].join(','),
      ClientIds: 'a,b,a',
    })
    expect(res.status).toBe(200)
    expect(res.body.OIDCProvider.Fingerprints).toBe(five.join(','))
    expect(res.body.OIDCProvider.ClientIds).toBe('a,b')
    expect((await svc.call('DeleteOIDCProvider', IMS, { OIDCProviderName: 'dedup' })).status).toBe(200)
    expect(await storedState()).toEqual(baseline)
  })
})

describe('IssuerUrl is immutable', () => {
  it('UpdateOIDCProvider ignores an IssuerUrl parameter and keeps the registered one', async () => {
    const res = await svc.call('UpdateOIDCProvider', IMS, { OIDCProviderName: EXISTING, IssuerUrl: 'https://moved.example.com' })
    expect(res.status).toBe(200)
    expect(res.body.OIDCProvider.IssuerUrl).toBe(EXISTING_URL)
    const got = await svc.call('GetOIDCProvider', IMS, { OIDCProviderName: EXISTING })
    expect(got.body.OIDCProvider.IssuerUrl).toBe(EXISTING_URL)
    // The old URL still guards uniqueness; the ignored one was never registered.
    const clash = await svc.call('CreateOIDCProvider', IMS, { OIDCProviderName: 'clash', IssuerUrl: EXISTING_URL })
    expectErrorEnvelope(clash, 'EntityAlreadyExists.OIDCProvider.Url', 409)
    baseline = await storedState()
  })
})

describe('request-level rejections', () => {
  const inject = async (opts: { method?: 'GET' | 'POST'; url: string; headers?: Record<string, string>; payload?: string | Buffer }) => {
    const res = await svc.app.inject({ method: opts.method ?? 'POST', url: opts.url, headers: opts.headers ?? {}, ...(opts.payload !== undefined ? { payload: opts.payload } : {}) })
    return { status: res.statusCode, body: res.json() as Record<string, unknown>, raw: res.body }
  }

  it('rejects a parameter given twice in the query with InvalidParameter.<Param>.Duplicate', async () => {
    const req = signRpc({ creds: svc.rootCreds, action: 'DeleteOIDCProvider', version: IMS, params: { OIDCProviderName: EXISTING } })
    const res = await inject({ url: `${req.url}&OIDCProviderName=${OTHER}`, headers: req.headers, payload: req.payload })
    expectErrorEnvelope(res, 'InvalidParameter.OIDCProviderName.Duplicate', 400)
    expect(await storedState()).toEqual(baseline)
  })

  it('rejects a parameter given in both the query and the form body with InvalidParameter.<Param>.Duplicate', async () => {
    const req = signRpc({ creds: svc.rootCreds, action: 'DeleteOIDCProvider', version: IMS, params: { OIDCProviderName: EXISTING }, form: { OIDCProviderName: OTHER } })
    const res = await inject({ url: req.url, headers: req.headers, payload: req.payload })
    expectErrorEnvelope(res, 'InvalidParameter.OIDCProviderName.Duplicate', 400)
    expect(await storedState()).toEqual(baseline)
  })

  it('accepts business parameters in a signed form body', async () => {
    const req = signRpc({ creds: svc.rootCreds, action: 'GetOIDCProvider', version: IMS, form: { OIDCProviderName: EXISTING } })
    const res = await inject({ url: req.url, headers: req.headers, payload: req.payload })
    expect(res.status).toBe(200)
    expect((res.body.OIDCProvider as { OIDCProviderName: string }).OIDCProviderName).toBe(EXISTING)
  })

  const INVALID_ACTION_MESSAGE = 'The specified parameter "Action or Version" is not valid.'

  it('answers an unknown Action with InvalidParameter "Action or Version"', async () => {
    const res = await svc.call('CreateOIDCProviders', IMS, VALID.CreateOIDCProvider)
    expectErrorEnvelope(res, 'InvalidParameter', 400)
    expect(res.body.Message).toBe(INVALID_ACTION_MESSAGE)
  })

  it('answers a known Action under the wrong Version with InvalidParameter "Action or Version"', async () => {
    for (const version of ['2015-05-01', '2015-04-01', '2019-08-16', '']) {
      const res = await svc.call('CreateOIDCProvider', version, VALID.CreateOIDCProvider)
      expectErrorEnvelope(res, 'InvalidParameter', 400)
      expect(res.body.Message).toBe(INVALID_ACTION_MESSAGE)
    }
    expect(await storedState()).toEqual(baseline)
  })

  it('answers a request without Action and Version, signed or not, with InvalidParameter "Action or Version"', async () => {
    for (const method of ['GET', 'POST'] as const) {
      const res = await inject({ method, url: '/' })
      expectErrorEnvelope(res, 'InvalidParameter', 400)
      expect(res.body.Message).toBe(INVALID_ACTION_MESSAGE)
    }
    // Signed by the root account's key, with empty x-acs-action and x-acs-version and no query.
    const req = signRpc({ creds: svc.rootCreds, action: '', version: '' })
    expect(req.headers['x-acs-action']).toBe('')
    const signed = await inject({ url: req.url, headers: req.headers, payload: req.payload })
    expectErrorEnvelope(signed, 'InvalidParameter', 400)
    expect(signed.body.Message).toBe(INVALID_ACTION_MESSAGE)
  })

  it('answers GET /health with 200', async () => {
    const res = await svc.app.inject({ method: 'GET', url: '/health' })
    expect(res.statusCode).toBe(200)
    expect(res.json()).toEqual({ status: 'ok' })
  })

  it.each([
    ['GET', '/nope'],
    ['POST', '/v1/oidc'],
    ['GET', '/health/x'],
    ['POST', '/health'],
    ['PUT', '/'],
    ['DELETE', '/'],
  ] as const)('answers %s %s (not an RPC route) with the error envelope and InvalidParameter', async (method, url) => {
    const res = await svc.app.inject({ method, url })
    expectErrorEnvelope({ status: res.statusCode, body: res.json() }, 'InvalidParameter', 400)
  })

  it('rejects a body over the limit with 413 Request.TooLarge', async () => {
    const payload = `Description=${'d'.repeat(300 * 1024)}`
    const res = await inject({ url: `/?Action=CreateOIDCProvider&Version=${IMS}`, headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload })
    expectErrorEnvelope(res, 'Request.TooLarge', 413)
    const other = await inject({ url: '/', headers: { 'content-type': 'application/octet-stream' }, payload: Buffer.alloc(300 * 1024) })
    expectErrorEnvelope(other, 'Request.TooLarge', 413)
    expect(await storedState()).toEqual(baseline)
  })

  it('rejects a malformed percent-encoding with InvalidParameter.Format, before authentication', async () => {
    const res = await inject({ url: `/?Action=GetOIDCProvider&Version=${IMS}&OIDCProviderName=%E0%A4%A` })
    expectErrorEnvelope(res, 'InvalidParameter.Format', 400)
  })

  it('rejects an unsigned call of a signed action without revealing parameter problems', async () => {
    const res = await inject({ url: `/?Action=CreateOIDCProvider&Version=${IMS}&OIDCProviderName=-bad` })
    expectErrorEnvelope(res, 'IncompleteSignature', 400)
    expect(await storedState()).toEqual(baseline)
  })
})

describe('the valid parameters of the table', () => {
  // Run last: proves each rejection above was caused by the one parameter its case changed.
  it('are accepted by every action', async () => {
    const order: Action[] = [
      'CreateOIDCProvider',
      'GetOIDCProvider',
      'ListOIDCProviders',
      'UpdateOIDCProvider',
      'AddClientIdToOIDCProvider',
      'RemoveClientIdFromOIDCProvider',
      'AddFingerprintToOIDCProvider',
      'RemoveFingerprintFromOIDCProvider',
      'DeleteOIDCProvider',
    ]
    for (const action of order) {
      const res = await svc.call(action, IMS, VALID[action])
      expect({ action, status: res.status, code: res.body.Code }).toEqual({ action, status: 200, code: undefined })
    }
    const after = await storedState()
    expect(after.providerCount).toBe(2) // created "fresh", deleted "other"
    expect((after.providers as { OIDCProviderName: string }[]).map((p) => p.OIDCProviderName)).toEqual([EXISTING, 'fresh'])
    const existing = (await svc.call('GetOIDCProvider', IMS, { OIDCProviderName: EXISTING })).body.OIDCProvider
    expect(existing).toMatchObject({ Description: 'changed', ClientIds: 'client-b,client-new', Fingerprints: `${FP_B},${FP_NEW}` })
  })
})
