// Audit records in the table: pk AUDIT#<account>#<YYYY-MM-DD>, sk <ISO time>#<requestId>, expiring
// after the retention period (TTL on expiresAt). Written in batches of 25, read by day with paging.

import { BatchPutRequest, BatchWriteCommand, Entity, QueryCommand, executeBatchWrite, item, number, string } from 'dynamodb-toolbox'
import type { AuditRecord } from '../audit/audit-log.ts'
import type { StoreTable } from './table.ts'
import { toStoreError } from './store-errors.ts'

export const auditPk = (accountId: string, day: string) => `AUDIT#${accountId}#${day}`

export class AuditStore {
  private readonly entity

  constructor(private readonly t: StoreTable, private readonly retentionDays = 90) {
    this.entity = new Entity({
      name: 'Audit',
      table: t.table,
      schema: item({
        accountId: string().key(),
        day: string().key(),
        at: string().key(),
        requestId: string(),
        time: number(),
        providerArn: string().optional(),
        roleArn: string().optional(),
        sessionName: string().optional(),
        sub: string().optional(),
        jti: string().optional(),
        sourceIp: string(),
        outcome: string().enum('Success', 'Failure'),
        errorCode: string().optional(),
        expiresAt: number(),
      }),
      computeKey: ({ accountId, day, at }) => ({ pk: auditPk(accountId, day), sk: at }),
      timestamps: false,
    })
  }

  async putBatch(records: AuditRecord[]): Promise<void> {
    for (let i = 0; i < records.length; i += 25) {
      const requests = records.slice(i, i + 25).map((r) => {
        const iso = new Date(r.time).toISOString()
        return this.entity.build(BatchPutRequest).item({
          ...r,
          sub: r.sub?.slice(0, 256),
          jti: r.jti?.slice(0, 128),
          day: iso.slice(0, 10),
          at: `${iso}#${r.requestId}`,
          expiresAt: Math.floor(r.time / 1000) + this.retentionDays * 86400,
        })
      })
      try {
        await executeBatchWrite({ maxAttempts: 5 }, this.t.table.build(BatchWriteCommand).requests(...requests))
      } catch (e) {
        throw toStoreError(e)
      }
    }
  }

  /** One day's records for an account, newest first, a page at a time. */
  async list(accountId: string, day: string, maxItems: number, after?: string): Promise<{ items: AuditRecord[]; nextAt?: string }> {
    try {
      const { Items } = await this.t.table.build(QueryCommand)
        .entities(this.entity)
        .query({ partition: auditPk(accountId, day) })
        .options({
          limit: maxItems + 1,
          reverse: true,
          ...(after !== undefined ? { exclusiveStartKey: { pk: auditPk(accountId, day), sk: after } } : {}),
        })
        .send()
      const rows = Items ?? []
      const page = rows.slice(0, maxItems)
      const items = page.map(({ day: _d, at: _a, expiresAt: _e, ...r }) => r as AuditRecord)
      return rows.length > maxItems ? { items, nextAt: page[page.length - 1]!.at } : { items }
    } catch (e) {
      throw toStoreError(e)
    }
  }
}
