// The local stand-in for EventBridge: publish() logs one line per event and delivers it, in the
// envelope EventBridge would use, to the subscribers of its detail-type, asynchronously and in order
// of publication. Used by `npm start` and by tests; deliveries can be awaited (drain) and stopped (close).

import { randomUUID } from 'node:crypto'
import type { Logger } from '../log.ts'
import { formatUtc } from '../time.ts'
import { type EventBridgeEnvelope, EVENT_SOURCE, type EventPublisher, type PublishOptions, type PublishResult, type ServiceEvent } from './service-events.ts'

export type EventHandler = (event: EventBridgeEnvelope) => Promise<unknown> | unknown

export interface InProcessBusOptions {
  logger: Logger
  /** Shown as the envelope's account/region, as on AWS. */
  account?: string
  region?: string
  /** Envelopes kept for inspection (tests, debugging); the oldest are dropped beyond this. */
  historyLimit?: number
}

export class InProcessBus implements EventPublisher {
  private readonly handlers = new Map<string, Set<EventHandler>>()
  private readonly pending = new Set<Promise<void>>() // bound: one entry per undelivered event; deliveries end (handlers are bounded by their own timeouts)
  private readonly history: EventBridgeEnvelope[] = [] // bound: historyLimit (default 200) most recent envelopes
  private readonly historyLimit: number
  private closed = false

  constructor(private readonly opts: InProcessBusOptions) {
    this.historyLimit = Math.max(0, opts.historyLimit ?? 200)
  }

  subscribe(detailType: string, handler: EventHandler): () => void {
    let set = this.handlers.get(detailType)
    if (set === undefined) this.handlers.set(detailType, (set = new Set()))
    set.add(handler)
    return () => set!.delete(handler)
  }

  async publish(events: readonly ServiceEvent[], options: PublishOptions = {}): Promise<PublishResult> {
    // Publishing here never waits, so it cannot outlast a deadline; one already passed is honoured as
    // EventBridgePublisher honours it (nothing sent, every event returned undelivered and logged).
    if (options.signal?.aborted) {
      for (const e of events) this.opts.logger.error('event not delivered: the publish deadline has passed', { bus: 'in-process', detailType: e.detailType, detail: e.detail })
      return { published: 0, undelivered: [...events] }
    }
    let published = 0
    for (const e of events) {
      const envelope: EventBridgeEnvelope = {
        version: '0',
        id: randomUUID(),
        'detail-type': e.detailType,
        source: EVENT_SOURCE,
        account: this.opts.account ?? 'local',
        time: formatUtc((e.time ?? new Date()).getTime()),
        region: this.opts.region ?? 'local',
        resources: [],
        detail: e.detail,
      }
      this.opts.logger.info('event published', { bus: 'in-process', id: envelope.id, detailType: envelope['detail-type'], detail: envelope.detail })
      this.history.push(envelope)
      if (this.history.length > this.historyLimit) this.history.splice(0, this.history.length - this.historyLimit)
      published++
      if (!this.closed) this.deliver(envelope)
    }
    return { published, undelivered: [] }
  }

  /** Envelopes published so far (most recent last, at most historyLimit). */
  published(detailType?: string): EventBridgeEnvelope[] {
    return this.history.filter((e) => detailType === undefined || e['detail-type'] === detailType)
  }

  /** Resolves when every delivery started so far, and any they caused, has finished (or after timeoutMs). */
  async drain(timeoutMs = 30_000): Promise<boolean> {
    const deadline = Date.now() + timeoutMs
    while (this.pending.size > 0) {
      const left = deadline - Date.now()
      if (left <= 0) return false
      let timer: NodeJS.Timeout | undefined
      const timeout = new Promise<void>((r) => {
        timer = setTimeout(r, left)
        timer.unref()
      })
      await Promise.race([Promise.allSettled([...this.pending]), timeout])
      clearTimeout(timer)
    }
    return true
  }

  /** Stops delivering (events published afterwards are still logged). */
  close(): void {
    this.closed = true
  }

  private deliver(envelope: EventBridgeEnvelope): void {
    const handlers = [...(this.handlers.get(envelope['detail-type']) ?? [])]
    if (handlers.length === 0) return
    const run = (async () => {
      // Asynchronous like EventBridge: the publisher never waits for, or fails because of, a consumer.
      await new Promise<void>((r) => setImmediate(r))
      for (const h of handlers) {
        try {
          await h(envelope)
        } catch (e) {
          this.opts.logger.error('event delivery failed', { bus: 'in-process', id: envelope.id, detailType: envelope['detail-type'], error: e as Error })
        }
      }
    })()
    this.pending.add(run)
    void run.finally(() => this.pending.delete(run))
  }
}
