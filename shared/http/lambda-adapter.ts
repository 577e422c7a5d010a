// Wraps a Fastify app as a Lambda handler for API Gateway HTTP API (payload v2) events.
// API Gateway hands over the query both raw and decoded-and-merged (repeated names joined with ","):
// we route the raw query string through, so signature canonicalisation and duplicate-parameter
// checks see exactly what the client sent.

import awsLambdaFastify from '@fastify/aws-lambda'
import type { FastifyInstance } from 'fastify'

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
 * The event with the raw query moved into the path and the decoded query dropped. Built as one
 * object literal of the payload 2.0 fields, not as `{ ...event, rawPath, queryStringParameters }`:
 * V8 gave each such spread copy a map of its own once warm, so every property read of the event
 * and of light-my-request's response missed its inline cache (~75 runtime lookups per invocation,
 * 15–25 % of a warm exchange's instructions under cachegrind: BENCHMARKS.md). The literal's shape is fixed.
 */
export function routeRawQuery(event: HttpApiEvent): HttpApiEvent {
  const raw = event.rawQueryString
  if (!raw) return event
  return {
    version: event.version,
    routeKey: event.routeKey,
    rawPath: `${event.rawPath ?? '/'}?${raw}`,
    rawQueryString: raw,
    cookies: event.cookies,
    headers: event.headers,
    queryStringParameters: undefined,
    requestContext: event.requestContext,
    body: event.body,
    pathParameters: event.pathParameters,
    isBase64Encoded: event.isBase64Encoded,
    stageVariables: event.stageVariables,
  }
}

export function createLambdaHandler(app: FastifyInstance) {
  // decorateRequest off: nothing reads request.awsLambda, and the decoration costs a randomBytes()
  // call and a map entry per invocation (~13 µs, BENCHMARKS.md).
  const proxy = awsLambdaFastify(app, { decorateRequest: false })
  return (event: HttpApiEvent, context: unknown) => proxy(routeRawQuery(event) as never, context as never)
}
