// Audit of token exchanges. The durable record is one structured log line per exchange, written
// before the response leaves (on Lambda: CloudWatch Logs). A copy goes to the table in batches of up to
// 25 (BatchWriteItem), off the response path, so operators can list recent exchanges with a signed
// call. A crash or container recycle can lose at most the unflushed buffer from the TABLE copy
// (≤ 25 records or ≤ flushIntervalMs of traffic); never from the log stream.
// On Lambda (frozen between invocations, so no timer runs) the handler calls flushIfDue() after each
// invocation: it writes only a full batch or a buffer older than flushIntervalMs, and waits for any
// write in flight, so the table costs ~1/25 of a BatchWriteItem per exchange under load instead of one
// write per exchange on the response path. A container recycled while idle loses its < 25 buffered
// records from the table copy only (the log stream has them).

import type { Logger } from '../log.ts'
import type { AuditStore } from '../store/audit-store.ts'

export interface AuditRecord {
  time: number
  requestId: string
  accountId: string
  providerArn?: string
  roleArn?: string
  sessionName?: string
  sub?: string
  jti?: string
  sourceIp: string
  outcome: 'Success' | 'Failure'
  errorCode?: string
}

export interface AuditSinkOptions {
  logger: Logger
  store?: AuditStore
  /** How long a record may wait in the buffer before a flush (bound on what a crash loses). */
  flushIntervalMs?: number
  /** Buffered records beyond this are dropped from the table copy (never from the log): bounded memory. */
  maxBuffered?: number
}

/** BatchWriteItem's limit: the table copy is written this many records at a time. */
export const AUDIT_BATCH_SIZE = 25

export class AuditSink {
  private buffer: AuditRecord[] = []
  /** Date.now() when the oldest buffered record arrived (undefined while the buffer is empty). */
  private oldestAt: number | undefined
  private timer: NodeJS.Timeout | undefined
  /** Writes run one after another; flush() resolves when everything buffered so far is written. */
  private chain: Promise<void> = Promise.resolve()
  dropped = 0

  constructor(private readonly opts: AuditSinkOptions) {}

  record(r: AuditRecord): void {
    // Claim values are truncated: a hostile IdP must not be able to flood our logs through `sub`.
    this.opts.logger.info('audit', { ...r, sub: r.sub?.slice(0, 256), jti: r.jti?.slice(0, 128) })
    if (!this.opts.store) return
    if (this.buffer.length >= (this.opts.maxBuffered ?? 10_000)) {
      this.dropped++
      return
    }
    if (this.buffer.length === 0) this.oldestAt = Date.now()
    this.buffer.push(r)
    if (this.buffer.length >= AUDIT_BATCH_SIZE) void this.flush()
    else if (!this.timer) {
      this.timer = setTimeout(() => void this.flush(), this.opts.flushIntervalMs ?? 1000)
      this.timer.unref()
    }
  }

  /** Writes everything buffered; callers may await it (tests, shutdown). Never throws. */
  flush(): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer)
      this.timer = undefined
    }
    const batch = this.buffer
    this.buffer = []
    this.oldestAt = undefined
    const store = this.opts.store
    if (batch.length === 0 || !store) return this.chain
    this.chain = this.chain.then(() =>
      store.putBatch(batch).catch((e: unknown) => {
        this.opts.logger.warn('audit table write failed; records remain in the log stream', { count: batch.length, error: e as Error })
      }),
    )
    return this.chain
  }

  /**
   * After a Lambda invocation: writes the buffer if it holds a full batch or its oldest record has
   * waited flushIntervalMs, and in any case waits for writes in flight (none is left mid-request when
   * the container freezes). Never throws.
   */
  flushIfDue(now: number = Date.now()): Promise<void> {
    const due = this.buffer.length >= AUDIT_BATCH_SIZE || (this.oldestAt !== undefined && now - this.oldestAt >= (this.opts.flushIntervalMs ?? 1000))
    return due ? this.flush() : this.chain
  }

  get pending(): number {
    return this.buffer.length
  }
}
