// Policy-to-role attachments. Attach is one transaction: the attachment item (not yet there), the role
// (still there, below its policy quota: attachmentCount + 1) and the policy (custom: still there,
// attachmentCount + 1; system: the account's use counter + 1). DeleteRole and DeletePolicy require
// attachmentCount = 0 on those same items, so no attachment can outlive its role or its policy.

import {
  $add,
  DeleteTransaction,
  PutTransaction,
  QueryCommand,
  UpdateTransaction,
  executeTransactWrite as execute,
} from 'dynamodb-toolbox'
import { ApiError } from '../errors.ts'
import { RAM_LIMITS, roleKeyOf, type PolicyType, type RamQuotas } from '../validation/ram-rules.ts'
import { policyNotFound, type PolicyStore } from './policy-store.ts'
import { roleNotFound, type RoleStore } from './role-store.ts'
import { accountPk, attachmentPrefix, type StoreTable } from './table.ts'
import { cancellationCodes, cancellationItems, retryOnTransactionConflict, toStoreError } from './store-errors.ts'

export interface AttachmentRecord {
  accountId: string
  roleKey: string
  policyType: PolicyType
  policyName: string
  attachedAt: number
}

export class AttachmentStore {
  private readonly quotas: Pick<RamQuotas, 'policiesPerRole'>

  constructor(
    private readonly t: StoreTable,
    private readonly roles: RoleStore,
    private readonly policies: PolicyStore,
    quotas: Partial<Pick<RamQuotas, 'policiesPerRole'>> = {},
  ) {
    this.quotas = { policiesPerRole: quotas.policiesPerRole ?? RAM_LIMITS.policiesPerRole }
  }

  /**
   * Attaches an existing policy (the caller has checked that a System policy exists in code) to a role.
   * Failures, most specific first: EntityNotExist.Role, EntityNotExist.Policy,
   * EntityAlreadyExists.Role.Policy, LimitExceeded.Role.Policy.
   */
  async attach(accountId: string, roleName: string, policyType: PolicyType, policyName: string, now: number): Promise<void> {
    const { AttachmentEntity, RoleEntity, PolicyEntity, SystemPolicyUseEntity } = this.t
    const roleKey = roleKeyOf(roleName)
    const limit = this.quotas.policiesPerRole
    const putAttachment = AttachmentEntity.build(PutTransaction)
      .item({ accountId, roleKey, policyType, policyName, attachedAt: now })
      .options({ condition: { attr: 'attachedAt', exists: false } })
    const bumpRole = RoleEntity.build(UpdateTransaction)
      .item({ accountId, nameKey: roleKey, attachmentCount: $add(1) })
      .options({
        condition: { and: [{ attr: 'roleId', exists: true }, { attr: 'attachmentCount', lt: limit }] },
        // Tells a missing role (no old item) from a full one.
        returnValuesOnConditionFalse: 'ALL_OLD',
      })
    const bumpPolicy = policyType === 'Custom'
      ? PolicyEntity.build(UpdateTransaction)
        .item({ accountId, policyName, attachmentCount: $add(1) })
        .options({ condition: { attr: 'document', exists: true } })
      : SystemPolicyUseEntity.build(UpdateTransaction).item({ accountId, policyName, attachmentCount: $add(1) })
    try {
      await retryOnTransactionConflict(() => execute(putAttachment, bumpRole, bumpPolicy))
    } catch (e) {
      const codes = cancellationCodes(e)
      if (codes === undefined) throw toStoreError(e)
      const failed = (i: number) => codes[i] === 'ConditionalCheckFailed'
      if (failed(1) && cancellationItems(e)?.[1] === undefined) throw roleNotFound(roleName)
      if (failed(2)) throw policyNotFound(policyName, policyType)
      if (failed(0)) {
        throw new ApiError('EntityAlreadyExists.Role.Policy', `The ${policyType.toLowerCase()} policy "${policyName}" is already attached to role "${roleName}".`)
      }
      if (failed(1)) {
        throw new ApiError('LimitExceeded.Role.Policy', `The role "${roleName}" already has the maximum of ${limit} attached policies.`)
      }
      throw toStoreError(e)
    }
  }

  /**
   * Removes an attachment and both counts in one transaction. When there is no such attachment the
   * answer says which part is missing: EntityNotExist.Role, EntityNotExist.Policy (custom), or
   * EntityNotExist.Role.Policy.
   */
  async detach(accountId: string, roleName: string, policyType: PolicyType, policyName: string): Promise<void> {
    const { AttachmentEntity, RoleEntity, PolicyEntity, SystemPolicyUseEntity } = this.t
    const roleKey = roleKeyOf(roleName)
    const delAttachment = AttachmentEntity.build(DeleteTransaction)
      .key({ accountId, roleKey, policyType, policyName })
      .options({ condition: { attr: 'attachedAt', exists: true } })
    const dropRole = RoleEntity.build(UpdateTransaction)
      .item({ accountId, nameKey: roleKey, attachmentCount: $add(-1) })
      .options({ condition: { attr: 'attachmentCount', gt: 0 } })
    const dropPolicy = policyType === 'Custom'
      ? PolicyEntity.build(UpdateTransaction)
        .item({ accountId, policyName, attachmentCount: $add(-1) })
        .options({ condition: { attr: 'attachmentCount', gt: 0 } })
      : SystemPolicyUseEntity.build(UpdateTransaction)
        .item({ accountId, policyName, attachmentCount: $add(-1) })
        .options({ condition: { attr: 'attachmentCount', gt: 0 } })
    try {
      await retryOnTransactionConflict(() => execute(delAttachment, dropRole, dropPolicy))
    } catch (e) {
      if (cancellationCodes(e)?.[0] === 'ConditionalCheckFailed') {
        if (!(await this.roles.get(accountId, roleName))) throw roleNotFound(roleName)
        if (policyType === 'Custom' && !(await this.policies.get(accountId, policyName))) throw policyNotFound(policyName)
        throw new ApiError('EntityNotExist.Role.Policy', `The ${policyType.toLowerCase()} policy "${policyName}" is not attached to role "${roleName}".`)
      }
      throw toStoreError(e)
    }
  }

  /** Every attachment of a role, in (type, policy name) order: at most the per-role quota. */
  async listForRole(accountId: string, roleName: string): Promise<AttachmentRecord[]> {
    const out: AttachmentRecord[] = []
    let startKey: Record<string, unknown> | undefined
    try {
      do {
        const { Items, LastEvaluatedKey } = await this.t.table.build(QueryCommand)
          .entities(this.t.AttachmentEntity)
          .query({ partition: accountPk(accountId), range: { beginsWith: attachmentPrefix(roleKeyOf(roleName)) } })
          .options({ consistent: true, ...(startKey !== undefined ? { exclusiveStartKey: startKey } : {}) })
          .send()
        out.push(...((Items ?? []) as AttachmentRecord[]))
        startKey = LastEvaluatedKey
      } while (startKey !== undefined)
      return out
    } catch (e) {
      throw toStoreError(e)
    }
  }
}
