// Lambda entry: the scheduled thumbprint health check (design.md job 4). Every provider of every
// account, one fetch per IdP, bounded concurrency, a deadline per IdP; results in the table, status
// changes and key rotations on the event bus (EventBridge PutEvents; EVENT_BUS_NAME).

import { setMaxListeners } from 'node:events'
import middy from '@middy/core'
import { loadConfig } from '../shared/config.ts'
import { EventBridgePublisher } from '../shared/events/eventbridge-publisher.ts'
import { InProcessBus } from '../shared/events/in-process-bus.ts'
import { createLogger } from '../shared/log.ts'
import { runHealthCheck, type HealthCheckSummary } from '../shared/services/health-check.ts'
import { openStores } from '../shared/store/stores.ts'

const config = loadConfig()
const logger = createLogger(config.logLevel)
const stores = openStores(config)
// Without a bus (serverless invoke local, tests) events go to the in-process bus: logged, not sent.
const publisher = config.eventBusName
  ? new EventBridgePublisher({ busName: config.eventBusName, region: config.region, logger })
  : new InProcessBus({ logger })
/**
 * Time kept back from the Lambda timeout to write records and publish events after the last IdP.
 * Enough while the table answers (milliseconds per write), not when it stops: a store request may take
 * 2 attempts × 5 s (store-timeouts.ts defaults) + backoff ≈ 10 s, and an IdP still in flight when new
 * ones stop starting makes several after its fetch, one after another (its records' read and write, the
 * JWKS copy, the marks after publishing). Such a run can reach the Lambda timeout instead of ending with
 * its own error: nothing it saved is lost (records are written before their events, an unconfirmed
 * announcement stays in doubt for the next run) and the timeout counts in the Errors metric, whose
 * alarm fires as for the run's own error; only its summary line is missing.
 */
const FINISH_RESERVE_MS = 5_000
/**
 * Time kept back from the Lambda timeout after publishing stops: the marking of confirmed announcements
 * (one write per record, 16 at a time, milliseconds each while the table answers), the summary and the
 * function's own error. Without a publish deadline an EventBridge that stops answering holds each batch
 * of 10 for 2 publisher × 3 SDK attempts × 2 s (12 s and more), past the reserve above into the timeout.
 * A mark cut short by the timeout leaves its record in doubt: the next run announces again, never a loss.
 */
const AFTER_PUBLISH_RESERVE_MS = 1_000

interface ScheduledEvent {
  id?: string
  'detail-type'?: string
}

interface LambdaContext {
  getRemainingTimeInMillis?: () => number
  awsRequestId?: string
}

async function checkThumbprints(event: ScheduledEvent, context: LambdaContext): Promise<HealthCheckSummary> {
  // Stop starting new IdPs when the remaining time could not cover one more plus the final writes.
  const controller = new AbortController()
  // Stop publishing (the events not confirmed by then stay in doubt) while the run can still end itself.
  const publishDeadline = new AbortController()
  // Every publish in flight (HEALTH_CHECK_CONCURRENCY IdPs at once) listens to it, and so does each of
  // their SDK requests: more than Node's default of 10, which would print a false "possible leak"
  // warning. The listeners are removed when each publish ends.
  setMaxListeners(0, publishDeadline.signal)
  const remaining = context.getRemainingTimeInMillis?.()
  let timer: NodeJS.Timeout | undefined
  let publishTimer: NodeJS.Timeout | undefined
  if (remaining !== undefined) {
    timer = setTimeout(() => controller.abort(), Math.max(0, remaining - config.healthCheckIdpTimeoutMs - FINISH_RESERVE_MS))
    timer.unref()
    publishTimer = setTimeout(() => publishDeadline.abort(), Math.max(0, remaining - AFTER_PUBLISH_RESERVE_MS))
    publishTimer.unref()
  }
  try {
    const summary = await runHealthCheck(
      { ...stores, publisher, logger },
      {
        concurrency: config.healthCheckConcurrency,
        idpTimeoutMs: config.healthCheckIdpTimeoutMs,
        warningDays: config.certExpiryWarningDays,
        fetchOptions: { allowPrivate: config.allowPrivateIssuers },
        signal: controller.signal,
        publishSignal: publishDeadline.signal,
      },
    )
    logger.info('thumbprint check finished', { eventId: event.id, ...summary })
    // Failed writes, undelivered events or IdPs left unchecked make the invocation fail, so the Errors
    // metric and its alarm see them (the records and events of the IdPs that were checked are kept).
    if (summary.errors > 0) {
      const undelivered = summary.events.failed > 0 ? `${summary.events.failed} events not delivered; ` : ''
      throw new Error(`thumbprint check finished with ${summary.errors} store or event errors (${undelivered}see the log)`)
    }
    if (summary.issuersSkipped > 0) throw new Error(`thumbprint check ran out of time: ${summary.issuersSkipped} IdPs were not checked (see the log)`)
    return summary
  } finally {
    clearTimeout(timer)
    clearTimeout(publishTimer)
  }
}

/** Logs the trigger and any failure with the request id (no event bodies: they carry nothing secret, but nothing useful either). */
const invocationLog = {
  before: (request: { event: ScheduledEvent; context: LambdaContext }) => {
    logger.debug('thumbprint check triggered', { eventId: request.event?.id, detailType: request.event?.['detail-type'], requestId: request.context?.awsRequestId })
  },
  onError: (request: { error: unknown; context: LambdaContext }) => {
    logger.error('thumbprint check failed', { requestId: request.context?.awsRequestId, error: request.error as Error })
  },
}

export const handler = middy(checkThumbprints).use(invocationLog)
