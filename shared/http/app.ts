// buildApp(actions, deps): a Fastify app serving one set of RPC actions on `/` plus `GET /health`.
// No Lambda imports: the Lambda entry points wrap it with @fastify/aws-lambda, the local runner
// listens with it, tests use app.inject() and real HTTP.

import { STATUS_CODES } from 'node:http'
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify'
import { ApiError } from '../errors.ts'
import { describeCause, type Logger } from '../log.ts'
import { type ActionDefinition, type Caller, JsonMembers, type Permission, type Product, type RequestInfo } from './action.ts'
import { errorReply, newRequestId, PRODUCT_HOSTS, toApiError } from './error-reply.ts'
import { isFormBody, parseRpcRequest, RAW_QUERY_HEADER, type RpcRequest } from './rpc-request.ts'

export type Authenticate = (req: RpcRequest, now: Date) => Promise<Caller>
/** `request` supplies condition keys (acs:SourceIp, acs:CurrentTime) to policy evaluation. */
export type Authorize = (
  caller: Caller,
  permission: Permission | undefined,
  def: ActionDefinition<unknown, unknown>,
  request?: RequestInfo,
) => void | Promise<void>

export interface AppOptions<Deps> {
  // Each action's Input type differs; the dispatcher only passes parse()'s result on to run().
  actions: ReadonlyArray<ActionDefinition<any, Deps>> // eslint-disable-line @typescript-eslint/no-explicit-any
  deps: Deps
  authenticate: Authenticate
  authorize: Authorize
  logger: Logger
  clock?: () => Date
  /** Bytes; a 20 000-character OIDC token plus parameters fits well within the default. */
  bodyLimit?: number
  /** Serve HTTPS (local mode with TLS_CERT_FILE/TLS_KEY_FILE). */
  https?: { cert: Buffer; key: Buffer }
  /**
   * When listening (npm start): the time a request may take to arrive, head and body, before its
   * connection is closed; default REQUEST_TIMEOUT_MS. Tests pass less.
   */
  requestTimeoutMs?: number
  /**
   * Behind shared/http/lambda-adapter.ts (the Lambda functions): the raw query string arrives in
   * RAW_QUERY_HEADER, which the adapter sets on every event, not in the URL. Off (local server, tests),
   * that header is ignored like any other.
   */
  queryFromLambdaAdapter?: boolean
}

// The STS SDK sends the OIDC token (up to 20 000 characters) in the query string: the request line
// must fit Node's header limit, raised from 16 KiB to this bound.
export const MAX_HEADER_BYTES = 64 * 1024

/** A request (head and body) must arrive within this when listening; a slow or absent body's connection is closed, unanswered. */
export const REQUEST_TIMEOUT_MS = 30_000

const INVALID_ACTION = () => new ApiError('InvalidParameter', 'The specified parameter "Action or Version" is not valid.')

function requestHost(req: FastifyRequest, product: Product): string {
  const host = req.headers.host
  return typeof host === 'string' && /^[A-Za-z0-9.:[\]-]{1,255}$/.test(host) ? host : PRODUCT_HOSTS[product]
}

function noSchemaCompiler(): never {
  throw new Error('buildApp: routes carry no JSON schemas (validation lives in shared/validation); none can be compiled')
}

export function buildApp<Deps>(opts: AppOptions<Deps>): FastifyInstance {
  const clock = opts.clock ?? (() => new Date())
  const queryFromAdapter = opts.queryFromLambdaAdapter === true
  // Behind the Lambda adapter every request came through API Gateway, which serves HTTPS only.
  const secureTransport = (req: FastifyRequest) => queryFromAdapter || req.protocol === 'https'
  const byKey = new Map<string, ActionDefinition<unknown, Deps>>()
  const productByVersion = new Map<string, Product>()
  for (const def of opts.actions) {
    byKey.set(`${def.version}/${def.name}`, def)
    productByVersion.set(def.version, def.product)
  }

  // Fastify turns Node's request timeout off by default; with only the head timed, a client that sends
  // a head promising a body and then nothing (or a byte now and then) held its connection for ever.
  const requestTimeout = opts.requestTimeoutMs ?? REQUEST_TIMEOUT_MS
  const serverLimits = {
    maxHeaderSize: MAX_HEADER_BYTES,
    // Node refuses a head timeout longer than the request timeout, and checks both this often.
    headersTimeout: Math.min(20_000, requestTimeout),
    connectionsCheckingInterval: Math.min(5_000, requestTimeout),
  }
  const app = Fastify({
    logger: false,
    ...(opts.https ? { https: { ...opts.https, ...serverLimits } } : { http: serverLimits }),
    requestTimeout,
    bodyLimit: opts.bodyLimit ?? 256 * 1024,
    return503OnClosing: true,
    // The raw query is parsed once, by parseRpcRequest (signatures need it as sent); Fastify's own
    // parse of it into req.query, which nothing reads, cost ~3 % of an exchange (BENCHMARKS.md).
    routerOptions: { querystringParser: () => ({}) },
    // No route declares a JSON schema (parameters are validated by shared/validation, replies are
    // JSON.stringify'd), so Fastify's default compilers, which load and set up ajv and
    // fast-json-stringify when the app is created, are never used: skipping them takes ~25 ms off a
    // Lambda cold start (BENCHMARKS.md). A route that adds a schema fails loudly at ready().
    schemaController: { compilersFactory: { buildValidator: noSchemaCompiler, buildSerializer: noSchemaCompiler } },
    // Request ids are ours (Alibaba format: upper-case UUID), not Fastify's counters.
    genReqId: newRequestId,
    // No HEAD twin of the RPC route: a HEAD would run the action (an exchange minting credentials, audited
    // as a success) and drop its answer. HEAD is answered like any method the service does not serve.
    exposeHeadRoutes: false,
    // A request Node's HTTP parser refuses before Fastify sees it (the local server only: a request line
    // and headers over MAX_HEADER_BYTES, malformed HTTP): answered in the error envelope too, where
    // Fastify's default writes its own JSON shape. Nothing of it could be read, so no audit record names it.
    clientErrorHandler: (error: Error & { code?: string }, socket) => {
      if (error.code === 'ECONNRESET' || socket.destroyed) return
      // A client that sent nothing in time gets no answer (Node's default writes a 408): the connection is closed.
      if (error.code !== 'ERR_HTTP_REQUEST_TIMEOUT' && socket.writable) {
        const err = error.code === 'HPE_HEADER_OVERFLOW'
          ? new ApiError('Request.HeadersTooLarge', `The request line and headers are larger than ${MAX_HEADER_BYTES} bytes.`)
          : new ApiError('InvalidParameter.Format', 'The request could not be read as HTTP.')
        const requestId = newRequestId()
        opts.logger.info('request rejected', { requestId, status: err.status, code: err.code })
        const answer = errorReply(err, requestId, PRODUCT_HOSTS.OidcSts, 'OidcSts')
        let head = `HTTP/1.1 ${answer.status} ${STATUS_CODES[answer.status]}\r\n`
        for (const [name, value] of Object.entries(answer.headers)) head += `${name}: ${value}\r\n`
        socket.write(`${head}Content-Length: ${Buffer.byteLength(answer.body)}\r\nConnection: close\r\n\r\n${answer.body}`)
      }
      socket.destroy(error)
    },
    // Errors the router raises before any route, hook or error handler runs (a malformed percent-encoding
    // in the PATH, e.g. `/%`): answered in the error envelope too. Fastify's own answer is another JSON
    // shape naming its internal code (FST_ERR_BAD_URL) and echoing the whole URL, query string included.
    frameworkErrors: (_error, req, reply) => {
      sendError(req, reply, new ApiError('InvalidParameter.Format', 'The request path contains a malformed percent-encoding.'), 'OidcSts')
    },
  })

  // Bodies stay raw bytes: V3 signatures hash the exact body; form parsing is ours (rpc-request.ts).
  app.removeAllContentTypeParsers()
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body))

  const sendError = (req: FastifyRequest, reply: FastifyReply, err: ApiError, product: Product) => {
    const answer = errorReply(err, req.id, requestHost(req, product), product)
    return reply.code(answer.status).headers(answer.headers).send(answer.body)
  }

  app.get('/health', async (_req, reply) => reply.send({ status: 'ok' }))

  /**
   * A request refused before its action ran: if it names an audited action (read leniently, since it
   * could not be parsed), that action records it. Whether it did (its audit line is the request's log line).
   */
  const auditRejection = (req: FastifyRequest, now: Date, err: ApiError, rpcReq: RpcRequest | undefined): boolean => {
    const params = rpcReq?.params ?? readLeniently(req, queryFromAdapter)
    const action = params.get('Action') ?? headerText(req, 'x-acs-action')
    const version = params.get('Version') ?? headerText(req, 'x-acs-version')
    const named = byKey.get(`${version}/${action}`)
    if (!named?.audited || named.rejected === undefined) return false
    try {
      named.rejected(params, { deps: opts.deps, request: { requestId: req.id, now, sourceIp: req.ip, secureTransport: secureTransport(req) } }, err)
    } catch (e) {
      opts.logger.error('audit record of a refused request failed', { requestId: req.id, cause: describeCause(e) })
    }
    return true
  }

  const rpc = async (req: FastifyRequest, reply: FastifyReply) => {
    const started = process.hrtime.bigint()
    const now = clock()
    let product: Product = 'OidcSts'
    let actionName = ''
    let def: ActionDefinition<unknown, Deps> | undefined
    let rpcReq: RpcRequest | undefined
    let ran = false
    try {
      // Node keeps the first of repeated Content-Type headers, API Gateway joins them (which Fastify
      // refuses): refused here as well, so that the local server and Lambda read a request alike. Behind
      // the adapter there is one value per name already: nothing to look at on the hot path.
      if (!queryFromAdapter && repeatsContentType(req.raw.rawHeaders)) throw new ApiError('InvalidParameter.Format', 'The header content-type is given more than once.')
      const rawQuery = queryFromAdapter ? req.headers[RAW_QUERY_HEADER] : undefined
      rpcReq = parseRpcRequest({
        method: req.method,
        url: req.url,
        rawQuery: typeof rawQuery === 'string' ? rawQuery : undefined,
        headers: req.headers,
        body: Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0),
        sourceIp: req.ip,
      })
      product = productByVersion.get(rpcReq.version) ?? product
      actionName = rpcReq.action
      def = byKey.get(`${rpcReq.version}/${rpcReq.action}`)
      if (!def) throw INVALID_ACTION()
      // Authenticate before validating parameters: anonymous callers learn nothing about inputs.
      const caller = def.anonymous ? undefined : await opts.authenticate(rpcReq, now)
      const input = def.parse(rpcReq.params)
      const request = { requestId: req.id, now, sourceIp: rpcReq.sourceIp, secureTransport: secureTransport(req) }
      if (caller && !def.anyCaller) await opts.authorize(caller, def.permission?.(input, caller, opts.deps), def as ActionDefinition<unknown, unknown>, request)
      ran = true
      const result = await def.run(input, {
        caller,
        deps: opts.deps,
        request,
      })
      if (!def.audited) opts.logger.info('request', { requestId: req.id, action: actionName, status: 200, ms: msSince(started) })
      const body = result instanceof JsonMembers ? `{"RequestId":${JSON.stringify(req.id)},${result.json}}` : JSON.stringify({ RequestId: req.id, ...result })
      // Encoded to UTF-8 once, here. Sent as a string, the body (~1.6 KB for an exchange) was measured
      // by Fastify for content-length, joined to the response head and encoded by Node's HTTP
      // response, and encoded again by light-my-request behind @fastify/aws-lambda; a Buffer is
      // measured by its length and copied.
      return reply
        .header('content-type', 'application/json; charset=utf-8')
        .header('x-acs-request-id', req.id)
        .send(Buffer.from(body, 'utf8'))
    } catch (e) {
      const err = toApiError(e)
      const fields = { requestId: req.id, action: actionName, status: err.status, code: err.code, ms: msSince(started) }
      const audited = ran ? def?.audited === true : auditRejection(req, now, err, rpcReq)
      if (err.status >= 500) opts.logger.error('request failed', { ...fields, cause: describeCause(err.cause) })
      else if (!audited) opts.logger.info('request rejected', fields)
      return sendError(req, reply, err, product)
    }
  }
  app.route({ method: ['GET', 'POST'], url: '/', handler: rpc })

  app.setNotFoundHandler((req, reply) => {
    const err = new ApiError('InvalidParameter', 'This service answers RPC requests on "/" (GET or POST) and GET /health only.')
    // Another path or method (a HEAD, say) naming an audited action: that action records the refusal.
    auditRejection(req, clock(), err, undefined)
    return sendError(req, reply, err, 'OidcSts')
  })
  app.setErrorHandler((error: { code?: string; statusCode?: number }, req, reply) => {
    const err = error.code === 'FST_ERR_CTP_BODY_TOO_LARGE'
      ? new ApiError('Request.TooLarge', 'The request body is too large.')
      : error.statusCode !== undefined && error.statusCode < 500
        ? new ApiError('InvalidParameter.Format', 'The request could not be read.')
        : toApiError(error)
    // Refused before the route ran (e.g. a body over the limit): an audited action still records it.
    const audited = auditRejection(req, clock(), err, undefined)
    if (err.status >= 500) opts.logger.error('request failed', { requestId: req.id, code: err.code, cause: describeCause(error) })
    else if (!audited) opts.logger.info('request rejected', { requestId: req.id, status: err.status, code: err.code })
    return sendError(req, reply, err, 'OidcSts')
  })
  return app
}

/** Whether Content-Type appears more than once among the request's raw headers (name, value, name, ...). */
function repeatsContentType(raw: readonly string[] | undefined): boolean {
  if (raw === undefined) return false
  let seen = false
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!
    if (name.length === 12 && name.toLowerCase() === 'content-type') {
      if (seen) return true
      seen = true
    }
  }
  return false
}

/** A header's one value, if it has exactly one. */
function headerText(req: FastifyRequest, name: string): string | undefined {
  const v = req.headers[name]
  return typeof v === 'string' ? v : undefined
}

/**
 * The parameters of a request that could not be parsed, read leniently for its audit record: the query
 * (and a form body, if it arrived as bytes), the first value of each name, undecodable parts skipped.
 * Bounded like the strict parser (MAX_PARAMS parts per source).
 */
function readLeniently(req: FastifyRequest, queryFromAdapter: boolean): Map<string, string> {
  const params = new Map<string, string>()
  const add = (raw: string) => {
    for (const part of raw.split('&', 200)) {
      const eq = part.indexOf('=')
      if (eq <= 0) continue
      try {
        const name = decodeURIComponent(part.slice(0, eq).replace(/\+/g, ' '))
        if (!params.has(name)) params.set(name, decodeURIComponent(part.slice(eq + 1).replace(/\+/g, ' ')))
      } catch {
        // A malformed percent-encoding: this part is left out.
      }
    }
  }
  const rawQuery = queryFromAdapter ? headerText(req, RAW_QUERY_HEADER) : undefined
  const q = req.url.indexOf('?')
  add(rawQuery ?? (q < 0 ? '' : req.url.slice(q + 1)))
  if (Buffer.isBuffer(req.body) && isFormBody(req.headers)) add(req.body.toString('utf8'))
  return params
}

function msSince(start: bigint): number {
  return Number((process.hrtime.bigint() - start) / 1000n) / 1000
}
