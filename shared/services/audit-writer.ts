// The audit table copy on AWS: a CloudWatch Logs subscription on the token-exchange log group (filter
// `{ $.msg = "audit" }`) delivers the exchange's audit lines in batches; this writes them to the table
// (BatchWriteItem, 25 at a time) for ListAuditEvents. The log stream stays the durable record: a batch
// that fails is retried by Lambda (asynchronous invocation) and then sent to the dead-letter queue,
// and since an item's key is derived from its request id and time, a redelivered batch rewrites the
// same items instead of adding duplicates.

import { gunzipSync } from 'node:zlib'
import { parseAuditLine, type AuditRecord } from '../audit/audit-log.ts'
import type { Logger } from '../log.ts'
import type { AuditStore } from '../store/audit-store.ts'

/** What a subscription delivery's `awslogs.data` holds, as base64 of gzipped JSON. */
export interface LogsData {
  messageType: 'DATA_MESSAGE' | 'CONTROL_MESSAGE'
  logGroup: string
  logStream: string
  logEvents: Array<{ id: string; timestamp: number; message: string }>
}

/** CloudWatch Logs delivers at most 1 MB compressed; its JSON, uncompressed, is bounded by this. */
const MAX_DECOMPRESSED_BYTES = 32 * 1024 * 1024

export class LogsEventInvalid extends Error {
  override readonly name = 'LogsEventInvalid'
}

/** Decodes a subscription event; throws LogsEventInvalid, naming what is wrong, for anything else. */
export function decodeLogsEvent(event: unknown): LogsData {
  const data = (event as { awslogs?: { data?: unknown } } | null)?.awslogs?.data
  if (typeof data !== 'string' || data.length === 0) throw new LogsEventInvalid('not a CloudWatch Logs subscription event (no awslogs.data)')
  let json: string
  try {
    json = gunzipSync(Buffer.from(data, 'base64'), { maxOutputLength: MAX_DECOMPRESSED_BYTES }).toString('utf8')
  } catch (e) {
    throw new LogsEventInvalid(`awslogs.data is not base64 of gzip data (${(e as { code?: string }).code ?? 'unreadable'})`)
  }
  let parsed: unknown
  try {
    parsed = JSON.parse(json)
  } catch {
    throw new LogsEventInvalid('awslogs.data does not hold JSON')
  }
  const d = parsed as Partial<LogsData> | null
  if (d?.messageType !== 'DATA_MESSAGE' && d?.messageType !== 'CONTROL_MESSAGE') throw new LogsEventInvalid('awslogs.data has no messageType')
  if (!Array.isArray(d.logEvents)) throw new LogsEventInvalid('awslogs.data has no logEvents list')
  return d as LogsData
}

export interface AuditWriteResult {
  /** Log events in the delivery. */
  logEvents: number
  /** Audit records written to the table. */
  written: number
  /** Log events that were not audit lines (none, with the subscription's filter). */
  skipped: number
}

export async function writeAuditFromLogs(event: unknown, deps: { audit: AuditStore; logger: Logger }): Promise<AuditWriteResult> {
  const data = decodeLogsEvent(event)
  // CloudWatch Logs checks a new subscription with a control message: nothing to write.
  if (data.messageType === 'CONTROL_MESSAGE') return { logEvents: 0, written: 0, skipped: 0 }
  const records: AuditRecord[] = []
  for (const e of data.logEvents) {
    const r = typeof e?.message === 'string' ? parseAuditLine(e.message) : undefined
    if (r) records.push(r)
  }
  const skipped = data.logEvents.length - records.length
  // Never the lines themselves: a skipped line might not be ours to log.
  if (skipped > 0) deps.logger.warn('log events that are not audit lines were skipped', { logGroup: data.logGroup, skipped })
  if (records.length > 0) await deps.audit.putBatch(records)
  return { logEvents: data.logEvents.length, written: records.length, skipped }
}
