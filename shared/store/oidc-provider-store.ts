// OIDC provider persistence: every invariant (name and issuer uniqueness, the per-account quota,
// client-ID and fingerprint limits) is enforced by DynamoDB conditions, never by read-then-write.

import {
  $add,
  $append,
  $remove,
  $set,
  GetItemCommand,
  PutTransaction,
  UpdateItemCommand,
  UpdateTransaction,
  DeleteTransaction,
  executeTransactWrite as execute,
} from 'dynamodb-toolbox'
import { ApiError } from '../errors.ts'
import { PROVIDER_LIMITS } from '../validation/oidc-provider-rules.ts'
import { PROVIDER_PREFIX, accountPk, type StoreTable } from './table.ts'
import { queryPage } from './paged-query.ts'
import { cancellationCodes, cancellationItems, isConditionalCheckFailed, retryOnTransactionConflict, toStoreError } from './store-errors.ts'

export interface OidcProviderRecord {
  accountId: string
  name: string
  issuerUrl: string
  clientIds: string[]
  fingerprints: string[]
  issuanceLimitTime: number
  description: string
  createdAt: number
  updatedAt: number
  version: number
}

const notFound = (name: string) =>
  new ApiError('EntityNotExist.OIDCProvider', `The OIDC provider "${name}" does not exist.`)

type ListField = 'clientIds' | 'fingerprints'
const FIELD_INFO = {
  clientIds: {
    limit: PROVIDER_LIMITS.clientIdsPerProvider,
    what: 'client ID',
    exists: 'EntityAlreadyExists.OIDCProvider.ClientId',
    missing: 'EntityNotExist.OIDCProvider.ClientId',
    limitCode: 'LimitExceeded.OIDCProvider.ClientId',
  },
  fingerprints: {
    limit: PROVIDER_LIMITS.fingerprintsPerProvider,
    what: 'fingerprint',
    exists: 'EntityAlreadyExists.OIDCProvider.Fingerprint',
    missing: 'EntityNotExist.OIDCProvider.Fingerprint',
    limitCode: 'LimitExceeded.OIDCProvider.Fingerprint',
  },
} as const

export class OidcProviderStore {
  constructor(private readonly t: StoreTable) {}

  async get(accountId: string, name: string): Promise<OidcProviderRecord | undefined> {
    try {
      const { Item } = await this.t.ProviderEntity.build(GetItemCommand)
        .key({ accountId, name })
        .options({ consistent: true })
        .send()
      return Item
    } catch (e) {
      throw toStoreError(e)
    }
  }

  /** One transaction: the provider (name unique), the issuer guard (URL unique), the quota counter. */
  async create(record: OidcProviderRecord): Promise<void> {
    const { ProviderEntity, IssuerGuardEntity, AccountEntity } = this.t
    const putProvider = ProviderEntity.build(PutTransaction)
      .item(record)
      .options({ condition: { attr: 'name', exists: false } })
    const putGuard = IssuerGuardEntity.build(PutTransaction)
      .item({ accountId: record.accountId, issuerUrl: record.issuerUrl, providerName: record.name })
      .options({ condition: { attr: 'providerName', exists: false } })
    const bumpCount = AccountEntity.build(UpdateTransaction)
      .item({ accountId: record.accountId, providerCount: $add(1) })
      .options({ condition: { attr: 'providerCount', lt: PROVIDER_LIMITS.providersPerAccount } })
    try {
      await retryOnTransactionConflict(() => execute(putProvider, putGuard, bumpCount))
    } catch (e) {
      const codes = cancellationCodes(e)
      if (codes?.[0] === 'ConditionalCheckFailed') {
        throw new ApiError('EntityAlreadyExists.OIDCProvider', `The OIDC provider "${record.name}" already exists.`)
      }
      if (codes?.[1] === 'ConditionalCheckFailed') {
        throw new ApiError('EntityAlreadyExists.OIDCProvider.Url', `An OIDC provider with IssuerUrl "${record.issuerUrl}" already exists in this account.`)
      }
      if (codes?.[2] === 'ConditionalCheckFailed') {
        throw new ApiError('LimitExceeded.OIDCProvider', `The account already has the maximum of ${PROVIDER_LIMITS.providersPerAccount} OIDC providers.`)
      }
      throw toStoreError(e)
    }
  }

  async delete(accountId: string, name: string): Promise<void> {
    const { ProviderEntity, IssuerGuardEntity, AccountEntity } = this.t
    for (let attempt = 0; attempt < 5; attempt++) {
      const current = await this.get(accountId, name)
      if (!current) throw notFound(name)
      const delProvider = ProviderEntity.build(DeleteTransaction)
        .key({ accountId, name })
        .options({ condition: { attr: 'issuerUrl', eq: current.issuerUrl } })
      const delGuard = IssuerGuardEntity.build(DeleteTransaction).key({ accountId, issuerUrl: current.issuerUrl })
      const dropCount = AccountEntity.build(UpdateTransaction)
        .item({ accountId, providerCount: $add(-1) })
        .options({ condition: { attr: 'providerCount', gt: 0 } })
      try {
        await retryOnTransactionConflict(() => execute(delProvider, delGuard, dropCount))
        return
      } catch (e) {
        // Deleted since we read it (IssuerUrl is immutable, so concurrent edits never fail this): read
        // again; a concurrent delete then answers not-found.
        if (cancellationCodes(e)?.[0] === 'ConditionalCheckFailed') continue
        throw toStoreError(e)
      }
    }
    throw new ApiError('Throttling', `The OIDC provider "${name}" is being changed concurrently; retry.`, { retryAfterMs: 1000 })
  }

  async update(
    accountId: string,
    name: string,
    changes: { description?: string; clientIds?: string[]; issuanceLimitTime?: number },
    now: number,
  ): Promise<OidcProviderRecord> {
    try {
      // A plain write on an item a transaction is changing (a list edit, a delete) fails with
      // TransactionConflictException on AWS: retried like a transaction's conflict.
      const { Attributes } = await retryOnTransactionConflict(() => this.t.ProviderEntity.build(UpdateItemCommand)
        .item({
          accountId,
          name,
          ...(changes.description !== undefined ? { description: changes.description } : {}),
          // $set replaces the whole list: a plain array is an update by index to dynamodb-toolbox, which
          // leaves the old list's tail in place (a shorter list, or an empty one, would remove nothing).
          ...(changes.clientIds !== undefined ? { clientIds: $set(changes.clientIds) } : {}),
          ...(changes.issuanceLimitTime !== undefined ? { issuanceLimitTime: changes.issuanceLimitTime } : {}),
          updatedAt: now,
          version: $add(1),
        })
        .options({ condition: { attr: 'name', exists: true }, returnValues: 'ALL_NEW' })
        .send())
      return Attributes as OidcProviderRecord
    } catch (e) {
      if (isConditionalCheckFailed(e)) throw notFound(name)
      throw toStoreError(e)
    }
  }

  /**
   * Appends atomically: absent-from-list and below-limit are conditions of the same write. The write is
   * a one-item transaction for its idempotency: the AWS SDK retries a request whose answer was lost with
   * the same ClientRequestToken, and DynamoDB answers the retry of a transaction that had succeeded with
   * success, changing nothing. (A plain UpdateItem's retry is judged against the item as it is by then:
   * with another edit in between it re-applied the change, or refused its own as "already registered".)
   * Answers with the provider as read after the write.
   */
  async addToList(accountId: string, name: string, field: ListField, value: string, now: number): Promise<OidcProviderRecord> {
    const info = FIELD_INFO[field]
    const append = this.t.ProviderEntity.build(UpdateTransaction)
      .item({ accountId, name, [field]: $append([value]), updatedAt: now, version: $add(1) })
      .options({
        // `field` is a union of two list attributes; the toolbox types conditions per literal path.
        condition: {
          and: [
            { attr: 'name', exists: true },
            { size: field, lt: info.limit },
            { not: { attr: field, contains: value } },
          ],
        } as never,
        returnValuesOnConditionFalse: 'ALL_OLD',
      })
    try {
      await retryOnTransactionConflict(() => execute(append))
    } catch (e) {
      if (cancellationCodes(e)?.[0] === 'ConditionalCheckFailed') {
        const old = cancellationItems(e)?.[0]
        if (!old) throw notFound(name)
        // The old image of a cancelled transaction is raw AttributeValues ({ L: [{ S }] }).
        const list = (old[field] as { L?: { S?: string }[] } | undefined)?.L?.map((x) => x.S) ?? []
        if (list.includes(value)) throw new ApiError(info.exists, `The ${info.what} "${value}" is already registered on OIDC provider "${name}".`)
        throw new ApiError(info.limitCode, `OIDC provider "${name}" already has the maximum of ${info.limit} ${info.what}s.`)
      }
      throw toStoreError(e)
    }
    return this.afterEdit(accountId, name)
  }

  /**
   * Removes by index with a condition that the element at that index is still the value; if a
   * concurrent change moved it, read again. Never removes the wrong element. A one-item transaction,
   * as in addToList: a retried removal that had succeeded is answered as such and removes nothing more
   * (a plain UpdateItem's retry, after another call added the value again, removed that one too).
   * A remover only loses a race to a removal at a lower index, of which there are fewer than the
   * list's limit: the attempt bound covers that worst case with room for concurrent updates.
   */
  async removeFromList(accountId: string, name: string, field: ListField, value: string, now: number): Promise<OidcProviderRecord> {
    const info = FIELD_INFO[field]
    const maxAttempts = PROVIDER_LIMITS.clientIdsPerProvider + 10
    for (let attempt = 0; attempt < maxAttempts; attempt++) {
      const current = await this.get(accountId, name)
      if (!current) throw notFound(name)
      const index = current[field].indexOf(value)
      if (index < 0) throw new ApiError(info.missing, `The ${info.what} "${value}" is not registered on OIDC provider "${name}".`)
      const remove = this.t.ProviderEntity.build(UpdateTransaction)
        .item({ accountId, name, [field]: { [index]: $remove() }, updatedAt: now, version: $add(1) })
        .options({ condition: { attr: `${field}[${index}]`, eq: value } as never })
      try {
        await retryOnTransactionConflict(() => execute(remove))
        return this.afterEdit(accountId, name)
      } catch (e) {
        if (cancellationCodes(e)?.[0] === 'ConditionalCheckFailed') {
          await new Promise((r) => setTimeout(r, Math.random() * 5 * (attempt + 1)))
          continue
        }
        throw toStoreError(e)
      }
    }
    throw new ApiError('Throttling', `OIDC provider "${name}" is being changed concurrently; retry.`, { retryAfterMs: 1000 })
  }

  /** The provider after this call's edit (a transaction returns no item): deleted since, it is not found. */
  private async afterEdit(accountId: string, name: string): Promise<OidcProviderRecord> {
    const current = await this.get(accountId, name)
    if (!current) throw notFound(name)
    return current
  }

  /** A page in name order after `afterName`. */
  async list(accountId: string, maxItems: number, afterName?: string): Promise<{ items: OidcProviderRecord[]; nextName?: string }> {
    const after = afterName !== undefined ? `${PROVIDER_PREFIX}${afterName}` : undefined
    const page = await queryPage<OidcProviderRecord>(this.t, this.t.ProviderEntity, accountPk(accountId), PROVIDER_PREFIX, maxItems, after)
    const { items } = page
    return page.more ? { items, nextName: items[items.length - 1]!.name } : { items }
  }
}

