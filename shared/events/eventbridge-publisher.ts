// Publishes the service's events to an EventBridge bus with PutEvents: at most 10 entries per call
// (the API's limit), entries EventBridge refuses are retried once, and whatever still fails is logged
// in full (the log is then the record of the event) and counted, never thrown at the caller's data.

import { EventBridgeClient, PutEventsCommand, type PutEventsRequestEntry } from '@aws-sdk/client-eventbridge'
import type { Logger } from '../log.ts'
import { EVENT_SOURCE, type EventPublisher, type PublishResult, type ServiceEvent } from './service-events.ts'

const MAX_ENTRIES_PER_CALL = 10

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
    // down or stops answering costs seconds, not the run's reserve before its timeout.
    this.client = opts.client ?? new EventBridgeClient({
      region: opts.region,
      maxAttempts: 3,
      requestHandler: { connectionTimeout: 1000, requestTimeout: 2000, throwOnRequestTimeout: true },
    })
  }

  async publish(events: readonly ServiceEvent[]): Promise<PublishResult> {
    let published = 0
    const undelivered: ServiceEvent[] = []
    for (let i = 0; i < events.length; i += MAX_ENTRIES_PER_CALL) {
      let pending = events.slice(i, i + MAX_ENTRIES_PER_CALL).map((event) => ({
        event,
        entry: {
          EventBusName: this.opts.busName,
          Source: EVENT_SOURCE,
          DetailType: event.detailType,
          Detail: JSON.stringify(event.detail),
          Time: event.time ?? new Date(),
        } satisfies PutEventsRequestEntry,
      }))
      for (let attempt = 1; attempt <= 2 && pending.length > 0; attempt++) {
        try {
          const out = await this.client.send(new PutEventsCommand({ Entries: pending.map((p) => p.entry) }))
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
    }
    return { published, undelivered }
  }
}
