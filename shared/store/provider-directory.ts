// The providers of ALL accounts, for the background jobs: a sparse global secondary index on
// `issuerUrl` (hash) + `sk` (range), and the reading of provider images from the table's stream.
//
// Why an index and not a Scan of the table: the table also holds nonces, audit records (90 days of
// exchanges) and access keys, so a Scan every health-check interval would read all of them. Only
// items carrying an `issuerUrl` attribute enter the index (providers, their issuer guards and their
// health records), so
//   - the health check Scans the INDEX: cost proportional to the number of providers;
//   - key refresh Queries it by issuer: which providers (of any account) trust this IdP, and their
//     fingerprints.
// Neither is on a request path. Index reads are eventually consistent: a provider created a moment
// ago is seen by the next run (and key refresh hears of it from the stream anyway).
// Projection: keys + `fingerprints` + `status` (what the jobs need; health chains stay in the table).

import { type AttributeDefinition, DescribeTableCommand, type GlobalSecondaryIndex, UpdateTableCommand } from '@aws-sdk/client-dynamodb'
import { type DynamoDBDocumentClient, QueryCommand, ScanCommand } from '@aws-sdk/lib-dynamodb'
import { normaliseFingerprints } from '../oidc/https-fetch-chain.ts'
import { isIssuerUrl } from '../events/service-events.ts'
import { PROVIDER_PREFIX } from './table.ts'
import { HEALTH_PREFIX } from './health-store.ts'
import { toStoreError } from './store-errors.ts'

export const ISSUER_INDEX = 'byIssuer'
export const ISSUER_INDEX_PROJECTED = ['fingerprints', 'status'] as const

/** The index as CreateTable/UpdateTable take it (serverless.yml declares the same for AWS). */
export const ISSUER_INDEX_DEFINITION = {
  attribute: { AttributeName: 'issuerUrl', AttributeType: 'S' },
  index: {
    IndexName: ISSUER_INDEX,
    KeySchema: [
      { AttributeName: 'issuerUrl', KeyType: 'HASH' },
      { AttributeName: 'sk', KeyType: 'RANGE' },
    ],
    Projection: { ProjectionType: 'INCLUDE', NonKeyAttributes: [...ISSUER_INDEX_PROJECTED] },
  },
} as const satisfies { attribute: AttributeDefinition; index: GlobalSecondaryIndex }

export interface DirectoryProvider {
  accountId: string
  name: string
  issuerUrl: string
  /** Lower-case 40-hex SHA-1 thumbprints (anything else dropped). */
  fingerprints: string[]
}

export interface DirectoryHealthKey {
  accountId: string
  name: string
  issuerUrl: string
  status: string | undefined
}

const ACCOUNT_PK = /^ACCOUNT#(\d{16})$/
const HEALTH_PK = /^HEALTH#(\d{16})$/
const PROVIDER_NAME = /^[A-Za-z0-9._-]{1,128}$/

export class ProviderDirectory {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  /** Every provider and every health record of every account (paged Scan of the sparse index). */
  async scan(): Promise<{ providers: DirectoryProvider[]; health: DirectoryHealthKey[] }> {
    const providers: DirectoryProvider[] = []
    const health: DirectoryHealthKey[] = []
    let startKey: Record<string, unknown> | undefined
    try {
      do {
        const out = await this.client.send(
          new ScanCommand({
            TableName: this.tableName,
            IndexName: ISSUER_INDEX,
            // Issuer guards share the index; they are not needed here.
            FilterExpression: 'begins_with(sk, :provider) OR begins_with(sk, :health)',
            ExpressionAttributeValues: { ':provider': PROVIDER_PREFIX, ':health': HEALTH_PREFIX },
            ...(startKey ? { ExclusiveStartKey: startKey } : {}),
          }),
        )
        for (const item of out.Items ?? []) {
          const p = providerFromItem(item)
          if (p !== undefined) providers.push(p)
          else {
            const h = healthKeyFromItem(item)
            if (h !== undefined) health.push(h)
          }
        }
        startKey = out.LastEvaluatedKey
      } while (startKey !== undefined)
    } catch (e) {
      throw toStoreError(e)
    }
    return { providers, health }
  }

  /** The providers (of any account) registered for this issuer URL. */
  async byIssuer(issuerUrl: string): Promise<DirectoryProvider[]> {
    const out: DirectoryProvider[] = []
    let startKey: Record<string, unknown> | undefined
    try {
      do {
        const page = await this.client.send(
          new QueryCommand({
            TableName: this.tableName,
            IndexName: ISSUER_INDEX,
            KeyConditionExpression: 'issuerUrl = :issuer AND begins_with(sk, :provider)',
            ExpressionAttributeValues: { ':issuer': issuerUrl, ':provider': PROVIDER_PREFIX },
            ...(startKey ? { ExclusiveStartKey: startKey } : {}),
          }),
        )
        for (const item of page.Items ?? []) {
          const p = providerFromItem(item)
          if (p !== undefined) out.push(p)
        }
        startKey = page.LastEvaluatedKey
      } while (startKey !== undefined)
    } catch (e) {
      throw toStoreError(e)
    }
    return out
  }
}

function providerFromItem(item: Record<string, unknown>): DirectoryProvider | undefined {
  const { pk, sk, issuerUrl, fingerprints } = item
  if (typeof sk !== 'string' || !sk.startsWith(PROVIDER_PREFIX) || typeof pk !== 'string' || typeof issuerUrl !== 'string') return undefined
  const account = ACCOUNT_PK.exec(pk)?.[1]
  const name = sk.slice(PROVIDER_PREFIX.length)
  if (account === undefined || !PROVIDER_NAME.test(name)) return undefined
  const fps = Array.isArray(fingerprints) ? fingerprints.filter((f): f is string => typeof f === 'string') : []
  return { accountId: account, name, issuerUrl, fingerprints: normaliseFingerprints(fps) }
}

function healthKeyFromItem(item: Record<string, unknown>): DirectoryHealthKey | undefined {
  const { pk, sk, issuerUrl, status } = item
  if (typeof sk !== 'string' || !sk.startsWith(HEALTH_PREFIX) || typeof pk !== 'string' || typeof issuerUrl !== 'string') return undefined
  const account = HEALTH_PK.exec(pk)?.[1]
  if (account === undefined) return undefined
  return { accountId: account, name: sk.slice(HEALTH_PREFIX.length), issuerUrl, status: typeof status === 'string' ? status : undefined }
}

/**
 * Adds the index to a table created before it existed (an older local DATA_DIR) and waits until it is
 * ACTIVE (DynamoDB Local: from under a second to tens of seconds under load). Tables created now get
 * it with CreateTable (create-table.ts); on AWS it comes from serverless.yml.
 */
export async function ensureIssuerIndex(client: DynamoDBDocumentClient, tableName: string, timeoutMs = 60_000): Promise<'created' | 'exists'> {
  const describe = async () => (await client.send(new DescribeTableCommand({ TableName: tableName }))).Table?.GlobalSecondaryIndexes?.find((i) => i.IndexName === ISSUER_INDEX)
  let outcome: 'created' | 'exists' = 'exists'
  if ((await describe()) === undefined) {
    try {
      await client.send(
        new UpdateTableCommand({
          TableName: tableName,
          AttributeDefinitions: [ISSUER_INDEX_DEFINITION.attribute, { AttributeName: 'sk', AttributeType: 'S' }],
          GlobalSecondaryIndexUpdates: [{ Create: ISSUER_INDEX_DEFINITION.index }],
        }),
      )
      outcome = 'created'
    } catch (e) {
      // Two processes starting at once: the other one's creation is under way (else: a real error).
      if ((await describe()) === undefined) throw e
    }
  }
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const index = await describe()
    if (index?.IndexStatus === 'ACTIVE') return outcome
    if (Date.now() > deadline) throw new Error(`the ${ISSUER_INDEX} index of ${tableName} did not become ACTIVE within ${timeoutMs} ms`)
    await new Promise((r) => setTimeout(r, 100))
  }
}

// --- the table's stream --------------------------------------------------------------------------

type AttributeValue = Record<string, unknown>

/**
 * Strict reading of a stream image (DynamoDB JSON) into plain values: S, N, BOOL, NULL, L, M, SS, NS.
 * Throws on anything else, so a garbage image is refused rather than half-read.
 */
export function unmarshallImage(image: unknown): Record<string, unknown> {
  if (typeof image !== 'object' || image === null || Array.isArray(image)) throw new Error('the image is not an object')
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(image as Record<string, unknown>)) out[k] = unmarshallValue(v, 0)
  return out
}

function unmarshallValue(v: unknown, depth: number): unknown {
  if (depth > 32) throw new Error('the image nests too deeply')
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error('an attribute value is not an object')
  const entries = Object.entries(v as AttributeValue)
  if (entries.length !== 1) throw new Error('an attribute value does not have exactly one type')
  const [type, x] = entries[0]!
  switch (type) {
    case 'S':
      if (typeof x !== 'string') throw new Error('an S value is not a string')
      return x
    case 'N': {
      const n = typeof x === 'string' ? Number(x) : Number.NaN
      if (!Number.isFinite(n)) throw new Error('an N value is not a number')
      return n
    }
    case 'BOOL':
      if (typeof x !== 'boolean') throw new Error('a BOOL value is not a boolean')
      return x
    case 'NULL':
      return null
    case 'L':
      if (!Array.isArray(x)) throw new Error('an L value is not a list')
      return x.map((e) => unmarshallValue(e, depth + 1))
    case 'M':
      if (typeof x !== 'object' || x === null || Array.isArray(x)) throw new Error('an M value is not a map')
      return Object.fromEntries(Object.entries(x as Record<string, unknown>).map(([mk, mv]) => [mk, unmarshallValue(mv, depth + 1)]))
    case 'SS':
    case 'NS':
      if (!Array.isArray(x) || !x.every((e) => typeof e === 'string')) throw new Error(`an ${type} value is not a list of strings`)
      return type === 'SS' ? x : x.map(Number)
    default:
      throw new Error(`attribute type ${JSON.stringify(type).slice(0, 16)} is not expected in this table`)
  }
}

export type StreamImageKind = { kind: 'provider'; provider: DirectoryProvider } | { kind: 'other' } | { kind: 'rejected'; reason: string }

/** Whether a stream record's keys name a provider item (others are not this job's business). */
export function isProviderKey(keys: unknown): boolean | undefined {
  try {
    const k = unmarshallImage(keys)
    return typeof k.sk === 'string' ? k.sk.startsWith(PROVIDER_PREFIX) : undefined
  } catch {
    return undefined
  }
}

/** A provider item's NewImage/OldImage as the jobs need it, or why it cannot be one. */
export function providerFromStreamImage(image: unknown): StreamImageKind {
  let item: Record<string, unknown>
  try {
    item = unmarshallImage(image)
  } catch (e) {
    return { kind: 'rejected', reason: `the image is not valid DynamoDB JSON: ${(e as Error).message}` }
  }
  if (typeof item.sk !== 'string' || typeof item.pk !== 'string') return { kind: 'rejected', reason: 'the image has no pk/sk strings' }
  if (!item.sk.startsWith(PROVIDER_PREFIX)) return { kind: 'other' }
  const account = ACCOUNT_PK.exec(item.pk)?.[1]
  const name = item.sk.slice(PROVIDER_PREFIX.length)
  if (account === undefined) return { kind: 'rejected', reason: 'the provider image\'s pk is not ACCOUNT#<16 digits>' }
  if (!PROVIDER_NAME.test(name)) return { kind: 'rejected', reason: 'the provider image\'s sk does not end in a provider name' }
  if (item.accountId !== undefined && item.accountId !== account) return { kind: 'rejected', reason: 'the provider image\'s accountId disagrees with its pk' }
  if (item.name !== undefined && item.name !== name) return { kind: 'rejected', reason: 'the provider image\'s name disagrees with its sk' }
  if (!isIssuerUrl(item.issuerUrl)) return { kind: 'rejected', reason: 'the provider image has no valid https issuerUrl' }
  const fps = item.fingerprints
  if (fps !== undefined && !(Array.isArray(fps) && fps.every((f) => typeof f === 'string'))) {
    return { kind: 'rejected', reason: 'the provider image\'s fingerprints are not a list of strings' }
  }
  return { kind: 'provider', provider: { accountId: account, name, issuerUrl: item.issuerUrl, fingerprints: normaliseFingerprints((fps as string[] | undefined) ?? []) } }
}
