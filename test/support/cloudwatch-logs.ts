// CloudWatch Logs subscription events (what a subscription filter delivers to a Lambda), built from log
// lines: base64 of the gzipped DATA_MESSAGE JSON.
import { gunzipSync, gzipSync } from 'node:zlib'

export function logsEvent(lines: string[], opts: { messageType?: string; logGroup?: string } = {}) {
  const now = Date.now()
  const data = {
    messageType: opts.messageType ?? 'DATA_MESSAGE',
    owner: '123456789012',
    logGroup: opts.logGroup ?? '/aws/lambda/oidc-sts-test-tokenExchange',
    logStream: '2026/11/28/[$LATEST]0f1e2d3c4b5a69788796a5b4c3d2e1f0',
    subscriptionFilters: ['oidc-sts-test-audit'],
    logEvents: lines.map((message, i) => ({ id: `${now}${String(i).padStart(8, '0')}`, timestamp: now, message })),
  }
  return { awslogs: { data: gzipSync(JSON.stringify(data)).toString('base64') } }
}

export function decodeLogsData(event: { awslogs: { data: string } }) {
  return JSON.parse(gunzipSync(Buffer.from(event.awslogs.data, 'base64')).toString('utf8')) as { logEvents: Array<{ message: string }>; [k: string]: unknown }
}
