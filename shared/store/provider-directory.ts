// The providers of ALL accounts, for the background jobs: a sparse global secondary index on
// `issuerUrl` (hash) + `sk` (range), and the provider a table-stream record names. The stream carries
// keys only (KEYS_ONLY: its readers never see an item's attributes, AccessKey secrets included), so
// key refresh reads the provider's issuer and fingerprints by key, and nothing else of it.
//
// Why an index and not a Scan of the table: the table also holds nonces, audit records (90 days of
// exchanges) and access keys, so a Scan every health-check interval would read all of them. Only
// items carrying an `issuerUrl` attribute enter the index (providers, their issuer guards and their
// health records), so
//   - the health check Scans the INDEX: cost proportional to the number of providers;
//   - key refresh Queries it by issuer: which providers (of any account) trust this IdP, and their
//     fingerprints.
// Neither is on a request path. Index reads are eventually consistent: a provider created a moment
// ago is seen by the next run (and key refresh hears of it from the stream, and reads it by key).
// Projection: keys + `fingerprints` (what the jobs read) + `status` (see ISSUER_INDEX_PROJECTED).

import { type AttributeDefinition, DescribeTableCommand, type GlobalSecondaryIndex, UpdateTableCommand } from '@aws-sdk/client-dynamodb'
import { type DynamoDBDocumentClient, GetCommand, QueryCommand, ScanCommand } from '@aws-sdk/lib-dynamodb'
import { normaliseFingerprints } from '../oidc/https-fetch-chain.ts'
import { isIssuerUrl } from '../events/service-events.ts'
import { accountPk, PROVIDER_PREFIX } from './table-keys.ts'
import { HEALTH_PREFIX } from './health-store.ts'
import { toStoreError } from './store-errors.ts'

export const ISSUER_INDEX = 'byIssuer'
// `status` is no longer read, but stays projected: CloudFormation cannot change a deployed index's
// projection in place (the update fails), so dropping it would need a new index.
export const ISSUER_INDEX_PROJECTED = ['fingerprints', 'status'] as const
/** What key refresh reads of a provider item (the role's dynamodb:Attributes grant names the same). */
export const PROVIDER_READ_ATTRIBUTES = ['pk', 'sk', 'issuerUrl', 'fingerprints'] as const

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

  /**
   * One provider's issuer and fingerprints, read strongly consistently (key refresh, after a stream
   * record that names only the key). Only PROVIDER_READ_ATTRIBUTES are read: the key-refresh role may
   * read no other attribute of an ACCOUNT# item (serverless.yml).
   */
  async get(accountId: string, name: string): Promise<ProviderRead> {
    let item: Record<string, unknown> | undefined
    try {
      const names = Object.fromEntries(PROVIDER_READ_ATTRIBUTES.map((a, i) => [`#a${i}`, a]))
      item = (
        await this.client.send(
          new GetCommand({
            TableName: this.tableName,
            Key: { pk: accountPk(accountId), sk: `${PROVIDER_PREFIX}${name}` },
            ConsistentRead: true,
            ProjectionExpression: Object.keys(names).join(', '),
            ExpressionAttributeNames: names,
          }),
        )
      ).Item
    } catch (e) {
      throw toStoreError(e)
    }
    return item === undefined ? { kind: 'missing' } : providerFromReadItem(accountId, name, item)
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
  const { pk, sk, issuerUrl } = item
  if (typeof sk !== 'string' || !sk.startsWith(HEALTH_PREFIX) || typeof pk !== 'string' || typeof issuerUrl !== 'string') return undefined
  const account = HEALTH_PK.exec(pk)?.[1]
  if (account === undefined) return undefined
  return { accountId: account, name: sk.slice(HEALTH_PREFIX.length), issuerUrl }
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

/**
 * A stream record's Keys (DynamoDB JSON) as plain strings: this table's keys are the strings pk and sk,
 * so any other shape is refused rather than half-read.
 */
function readStreamKeys(keys: unknown): { pk: string; sk: string } {
  if (typeof keys !== 'object' || keys === null || Array.isArray(keys)) throw new Error('the Keys are not an object')
  const out: Record<string, string> = {}
  for (const [name, value] of Object.entries(keys as Record<string, unknown>)) {
    if (name !== 'pk' && name !== 'sk') throw new Error(`the Keys name an attribute ${JSON.stringify(name.slice(0, 16))} that is no key of this table`)
    const entries = typeof value === 'object' && value !== null && !Array.isArray(value) ? Object.entries(value) : []
    if (entries.length !== 1 || entries[0]![0] !== 'S' || typeof entries[0]![1] !== 'string') throw new Error(`the ${name} value is not a DynamoDB string`)
    out[name] = entries[0]![1]
  }
  if (out.pk === undefined || out.sk === undefined) throw new Error('the Keys lack pk or sk')
  return { pk: out.pk, sk: out.sk }
}

/** A provider's key as a stream record names it (the table's stream carries keys only). */
export type StreamProviderKey = { kind: 'provider'; accountId: string; name: string } | { kind: 'other' } | { kind: 'rejected'; reason: string }

/** Whether a stream record's Keys name a provider item (others are not this job's business), and which. */
export function providerKeyOf(keys: unknown): StreamProviderKey {
  let k: { pk: string; sk: string }
  try {
    k = readStreamKeys(keys)
  } catch (e) {
    return { kind: 'rejected', reason: `unreadable Keys: ${(e as Error).message}` }
  }
  if (!k.sk.startsWith(PROVIDER_PREFIX)) return { kind: 'other' }
  const accountId = ACCOUNT_PK.exec(k.pk)?.[1]
  const name = k.sk.slice(PROVIDER_PREFIX.length)
  if (accountId === undefined) return { kind: 'rejected', reason: 'the provider\'s pk is not ACCOUNT#<16 digits>' }
  if (!PROVIDER_NAME.test(name)) return { kind: 'rejected', reason: 'the provider\'s sk does not end in a provider name' }
  return { kind: 'provider', accountId, name }
}

export type ProviderRead = { kind: 'provider'; provider: DirectoryProvider } | { kind: 'missing' } | { kind: 'rejected'; reason: string }

/** A provider item as the jobs need it (only PROVIDER_READ_ATTRIBUTES are read), or why it cannot be one. */
function providerFromReadItem(accountId: string, name: string, item: Record<string, unknown>): ProviderRead {
  if (item.pk !== accountPk(accountId) || item.sk !== `${PROVIDER_PREFIX}${name}`) return { kind: 'rejected', reason: 'the item read is not the provider its key names' }
  if (!isIssuerUrl(item.issuerUrl)) return { kind: 'rejected', reason: 'the provider item has no valid https issuerUrl' }
  const fps = item.fingerprints
  if (fps !== undefined && !(Array.isArray(fps) && fps.every((f) => typeof f === 'string'))) {
    return { kind: 'rejected', reason: 'the provider item\'s fingerprints are not a list of strings' }
  }
  return { kind: 'provider', provider: { accountId, name, issuerUrl: item.issuerUrl, fingerprints: normaliseFingerprints((fps as string[] | undefined) ?? []) } }
}
