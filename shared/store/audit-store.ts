// Audit records in the table: pk AUDIT#<account>#<YYYY-MM-DD>, sk <ISO time>#<requestId>, expiring
// after the retention period (TTL on expiresAt). Written in batches of 25, read by day with paging.
// Writes build the entity's items by hand and send them with the document client: dynamodb-toolbox's
// per-item schema parsing cost ~0.3 ms of CPU per record, more than the token exchange that produced
// it (BENCHMARKS.md); reads keep the entity. test/audit checks the two agree.

import { BatchWriteCommand } from '@aws-sdk/lib-dynamodb'
import { Entity, QueryCommand, item, number, string } from 'dynamodb-toolbox'
import { type AuditRecord, clipAuditFields } from '../audit/audit-log.ts'
import type { StoreTable } from './table.ts'
import { ApiError } from '../errors.ts'
import { forEachBounded } from '../limits/for-each-bounded.ts'
import { toStoreError } from './store-errors.ts'

/** BatchWriteItem chunks of one putBatch in flight at once. */
const PUT_BATCH_CONCURRENCY = 4

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
        reason: string().optional(),
        expiresAt: number(),
      }),
      computeKey: ({ accountId, day, at }) => ({ pk: auditPk(accountId, day), sk: at }),
      timestamps: false,
    })
  }

  async putBatch(records: AuditRecord[]): Promise<void> {
    const chunks: AuditRecord[][] = []
    for (let i = 0; i < records.length; i += 25) chunks.push(records.slice(i, i + 25))
    // A few chunks at a time: one after another, a large delivery under throttling (each chunk backs off
    // for up to ~3 s) would outlast the audit writer's timeout. Every chunk is tried; the first error is thrown.
    let failure: unknown
    await forEachBounded(chunks, PUT_BATCH_CONCURRENCY, async (chunk) => {
      try {
        await this.putChunk(chunk)
      } catch (e) {
        failure ??= e
      }
    })
    if (failure !== undefined) throw failure
  }

  private async putChunk(records: AuditRecord[]): Promise<void> {
    const client = this.t.table.getDocumentClient()
    const tableName = this.t.table.getName()
    let requests: unknown[] = records.map((r) => ({ PutRequest: { Item: this.itemOf(r) } }))
    try {
      // Unprocessed items are sent again, with backoff, up to 5 attempts.
      for (let attempt = 1; attempt <= 5 && requests.length > 0; attempt++) {
        if (attempt > 1) await new Promise((r) => setTimeout(r, 50 * 2 ** attempt))
        const out = await client.send(new BatchWriteCommand({ RequestItems: { [tableName]: requests as never } }))
        requests = out.UnprocessedItems?.[tableName] ?? []
      }
    } catch (e) {
      throw toStoreError(e)
    }
    // Throttled past the retries: the caller decides (the log subscriber fails the batch, which is
    // redelivered; the in-process sink logs the count). Items are idempotent, so a retry is safe.
    if (requests.length > 0) throw new ApiError('Throttling', `${requests.length} audit records were not written (throttled).`, { retryAfterMs: 1000 })
  }

  /** The item the Audit entity stores (its `_et` marker and key attributes included), built without schema parsing. */
  private itemOf(r: AuditRecord): Record<string, unknown> {
    const iso = new Date(r.time).toISOString()
    const day = iso.slice(0, 10)
    const at = `${iso}#${r.requestId}`
    const out: Record<string, unknown> = {
      pk: auditPk(r.accountId, day),
      sk: at,
      [this.t.table.entityAttributeSavedAs]: this.entity.entityName,
      accountId: r.accountId,
      day,
      at,
      requestId: r.requestId,
      time: r.time,
      sourceIp: r.sourceIp,
      outcome: r.outcome,
      expiresAt: Math.floor(r.time / 1000) + this.retentionDays * 86400,
    }
    if (r.providerArn !== undefined) out.providerArn = r.providerArn
    if (r.roleArn !== undefined) out.roleArn = r.roleArn
    if (r.sessionName !== undefined) out.sessionName = r.sessionName
    const { sub, jti, reason } = clipAuditFields(r)
    if (sub !== undefined) out.sub = sub
    if (jti !== undefined) out.jti = jti
    if (r.errorCode !== undefined) out.errorCode = r.errorCode
    if (reason !== undefined) out.reason = reason
    return out
  }

  /**
   * One day's records for an account, newest first, a page at a time; none older than the retention
   * period at `now` (DynamoDB's TTL deletes expired items only within days). Judged by the record's time
   * and this store's retention rather than by each item's stored expiresAt, which an earlier retention
   * setting decided: a day's records then expire oldest first, and the first expired one ends the listing.
   */
  async list(accountId: string, day: string, maxItems: number, after: string | undefined, now: Date): Promise<{ items: AuditRecord[]; nextAt?: string }> {
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
      const oldest = now.getTime() - this.retentionDays * 86_400_000
      const all = Items ?? []
      const live = all.findIndex((row) => row.time <= oldest)
      const rows = live < 0 ? all : all.slice(0, live)
      const page = rows.slice(0, maxItems)
      const items = page.map(({ day: _d, at: _a, expiresAt: _e, ...r }) => r as AuditRecord)
      return rows.length > maxItems ? { items, nextAt: page[page.length - 1]!.at } : { items }
    } catch (e) {
      throw toStoreError(e)
    }
  }
}
