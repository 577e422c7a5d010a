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
import { randomBytes } from 'node:crypto'
import { ApiError } from '../errors.ts'
import { PROVIDER_LIMITS } from '../validation/oidc-provider-rules.ts'
import { PROVIDER_PREFIX, accountPk, type StoreTable } from './table.ts'
import { queryPage } from './paged-query.ts'
import { cancellationCodes, isConditionalCheckFailed, retryOnTransactionConflict, toStoreError } from './store-errors.ts'

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

const newOpId = () => randomBytes(12).toString('base64url')

/** Whether a failed condition's old image (raw AttributeValues) carries this call's own write. */
const isOwnOp = (old: { [k: string]: unknown }, op: string) => (old.lastOp as { S?: string } | undefined)?.S === op

/** A record as the service sees it: without the store's own bookkeeping. */
function record(attributes: unknown): OidcProviderRecord {
  const { lastOp: _lastOp, ...rest } = attributes as OidcProviderRecord & { lastOp?: string }
  return rest
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
      return Item === undefined ? undefined : record(Item)
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
      const { Attributes } = await this.t.ProviderEntity.build(UpdateItemCommand)
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
        .send()
      return record(Attributes)
    } catch (e) {
      if (isConditionalCheckFailed(e)) throw notFound(name)
      throw toStoreError(e)
    }
  }

  /**
   * Appends atomically: absent-from-list and below-limit are conditions of the same write. The write
   * carries a random id of this call (`lastOp`), as the nonce store does: when the AWS SDK retries an
   * append whose answer was lost although it succeeded, the retry's failed condition finds its own id
   * and the call succeeds, instead of answering "already registered" for its own change.
   */
  async addToList(accountId: string, name: string, field: ListField, value: string, now: number): Promise<OidcProviderRecord> {
    const info = FIELD_INFO[field]
    const op = newOpId()
    try {
      const { Attributes } = await this.t.ProviderEntity.build(UpdateItemCommand)
        .item({ accountId, name, [field]: $append([value]), updatedAt: now, version: $add(1), lastOp: op })
        .options({
          // `field` is a union of two list attributes; the toolbox types conditions per literal path.
          condition: {
            and: [
              { attr: 'name', exists: true },
              { size: field, lt: info.limit },
              { not: { attr: field, contains: value } },
            ],
          } as never,
          returnValues: 'ALL_NEW',
          returnValuesOnConditionFalse: 'ALL_OLD',
        })
        .send()
      return record(Attributes)
    } catch (e) {
      if (isConditionalCheckFailed(e)) {
        const old = e.Item as { [k: string]: unknown } | undefined
        if (!old) throw notFound(name)
        if (isOwnOp(old, op)) return this.afterOwnOp(accountId, name)
        // The old image on a failed condition is raw AttributeValues ({ L: [{ S }] }): the document
        // client does not unmarshall error payloads.
        const list = (old[field] as { L?: { S?: string }[] } | undefined)?.L?.map((x) => x.S) ?? []
        if (list.includes(value)) throw new ApiError(info.exists, `The ${info.what} "${value}" is already registered on OIDC provider "${name}".`)
        throw new ApiError(info.limitCode, `OIDC provider "${name}" already has the maximum of ${info.limit} ${info.what}s.`)
      }
      throw toStoreError(e)
    }
  }

  /**
   * Removes by index with a condition that the element at that index is still the value; if a
   * concurrent change moved it, read again. Never removes the wrong element.
   * A remover only loses a race to a removal at a lower index, of which there are fewer than the
   * list's limit: the attempt bound covers that worst case with room for concurrent updates.
   */
  async removeFromList(accountId: string, name: string, field: ListField, value: string, now: number): Promise<OidcProviderRecord> {
    const info = FIELD_INFO[field]
    // As in addToList: a retried removal that had succeeded finds its own id instead of "not registered".
    const op = newOpId()
    const maxAttempts = PROVIDER_LIMITS.clientIdsPerProvider + 10
    for (let attempt = 0; attempt < maxAttempts; attempt++) {
      const current = await this.get(accountId, name)
      if (!current) throw notFound(name)
      const index = current[field].indexOf(value)
      if (index < 0) throw new ApiError(info.missing, `The ${info.what} "${value}" is not registered on OIDC provider "${name}".`)
      try {
        const { Attributes } = await this.t.ProviderEntity.build(UpdateItemCommand)
          .item({ accountId, name, [field]: { [index]: $remove() }, updatedAt: now, version: $add(1), lastOp: op })
          .options({ condition: { attr: `${field}[${index}]`, eq: value } as never, returnValues: 'ALL_NEW', returnValuesOnConditionFalse: 'ALL_OLD' })
          .send()
        return record(Attributes)
      } catch (e) {
        if (isConditionalCheckFailed(e)) {
          const old = e.Item as { [k: string]: unknown } | undefined
          if (old !== undefined && isOwnOp(old, op)) return this.afterOwnOp(accountId, name)
          await new Promise((r) => setTimeout(r, Math.random() * 5 * (attempt + 1)))
          continue
        }
        throw toStoreError(e)
      }
    }
    throw new ApiError('Throttling', `OIDC provider "${name}" is being changed concurrently; retry.`, { retryAfterMs: 1000 })
  }

  /** The provider after this call's own write, which succeeded though its answer was lost. */
  private async afterOwnOp(accountId: string, name: string): Promise<OidcProviderRecord> {
    const current = await this.get(accountId, name)
    if (!current) throw notFound(name)
    return current
  }

  /** A page in name order after `afterName`. */
  async list(accountId: string, maxItems: number, afterName?: string): Promise<{ items: OidcProviderRecord[]; nextName?: string }> {
    const after = afterName !== undefined ? `${PROVIDER_PREFIX}${afterName}` : undefined
    const page = await queryPage<OidcProviderRecord>(this.t, this.t.ProviderEntity, accountPk(accountId), PROVIDER_PREFIX, maxItems, after)
    const items = page.items.map(record)
    return page.more ? { items, nextName: items[items.length - 1]!.name } : { items }
  }
}

