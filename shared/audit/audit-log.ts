// Audit of token exchanges. The durable record is one structured JSON log line per exchange (the
// exchange's only log line), written before the response leaves. A copy goes to the table so operators
// can list recent exchanges with a signed call (ListAuditEvents):
// - on AWS, by the audit-writer function, which a CloudWatch Logs subscription on the token-exchange log
//   group feeds with these lines in batches (functions/audit-writer.ts): the exchange function itself
//   makes no audit write, and nothing is lost that the log stream has (the writer's items are
//   idempotent, so a redelivered batch writes the same items again);
// - locally (`npm start`, tests), by this sink: batches of up to 25 (BatchWriteItem) written in the
//   background, every 25 records or after flushIntervalMs. A crash loses what waits (≤ 25 records or
//   1 s normally, at most maxBuffered while the store is slow), and a batch the table refuses past the
//   store's retries is dropped and counted: from the table copy, never from the log.
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
  /**
   * Why a refusal happened, where the caller is told less (the trust policy's verdict: which statement
   * or condition refused the token is the operator's to know, not the token holder's).
   */
  reason?: string
}

/** A reason is cut to this many characters in the log line and the table. */
export const MAX_AUDIT_REASON_LENGTH = 512

/**
 * `sub` and `jti` are kept up to this many characters: the verifier's own bound on both
 * (verify-token.ts MAX_SUBJECT_LENGTH, MAX_JTI_LENGTH), so a verified claim is recorded whole and two
 * subjects are never told apart by a cut prefix. The cut only guards lines from elsewhere.
 */
export const MAX_AUDIT_CLAIM_LENGTH = 1024

/**
 * `text` cut to at most `max` UTF-16 code units, never between the two halves of a surrogate pair: a
 * lone surrogate is no Unicode text, and strict JSON readers refuse a ListAuditEvents page carrying one.
 */
export function clipText(text: string, max: number): string {
  if (text.length <= max) return text
  const code = text.charCodeAt(max - 1)
  return text.slice(0, code >= 0xd800 && code <= 0xdbff ? max - 1 : max)
}

/** The record's free-text fields as they are logged and stored: claims and reason within their bounds. */
export function clipAuditFields(r: Pick<AuditRecord, 'sub' | 'jti' | 'reason'>): Pick<AuditRecord, 'sub' | 'jti' | 'reason'> {
  return {
    sub: r.sub === undefined ? undefined : clipText(r.sub, MAX_AUDIT_CLAIM_LENGTH),
    jti: r.jti === undefined ? undefined : clipText(r.jti, MAX_AUDIT_CLAIM_LENGTH),
    reason: r.reason === undefined ? undefined : clipText(r.reason, MAX_AUDIT_REASON_LENGTH),
  }
}

export interface AuditSinkOptions {
  logger: Logger
  store?: AuditStore
  /** How long a record may wait in the buffer before a flush (bound on what a crash loses). */
  flushIntervalMs?: number
  /**
   * Records waiting for the table (buffered, or queued behind a slow write) beyond this are dropped from
   * the table copy (never from the log), and counted: bounded memory, and a bound on what a crash loses.
   */
  maxBuffered?: number
}

/** At most one warning per this many ms while records are dropped from the table copy. */
const DROP_REPORT_MS = 60_000

/** BatchWriteItem's limit: the table copy is written this many records at a time. */
export const AUDIT_BATCH_SIZE = 25

export class AuditSink {
  private buffer: AuditRecord[] = []
  private timer: NodeJS.Timeout | undefined
  /** Writes run one after another; flush() resolves when everything buffered so far is written. */
  private chain: Promise<void> = Promise.resolve()
  /** Records handed to `chain` and not yet written (or given up on). */
  private queued = 0
  dropped = 0
  /** When a drop was last reported (the first drop is, then at most one line per DROP_REPORT_MS). */
  private dropReportedAt = Number.NEGATIVE_INFINITY

  constructor(private readonly opts: AuditSinkOptions) {}

  record(r: AuditRecord): void {
    // Claim values are bounded (clipAuditFields): a hostile IdP must not be able to flood our logs through them.
    // One object literal of every field (absent ones undefined, so not written): one shape for every line.
    const { sub, jti, reason } = clipAuditFields(r)
    this.opts.logger.record(AUDIT_MESSAGE, {
      time: r.time,
      requestId: r.requestId,
      accountId: r.accountId,
      providerArn: r.providerArn,
      roleArn: r.roleArn,
      sessionName: r.sessionName,
      sub,
      jti,
      sourceIp: r.sourceIp,
      outcome: r.outcome,
      errorCode: r.errorCode,
      reason,
    })
    if (!this.opts.store) return
    const maxBuffered = this.opts.maxBuffered ?? 10_000
    if (this.buffer.length + this.queued >= maxBuffered) {
      this.drop(1, 'the store is behind', { maxBuffered })
      return
    }
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
    const store = this.opts.store
    if (batch.length === 0 || !store) return this.chain
    this.queued += batch.length
    this.chain = this.chain.then(() =>
      store
        .putBatch(batch)
        // The store has retried (putBatch): these records are not in the table copy, and are counted so.
        .catch((e: unknown) => this.drop(batch.length, 'a table write failed', { error: e as Error }))
        .finally(() => {
          this.queued -= batch.length
        }),
    )
    return this.chain
  }

  /**
   * Counts records left out of the table copy, and says so: the first drop, then at most one line per
   * DROP_REPORT_MS, so the operator learns that ListAuditEvents misses records (the log lines have them).
   */
  private drop(count: number, why: string, fields: Record<string, unknown>): void {
    this.dropped += count
    const now = Date.now()
    if (now - this.dropReportedAt < DROP_REPORT_MS) return
    this.dropReportedAt = now
    this.opts.logger.warn(`audit table copy dropping records: ${why}; the log lines stay complete`, { dropped: this.dropped, ...fields })
  }

  /** Records not yet in the table: buffered, or queued behind a write. */
  get pending(): number {
    return this.buffer.length + this.queued
  }
}

/** The message of an audit line: what the log subscriber selects (`{ $.msg = "audit" }`). */
export const AUDIT_MESSAGE = 'audit'

const OPTIONAL_FIELDS = ['providerArn', 'roleArn', 'sessionName', 'sub', 'jti', 'errorCode', 'reason'] as const

/**
 * The record an audit log line carries (the line AuditSink.record writes), or undefined for any other
 * line. Only the record's own fields are taken, each type-checked. The lines cannot be forged through
 * claim values: they are JSON-serialised, so a `sub` cannot end a line or add members.
 */
export function parseAuditLine(line: string): AuditRecord | undefined {
  const start = line.indexOf('{')
  if (start < 0) return undefined
  let v: unknown
  try {
    v = JSON.parse(line.slice(start))
  } catch {
    return undefined
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return undefined
  const o = v as Record<string, unknown>
  if (o.msg !== AUDIT_MESSAGE) return undefined
  const { time, requestId, accountId, sourceIp, outcome } = o
  if (typeof time !== 'number' || !Number.isFinite(time)) return undefined
  if (typeof requestId !== 'string' || typeof accountId !== 'string' || typeof sourceIp !== 'string') return undefined
  if (outcome !== 'Success' && outcome !== 'Failure') return undefined
  const r: AuditRecord = { time, requestId, accountId, sourceIp, outcome }
  for (const k of OPTIONAL_FIELDS) {
    const x = o[k]
    if (typeof x === 'string') r[k] = x
    else if (x !== undefined) return undefined
  }
  return r
}
