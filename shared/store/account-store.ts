// Accounts and their long-term AccessKeys: created together in one transaction, read by key id when
// authenticating a signed request.

import { GetItemCommand, PutItemCommand, PutTransaction, executeTransactWrite } from 'dynamodb-toolbox'
import { ApiError } from '../errors.ts'
import type { StoreTable } from './table.ts'
import { cancellationCodes, retryOnTransactionConflict, toStoreError } from './store-errors.ts'

export interface AccessKeyRecord {
  accessKeyId: string
  accountId: string
  secret: string
  status: 'Active' | 'Inactive'
  operator: boolean
  createdAt: number
}

export interface AccountRecord {
  accountId: string
  providerCount: number
  createdAt: number
}

export class AccountStore {
  constructor(private readonly t: StoreTable) {}

  async getAccessKey(accessKeyId: string): Promise<AccessKeyRecord | undefined> {
    try {
      const { Item } = await this.t.AccessKeyEntity.build(GetItemCommand).key({ accessKeyId }).send()
      return Item as AccessKeyRecord | undefined
    } catch (e) {
      throw toStoreError(e)
    }
  }

  async getAccount(accountId: string): Promise<AccountRecord | undefined> {
    try {
      const { Item } = await this.t.AccountEntity.build(GetItemCommand).key({ accountId }).options({ consistent: true }).send()
      return Item as AccountRecord | undefined
    } catch (e) {
      throw toStoreError(e)
    }
  }

  /**
   * Account and its first AccessKey, atomically; neither may exist yet. A transaction conflict (two
   * cold starts bootstrapping the operator account at once, two CreateAccount calls for one id) is
   * retried, so the loser learns that the account exists instead of failing with Throttling.
   */
  async createAccountWithKey(accountId: string, key: Omit<AccessKeyRecord, 'accountId' | 'createdAt'>, now: number): Promise<void> {
    const putAccount = this.t.AccountEntity.build(PutTransaction)
      .item({ accountId, providerCount: 0, createdAt: now })
      .options({ condition: { attr: 'createdAt', exists: false } })
    const putKey = this.t.AccessKeyEntity.build(PutTransaction)
      .item({ ...key, accountId, createdAt: now })
      .options({ condition: { attr: 'secret', exists: false } })
    try {
      await retryOnTransactionConflict(() => executeTransactWrite(putAccount, putKey))
    } catch (e) {
      const codes = cancellationCodes(e)
      if (codes?.[0] === 'ConditionalCheckFailed') throw new ApiError('EntityAlreadyExists.Account', `The account ${accountId} already exists.`)
      if (codes?.[1] === 'ConditionalCheckFailed') throw new ApiError('EntityAlreadyExists.Account', `The AccessKeyId ${key.accessKeyId} is already in use.`)
      throw toStoreError(e)
    }
  }

  /** Writes (or rewrites, e.g. a rotated bootstrap secret) a key that is new or already this account's. */
  async putAccessKey(key: AccessKeyRecord): Promise<void> {
    try {
      await this.t.AccessKeyEntity.build(PutItemCommand)
        .item(key)
        .options({ condition: { or: [{ attr: 'accountId', exists: false }, { attr: 'accountId', eq: key.accountId }] } })
        .send()
    } catch (e) {
      if ((e as { name?: string }).name === 'ConditionalCheckFailedException') {
        throw new ApiError('EntityAlreadyExists.Account', `The AccessKeyId ${key.accessKeyId} belongs to another account.`)
      }
      throw toStoreError(e)
    }
  }
}
