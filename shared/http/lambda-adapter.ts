// Wraps a Fastify app as a Lambda handler for API Gateway HTTP API (payload v2) events.
// API Gateway hands over the query both raw and decoded-and-merged (repeated names joined with ","):
// we route the raw query string through, so signature canonicalisation and duplicate-parameter
// checks see exactly what the client sent. It travels beside the URL, in RAW_QUERY_HEADER, not in
// it: @fastify/aws-lambda injects each event with light-my-request, which parses the URL with WHATWG
// URL and re-serialises it (percent-encoding on the way), a pass over an OIDC token of up to 20 000
// characters that nothing needs (~16 000 instructions per exchange under cachegrind, BENCHMARKS.md).

import awsLambdaFastify from '@fastify/aws-lambda'
import type { FastifyInstance, InjectOptions, LightMyRequestCallback } from 'fastify'
import { createLogger, describeCause, type Logger } from '../log.ts'
import { errorReply, newRequestId, PRODUCT_HOSTS, toApiError } from './error-reply.ts'
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
    rawPath: requestPath(event.rawPath),
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
 * The path light-my-request reads as a URL relative to `http://localhost`: a backslash is sent as
 * `%5C` and a path gets its leading "/", so that no path reads as an authority (WHATWG URL takes `/\`
 * for `//`: `/\[` names the host `[`) or as an absolute URL, which would be refused with a TypeError
 * quoting the path, thrown out of the invocation. No route has a backslash: such a path is answered
 * as any unknown one.
 */
function requestPath(rawPath: string | undefined): string {
  if (rawPath === undefined || rawPath === '') return '/'
  const path = rawPath.includes('\\') ? rawPath.replaceAll('\\', '%5C') : rawPath
  return path.startsWith('/') ? path : `/${path}`
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

/**
 * The app must read its query from RAW_QUERY_HEADER (buildApp's queryFromLambdaAdapter). `logger`
 * writes the failures the app could not answer itself (answerFailures).
 */
export function createLambdaHandler(app: FastifyInstance, logger: Logger = createLogger('error')) {
  // decorateRequest off: nothing reads request.awsLambda, and the decoration costs a randomBytes()
  // call and a map entry per invocation (~13 µs, BENCHMARKS.md).
  const proxy = awsLambdaFastify(answerFailures(app, logger), { decorateRequest: false })
  return (event: HttpApiEvent, context: unknown) => proxy(routeRawQuery(event) as never, context as never)
}

/**
 * The app as @fastify/aws-lambda sees it (which calls its inject only, with decorateRequest off): an
 * injection that fails (an error handed to the callback: the app closed, a response destroyed before
 * its end; or thrown: a request light-my-request cannot build) is answered here, 500 InternalError in
 * the error envelope, and logged by our logger as the app logs a 5xx cause: name, code, first stack
 * frame. The library would print the error whole with console.error (every enumerable property, such
 * as ERR_INVALID_URL's `input`), or let a throw fail the invocation, which Lambda's runtime logs whole.
 */
function answerFailures(app: FastifyInstance, logger: Logger): FastifyInstance {
  const failed = (e: unknown) => {
    const requestId = newRequestId()
    logger.error('request failed before the app answered', { requestId, cause: describeCause(e) })
    const answer = errorReply(toApiError(e), requestId, PRODUCT_HOSTS.OidcSts, 'OidcSts')
    // The members of light-my-request's response that @fastify/aws-lambda reads.
    return { statusCode: answer.status, headers: answer.headers, payload: answer.body, rawPayload: Buffer.from(answer.body, 'utf8') }
  }
  const inject = (opts: InjectOptions, done: LightMyRequestCallback) => {
    try {
      app.inject(opts, (err, res) => (err ? done(undefined, failed(err) as never) : done(undefined, res)))
    } catch (e) {
      done(undefined, failed(e) as never)
    }
  }
  return Object.assign(Object.create(app) as FastifyInstance, { inject })
}
