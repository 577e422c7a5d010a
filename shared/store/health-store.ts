// Provider health records: pk HEALTH#<accountId>, sk OIDCHEALTH#<provider name>, one per provider,
// written by the health check, read by GetOIDCProviderHealth / ListOIDCProviderHealth (a Query of the
// account's health partition). The partition is not the account's own (ACCOUNT#<accountId>) so that the
// health check's IAM role can be confined to health records: dynamodb:LeadingKeys sees only the pk.
// The observation (chains, key ids) and a key-rotation event in doubt are kept as JSON: they are read
// whole (the observation re-evaluated), never queried by parts. `issuerUrl` puts the record in the
// sparse issuer index, which is how the health check finds records whose provider has been deleted.

import { DeleteItemCommand, Entity, GetItemCommand, PutItemCommand, QueryCommand, item, list, number, string } from 'dynamodb-toolbox'
import type { HealthStatus, KeyRotationDetail } from '../events/service-events.ts'
import type { IssuerObservation } from '../services/health-evaluate.ts'
import { healthPk, type StoreTable } from './table.ts'
import { toStoreError } from './store-errors.ts'

export const HEALTH_PREFIX = 'OIDCHEALTH#'

export interface ProviderHealthRecord {
  accountId: string
  name: string
  issuerUrl: string
  status: HealthStatus
  /** Epoch ms of the check. */
  checkedAt: number
  /** Epoch ms since which the status has been what it is. */
  statusChangedAt: number
  /**
   * The status the last delivered "OIDC Provider Health Changed" event announced ('unchecked': none yet).
   * Differs from `status` while a change is still to be announced (the bus refused it, or the run stopped
   * between writing the record and publishing): the next run announces it. Absent on records written
   * before the field existed, which count as announced.
   */
  notifiedStatus?: HealthStatus | 'unchecked'
  /**
   * A status subscribers may believe instead of notifiedStatus: one an event was sent to announce and
   * whose delivery is not confirmed (refused, a failure after EventBridge took it, a failed write or a
   * stop after it). Written with the record before publishing, cleared once delivery is confirmed. The
   * next run announces the status it finds, whatever it is, while this differs from notifiedStatus.
   */
  announcing?: HealthStatus
  /**
   * The issuer's key-rotation event (its detail as sent) whose delivery is not confirmed, as
   * `announcing` is for the status: written with the record before publishing, cleared once delivery
   * is confirmed; until then each run announces it again (with any newer change folded in).
   */
  announcingRotation?: KeyRotationDetail
  /** The provider's fingerprints the status was evaluated against. */
  checkedFingerprints: string[]
  matchedFingerprint?: string
  fingerprintsToAdd: string[]
  /** Days until the matched certificate expires, as of checkedAt. */
  expiresInDays?: number
  /** CERT_EXPIRY_WARNING_DAYS of the check (reads re-evaluate with it). */
  warningDays: number
  problem?: string
  keyIds: string[]
  observation: IssuerObservation
}

const STATUSES = ['ok', 'fingerprint-mismatch', 'unreachable', 'invalid-discovery', 'invalid-jwks', 'certificate-expiring'] as const

export class HealthStore {
  private readonly entity

  constructor(private readonly t: StoreTable) {
    this.entity = new Entity({
      name: 'OIDCProviderHealth',
      table: t.table,
      schema: item({
        accountId: string().key(),
        name: string().key(),
        issuerUrl: string(),
        status: string().enum(...STATUSES),
        checkedAt: number(),
        statusChangedAt: number(),
        notifiedStatus: string().enum(...STATUSES, 'unchecked').optional(),
        announcing: string().enum(...STATUSES).optional(),
        announcingRotation: string().optional(),
        checkedFingerprints: list(string()),
        matchedFingerprint: string().optional(),
        fingerprintsToAdd: list(string()),
        expiresInDays: number().optional(),
        warningDays: number(),
        problem: string().optional(),
        keyIds: list(string()),
        observation: string(),
      }),
      computeKey: ({ accountId, name }) => ({ pk: healthPk(accountId), sk: `${HEALTH_PREFIX}${name}` }),
      timestamps: false,
    })
  }

  async get(accountId: string, name: string): Promise<ProviderHealthRecord | undefined> {
    try {
      const { Item } = await this.entity.build(GetItemCommand).key({ accountId, name }).options({ consistent: true }).send()
      return Item === undefined ? undefined : fromItem(Item)
    } catch (e) {
      throw toStoreError(e)
    }
  }

  async put(record: ProviderHealthRecord): Promise<void> {
    const { observation, announcingRotation, ...rest } = record
    try {
      await this.entity.build(PutItemCommand).item({
        ...rest,
        problem: rest.problem?.slice(0, 2048),
        observation: JSON.stringify(observation),
        announcingRotation: announcingRotation === undefined ? undefined : JSON.stringify(announcingRotation),
      }).send()
    } catch (e) {
      throw toStoreError(e)
    }
  }

  async delete(accountId: string, name: string): Promise<void> {
    try {
      await this.entity.build(DeleteItemCommand).key({ accountId, name }).send()
    } catch (e) {
      throw toStoreError(e)
    }
  }

  /** Every health record of an account (bounded by the 100-provider quota), in name order. */
  async listForAccount(accountId: string): Promise<ProviderHealthRecord[]> {
    const out: ProviderHealthRecord[] = []
    let startKey: { pk: string; sk: string } | undefined
    try {
      do {
        const page = await this.t.table.build(QueryCommand)
          .entities(this.entity)
          .query({ partition: healthPk(accountId), range: { beginsWith: HEALTH_PREFIX } })
          .options({ consistent: true, ...(startKey ? { exclusiveStartKey: startKey } : {}) })
          .send()
        for (const i of page.Items ?? []) out.push(fromItem(i))
        startKey = page.LastEvaluatedKey as { pk: string; sk: string } | undefined
      } while (startKey !== undefined)
    } catch (e) {
      throw toStoreError(e)
    }
    return out
  }
}

function fromItem({ announcingRotation, ...i }: { observation: string; announcingRotation?: string } & Omit<ProviderHealthRecord, 'observation' | 'announcingRotation'>): ProviderHealthRecord {
  const rotation = announcingRotation === undefined ? {} : { announcingRotation: parseDetail(announcingRotation, i.issuerUrl) }
  let observation: IssuerObservation
  try {
    observation = JSON.parse(i.observation) as IssuerObservation
  } catch {
    observation = {
      issuer: i.issuerUrl,
      observedAt: i.checkedAt,
      keyIds: [],
      keyCount: 0,
      skippedKeys: [],
      problem: { kind: 'unreachable', stage: 'discovery', message: 'The stored observation cannot be read; the next check replaces it' },
    }
  }
  return { ...i, ...rotation, observation }
}

/** A stored rotation detail; unreadable, still a rotation to announce (of this issuer, details unknown). */
function parseDetail(text: string, issuer: string): KeyRotationDetail {
  try {
    return JSON.parse(text) as KeyRotationDetail
  } catch {
    return { issuer }
  }
}
