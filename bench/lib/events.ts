// API Gateway HTTP API (payload 2.0) events, shaped like events/http-api-v2-*.json (the raw query and
// the decoded one), for driving the Lambda handlers in process exactly as the Lambda runtime would
// hand them over.

import { randomBytes } from 'node:crypto'

export interface EventInput {
  method?: 'GET' | 'POST'
  rawQueryString?: string
  headers?: Record<string, string>
  body?: string
  host?: string
  sourceIp?: string
}

export function httpApiEvent(input: EventInput) {
  const method = input.method ?? 'POST'
  const host = input.host ?? 'sts.example.com'
  const sourceIp = input.sourceIp ?? '203.0.113.10'
  const ua = 'AlibabaCloud (linux; x64) Node.js/v20.20.2 Core/1.0.8 TeaDSL/2'
  const now = Date.now()
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: '/',
    rawQueryString: input.rawQueryString ?? '',
    headers: {
      accept: 'application/json',
      'content-length': String(Buffer.byteLength(input.body ?? '')),
      host,
      'user-agent': ua,
      'x-amzn-trace-id': `Root=1-${Math.floor(now / 1000).toString(16)}-${randomBytes(12).toString('hex')}`,
      'x-forwarded-for': sourceIp,
      'x-forwarded-port': '443',
      'x-forwarded-proto': 'https',
      ...input.headers,
    },
    ...queryStringParameters(input.rawQueryString ?? ''),
    requestContext: {
      accountId: '123456789012',
      apiId: 'a1b2c3d4e5',
      domainName: host,
      domainPrefix: host.split('.')[0],
      http: { method, path: '/', protocol: 'HTTP/1.1', sourceIp, userAgent: ua },
      requestId: randomBytes(10).toString('base64').replace(/=+$/, ''),
      routeKey: '$default',
      stage: '$default',
      time: new Date(now).toUTCString(),
      timeEpoch: now,
    },
    ...(input.body !== undefined && input.body !== '' ? { body: input.body } : {}),
    isBase64Encoded: false,
  }
}

/**
 * The decoded query API Gateway adds beside rawQueryString (payload 2.0): each name and value
 * percent-decoded, repeated names' values joined with ",", the member absent without a query. The
 * bench's queries are percent-encoded (RFC 3986), so no `+` stands for a space in them.
 */
function queryStringParameters(rawQuery: string): { queryStringParameters?: Record<string, string> } {
  if (rawQuery === '') return {}
  const params = new Map<string, string>()
  for (const pair of rawQuery.split('&')) {
    const eq = pair.indexOf('=')
    const name = decodeURIComponent(eq < 0 ? pair : pair.slice(0, eq))
    const value = eq < 0 ? '' : decodeURIComponent(pair.slice(eq + 1))
    const seen = params.get(name)
    params.set(name, seen === undefined ? value : `${seen},${value}`)
  }
  return { queryStringParameters: Object.fromEntries(params) }
}

/** A Lambda context object as the handlers see it (they do not read it; @fastify/aws-lambda may). */
export function lambdaContext() {
  return {
    functionName: 'oidc-sts-bench-tokenExchange',
    functionVersion: '$LATEST',
    memoryLimitInMB: '1024',
    awsRequestId: randomBytes(16).toString('hex'),
    getRemainingTimeInMillis: () => 30_000,
    callbackWaitsForEmptyEventLoop: true,
  }
}
