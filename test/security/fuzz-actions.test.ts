// Property-based fuzzing of the whole HTTP surface (issue 7 item 7), with fast-check:
//  - arbitrary parameter maps for EVERY registered action (managementActions() + stsActions), signed
//    with the root (operator) key, so they reach parse, authorize and run;
//  - raw requests: arbitrary methods, URLs, query strings, headers, content-types and body bytes,
//    unsigned and signed-then-mutated, and huge parameter counts.
// Invariants for every response: never a 5xx except 503 ServiceUnavailable; never a stack trace, file
// path, node_modules, "Error:" or AWS SDK text that the request did not itself contain; errors always
// in the Alibaba envelope. And a REJECTED request writes nothing: every write command the store client
// issues is intercepted, the items it targets are read before and after, and they must be unchanged
// (the only writes a rejected request may make are its nonce record, once it authenticated, and the
// Failure audit record of a token exchange). A Scan at the end of each property cross-checks that no
// write escaped the interception.
//
// Runs: FUZZ_RUNS=<factor> multiplies every numRuns (default 1: about 30 s on a quiet machine).

import { randomBytes } from 'node:crypto'
import { BatchWriteCommand, DeleteCommand, GetCommand, PutCommand, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { managementActions } from '../../shared/management-app.ts'
import { stsActions } from '../../shared/services/sts-actions.ts'
import { isWellFormedText } from '../../shared/signing/percent-encode.ts'
import { startTestService, type TestService } from '../support/service.ts'
import { signRpc, type SignedRequest } from '../support/sign.ts'
import { diffTables, expectErrorEnvelope, leakedInternals, scanTable, type Item } from './helpers.ts'

const FACTOR = Math.max(0.1, Number(process.env.FUZZ_RUNS ?? '1') || 1)
const runs = (n: number) => Math.max(1, Math.round(n * FACTOR))

const ACTIONS = [...managementActions(), ...stsActions].map((d) => ({ name: d.name, version: d.version, anonymous: d.anonymous === true }))
/** Codes of authentication failures: such a request must not even leave a nonce behind. */
const AUTH_FAILURE = /^(IncompleteSignature|SignatureDoesNotMatch|SignatureNonceUsed|InvalidAccessKeyId\.|InvalidTimeStamp\.|InvalidSecurityToken\.)/

let svc: TestService

// ----- write interception: what each request asked the store to write, and what those items were before

const keyOf = (k: { pk?: unknown; sk?: unknown } | undefined) => (k && typeof k.pk === 'string' && typeof k.sk === 'string' ? `${k.pk}\u0000${k.sk}` : undefined)

interface Write {
  key: string
  /** The item a put would store (to tell Failure audit records apart). */
  item?: Record<string, unknown>
}

function writesOf(command: unknown): Write[] | undefined {
  // Constructor identity, not names: a bundler or minifier must not blind the test.
  const input = (command as { input?: Record<string, any> }).input ?? {} // eslint-disable-line @typescript-eslint/no-explicit-any
  const one = (key: string | undefined, item?: Record<string, unknown>) => (key === undefined ? [] : [{ key, ...(item ? { item } : {}) }])
  if (command instanceof PutCommand) return one(keyOf(input.Item), input.Item)
  if (command instanceof UpdateCommand || command instanceof DeleteCommand) return one(keyOf(input.Key))
  if (command instanceof TransactWriteCommand) {
    return (input.TransactItems ?? []).flatMap((t: Record<string, any>) => (t.Put ? one(keyOf(t.Put.Item), t.Put.Item) : t.Update ? one(keyOf(t.Update.Key)) : t.Delete ? one(keyOf(t.Delete.Key)) : [])) // eslint-disable-line @typescript-eslint/no-explicit-any
  }
  if (command instanceof BatchWriteCommand) {
    return Object.values(input.RequestItems ?? {}).flatMap((reqs) =>
      (reqs as Array<Record<string, any>>).flatMap((r) => (r.PutRequest ? one(keyOf(r.PutRequest.Item), r.PutRequest.Item) : r.DeleteRequest ? one(keyOf(r.DeleteRequest.Key)) : [])), // eslint-disable-line @typescript-eslint/no-explicit-any
    )
  }
  return undefined
}

let original: TestService['stores']['documentClient']['send']
let writes: Write[] = []
/** Items as they were before the first write to them during the current request (undefined: absent). */
let preimages = new Map<string, string | undefined>()
/** Keys written by requests that succeeded (their changes are legitimate). */
const acceptedKeys = new Set<string>()

async function readItem(key: string): Promise<string | undefined> {
  const [pk, sk] = key.split('\u0000') as [string, string]
  const res = (await original(new GetCommand({ TableName: svc.stores.table.table.getName(), Key: { pk, sk }, ConsistentRead: true }) as never)) as { Item?: Record<string, unknown> }
  return res.Item === undefined ? undefined : JSON.stringify(Object.fromEntries(Object.entries(res.Item).sort(([a], [b]) => (a < b ? -1 : 1))))
}

beforeAll(async () => {
  svc = await startTestService({ fetchOptions: { connectTimeoutMs: 300, totalTimeoutMs: 600 } })
  const dc = svc.stores.documentClient
  original = dc.send.bind(dc) as typeof original
  dc.send = (async (command: unknown, ...rest: unknown[]) => {
    const ws = writesOf(command)
    if (ws !== undefined) {
      for (const w of ws) if (!preimages.has(w.key)) preimages.set(w.key, await readItem(w.key))
      writes.push(...ws)
    }
    return (original as (...a: unknown[]) => Promise<unknown>)(command, ...rest)
  }) as typeof dc.send
}, 60_000)
afterAll(async () => {
  await svc?.close()
})

// ----- one request and its checks

interface Sent {
  method: string
  url: string
  headers: Record<string, string>
  payload: string | Buffer
}

/** Sends, then checks the response invariants and that a rejected request changed nothing. */
async function check(req: Sent): Promise<{ status: number; body: Record<string, unknown> | undefined }> {
  writes = []
  preimages = new Map()
  const res = await svc.app.inject({ method: req.method as 'POST', url: req.url, headers: req.headers, payload: req.payload })
  // Token-exchange attempts are audited through a buffer: flush it so its writes count for this request.
  await svc.app.sts.audit.flush()
  const raw = res.body
  const requestText = `${safeDecode(req.url)}\n${JSON.stringify(req.headers)}\n${Buffer.isBuffer(req.payload) ? req.payload.toString('latin1') : safeDecode(req.payload)}`
  const where = `${req.method} ${req.url.slice(0, 300)} -> ${res.statusCode} ${raw.slice(0, 300)}`

  // Never a 5xx but the store-unavailable 503.
  let body: Record<string, unknown> | undefined
  if (req.method !== 'HEAD') {
    expect(res.headers['content-type'], where).toMatch(/^application\/json/)
    body = JSON.parse(raw) as Record<string, unknown>
  }
  if (res.statusCode >= 500) {
    expect(res.statusCode, where).toBe(503)
    expect(body?.Code, where).toBe('ServiceUnavailable')
  }
  expect(leakedInternals(raw, requestText), where).toEqual([])
  expect(leakedInternals(JSON.stringify(res.headers), requestText), where).toEqual([])
  if (body !== undefined && res.statusCode !== 200) expectErrorEnvelope(body)

  if (res.statusCode === 200) {
    for (const w of writes) acceptedKeys.add(w.key)
    return { status: res.statusCode, body }
  }
  // Rejected: only a nonce (after authentication) and Failure audit records may have been written ...
  const code = String(body?.Code ?? '')
  for (const w of writes) {
    if (w.key.startsWith('NONCE#')) {
      expect(AUTH_FAILURE.test(code), `${where}: a request refused by authentication wrote its nonce`).toBe(false)
      continue
    }
    if (w.key.startsWith('AUDIT#')) {
      expect(w.item?.outcome, where).toBe('Failure')
      continue
    }
    // ... and anything else it tried must have come to nothing (a conditional write that failed).
    expect(await readItem(w.key), `${where}: ${w.key.replace('\u0000', ' ')} changed`).toBe(preimages.get(w.key))
  }
  return { status: res.statusCode, body }
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s.replace(/\+/g, ' '))
  } catch {
    return s
  }
}

/** Runs `body` between two Scans and checks every change was made by an accepted request (or is a nonce / audit record). */
async function crossChecked(body: () => Promise<void>): Promise<void> {
  await svc.app.sts.audit.flush()
  const before = await scanTable(svc.stores)
  await body()
  await svc.app.sts.audit.flush()
  const diff = diffTables(before, await scanTable(svc.stores))
  const unexplained = [...diff.added, ...diff.removed, ...diff.changed.map((c) => c.after)]
    .map((i: Item) => `${i.pk}\u0000${i.sk}`)
    .filter((k) => !k.startsWith('NONCE#') && !k.startsWith('AUDIT#') && !acceptedKeys.has(k))
  expect(unexplained.map((k) => k.replace('\u0000', ' '))).toEqual([])
}

// ----- generators

const KNOWN_PARAMS = [
  'AccountId', 'AssumeRolePolicyDocument', 'ClientId', 'ClientIds', 'Date', 'Description', 'DurationSeconds', 'Fingerprint', 'Fingerprints',
  'IssuanceLimitTime', 'IssuerUrl', 'Marker', 'MaxItems', 'MaxSessionDuration', 'NewAssumeRolePolicyDocument', 'NewDescription',
  'NewMaxSessionDuration', 'OIDCProviderArn', 'OIDCProviderName', 'OIDCToken', 'Policy', 'PolicyDocument', 'PolicyName', 'PolicyType',
  'RoleArn', 'RoleName', 'RoleSessionName',
]
const TRICKY_NAMES = ['Action', 'Version', 'Format', 'RegionId', 'Signature', 'AccessKeyId', 'SecurityToken', 'SignatureNonce', 'Timestamp', '__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', '']

const policy = (statement: unknown) => JSON.stringify({ Version: '1', Statement: statement })
const TRICKY_VALUES = [
  '', ' ', '0', '-1', '1e400', '9'.repeat(30), 'NaN', 'Infinity', 'null', 'true', '[]', '{}', '{"__proto__":{"polluted":1}}', '%00', '\u0000', '\u202e', '\ufeff',
  'a'.repeat(65), 'a'.repeat(257), 'a'.repeat(2049), 'x'.repeat(20_001), '😀'.repeat(130),
  'ci', 'System', 'Custom', 'AliyunRAMReadOnlyAccess', 'AdministratorAccess', 'sts.aliyuncs.com', 'a'.repeat(40), 'A'.repeat(40), `${'a'.repeat(40)},${'b'.repeat(40)}`,
  'https://idp.example.com', 'https://127.0.0.1', 'https://169.254.169.254', 'http://idp.example.com', 'https://idp.example.com/?q#f', 'https://u:p@idp.example.com',
  'acs:ram::1234567890123456:oidc-provider/ci', 'acs:ram::1234567890123456:role/deployer', 'acs:ram::*:role/*',
  '2026-11-28', '2026-02-30', 'eyJhbGciOiJub25lIn0.e30.', 'a.b.c', 'e30.e30.e30', 'build-42',
  policy([{ Effect: 'Allow', Action: '*', Resource: '*' }]),
  policy([{ Effect: 'Allow', Action: 'sts:AssumeRole', Principal: { Federated: 'acs:ram::1234567890123456:oidc-provider/ci' } }]),
  policy([{ Effect: 'Allow', Action: 'sts:AssumeRole', Principal: { RAM: '*' }, Condition: { StringLike: { 'oidc:sub': '*' } } }]),
  policy('x'), policy([]), policy([{ Effect: 'Maybe' }]), JSON.stringify({ Version: '2', Statement: [] }), `{"Version":"1","Version":"1","Statement":[]}`,
  '{"Version":"1","Statement":[' + '['.repeat(500) + ']'.repeat(500) + ']}',
]

const wellFormed = (s: string) => isWellFormedText(s)
const paramName = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(...KNOWN_PARAMS) },
  { weight: 1, arbitrary: fc.constantFrom(...TRICKY_NAMES) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 16 }).filter(wellFormed) },
)
const paramValue = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...TRICKY_VALUES) },
  { weight: 2, arbitrary: fc.string({ maxLength: 40 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }).filter(wellFormed) },
  { weight: 1, arbitrary: fc.integer().map(String) },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v) ?? 'null') },
)
const params = fc.dictionary(paramName, paramValue.filter(wellFormed), { maxKeys: 8 })

const signedCall = (action: { name: string; version: string }, p: Record<string, string>, inForm: boolean): Sent => {
  const req: SignedRequest = signRpc({ creds: svc.rootCreds, action: action.name, version: action.version, ...(inForm ? { form: p } : { params: p }) })
  return { method: req.method, url: req.url, headers: req.headers, payload: req.payload }
}

// ----- the properties

describe('fuzzing every action with arbitrary parameters, signed with the root key', () => {
  it('lists the actions under test', () => {
    expect(ACTIONS.map((a) => a.name)).toEqual(expect.arrayContaining(['CreateOIDCProvider', 'CreateRole', 'CreatePolicy', 'AttachPolicyToRole', 'CreateAccount', 'ListAuditEvents', 'AssumeRoleWithOIDC', 'GetCallerIdentity']))
    expect(ACTIONS.length).toBeGreaterThanOrEqual(20)
  })

  it.each(ACTIONS.map((a) => [a.name, a] as const))('%s', async (_name, action) => {
    await crossChecked(async () => {
      await fc.assert(
        fc.asyncProperty(params, fc.boolean(), async (p, inForm) => {
          const sent = action.anonymous
            ? { method: 'POST', url: `/?Action=${action.name}&Version=${action.version}`, headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: new URLSearchParams(p).toString() }
            : signedCall(action, p, inForm)
          await check(sent)
        }),
        { numRuns: runs(15) },
      )
    })
  })

  it('any action, any parameters (mixed)', async () => {
    await crossChecked(async () => {
      await fc.assert(
        fc.asyncProperty(fc.constantFrom(...ACTIONS), params, fc.boolean(), async (action, p, inForm) => {
          await check(signedCall(action, p, inForm))
        }),
        { numRuns: runs(150) },
      )
    })
  })

  it('valid calls with one parameter mutated, over a small pool of names (creates, conflicts, deletes, attaches)', async () => {
    const account = () => svc.root.AccountId
    const pick = (xs: readonly string[]) => fc.constantFrom(...xs)
    const providers = ['fz-1', 'fz-2']
    const roles = ['r-1', 'R-1', 'r-2']
    const policies = ['pol-1', 'pol-2']
    const trust = (p: string) => JSON.stringify({ Version: '1', Statement: [{ Effect: 'Allow', Action: 'sts:AssumeRole', Principal: { Federated: `acs:ram::${account()}:oidc-provider/${p}` } }] })
    const doc = JSON.stringify({ Version: '1', Statement: [{ Effect: 'Allow', Action: 'ram:Get*', Resource: '*' }] })
    const templates: Array<fc.Arbitrary<[string, string, Record<string, string>]>> = [
      fc.tuple(pick(providers), fc.nat(2)).map(([n, i]) => ['CreateOIDCProvider', '2019-08-15', { OIDCProviderName: n, IssuerUrl: `https://fz${i}.example.com`, Fingerprints: 'a'.repeat(40), ClientIds: 'sts.aliyuncs.com' }]),
      pick(providers).map((n) => ['UpdateOIDCProvider', '2019-08-15', { OIDCProviderName: n, NewDescription: 'changed', ClientIds: 'a,b' }]),
      fc.tuple(pick(providers), pick(['c1', 'c2'])).map(([n, c]) => ['AddClientIdToOIDCProvider', '2019-08-15', { OIDCProviderName: n, ClientId: c }]),
      fc.tuple(pick(providers), pick(['c1', 'sts.aliyuncs.com'])).map(([n, c]) => ['RemoveClientIdFromOIDCProvider', '2019-08-15', { OIDCProviderName: n, ClientId: c }]),
      fc.tuple(pick(providers), pick(['b'.repeat(40), 'a'.repeat(40)])).map(([n, f]) => ['AddFingerprintToOIDCProvider', '2019-08-15', { OIDCProviderName: n, Fingerprint: f }]),
      fc.tuple(pick(providers), pick(['b'.repeat(40), 'a'.repeat(40)])).map(([n, f]) => ['RemoveFingerprintFromOIDCProvider', '2019-08-15', { OIDCProviderName: n, Fingerprint: f }]),
      pick(providers).map((n) => ['DeleteOIDCProvider', '2019-08-15', { OIDCProviderName: n }]),
      fc.tuple(pick(roles), pick(providers)).map(([r, p]) => ['CreateRole', '2015-05-01', { RoleName: r, AssumeRolePolicyDocument: trust(p), MaxSessionDuration: '3600' }]),
      pick(roles).map((r) => ['UpdateRole', '2015-05-01', { RoleName: r, NewMaxSessionDuration: '7200' }]),
      pick(roles).map((r) => ['DeleteRole', '2015-05-01', { RoleName: r }]),
      pick(policies).map((p) => ['CreatePolicy', '2015-05-01', { PolicyName: p, PolicyDocument: doc }]),
      pick(policies).map((p) => ['DeletePolicy', '2015-05-01', { PolicyName: p }]),
      fc.tuple(pick(roles), fc.constantFrom(['Custom', 'pol-1'], ['Custom', 'pol-2'], ['System', 'AliyunRAMReadOnlyAccess'])).map(([r, [t, p]]) => ['AttachPolicyToRole', '2015-05-01', { RoleName: r, PolicyType: t, PolicyName: p }]),
      fc.tuple(pick(roles), fc.constantFrom(['Custom', 'pol-1'], ['System', 'AliyunRAMReadOnlyAccess'])).map(([r, [t, p]]) => ['DetachPolicyFromRole', '2015-05-01', { RoleName: r, PolicyType: t, PolicyName: p }]),
      fc.constant(['CreateAccount', '2026-11-01', {}]),
    ]
    const mutation = fc.oneof(
      { weight: 3, arbitrary: fc.constant({ kind: 'none' as const }) },
      { weight: 2, arbitrary: fc.record({ kind: fc.constant('drop' as const), index: fc.nat() }) },
      { weight: 3, arbitrary: fc.record({ kind: fc.constant('set' as const), index: fc.nat(), value: paramValue.filter(wellFormed) }) },
      { weight: 1, arbitrary: fc.record({ kind: fc.constant('add' as const), name: paramName, value: paramValue.filter(wellFormed) }) },
    )
    let accepted = 0
    let conflicts = 0
    await crossChecked(async () => {
      await fc.assert(
        fc.asyncProperty(fc.oneof(...templates), mutation, fc.boolean(), async ([name, version, p], m, inForm) => {
          const q: Record<string, string> = { ...p }
          const keys = Object.keys(q)
          if (m.kind === 'drop' && keys.length > 0) delete q[keys[m.index % keys.length]!]
          if (m.kind === 'set' && keys.length > 0) q[keys[m.index % keys.length]!] = m.value
          if (m.kind === 'add') q[m.name] = m.value
          const { status } = await check(signedCall({ name, version }, q, inForm))
          if (status === 200) accepted++
          else if (writes.some((w) => !w.key.startsWith('NONCE#') && !w.key.startsWith('AUDIT#'))) conflicts++
        }),
        { numRuns: runs(200) },
      )
    })
    // The property reached both sides: writes that happened, and conditional writes refused by the store.
    expect(accepted).toBeGreaterThan(0)
    expect(conflicts).toBeGreaterThan(0)
  })
})

/** What an HTTP client can put in a header value. */
const printable = (s: string) => s.replace(/[^\x20-\x7e]/g, '')
const METHODS = ['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS']
const CONTENT_TYPES = [
  'application/x-www-form-urlencoded', 'application/x-www-form-urlencoded; charset=utf-8', 'application/x-www-form-urlencoded; charset=utf-16',
  'APPLICATION/X-WWW-FORM-URLENCODED', 'application/json', 'text/plain', 'multipart/form-data; boundary=----x', 'application/octet-stream',
  'application/x-www-form-urlencoded, application/json', 'application/xml', '*/*', ';;;', 'x',
]
const byteString = fc.uint8Array({ maxLength: 64 }).map((b) => [...b].map((x) => `%${x.toString(16).padStart(2, '0')}`).join(''))
const rawQueryPart = fc.oneof(
  fc.tuple(fc.constantFrom(...KNOWN_PARAMS, ...TRICKY_NAMES), paramValue).map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`),
  fc.tuple(byteString, byteString).map(([k, v]) => `${k}=${v}`),
  fc.string({ maxLength: 20 }).map((s) => s.replace(/[#\s]/g, '')),
  fc.constantFrom('Action=CreateOIDCProvider', 'Action=AssumeRoleWithOIDC', 'Version=2019-08-15', 'Version=2015-04-01', 'Version=2015-05-01', 'Version=2026-11-01', 'Action=CreateAccount', 'Signature=AAAA', 'SignatureMethod=HMAC-SHA1', 'Format=XML', '%', '%zz', '%c3', '=', '&&', 'a=b=c'),
)
const rawHeaders = fc.record(
  {
    'content-type': fc.constantFrom(...CONTENT_TYPES),
    authorization: fc.oneof(
      fc.constantFrom('ACS3-HMAC-SHA256', 'ACS3-HMAC-SHA256 Credential=LTAI0000000000000000,SignedHeaders=host,Signature=' + '0'.repeat(64), 'ACS3-HMAC-SM3 x', 'Basic YTpi', 'Bearer x.y.z', ''),
      fc.string({ maxLength: 80 }).map((s) => `ACS3-HMAC-SHA256 ${printable(s)}`),
    ),
    'x-acs-action': fc.constantFrom('CreateOIDCProvider', 'DeleteRole', 'AssumeRoleWithOIDC', 'Nope', ''),
    'x-acs-version': fc.constantFrom('2019-08-15', '2015-05-01', '2015-04-01', '1999-01-01'),
    'x-acs-date': fc.constantFrom(new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'), '2026-13-40T99:99:99Z', 'yesterday', ''),
    'x-acs-signature-nonce': fc.string({ maxLength: 140 }).map(printable),
    'x-acs-security-token': fc.constantFrom('', 'a.b.c.d.e', 'eyJhbGciOiJkaXIiLCJlbmMiOiJBMjU2R0NNIiwia2lkIjoieCJ9..AAAA.AAAA.AAAA', 'x'.repeat(40_000)),
    'x-acs-content-sha256': fc.constantFrom('', 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855', 'zz'),
    'content-encoding': fc.constantFrom('gzip', 'br', 'identity'),
  },
  { requiredKeys: [] },
)
const rawBody = fc.oneof(
  fc.uint8Array({ maxLength: 512 }).map((b) => Buffer.from(b)),
  fc.array(rawQueryPart, { maxLength: 20 }).map((parts) => parts.join('&')),
  fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v) ?? ''),
  fc.constant(''),
)

describe('fuzzing raw requests', () => {
  it('arbitrary methods, paths, queries, headers, content-types and bodies (unsigned)', async () => {
    await crossChecked(async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.constantFrom(...METHODS),
          fc.oneof({ weight: 5, arbitrary: fc.constant('/') }, { weight: 1, arbitrary: fc.constantFrom('/health', '//', '/../etc/passwd', '/%2e%2e/', '/index.php', '/?', '/;a', '/%00', '/%', '/%zz', '/a%c3') }),
          fc.array(rawQueryPart, { maxLength: 12 }),
          rawHeaders,
          rawBody,
          async (method, path, query, headers, body) => {
            const url = query.length === 0 ? path : `${path.replace(/\?$/, '')}?${query.join('&')}`
            const payload = method === 'GET' || method === 'OPTIONS' ? '' : body
            await check({ method, url, headers: headers as Record<string, string>, payload })
          },
        ),
        { numRuns: runs(200) },
      )
    })
  })

  it('validly signed requests with one random mutation (URL, header or body byte)', async () => {
    await crossChecked(async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.constantFrom(...ACTIONS.filter((a) => !a.anonymous)),
          params,
          fc.boolean(),
          fc.oneof(
            fc.record({ where: fc.constant('url' as const), at: fc.nat(), ch: fc.constantFrom('A', '%', '&', '=', '+', '%00', '%25', 'é', '') }),
            fc.record({ where: fc.constant('header' as const), name: fc.constantFrom('authorization', 'x-acs-date', 'x-acs-signature-nonce', 'x-acs-content-sha256', 'x-acs-action', 'x-acs-version', 'host', 'content-type', 'x-acs-security-token', 'accept'), value: fc.string({ maxLength: 70 }).map(printable) }),
            fc.record({ where: fc.constant('body' as const), at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }),
          ),
          async (action, p, inForm, m) => {
            const sent = signedCall(action, p, inForm)
            if (m.where === 'url') {
              const i = m.at % sent.url.length
              sent.url = `${sent.url.slice(0, i)}${m.ch}${sent.url.slice(i + 1)}`
              if (!sent.url.startsWith('/')) sent.url = `/${sent.url}`
            } else if (m.where === 'header') {
              sent.headers = { ...sent.headers, [m.name]: m.value }
            } else {
              const bytes = Buffer.from(sent.payload.length === 0 ? 'x' : sent.payload)
              bytes[m.at % bytes.length] = m.byte
              sent.payload = bytes
            }
            await check(sent)
          },
        ),
        { numRuns: runs(150) },
      )
    })
  })

  it('huge parameter counts, names and values: refused with a 4xx (how fast is measured in bench/, not here)', async () => {
    const many = (n: number, prefix = 'P') => Array.from({ length: n }, (_, i) => `${prefix}${i}=${i}`).join('&')
    const cases: Sent[] = [
      { method: 'GET', url: `/?${many(201)}`, headers: {}, payload: '' },
      { method: 'GET', url: `/?${many(5_000)}`, headers: {}, payload: '' },
      { method: 'POST', url: '/?Action=CreateOIDCProvider&Version=2019-08-15', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: many(20_000) },
      { method: 'POST', url: '/', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: `${'a'.repeat(200_000)}=1` },
      { method: 'POST', url: '/', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: 'a=1&'.repeat(100_000) },
      { method: 'POST', url: '/', headers: { 'content-type': 'application/octet-stream' }, payload: randomBytes(300 * 1024) },
      { method: 'GET', url: `/?Action=${'A'.repeat(60_000)}`, headers: {}, payload: '' },
      { method: 'GET', url: `/?${'%'.repeat(10_000)}`, headers: {}, payload: '' },
      { method: 'GET', url: '/', headers: Object.fromEntries(Array.from({ length: 500 }, (_, i) => [`x-acs-h${i}`, 'v'])), payload: '' },
      { ...signedCall(ACTIONS.find((a) => a.name === 'CreateOIDCProvider')!, Object.fromEntries(Array.from({ length: 199 }, (_, i) => [`P${i}`, 'v'])), false) },
      { ...signedCall(ACTIONS.find((a) => a.name === 'ListRoles')!, Object.fromEntries(Array.from({ length: 300 }, (_, i) => [`P${i}`, 'v'])), true) },
    ]
    await crossChecked(async () => {
      for (const c of cases) {
        const { status } = await check(c)
        expect(status, c.url.slice(0, 80)).toBeGreaterThanOrEqual(400)
        expect(status).toBeLessThan(500)
      }
    })
  })
})

describe('found by the fuzzer', () => {
  it('a malformed percent-encoding in the PATH is answered in the envelope, without echoing the URL (was Fastify\'s FST_ERR_BAD_URL)', async () => {
    const secret = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJlLXRoYXQtbXVzdC1ub3QtYmUtZWNob2Vk'
    for (const url of ['/%', `/%?OIDCToken=${secret}`, '/%zz', '/a%c3']) {
      const res = await svc.app.inject({ method: 'POST', url })
      expect(res.statusCode).toBe(400)
      expect(res.headers['x-acs-request-id']).toMatch(/^[0-9A-F-]{36}$/)
      const body = res.json()
      expectErrorEnvelope(body)
      expect(body.Code).toBe('InvalidParameter.Format')
      expect(res.body).not.toContain(secret)
      expect(res.body).not.toContain('FST_')
    }
  })
})

describe('after the fuzzing', () => {
  it('nothing was polluted and the service still answers a normal call', async () => {
    expect(Object.prototype).not.toHaveProperty('polluted')
    const res = await svc.call('ListOIDCProviders', '2019-08-15', {})
    expect(res.status).toBe(200)
  })
})
