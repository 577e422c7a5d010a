// One page of the items under a sort-key prefix of a partition, in key order after `afterSk`, keeping
// those that pass `filter`; reads one item more than needed to know whether more remain. The list
// actions (providers, roles, policies) page this way, and their opaque markers carry the last key.

import { QueryCommand, type Entity } from 'dynamodb-toolbox'
import type { StoreTable } from './table.ts'
import { toStoreError } from './store-errors.ts'

// With a filter, read in chunks of this many items (bounded work per request).
const FILTERED_CHUNK = 200

export async function queryPage<T>(
  t: StoreTable,
  entity: Entity,
  partition: string,
  prefix: string,
  maxItems: number,
  afterSk?: string,
  filter?: (item: T) => boolean,
): Promise<{ items: T[]; more: boolean }> {
  const out: T[] = []
  let startKey: Record<string, unknown> | undefined = afterSk !== undefined ? { pk: partition, sk: afterSk } : undefined
  try {
    do {
      const { Items, LastEvaluatedKey } = await t.table.build(QueryCommand)
        .entities(entity)
        .query({ partition, range: { beginsWith: prefix } })
        .options({
          limit: filter ? FILTERED_CHUNK : maxItems + 1 - out.length,
          consistent: true,
          ...(startKey !== undefined ? { exclusiveStartKey: startKey } : {}),
        })
        .send()
      for (const item of (Items ?? []) as T[]) if (!filter || filter(item)) out.push(item)
      startKey = LastEvaluatedKey
    } while (startKey !== undefined && out.length <= maxItems)
  } catch (e) {
    throw toStoreError(e)
  }
  return out.length > maxItems ? { items: out.slice(0, maxItems), more: true } : { items: out, more: false }
}
