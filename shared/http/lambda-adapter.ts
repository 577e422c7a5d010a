// Wraps a Fastify app as a Lambda handler for API Gateway HTTP API (payload v2) events.
// API Gateway hands over the query both raw and decoded-and-merged (repeated names joined with ","):
// we route the raw query string through, so signature canonicalisation and duplicate-parameter
// checks see exactly what the client sent.

import awsLambdaFastify from '@fastify/aws-lambda'
import type { FastifyInstance } from 'fastify'

interface HttpApiEvent {
  rawPath?: string
  rawQueryString?: string
  queryStringParameters?: Record<string, string>
  [key: string]: unknown
}

export function createLambdaHandler(app: FastifyInstance) {
  // decorateRequest off: nothing reads request.awsLambda, and the decoration costs a randomBytes()
  // call and a map entry per invocation (~13 µs, BENCHMARKS.md).
  const proxy = awsLambdaFastify(app, { decorateRequest: false })
  return (event: HttpApiEvent, context: unknown) => {
    const raw = event.rawQueryString
    const normalised: HttpApiEvent = raw
      ? { ...event, rawPath: `${event.rawPath ?? '/'}?${raw}`, queryStringParameters: undefined }
      : event
    return proxy(normalised as never, context as never)
  }
}
