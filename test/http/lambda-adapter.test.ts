// The Lambda adapter: the raw query reaches the app as sent (not API Gateway's decoded, merged copy),
// and every other field of a payload 2.0 event still arrives (cookies, base64 bodies, headers, source IP).

import Fastify from 'fastify'
import { describe, expect, it } from 'vitest'
import { createLambdaHandler, type HttpApiEvent, routeRawQuery } from '../../shared/http/lambda-adapter.ts'

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
  it('moves the raw query into the path, drops the decoded copy and keeps every other payload 2.0 field', () => {
    const e = event({ pathParameters: { p: '1' }, stageVariables: { s: '1' } })
    const r = routeRawQuery(e)
    expect(r.rawPath).toBe('/?A=1&A=2&B=x%2By+z')
    expect(r.queryStringParameters).toBeUndefined()
    for (const k of ['version', 'routeKey', 'rawQueryString', 'cookies', 'headers', 'requestContext', 'body', 'isBase64Encoded', 'pathParameters', 'stageVariables'] as const) {
      expect(r[k]).toEqual(e[k])
    }
    // The caller's event is not modified (the same sample event may be invoked twice).
    expect(e.rawPath).toBe('/')
    expect(e.queryStringParameters).toEqual({ A: '1,2', B: 'x+y z' })
  })

  it('returns an event without a query as it is', () => {
    const e = event({ rawQueryString: '' })
    expect(routeRawQuery(e)).toBe(e)
  })
})

describe('createLambdaHandler', () => {
  it('hands the app the raw query, the cookies, the decoded body and the source IP', async () => {
    const app = Fastify()
    app.removeAllContentTypeParsers()
    app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body))
    app.post('/', async (req) => ({ url: req.url, cookie: req.headers.cookie, body: [...(req.body as Buffer)], ip: req.ip }))
    const handler = createLambdaHandler(app)
    for (let i = 0; i < 2; i++) {
      const res = (await handler(event(), {})) as { statusCode: number; body: string }
      expect(res.statusCode).toBe(200)
      expect(JSON.parse(res.body)).toEqual({ url: '/?A=1&A=2&B=x%2By+z', cookie: 'a=1;b=2', body: [0, 1, 2, 250], ip: '203.0.113.7' })
    }
  })
})
