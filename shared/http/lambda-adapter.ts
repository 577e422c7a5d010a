// Wraps a Fastify app as a Lambda handler for API Gateway HTTP API (payload v2) events.
// API Gateway hands over the query both raw and decoded-and-merged (repeated names joined with ","):
// we route the raw query string through, so signature canonicalisation and duplicate-parameter
// checks see exactly what the client sent. It travels beside the URL, in RAW_QUERY_HEADER, not in
// it: @fastify/aws-lambda injects each event with light-my-request, which parses the URL with WHATWG
// URL and re-serialises it (percent-encoding on the way), a pass over an OIDC token of up to 20 000
// characters that nothing needs (~16 000 instructions per exchange under cachegrind, BENCHMARKS.md).

import awsLambdaFastify from '@fastify/aws-lambda'
import type { FastifyInstance } from 'fastify'
import { RAW_QUERY_HEADER } from './rpc-request.ts'

export { RAW_QUERY_HEADER }

/** The fields of an HTTP API payload 2.0 event (what API Gateway sends and @fastify/aws-lambda reads). */
export interface HttpApiEvent {
  version?: string
  routeKey?: string
  rawPath?: string
  rawQueryString?: string
  cookies?: string[]
  headers?: Record<string, string>
  queryStringParameters?: Record<string, string>
  requestContext?: unknown
  body?: string
  pathParameters?: Record<string, string>
  isBase64Encoded?: boolean
  stageVariables?: Record<string, string>
}

/**
 * The event with the raw query in RAW_QUERY_HEADER (set on every event, empty without a query, so a
 * header of that name from the client, in any spelling, is always replaced: withRawQuery) and the
 * decoded query dropped. Built as one object literal of the payload 2.0 fields, not as
 * `{ ...event, ... }`: V8 gave each such spread copy a map of its own once warm, so every property
 * read of the event and of light-my-request's response missed its inline cache (~75 runtime lookups
 * per invocation, 15–25 % of a warm exchange's instructions under cachegrind: BENCHMARKS.md). The
 * literal's shape is fixed.
 */
export function routeRawQuery(event: HttpApiEvent): HttpApiEvent {
  return {
    version: event.version,
    routeKey: event.routeKey,
    rawPath: event.rawPath ?? '/',
    rawQueryString: event.rawQueryString,
    cookies: event.cookies,
    headers: withRawQuery(event.headers, event.rawQueryString ?? ''),
    queryStringParameters: undefined,
    requestContext: event.requestContext,
    body: event.body,
    pathParameters: event.pathParameters,
    isBase64Encoded: event.isBase64Encoded,
    stageVariables: event.stageVariables,
  }
}

/**
 * A copy of the headers with RAW_QUERY_HEADER set to `rawQuery` and no other spelling of that name:
 * light-my-request lower-cases names and keeps the last value, so a client's `X-Oidc-Sts-Raw-Query`
 * after a lower-case one would otherwise win over ours.
 */
function withRawQuery(headers: Record<string, string> | undefined, rawQuery: string): Record<string, string> {
  const out = { ...headers }
  for (const name in out) {
    if (name.length === RAW_QUERY_HEADER.length && name.toLowerCase() === RAW_QUERY_HEADER) delete out[name]
  }
  out[RAW_QUERY_HEADER] = rawQuery
  return out
}

/** The app must read its query from RAW_QUERY_HEADER (buildApp's queryFromLambdaAdapter). */
export function createLambdaHandler(app: FastifyInstance) {
  // decorateRequest off: nothing reads request.awsLambda, and the decoration costs a randomBytes()
  // call and a map entry per invocation (~13 µs, BENCHMARKS.md).
  const proxy = awsLambdaFastify(app, { decorateRequest: false })
  return (event: HttpApiEvent, context: unknown) => proxy(routeRawQuery(event) as never, context as never)
}
