// The Lambda adapter: the raw query reaches the app as sent (not API Gateway's decoded, merged copy),
// beside the URL in RAW_QUERY_HEADER, which a client cannot set; and every other field of a payload 2.0
// event still arrives (cookies, base64 bodies, headers, source IP).

import Fastify, { type FastifyInstance } from 'fastify'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { buildApp } from '../../shared/http/app.ts'
import { actionsWith } from '../../shared/http/action.ts'
import { createLambdaHandler, type HttpApiEvent, RAW_QUERY_HEADER, routeRawQuery } from '../../shared/http/lambda-adapter.ts'
import { createLogger } from '../../shared/log.ts'

const event = (over: Partial<HttpApiEvent> = {}): HttpApiEvent => ({
  version: '2.0',
  routeKey: '$default',
  rawPath: '/',
  rawQueryString: 'A=1&A=2&B=x%2By+z',
  cookies: ['a=1', 'b=2'],
  headers: { host: 'sts.example.com', 'content-type': 'application/octet-stream' },
  queryStringParameters: { A: '1,2', B: 'x+y z' },
  requestContext: { http: { method: 'POST', path: '/', sourceIp: '203.0.113.7' }, requestId: 'r-1' },
  body: Buffer.from([0, 1, 2, 250]).toString('base64'),
  isBase64Encoded: true,
  ...over,
})

describe('routeRawQuery', () => {
  it('hands the raw query over in RAW_QUERY_HEADER, drops the decoded copy and keeps every other payload 2.0 field', () => {
    const e = event({ pathParameters: { p: '1' }, stageVariables: { s: '1' } })
    const r = routeRawQuery(e)
    expect(r.rawPath).toBe('/')
    expect(r.headers).toEqual({ ...e.headers, [RAW_QUERY_HEADER]: 'A=1&A=2&B=x%2By+z' })
    expect(r.queryStringParameters).toBeUndefined()
    for (const k of ['version', 'routeKey', 'rawPath', 'rawQueryString', 'cookies', 'requestContext', 'body', 'isBase64Encoded', 'pathParameters', 'stageVariables'] as const) {
      expect(r[k]).toEqual(e[k])
    }
    // The caller's event is not modified (the same sample event may be invoked twice).
    expect(e.headers).not.toHaveProperty(RAW_QUERY_HEADER)
    expect(e.queryStringParameters).toEqual({ A: '1,2', B: 'x+y z' })
  })

  it('gives the path a leading "/" and sends a backslash as %5C, so no path reads as a host or an absolute URL', () => {
    expect(routeRawQuery(event({ rawPath: '/\\[x' })).rawPath).toBe('/%5C[x')
    expect(routeRawQuery(event({ rawPath: 'http://[x' })).rawPath).toBe('/http://[x')
    expect(routeRawQuery(event({ rawPath: '' })).rawPath).toBe('/')
    expect(routeRawQuery(event({ rawPath: '/health' })).rawPath).toBe('/health')
  })

  it('sets the header on every event, empty without a query, over any value a client sent', () => {
    const forged = { host: 'sts.example.com', [RAW_QUERY_HEADER]: 'Action=Forged' }
    expect(routeRawQuery(event({ rawQueryString: '', headers: forged })).headers?.[RAW_QUERY_HEADER]).toBe('')
    expect(routeRawQuery(event({ rawQueryString: undefined, headers: undefined })).headers).toEqual({ [RAW_QUERY_HEADER]: '' })
    expect(routeRawQuery(event({ headers: forged })).headers?.[RAW_QUERY_HEADER]).toBe('A=1&A=2&B=x%2By+z')
  })
})

describe('createLambdaHandler', () => {
  it('hands the app the raw query, the cookies, the decoded body and the source IP', async () => {
    const app = Fastify()
    app.removeAllContentTypeParsers()
    app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body))
    app.post('/', async (req) => ({ url: req.url, query: req.headers[RAW_QUERY_HEADER], cookie: req.headers.cookie, body: [...(req.body as Buffer)], ip: req.ip }))
    const handler = createLambdaHandler(app)
    for (let i = 0; i < 2; i++) {
      const res = (await handler(event(), {})) as { statusCode: number; body: string }
      expect(res.statusCode).toBe(200)
      expect(JSON.parse(res.body)).toEqual({ url: '/', query: 'A=1&A=2&B=x%2By+z', cookie: 'a=1;b=2', body: [0, 1, 2, 250], ip: '203.0.113.7' })
    }
  })

  it('keeps a query that WHATWG URL would re-encode exactly as sent', async () => {
    const app = Fastify()
    app.get('/', async (req) => ({ query: req.headers[RAW_QUERY_HEADER] }))
    const raw = `T=a'b"c<d>e\`f|g^h{i}j&U=%E4%BD%A0&V=%zz`
    const res = (await createLambdaHandler(app)(event({ rawQueryString: raw, body: undefined, isBase64Encoded: false, requestContext: { http: { method: 'GET', path: '/', sourceIp: '203.0.113.7' } } }), {})) as { body: string }
    expect(JSON.parse(res.body)).toEqual({ query: raw })
  })
})

describe('an RPC app behind the adapter (queryFromLambdaAdapter)', () => {
  const define = actionsWith<object>()
  const echo = define({ product: 'Sts', version: '2015-04-01', name: 'Echo', anonymous: true, parse: (p) => p, run: async (p, { request }) => ({ Params: Object.fromEntries(p), SecureTransport: request.secureTransport }) })
  const build = (queryFromLambdaAdapter: boolean) =>
    buildApp({ actions: [echo], deps: {}, authenticate: async () => { throw new Error('anonymous only') }, authorize: () => undefined, logger: createLogger('silent'), queryFromLambdaAdapter })
  const get = (rawQueryString: string, headers: Record<string, string> = {}) =>
    event({ rawQueryString, headers: { host: 'sts.example.com', ...headers }, body: undefined, isBase64Encoded: false, requestContext: { http: { method: 'GET', path: '/', sourceIp: '203.0.113.7' } } })

  it('reads the parameters from the raw query, never from a client header of that name; the transport is TLS', async () => {
    const handler = createLambdaHandler(build(true))
    const ok = (await handler(get('Action=Echo&Version=2015-04-01&X=a%2Bb+c', { [RAW_QUERY_HEADER]: 'Action=Echo&Version=2015-04-01&X=forged' }), {})) as { statusCode: number; body: string }
    expect(ok.statusCode).toBe(200)
    expect(JSON.parse(ok.body).Params).toEqual({ Action: 'Echo', Version: '2015-04-01', X: 'a+b c' })
    // API Gateway's HTTP APIs answer HTTPS only: acs:SecureTransport is true behind the adapter.
    expect(JSON.parse(ok.body).SecureTransport).toBe(true)
    // A forged header on a request without a query: the query is empty, not the forged one.
    const forged = (await handler(get('', { [RAW_QUERY_HEADER.toUpperCase()]: 'Action=Echo&Version=2015-04-01' }), {})) as { statusCode: number; body: string }
    expect(forged.statusCode).toBe(400)
    expect(JSON.parse(forged.body).Code).toBe('InvalidParameter')
    // Two spellings of the name, the lower-case one first: light-my-request keeps the last one it
    // lower-cases, so the adapter must not leave a client's spelling after its own.
    const both = (await handler(get('Action=Echo&Version=2015-04-01&X=real', { [RAW_QUERY_HEADER]: 'Action=Echo&Version=2015-04-01&X=lower', [RAW_QUERY_HEADER.toUpperCase()]: 'Action=Echo&Version=2015-04-01&X=upper' }), {})) as { statusCode: number; body: string }
    expect(JSON.parse(both.body).Params).toEqual({ Action: 'Echo', Version: '2015-04-01', X: 'real' })
  })

  it('ignores the header in an app not behind the adapter (the local server), and refuses a query given both ways; its transport is its own', async () => {
    const local = build(false)
    const res = await local.inject({ method: 'GET', url: '/?Action=Echo&Version=2015-04-01&X=1', headers: { [RAW_QUERY_HEADER]: 'Action=Echo&Version=2015-04-01&X=forged', 'x-forwarded-proto': 'https' } })
    expect(res.json().Params).toEqual({ Action: 'Echo', Version: '2015-04-01', X: '1' })
    // The local server speaks plain HTTP; a client's X-Forwarded-Proto does not make it TLS.
    expect(res.json().SecureTransport).toBe(false)
    const twice = await build(true).inject({ method: 'GET', url: '/?Action=Echo&Version=2015-04-01', headers: { [RAW_QUERY_HEADER]: 'Action=Echo&Version=2015-04-01' } })
    expect(twice.statusCode).toBe(400)
    expect(twice.json().Code).toBe('InvalidParameter.Format')
  })
})

describe('a request the app cannot answer behind the adapter', () => {
  const SECRET = 'eyJhbGciOiJSUzI1NiJ9.S3cr3tClaims.S1gnature'
  const define = actionsWith<object>()
  const echo = define({ product: 'Sts', version: '2015-04-01', name: 'Echo', anonymous: true, parse: (p) => p, run: async () => ({}) })
  const withToken = (over: Partial<HttpApiEvent> = {}) =>
    event({ rawQueryString: `Action=Echo&Version=2015-04-01&OIDCToken=${SECRET}`, body: undefined, isBase64Encoded: false, requestContext: { http: { method: 'GET', path: '/', sourceIp: '203.0.113.7' } }, ...over })
  const lines: string[] = []
  const logger = createLogger('debug', (l) => lines.push(l))
  afterEach(() => {
    lines.length = 0
    vi.restoreAllMocks()
  })
  /** Ready and started (Fastify marks it started a turn after ready()), as a Lambda's app is by its first invocation. */
  const started = async (app: FastifyInstance) => {
    await app.ready()
    await new Promise((r) => setImmediate(r))
    return app
  }
  type Answer = { statusCode: number; body: string; headers: Record<string, string> }

  it('a path light-my-request could not parse as a URL (a backslash after the slash) is answered like any unknown path, not thrown out of the invocation', async () => {
    const app = await started(buildApp({ actions: [echo], deps: {}, authenticate: async () => { throw new Error('anonymous only') }, authorize: () => undefined, logger, queryFromLambdaAdapter: true }))
    const handler = createLambdaHandler(app, logger)
    for (const rawPath of ['/\\[', '\\\\[', 'http://[']) {
      const res = (await handler(withToken({ rawPath }), {})) as Answer
      expect(res.statusCode, rawPath).toBe(400)
      expect(JSON.parse(res.body).Code).toBe('InvalidParameter')
    }
    expect(lines.join('\n')).not.toContain('S3cr3t')
  })

  it('an injection that fails (here: an error destroying the response, carrying the request) is answered 500 in the envelope and logged by our logger, never printed whole with console.error', async () => {
    const printed = vi.spyOn(console, 'error').mockImplementation(() => undefined)
    const app = Fastify()
    app.get('/', (req, reply) => {
      reply.hijack()
      reply.raw.destroy(Object.assign(new Error('the answer stream failed'), { request: req.headers[RAW_QUERY_HEADER] }))
    })
    const res = (await createLambdaHandler(await started(app), logger)(withToken(), {})) as Answer
    expect(printed).not.toHaveBeenCalled()
    expect(res.statusCode).toBe(500)
    const body = JSON.parse(res.body)
    expect(body).toMatchObject({ Code: 'InternalError', HostId: 'oidc-sts' })
    expect(res.headers['x-acs-request-id']).toBe(body.RequestId)
    const logged = lines.map((l) => JSON.parse(l))
    expect(logged).toEqual([expect.objectContaining({ level: 'error', msg: 'request failed before the app answered', requestId: body.RequestId, cause: { name: 'Error', at: expect.stringMatching(/^at /) } })])
    expect(lines.join('\n')).not.toContain('S3cr3t')
  })

  it('so is an app closed, and a request light-my-request refuses to build (thrown, not handed to the callback)', async () => {
    const printed = vi.spyOn(console, 'error').mockImplementation(() => undefined)
    const app = await started(buildApp({ actions: [echo], deps: {}, authenticate: async () => { throw new Error('anonymous only') }, authorize: () => undefined, logger, queryFromLambdaAdapter: true }))
    const handler = createLambdaHandler(app, logger)
    const refused = (await handler(withToken({ requestContext: { http: { method: 'BREW', path: '/', sourceIp: '203.0.113.7' } } }), {})) as Answer
    expect(refused.statusCode).toBe(500)
    expect(JSON.parse(refused.body).Code).toBe('InternalError')
    await app.close()
    const closed = (await handler(withToken(), {})) as Answer
    expect(closed.statusCode).toBe(500)
    expect(printed).not.toHaveBeenCalled()
    expect(lines.map((l) => JSON.parse(l).cause?.code)).toEqual([undefined, 'FST_ERR_REOPENED_CLOSE_SERVER'])
    expect(lines.join('\n')).not.toContain('S3cr3t')
  })
})
