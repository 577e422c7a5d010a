// RAM role persistence. Name uniqueness (case-insensitive), RoleId uniqueness and the per-account role
// quota are conditions of one transaction; DeleteRole is conditional on no attached policy, so it
// cannot race an AttachPolicyToRole (which raises the same item's attachmentCount in its transaction).

import {
  $add,
  DeleteTransaction,
  GetItemCommand,
  PutTransaction,
  UpdateItemCommand,
  UpdateTransaction,
  executeTransactWrite as execute,
} from 'dynamodb-toolbox'
import { ApiError } from '../errors.ts'
import { RAM_LIMITS, roleKeyOf, type RamQuotas } from '../validation/ram-rules.ts'
import { ROLE_PREFIX, accountPk, type StoreTable } from './table.ts'
import { queryPage, type PageBudget } from './paged-query.ts'
import { cancellationCodes, isConditionalCheckFailed, retryOnTransactionConflict, toStoreError } from './store-errors.ts'

export interface StoredTag {
  key: string
  value: string
}

export interface RoleRecord {
  accountId: string
  /** Lower-cased roleName: the key. */
  nameKey: string
  /** As the creator spelled it. */
  roleName: string
  roleId: string
  description: string
  /** Normalised trust policy text. */
  trustPolicy: string
  maxSessionDuration: number
  tags: StoredTag[]
  attachmentCount: number
  createdAt: number
  updatedAt: number
  version: number
}

export type NewRole = Omit<RoleRecord, 'nameKey' | 'roleId' | 'attachmentCount' | 'version'>

export interface RoleChanges {
  description?: string
  trustPolicy?: string
  maxSessionDuration?: number
}

export const roleNotFound = (roleName: string) => new ApiError('EntityNotExist.Role', `The role "${roleName}" does not exist.`)

/** Paging a Query with a filter reads this many items per round trip. */

export class RoleStore {
  private readonly quotas: Pick<RamQuotas, 'rolesPerAccount'>

  constructor(
    private readonly t: StoreTable,
    quotas: Partial<Pick<RamQuotas, 'rolesPerAccount'>> = {},
  ) {
    this.quotas = { rolesPerAccount: quotas.rolesPerAccount ?? RAM_LIMITS.rolesPerAccount }
  }

  async get(accountId: string, roleName: string): Promise<RoleRecord | undefined> {
    try {
      const { Item } = await this.t.RoleEntity.build(GetItemCommand)
        .key({ accountId, nameKey: roleKeyOf(roleName) })
        .options({ consistent: true })
        .send()
      return Item as RoleRecord | undefined
    } catch (e) {
      throw toStoreError(e)
    }
  }

  /**
   * One transaction: the role (name free in any case), its RoleId guard (ID unused anywhere) and the
   * account's role counter (below the quota). A RoleId collision draws a new ID and tries again.
   */
  async create(role: NewRole, newRoleId: () => string): Promise<RoleRecord> {
    const { RoleEntity, RoleIdGuardEntity, AccountEntity } = this.t
    const limit = this.quotas.rolesPerAccount
    for (let attempt = 0; attempt < 5; attempt++) {
      const record: RoleRecord = { ...role, nameKey: roleKeyOf(role.roleName), roleId: newRoleId(), attachmentCount: 0, version: 1 }
      const putRole = RoleEntity.build(PutTransaction)
        .item(record)
        .options({ condition: { attr: 'roleId', exists: false } })
      const putGuard = RoleIdGuardEntity.build(PutTransaction)
        .item({ roleId: record.roleId, accountId: record.accountId, nameKey: record.nameKey })
        .options({ condition: { attr: 'accountId', exists: false } })
      const bumpCount = AccountEntity.build(UpdateTransaction)
        .item({ accountId: record.accountId, roleCount: $add(1) })
        .options({ condition: { or: [{ attr: 'roleCount', exists: false }, { attr: 'roleCount', lt: limit }] } })
      try {
        await retryOnTransactionConflict(() => execute(putRole, putGuard, bumpCount))
        return record
      } catch (e) {
        const codes = cancellationCodes(e)
        if (codes?.[0] === 'ConditionalCheckFailed') {
          throw new ApiError('EntityAlreadyExists.Role', `The role "${role.roleName}" already exists (role names are compared case-insensitively).`)
        }
        if (codes?.[2] === 'ConditionalCheckFailed') {
          throw new ApiError('LimitExceeded.Role', `The account already has the maximum of ${limit} roles.`)
        }
        if (codes?.[1] === 'ConditionalCheckFailed') continue
        throw toStoreError(e)
      }
    }
    throw new ApiError('InternalError', 'Could not allocate a unique RoleId; retry.')
  }

  async update(accountId: string, roleName: string, changes: RoleChanges, now: number): Promise<RoleRecord> {
    try {
      const { Attributes } = await this.t.RoleEntity.build(UpdateItemCommand)
        .item({
          accountId,
          nameKey: roleKeyOf(roleName),
          ...(changes.description !== undefined ? { description: changes.description } : {}),
          ...(changes.trustPolicy !== undefined ? { trustPolicy: changes.trustPolicy } : {}),
          ...(changes.maxSessionDuration !== undefined ? { maxSessionDuration: changes.maxSessionDuration } : {}),
          updatedAt: now,
          version: $add(1),
        })
        .options({ condition: { attr: 'roleId', exists: true }, returnValues: 'ALL_NEW' })
        .send()
      return Attributes as RoleRecord
    } catch (e) {
      if (isConditionalCheckFailed(e)) throw roleNotFound(roleName)
      throw toStoreError(e)
    }
  }

  /**
   * Deletes the role, its RoleId guard and one count of the quota, on condition that it is still the
   * role just read (same RoleId) and has no attached policy. Attach transactions raise
   * attachmentCount on this same item, so the two serialise: a role is never deleted with an attachment.
   */
  async delete(accountId: string, roleName: string): Promise<void> {
    const { RoleEntity, RoleIdGuardEntity, AccountEntity } = this.t
    for (let attempt = 0; attempt < 5; attempt++) {
      const current = await this.get(accountId, roleName)
      if (!current) throw roleNotFound(roleName)
      if (current.attachmentCount > 0) throw deleteConflict(current)
      const delRole = RoleEntity.build(DeleteTransaction)
        .key({ accountId, nameKey: current.nameKey })
        .options({ condition: { and: [{ attr: 'roleId', eq: current.roleId }, { attr: 'attachmentCount', eq: 0 }] } })
      const delGuard = RoleIdGuardEntity.build(DeleteTransaction).key({ roleId: current.roleId })
      const dropCount = AccountEntity.build(UpdateTransaction)
        .item({ accountId, roleCount: $add(-1) })
        .options({ condition: { attr: 'roleCount', gt: 0 } })
      try {
        await retryOnTransactionConflict(() => execute(delRole, delGuard, dropCount))
        return
      } catch (e) {
        // Changed since the read (a policy attached, or deleted and re-created): read again and decide.
        if (cancellationCodes(e)?.[0] === 'ConditionalCheckFailed') continue
        throw toStoreError(e)
      }
    }
    throw new ApiError('Throttling', `The role "${roleName}" is being changed concurrently; retry.`, { retryAfterMs: 1000 })
  }

  /**
   * A page in lower-cased name order, after `afterKey` (a nameKey), keeping roles that pass `filter`,
   * at most maxItems and within `budget` (bytes); reads one item more than needed to know whether more remain.
   */
  async list(
    accountId: string,
    maxItems: number,
    afterKey?: string,
    filter?: (role: RoleRecord) => boolean,
    budget?: PageBudget<RoleRecord>,
  ): Promise<{ items: RoleRecord[]; nextKey?: string }> {
    const page = await queryPage<RoleRecord>(this.t, this.t.RoleEntity, accountPk(accountId), ROLE_PREFIX, maxItems, afterKey !== undefined ? `${ROLE_PREFIX}${afterKey}` : undefined, filter, budget)
    return page.more ? { items: page.items, nextKey: page.items[page.items.length - 1]!.nameKey } : { items: page.items }
  }
}

function deleteConflict(role: RoleRecord): ApiError {
  return new ApiError(
    'DeleteConflict.Role.Policy',
    `The role "${role.roleName}" still has ${role.attachmentCount} attached ${role.attachmentCount === 1 ? 'policy' : 'policies'}; detach them before deleting the role.`,
  )
}
