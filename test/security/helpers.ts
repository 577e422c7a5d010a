// Shared by the test/security suites: table snapshots (what a request wrote), response checks (no
// credentials, no internals), and a test service whose logger the test chooses.

import { ScanCommand } from '@aws-sdk/lib-dynamodb'
import { expect } from 'vitest'
import type { Stores } from '../../shared/store/stores.ts'

export type Item = Record<string, unknown> & { pk: string; sk: string }

/** Every item of the service's table (tests may Scan; the service never does). */
export async function scanTable(stores: Pick<Stores, 'documentClient' | 'table'>): Promise<Map<string, Item>> {
  const items = new Map<string, Item>()
  let start: Record<string, unknown> | undefined
  do {
    const page = await stores.documentClient.send(
      new ScanCommand({ TableName: stores.table.table.getName(), ConsistentRead: true, ...(start ? { ExclusiveStartKey: start } : {}) }),
    )
    for (const raw of page.Items ?? []) {
      const item = raw as Item
      items.set(`${item.pk}\u0000${item.sk}`, item)
    }
    start = page.LastEvaluatedKey
  } while (start)
  return items
}

export interface TableDiff {
  added: Item[]
  removed: Item[]
  changed: Array<{ before: Item; after: Item }>
}

export function diffTables(before: Map<string, Item>, after: Map<string, Item>): TableDiff {
  const diff: TableDiff = { added: [], removed: [], changed: [] }
  for (const [k, item] of after) {
    const old = before.get(k)
    if (old === undefined) diff.added.push(item)
    else if (JSON.stringify(sortKeys(old)) !== JSON.stringify(sortKeys(item))) diff.changed.push({ before: old, after: item })
  }
  for (const [k, item] of before) if (!after.has(k)) diff.removed.push(item)
  return diff
}

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys)
  if (v instanceof Set) return [...v].map(sortKeys).sort()
  if (v && typeof v === 'object') return Object.fromEntries(Object.keys(v).sort().map((k) => [k, sortKeys((v as Record<string, unknown>)[k])]))
  return v
}

export const isAudit = (item: Item) => item.pk.startsWith('AUDIT#')
export const isNonce = (item: Item) => item.pk.startsWith('NONCE#')

/**
 * What an anonymous exchange that failed may leave behind: audit records of outcome Failure, nothing
 * else added, nothing changed or removed.
 */
export function expectOnlyFailureAudit(diff: TableDiff, expectedCode?: string): void {
  expect(diff.removed, 'items removed').toEqual([])
  expect(diff.changed.map((c) => c.after.pk + ' ' + c.after.sk), 'items changed').toEqual([])
  const other = diff.added.filter((i) => !isAudit(i))
  expect(other.map((i) => `${i.pk} ${i.sk}`), 'items added besides the audit record').toEqual([])
  for (const a of diff.added) {
    expect(a.outcome).toBe('Failure')
    if (expectedCode !== undefined) expect(a.errorCode).toBe(expectedCode)
  }
}

/** Nothing at all written (signed requests that fail authentication, or fail before it). */
export function expectNothingWritten(diff: TableDiff): void {
  expect({ added: diff.added.map((i) => `${i.pk} ${i.sk}`), removed: diff.removed.map((i) => `${i.pk} ${i.sk}`), changed: diff.changed.map((c) => `${c.after.pk} ${c.after.sk}`) }).toEqual({
    added: [],
    removed: [],
    changed: [],
  })
}

/** The Alibaba error envelope, exactly these members (AccessDeniedDetail only on NoPermission). */
export const ENVELOPE_KEYS = ['Code', 'HostId', 'Message', 'Recommend', 'RequestId']

export interface ErrorEnvelopeBody {
  Code: string
  Message: string
  RequestId: string
  HostId: string
  Recommend: string
}

export function expectErrorEnvelope(body: unknown): asserts body is ErrorEnvelopeBody {
  expect(body).toBeTypeOf('object')
  const b = body as Record<string, unknown>
  const keys = Object.keys(b).filter((k) => k !== 'AccessDeniedDetail').sort()
  expect(keys).toEqual(ENVELOPE_KEYS)
  for (const k of ENVELOPE_KEYS) expect(b[k], k).toBeTypeOf('string')
  expect(b.Code).toMatch(/^[A-Za-z][A-Za-z0-9.]*$/)
  expect(b.RequestId).toMatch(/^[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}$/)
}

/**
 * Text that must never reach a client: stack frames, source or module paths, raw JS error names, AWS
 * SDK / DynamoDB wording, addresses of the backend.
 */
export const INTERNALS: ReadonlyArray<readonly [string, RegExp]> = [
  ['stack frame', /\n\s+at [^\n]+[:(]\d+/],
  ['stack frame (single line)', /\bat (?:async )?[\w.<>]+ \((?:file:|node:|\/)/],
  ['source path', /(?:\/work\/|\/shared\/|\/test\/|\/functions\/)[\w./-]+\.(?:ts|js)\b/],
  ['file path', /\.(?:ts|js|mjs|cjs):\d+/],
  ['node_modules', /node_modules/],
  ['JS error text', /\b(?:Type|Range|Reference|Syntax|URI)?Error: /],
  ['AWS SDK', /\b(?:aws-sdk|@aws-sdk|smithy|DynamoDB|dynamodb|ConditionalCheckFailed|ValidationException|ResourceNotFound|ProvisionedThroughput|TransactionCanceled|UnrecognizedClient|\$metadata)\b/],
  ['backend address', /\b(?:ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE)\b/],
]

/**
 * The internals `text` reveals that the request did not itself contain (a message may echo a
 * client's own input, truncated: that is not a leak).
 */
export function leakedInternals(text: string, requestText = ''): string[] {
  return INTERNALS.filter(([, re]) => re.test(text) && !re.test(requestText)).map(([name]) => name)
}

/** A response that must not carry credentials in any form. */
export function expectNoCredentials(body: object, raw: string): void {
  expect((body as Record<string, unknown>).Credentials).toBeUndefined()
  expect(raw).not.toMatch(/AccessKeySecret|SecurityToken|STS\.[1-9A-HJ-NP-Za-km-z]{10}/)
}

