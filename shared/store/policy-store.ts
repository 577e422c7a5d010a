// Custom permission policy persistence, plus the per-account attachment counters of system policies
// (which themselves live in code). Name uniqueness and the custom-policy quota are one transaction;
// DeletePolicy is conditional on no attachment, so it cannot race an AttachPolicyToRole.

import {
  $add,
  DeleteTransaction,
  GetItemCommand,
  PutTransaction,
  QueryCommand,
  UpdateTransaction,
  executeTransactWrite as execute,
} from 'dynamodb-toolbox'
import { ApiError } from '../errors.ts'
import { RAM_LIMITS, type RamQuotas } from '../validation/ram-rules.ts'
import type { StoredTag } from './role-store.ts'
import { POLICY_PREFIX, SYSTEM_POLICY_USE_PREFIX, accountPk, type StoreTable } from './table.ts'
import { queryPage, type PageBudget } from './paged-query.ts'
import { cancellationCodes, retryOnTransactionConflict, toStoreError } from './store-errors.ts'

export interface PolicyRecord {
  accountId: string
  policyName: string
  description: string
  /** Normalised permission policy text of the default version. */
  document: string
  defaultVersion: string
  tags: StoredTag[]
  attachmentCount: number
  createdAt: number
  updatedAt: number
  version: number
}

export type NewPolicy = Omit<PolicyRecord, 'attachmentCount' | 'version' | 'defaultVersion'>

export const policyNotFound = (policyName: string, type: 'System' | 'Custom' = 'Custom') =>
  new ApiError('EntityNotExist.Policy', `The ${type.toLowerCase()} policy "${policyName}" does not exist.`)


export class PolicyStore {
  private readonly quotas: Pick<RamQuotas, 'customPoliciesPerAccount'>

  constructor(
    private readonly t: StoreTable,
    quotas: Partial<Pick<RamQuotas, 'customPoliciesPerAccount'>> = {},
  ) {
    this.quotas = { customPoliciesPerAccount: quotas.customPoliciesPerAccount ?? RAM_LIMITS.customPoliciesPerAccount }
  }

  async get(accountId: string, policyName: string): Promise<PolicyRecord | undefined> {
    try {
      const { Item } = await this.t.PolicyEntity.build(GetItemCommand)
        .key({ accountId, policyName })
        .options({ consistent: true })
        .send()
      return Item as PolicyRecord | undefined
    } catch (e) {
      throw toStoreError(e)
    }
  }

  /** One transaction: the policy (name free) and the account's custom-policy counter (below the quota). */
  async create(policy: NewPolicy): Promise<PolicyRecord> {
    const { PolicyEntity, AccountEntity } = this.t
    const limit = this.quotas.customPoliciesPerAccount
    const record: PolicyRecord = { ...policy, defaultVersion: 'v1', attachmentCount: 0, version: 1 }
    const putPolicy = PolicyEntity.build(PutTransaction)
      .item(record)
      .options({ condition: { attr: 'document', exists: false } })
    const bumpCount = AccountEntity.build(UpdateTransaction)
      .item({ accountId: record.accountId, policyCount: $add(1) })
      .options({ condition: { or: [{ attr: 'policyCount', exists: false }, { attr: 'policyCount', lt: limit }] } })
    try {
      await retryOnTransactionConflict(() => execute(putPolicy, bumpCount))
      return record
    } catch (e) {
      const codes = cancellationCodes(e)
      if (codes?.[0] === 'ConditionalCheckFailed') {
        throw new ApiError('EntityAlreadyExists.Policy', `The policy "${policy.policyName}" already exists.`)
      }
      if (codes?.[1] === 'ConditionalCheckFailed') {
        throw new ApiError('LimitExceeded.Policy', `The account already has the maximum of ${limit} custom policies.`)
      }
      throw toStoreError(e)
    }
  }

  /**
   * Deletes a custom policy that is attached nowhere, and one count of the quota. Attach transactions
   * raise attachmentCount on this same item, so a policy is never deleted with an attachment left.
   */
  async delete(accountId: string, policyName: string): Promise<void> {
    const { PolicyEntity, AccountEntity } = this.t
    for (let attempt = 0; attempt < 5; attempt++) {
      const current = await this.get(accountId, policyName)
      if (!current) throw policyNotFound(policyName)
      if (current.attachmentCount > 0) throw deleteConflict(current)
      const delPolicy = PolicyEntity.build(DeleteTransaction)
        .key({ accountId, policyName })
        .options({ condition: { and: [{ attr: 'createdAt', eq: current.createdAt }, { attr: 'attachmentCount', eq: 0 }] } })
      const dropCount = AccountEntity.build(UpdateTransaction)
        .item({ accountId, policyCount: $add(-1) })
        .options({ condition: { attr: 'policyCount', gt: 0 } })
      try {
        await retryOnTransactionConflict(() => execute(delPolicy, dropCount))
        return
      } catch (e) {
        // Attached (or deleted and re-created) since the read: read again and decide.
        if (cancellationCodes(e)?.[0] === 'ConditionalCheckFailed') continue
        throw toStoreError(e)
      }
    }
    throw new ApiError('Throttling', `The policy "${policyName}" is being changed concurrently; retry.`, { retryAfterMs: 1000 })
  }

  /**
   * A page of custom policies in name order after `afterName`, keeping those that pass `filter`, at
   * most maxItems and within `budget` (bytes). `more`: policies remain after the page; `nextName` is
   * then its last policy's name, absent when the page is empty because what the caller already holds
   * (`budget.used`) left no room for the first one.
   */
  async list(
    accountId: string,
    maxItems: number,
    afterName?: string,
    filter?: (policy: PolicyRecord) => boolean,
    budget?: PageBudget<PolicyRecord>,
  ): Promise<{ items: PolicyRecord[]; more: boolean; nextName?: string }> {
    const page = await queryPage<PolicyRecord>(this.t, this.t.PolicyEntity, accountPk(accountId), POLICY_PREFIX, maxItems, afterName !== undefined ? `${POLICY_PREFIX}${afterName}` : undefined, filter, budget)
    const last = page.items.at(-1)
    return page.more && last !== undefined ? { items: page.items, more: true, nextName: last.policyName } : { items: page.items, more: page.more }
  }

  /** How many roles of the account each system policy is attached to (absent means 0). */
  async systemAttachmentCounts(accountId: string): Promise<Map<string, number>> {
    try {
      const { Items } = await this.t.table.build(QueryCommand)
        .entities(this.t.SystemPolicyUseEntity)
        .query({ partition: accountPk(accountId), range: { beginsWith: SYSTEM_POLICY_USE_PREFIX } })
        .options({ consistent: true })
        .send()
      return new Map((Items ?? []).map((i) => [i.policyName, i.attachmentCount]))
    } catch (e) {
      throw toStoreError(e)
    }
  }
}

function deleteConflict(policy: PolicyRecord): ApiError {
  return new ApiError(
    'DeleteConflict.Policy.Role',
    `The policy "${policy.policyName}" is still attached to ${policy.attachmentCount} ${policy.attachmentCount === 1 ? 'role' : 'roles'}; detach it before deleting the policy.`,
  )
}
