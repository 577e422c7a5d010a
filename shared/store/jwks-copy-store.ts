// The stored copy of an issuer's JWKS: pk JWKS#<issuer>, sk JWKS. Written by key refresh (and by the
// health check after each successful fetch), read by token exchange on a cold JWKS cache entry and on
// an unknown kid. A copy only ever replaces an OLDER one (condition on fetchedAt), so deliveries in any
// order converge on the newest fetch; or one stamped more than STORED_COPY_MAX_SKEW_MS ahead of the
// writer's clock (its writer's clock was ahead: readers refuse it, and without this it would make every
// writer with a right clock `superseded` until real time reached its stamp, then serve as fresh). The
// copy is kept as JSON and re-validated on every read (fromStoredJwksCopy): data, not trust.
// A copy whose item would exceed MAX_JWKS_COPY_ITEM_BYTES is not written ('too-large'): readers then
// find no copy (or an older one, trusted only for its age) and fetch from the IdP themselves.

import { Entity, GetItemCommand, PutItemCommand, item, list, number, string } from 'dynamodb-toolbox'
import { parseStoredCopy, STORED_COPY_MAX_SKEW_MS, type StoredJwksCopy } from '../oidc/jwks-cache-copy.ts'
import type { StoreTable } from './table.ts'
import { isConditionalCheckFailed, toStoreError } from './store-errors.ts'

export const jwksCopyPk = (issuer: string) => `JWKS#${issuer}`

/**
 * The largest copy item written, in bytes as DynamoDB counts them: safely under its 400 KB item limit.
 * A JWKS within the fetch cap (512 KB) can still make a bigger one (100 keys with 16384-bit moduli and
 * 256-character non-ASCII kids, each kid stored twice); retrying could never store it.
 */
export const MAX_JWKS_COPY_ITEM_BYTES = 350_000

const ENTITY_NAME = 'JwksCopy'
const SK = 'JWKS'
/** A number's maximum size in an item (38 significant digits). */
const NUMBER_BYTES = 21

export type JwksCopyPutResult = 'stored' | 'superseded' | 'too-large'

export interface JwksCopyRecord {
  issuer: string
  /** Epoch ms of the fetch the copy comes from. */
  fetchedAt: number
  keyIds: string[]
  /** Unvalidated: pass through fromStoredJwksCopy before use. */
  copy: StoredJwksCopy
  storedAt: number
}

export class JwksCopyStore {
  private readonly entity

  constructor(t: StoreTable) {
    this.entity = new Entity({
      name: ENTITY_NAME,
      table: t.table,
      schema: item({
        issuer: string().key(),
        fetchedAt: number(),
        keyIds: list(string()),
        copy: string(),
        storedAt: number(),
      }),
      computeKey: ({ issuer }) => ({ pk: jwksCopyPk(issuer), sk: SK }),
      timestamps: false,
    })
  }

  /** Strongly consistent: right after a refresh, the exchange that needs the new kid must see it. */
  async get(issuer: string): Promise<JwksCopyRecord | undefined> {
    let found
    try {
      found = (await this.entity.build(GetItemCommand).key({ issuer }).options({ consistent: true }).send()).Item
    } catch (e) {
      throw toStoreError(e)
    }
    if (found === undefined) return undefined
    const copy = parseStoredCopy(found.copy)
    return copy === undefined ? undefined : { issuer: found.issuer, fetchedAt: found.fetchedAt, keyIds: found.keyIds, copy, storedAt: found.storedAt }
  }

  /**
   * Stores the copy unless the table already holds one fetched at the same time or later (and not
   * stamped more than STORED_COPY_MAX_SKEW_MS after `now`, the writer's clock), or unless it is too
   * large for an item (jwksCopyItemBytes over MAX_JWKS_COPY_ITEM_BYTES): not an error, nothing to retry.
   */
  async put(copy: StoredJwksCopy, now: number): Promise<JwksCopyPutResult> {
    const item = itemOf(copy, now)
    if (itemBytes(item) > MAX_JWKS_COPY_ITEM_BYTES) return 'too-large'
    try {
      await this.entity.build(PutItemCommand)
        .item(item)
        .options({ condition: { or: [{ attr: 'fetchedAt', exists: false }, { attr: 'fetchedAt', lt: copy.fetchedAt }, { attr: 'fetchedAt', gt: now + STORED_COPY_MAX_SKEW_MS }] } })
        .send()
      return 'stored'
    } catch (e) {
      if (isConditionalCheckFailed(e)) return 'superseded'
      // This write's shape is fixed: DynamoDB refuses it only for a size (the item's, by its own count
      // should the bound above miss; the key's). A retry would be refused alike: not a store failure.
      if ((e as { name?: string })?.name === 'ValidationException') return 'too-large'
      throw toStoreError(e)
    }
  }
}

/** The size of the item `put` writes for this copy, as DynamoDB counts it (for the bound, and for logs). */
export function jwksCopyItemBytes(copy: StoredJwksCopy): number {
  return itemBytes(itemOf(copy, 0))
}

function itemOf(copy: StoredJwksCopy, now: number) {
  const keyIds = copy.jwks.keys.flatMap((k) => (k.kid === undefined ? [] : [k.kid])).sort()
  return { issuer: copy.issuer, fetchedAt: copy.fetchedAt, keyIds, copy: JSON.stringify(copy), storedAt: now }
}

/**
 * DynamoDB's count (attribute names and values in UTF-8, a number at its largest, a list 3 bytes plus
 * 1 per element), with the attributes the table adds: the key and the entity name (dynamodb-toolbox's _et).
 */
function itemBytes(item: ReturnType<typeof itemOf>): number {
  const attributes: Record<string, string | number | string[]> = { ...item, pk: jwksCopyPk(item.issuer), sk: SK, _et: ENTITY_NAME }
  let bytes = 0
  for (const [name, value] of Object.entries(attributes)) {
    bytes += Buffer.byteLength(name)
    if (typeof value === 'number') bytes += NUMBER_BYTES
    else if (typeof value === 'string') bytes += Buffer.byteLength(value)
    else bytes += 3 + value.reduce((n, v) => n + 1 + Buffer.byteLength(v), 0)
  }
  return bytes
}
