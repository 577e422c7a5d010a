// Lambda entry: key refresh (design.md job 5). Triggered by EventBridge key-rotation events
// (`source: oidc-sts`, detail-type "OIDC Issuer Key Rotation", detail.issuer) and by the table's
// stream (keys only: a provider INSERT or MODIFY, the provider then read by key); fetches the
// issuer's JWKS and stores the copy token exchange reads on cold starts and unknown kids. Stream
// batches answer with batchItemFailures (ReportBatchItemFailures); a malformed event is refused with
// a logged reason.

import middy from '@middy/core'
import { loadConfig } from '../shared/config.ts'
import { createLogger } from '../shared/log.ts'
import { KeyRefresher, type EventBridgeResult, type StreamBatchResult } from '../shared/services/key-refresh.ts'
import { openStores } from '../shared/store/stores.ts'

const config = loadConfig()
const logger = createLogger(config.logLevel)
const stores = openStores(config)
const refresher = new KeyRefresher({ ...stores, logger }, { fetchOptions: { allowPrivate: config.allowPrivateIssuers } })

interface LambdaContext {
  awsRequestId?: string
}

async function refreshKeys(event: unknown): Promise<EventBridgeResult | StreamBatchResult> {
  return refresher.handle(event)
}

const invocationLog = {
  before: (request: { event: unknown; context: LambdaContext }) => {
    const e = request.event as { Records?: unknown[]; 'detail-type'?: unknown; id?: unknown } | null
    logger.debug('key refresh triggered', {
      requestId: request.context?.awsRequestId,
      records: Array.isArray(e?.Records) ? e.Records.length : undefined,
      detailType: typeof e?.['detail-type'] === 'string' ? e['detail-type'] : undefined,
    })
  },
  onError: (request: { error: unknown; context: LambdaContext }) => {
    // Only store failures get here (retryable): Lambda retries the event, or the whole stream batch.
    logger.error('key refresh failed', { requestId: request.context?.awsRequestId, error: request.error as Error })
  },
}

export const handler = middy(refreshKeys).use(invocationLog)
