// The stored copy of an issuer's JWKS: pk JWKS#<issuer>, sk JWKS. Written by key refresh (and by the
// health check after each successful fetch), read by token exchange on a cold JWKS cache entry and on
// an unknown kid. A copy only ever replaces an OLDER one (condition on fetchedAt), so deliveries in any
// order converge on the newest fetch; or one stamped more than STORED_COPY_MAX_SKEW_MS ahead of the
// writer's clock (its writer's clock was ahead: readers refuse it, and without this it would make every
// writer with a right clock `superseded` until real time reached its stamp, then serve as fresh). The
// copy is kept as JSON and re-validated on every read (fromStoredJwksCopy): data, not trust.

import { Entity, GetItemCommand, PutItemCommand, item, list, number, string } from 'dynamodb-toolbox'
import { parseStoredCopy, STORED_COPY_MAX_SKEW_MS, type StoredJwksCopy } from '../oidc/jwks-cache-copy.ts'
import type { StoreTable } from './table.ts'
import { isConditionalCheckFailed, toStoreError } from './store-errors.ts'

export const jwksCopyPk = (issuer: string) => `JWKS#${issuer}`

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
      name: 'JwksCopy',
      table: t.table,
      schema: item({
        issuer: string().key(),
        fetchedAt: number(),
        keyIds: list(string()),
        copy: string(),
        storedAt: number(),
      }),
      computeKey: ({ issuer }) => ({ pk: jwksCopyPk(issuer), sk: 'JWKS' }),
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
   * stamped more than STORED_COPY_MAX_SKEW_MS after `now`, the writer's clock).
   */
  async put(copy: StoredJwksCopy, now: number): Promise<'stored' | 'superseded'> {
    const keyIds = copy.jwks.keys.flatMap((k) => (k.kid === undefined ? [] : [k.kid])).sort()
    try {
      await this.entity.build(PutItemCommand)
        .item({ issuer: copy.issuer, fetchedAt: copy.fetchedAt, keyIds, copy: JSON.stringify(copy), storedAt: now })
        .options({ condition: { or: [{ attr: 'fetchedAt', exists: false }, { attr: 'fetchedAt', lt: copy.fetchedAt }, { attr: 'fetchedAt', gt: now + STORED_COPY_MAX_SKEW_MS }] } })
        .send()
      return 'stored'
    } catch (e) {
      if (isConditionalCheckFailed(e)) return 'superseded'
      throw toStoreError(e)
    }
  }
}
