// Publishes the service's events to an EventBridge bus with PutEvents: at most 10 entries and 256 KB
// per call (the API's limits: a call over the size fails all its entries), entries EventBridge refuses
// are retried once, and whatever still fails is logged in full (the log is then the record of the
// event) and counted, never thrown at the caller's data.
// A caller's deadline (options.signal) ends publishing: no call starts after it, the one in flight is
// aborted, and the events not confirmed by then are returned undelivered with the rest.

import { EventBridgeClient, PutEventsCommand, type PutEventsRequestEntry } from '@aws-sdk/client-eventbridge'
import type { Logger } from '../log.ts'
import { EVENT_SOURCE, type EventPublisher, type PublishOptions, type PublishResult, type ServiceEvent } from './service-events.ts'

const MAX_ENTRIES_PER_CALL = 10
/** A call's entries together stay under this, as EventBridge counts them (entryBytes). An entry as large goes alone: only it fails. */
const MAX_BYTES_PER_CALL = 256 * 1024

interface Pending {
  event: ServiceEvent
  entry: PutEventsRequestEntry
}

/** An entry's size by EventBridge's rule: 14 bytes for Time, then Source, DetailType and Detail in UTF-8 (no Resources here). */
function entryBytes(e: PutEventsRequestEntry): number {
  return 14 + Buffer.byteLength(e.Source ?? '') + Buffer.byteLength(e.DetailType ?? '') + Buffer.byteLength(e.Detail ?? '')
}

/** The entries in order, in calls within both limits. */
function callsOf(entries: Pending[]): Pending[][] {
  const calls: Pending[][] = []
  let call: Pending[] = []
  let bytes = 0
  for (const p of entries) {
    const size = entryBytes(p.entry)
    if (call.length === MAX_ENTRIES_PER_CALL || (call.length > 0 && bytes + size >= MAX_BYTES_PER_CALL)) {
      calls.push(call)
      call = []
      bytes = 0
    }
    call.push(p)
    bytes += size
  }
  if (call.length > 0) calls.push(call)
  return calls
}

export interface EventBridgePublisherOptions {
  /** Bus name or ARN (EVENT_BUS_NAME). */
  busName: string
  region: string
  logger: Logger
  /** Tests inject a client (e.g. one pointed at a local endpoint). */
  client?: Pick<EventBridgeClient, 'send'>
}

export class EventBridgePublisher implements EventPublisher {
  private readonly client: Pick<EventBridgeClient, 'send'>

  constructor(private readonly opts: EventBridgePublisherOptions) {
    // Three attempts for throttling and 5xx, each bounded in time (as the table client's: without
    // throwOnRequestTimeout the SDK only logs a request that outlasts requestTimeout): a bus that stays
    // down or stops answering costs seconds per call, and the caller's deadline bounds the whole.
    this.client = opts.client ?? new EventBridgeClient({
      region: opts.region,
      maxAttempts: 3,
      requestHandler: { connectionTimeout: 1000, requestTimeout: 2000, throwOnRequestTimeout: true },
    })
  }

  async publish(events: readonly ServiceEvent[], options: PublishOptions = {}): Promise<PublishResult> {
    const { signal } = options
    let published = 0
    const undelivered: ServiceEvent[] = []
    let stopLogged = false
    let done = 0
    const entries = events.map((event): Pending => ({
      event,
      entry: {
        EventBusName: this.opts.busName,
        Source: EVENT_SOURCE,
        DetailType: event.detailType,
        Detail: JSON.stringify(event.detail),
        Time: event.time ?? new Date(),
      },
    }))
    for (const call of callsOf(entries)) {
      let pending = call
      for (let attempt = 1; attempt <= 2 && pending.length > 0; attempt++) {
        if (signal?.aborted) {
          // Past the deadline: this batch and the ones after it are not sent (logged below, one line each).
          if (!stopLogged) this.opts.logger.warn('PutEvents stopped: the publish deadline has passed', { bus: this.opts.busName, entriesLeft: events.length - done })
          stopLogged = true
          break
        }
        try {
          // The signal reaches the SDK (it aborts the request, and no retry starts after it), and the
          // wait is cut at the deadline even where the SDK does not look at it (a backoff between its
          // attempts, signing, a client that ignores it).
          const out = await untilAborted(this.client.send(new PutEventsCommand({ Entries: pending.map((p) => p.entry) }), { abortSignal: signal }), signal)
          // Result entries are positional: an ErrorCode marks the entry at the same index as refused.
          const refused = pending.filter((_, j) => out.Entries?.[j]?.ErrorCode !== undefined)
          published += pending.length - refused.length
          pending = refused
        } catch (e) {
          this.opts.logger.warn('PutEvents failed', { bus: this.opts.busName, attempt, entries: pending.length, error: e as Error })
        }
      }
      for (const lost of pending) {
        undelivered.push(lost.event)
        this.opts.logger.error('event not delivered to EventBridge', { bus: this.opts.busName, detailType: lost.entry.DetailType, detail: lost.entry.Detail })
      }
      done += call.length
    }
    return { published, undelivered }
  }
}

/**
 * `work`, or a rejection as soon as `signal` aborts. What `work` does afterwards is ignored (a PutEvents
 * answered after the deadline stays unconfirmed: its events are returned undelivered, a duplicate at worst).
 */
function untilAborted<T>(work: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (signal === undefined) return work
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(Object.assign(new Error('PutEvents abandoned: the publish deadline has passed'), { name: 'AbortError' }))
    if (signal.aborted) onAbort()
    else signal.addEventListener('abort', onAbort, { once: true })
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort))
  })
}
