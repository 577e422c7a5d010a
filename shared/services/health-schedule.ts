// Local mode's stand-in for the deployed triggers (npm start): the thumbprint health check at start and
// every HEALTH_CHECK_INTERVAL_SECONDS (runs never overlap), an in-process bus in place of EventBridge,
// and key refresh subscribed to it, so key-rotation events are acted on in process as on AWS. Provider
// changes, which AWS reports through the table's stream, are reported here by providerChanged().
// stop() ends it all promptly: no new run or delivery starts, the run in progress is aborted.

import type { Config } from '../config.ts'
import { InProcessBus } from '../events/in-process-bus.ts'
import { DETAIL_TYPES, type KeyRotationDetail } from '../events/service-events.ts'
import type { Logger } from '../log.ts'
import type { Stores } from '../store/stores.ts'
import { runHealthCheck, type HealthCheckSettings, type HealthCheckSummary } from './health-check.ts'
import { KeyRefresher } from './key-refresh.ts'

export interface BackgroundJobsOptions {
  config: Pick<Config, 'healthCheckIntervalSeconds' | 'healthCheckConcurrency' | 'healthCheckIdpTimeoutMs' | 'certExpiryWarningDays' | 'allowPrivateIssuers'>
  stores: Pick<Stores, 'providerDirectory' | 'health' | 'jwksCopies'>
  logger: Logger
  /** Extra fetch options (tests: a test CA). */
  fetchOptions?: HealthCheckSettings['fetchOptions']
  now?: () => number
}

export interface BackgroundJobs {
  readonly bus: InProcessBus
  /** Runs a check now unless one is running (then resolves with that one's result). */
  runHealthCheck(): Promise<HealthCheckSummary | undefined>
  /** Schedules the first check at once and then every interval (no-op when the interval is 0). */
  start(): void
  /** What the table stream reports on AWS: a provider was created or its fingerprints changed. */
  providerChanged(issuer: string): Promise<void>
  /** Stops the schedule and deliveries; waits at most `graceMs` for the run in progress. */
  stop(graceMs?: number): Promise<void>
}

export function startBackgroundJobs(opts: BackgroundJobsOptions): BackgroundJobs {
  const { config, stores, logger } = opts
  const now = opts.now ?? Date.now
  const fetchOptions = { allowPrivate: config.allowPrivateIssuers, ...opts.fetchOptions }
  const bus = new InProcessBus({ logger })
  const refresher = new KeyRefresher({ ...stores, logger }, { fetchOptions, now })
  bus.subscribe(DETAIL_TYPES.keyRotation, (event) => refresher.handleEventBridge(event))

  let timer: NodeJS.Timeout | undefined
  let running: Promise<HealthCheckSummary | undefined> | undefined
  let controller = new AbortController()
  let stopped = false

  const runOnce = (): Promise<HealthCheckSummary | undefined> => {
    if (running !== undefined) return running
    if (stopped) return Promise.resolve(undefined)
    controller = new AbortController()
    const run = runHealthCheck(
      { ...stores, publisher: bus, logger },
      {
        concurrency: config.healthCheckConcurrency,
        idpTimeoutMs: config.healthCheckIdpTimeoutMs,
        warningDays: config.certExpiryWarningDays,
        fetchOptions,
        now,
        signal: controller.signal,
      },
    )
      .then((summary) => {
        logger.info('thumbprint check finished', { ...summary })
        return summary
      })
      .catch((e: unknown) => {
        logger.error('thumbprint check failed', { error: e as Error })
        return undefined
      })
      .finally(() => {
        running = undefined
      })
    running = run
    return run
  }

  const schedule = (delayMs: number) => {
    if (stopped || config.healthCheckIntervalSeconds === 0) return
    timer = setTimeout(() => {
      void runOnce().finally(() => schedule(config.healthCheckIntervalSeconds * 1000))
    }, delayMs)
    // The server keeps the process alive; a pending check alone should not.
    timer.unref()
  }

  return {
    bus,
    runHealthCheck: runOnce,
    start: () => schedule(0),
    async providerChanged(issuer) {
      const detail: KeyRotationDetail = { issuer, reason: 'provider-changed', observedAt: new Date(now()).toISOString() }
      await bus.publish([{ detailType: DETAIL_TYPES.keyRotation, detail }])
    },
    async stop(graceMs = 5_000) {
      stopped = true
      clearTimeout(timer)
      controller.abort()
      bus.close()
      const current = running
      if (current !== undefined) {
        let t: NodeJS.Timeout | undefined
        await Promise.race([current, new Promise<void>((r) => { t = setTimeout(r, graceMs); t.unref() })])
        clearTimeout(t)
      }
      await bus.drain(graceMs)
    },
  }
}
