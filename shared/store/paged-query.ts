// One page of the items under a sort-key prefix of a partition, in key order after `afterSk`, keeping
// those that pass `filter`, at most maxItems and within an optional size budget; reads one item more
// than needed to know whether more remain (with a budget, stops reading at the item that does not
// fit). The list actions (providers, roles, policies) page this way, and their opaque markers carry
// the last key.

import { QueryCommand, type Entity } from 'dynamodb-toolbox'
import type { StoreTable } from './table.ts'
import { toStoreError } from './store-errors.ts'

// With a filter, read in chunks of this many items (bounded work per request).
const FILTERED_CHUNK = 200

/**
 * A bound on a page's size besides its item count: a page ends before the first item that would take
 * it past `bytes`, and always holds at least one item (with nothing before it), so paging advances.
 */
export interface PageBudget<T> {
  /** The bytes one item adds to the page, as the caller will send it. */
  readonly size: (item: T) => number
  readonly bytes: number
  /** Bytes the page already holds before these items (ListPolicies: its system policies); 0 if none. */
  readonly used?: number
}

export async function queryPage<T>(
  t: StoreTable,
  entity: Entity,
  partition: string,
  prefix: string,
  maxItems: number,
  afterSk?: string,
  filter?: (item: T) => boolean,
  budget?: PageBudget<T>,
): Promise<{ items: T[]; more: boolean }> {
  const out: T[] = []
  let used = budget?.used ?? 0
  // Set when an item was left out for the budget: more remain, though the page holds fewer than maxItems.
  let full = false
  let startKey: Record<string, unknown> | undefined = afterSk !== undefined ? { pk: partition, sk: afterSk } : undefined
  try {
    reading: do {
      const { Items, LastEvaluatedKey } = await t.table.build(QueryCommand)
        .entities(entity)
        .query({ partition, range: { beginsWith: prefix } })
        .options({
          limit: filter ? FILTERED_CHUNK : maxItems + 1 - out.length,
          consistent: true,
          ...(startKey !== undefined ? { exclusiveStartKey: startKey } : {}),
        })
        .send()
      for (const item of (Items ?? []) as T[]) {
        if (filter && !filter(item)) continue
        // The item after the maxItems-th only says that more remain: it is not sent, so not measured.
        if (budget !== undefined && out.length < maxItems) {
          const size = budget.size(item)
          if (used > 0 && used + size > budget.bytes) {
            full = true
            break reading
          }
          used += size
        }
        out.push(item)
      }
      startKey = LastEvaluatedKey
    } while (startKey !== undefined && out.length <= maxItems)
  } catch (e) {
    throw toStoreError(e)
  }
  if (full) return { items: out, more: true }
  return out.length > maxItems ? { items: out.slice(0, maxItems), more: true } : { items: out, more: false }
}
