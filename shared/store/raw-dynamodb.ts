// A minimal DynamoDB client for the token-exchange cold path: GetItem only, on the raw JSON-protocol
// client (shared/aws/raw-json-client.ts: SigV4 from node:crypto, one keep-alive agent). Loading and
// first use cost ~10 ms where the AWS SDK v3 client + lib-dynamodb + dynamodb-toolbox cost ~100 ms on a
// cold start (BENCHMARKS.md "Cold start"). Everything else (writes, queries, transactions) stays on the
// toolbox stores, loaded on first use. Errors carry the SDK's shapes (name = the exception's short
// name, network errors keep their code), so store-errors.ts maps them exactly as it maps SDK failures.

import { RawJsonClient, type RawJsonClientOptions } from '../aws/raw-json-client.ts'

export type AttributeValue =
  | { S: string } | { N: string } | { BOOL: boolean } | { NULL: true }
  | { L: AttributeValue[] } | { M: Record<string, AttributeValue> } | { SS: string[] } | { NS: string[] }

/** The raw client's options, the protocol's own fixed here. */
export type RawDynamoOptions = Omit<RawJsonClientOptions, 'service' | 'targetPrefix' | 'jsonVersion'>

export class RawDynamo {
  private readonly client: RawJsonClient
  constructor(opts: RawDynamoOptions) {
    // The client's default response bound (2 MiB) holds any item (at most 400 KB).
    this.client = new RawJsonClient({ ...opts, service: 'dynamodb', targetPrefix: 'DynamoDB_20120810', jsonVersion: '1.0' })
  }

  async getItem(tableName: string, key: Record<string, AttributeValue>, consistent = true): Promise<Record<string, AttributeValue> | undefined> {
    const out = (await this.client.call('GetItem', { TableName: tableName, Key: key, ConsistentRead: consistent })) as { Item?: Record<string, AttributeValue> }
    return out.Item
  }
}

/** AttributeValue -> plain value (S, N as number, BOOL, NULL, L, M; sets as arrays). */
export function unmarshallValue(v: AttributeValue): unknown {
  if ('S' in v) return v.S
  if ('N' in v) return Number(v.N)
  if ('BOOL' in v) return v.BOOL
  if ('NULL' in v) return null
  if ('L' in v) return v.L.map(unmarshallValue)
  if ('M' in v) return unmarshallItem(v.M)
  if ('SS' in v) return [...v.SS]
  if ('NS' in v) return v.NS.map(Number)
  throw new TypeError('unsupported attribute type')
}

export function unmarshallItem(item: Record<string, AttributeValue>): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(item)) out[k] = unmarshallValue(v)
  return out
}
