// Lambda entry: the audit table copy on AWS. A CloudWatch Logs subscription on the token-exchange
// function's log group (filter `{ $.msg = "audit" }`) invokes it with batches of audit lines; it writes
// them to the table for ListAuditEvents (shared/services/audit-writer.ts). A failure throws: Lambda
// retries the asynchronous invocation twice, then the batch goes to the dead-letter queue.

import middy from '@middy/core'
import { loadConfig } from '../shared/config.ts'
import { createLogger } from '../shared/log.ts'
import { writeAuditFromLogs, type AuditWriteResult } from '../shared/services/audit-writer.ts'
import { openStores } from '../shared/store/stores.ts'

const config = loadConfig()
const logger = createLogger(config.logLevel)
const { audit } = openStores(config)

interface LambdaContext {
  awsRequestId?: string
}

async function writeAudit(event: unknown): Promise<AuditWriteResult> {
  return writeAuditFromLogs(event, { audit, logger })
}

const invocationLog = {
  after: (request: { response: AuditWriteResult | null; context: LambdaContext }) => {
    logger.debug('audit records written', { requestId: request.context?.awsRequestId, ...request.response })
  },
  onError: (request: { error: unknown; context: LambdaContext }) => {
    logger.error('audit write failed; the batch will be retried', { requestId: request.context?.awsRequestId, error: request.error as Error })
  },
}

export const handler = middy(writeAudit).use(invocationLog)
