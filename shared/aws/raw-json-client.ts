// A minimal client for AWS's JSON protocols (DynamoDB's 1.0, SSM's 1.1) for the cold path: one POST /
// per call, SigV4 from node:crypto, one keep-alive agent, connect and total timeouts, bounded retries.
// Loading and first use cost ~10 ms where an AWS SDK v3 client costs ~60-100 ms on a cold start
// (BENCHMARKS.md "Cold start"). Errors carry the SDK's shapes (name = the exception's short name,
// $metadata.httpStatusCode, network errors keep their code), so callers map them as SDK failures.

import { createHash, createHmac } from 'node:crypto'
import http from 'node:http'
import https from 'node:https'

export interface RawCredentials { accessKeyId: string; secretAccessKey: string; sessionToken?: string | undefined }

/**
 * The credentials the raw client can use without the SDK's provider chain: the static ones for a local
 * endpoint (as createDocumentClient), else Lambda's environment credentials; undefined otherwise (the
 * caller then stays on the SDK, whose chain knows profiles, SSO, IMDS...).
 */
export function rawCredentials(endpoint: string | undefined, env: NodeJS.ProcessEnv = process.env): RawCredentials | undefined {
  if (endpoint) return { accessKeyId: 'local', secretAccessKey: 'local' }
  const { AWS_ACCESS_KEY_ID: accessKeyId, AWS_SECRET_ACCESS_KEY: secretAccessKey, AWS_SESSION_TOKEN: sessionToken } = env
  return accessKeyId && secretAccessKey ? { accessKeyId, secretAccessKey, sessionToken } : undefined
}

export interface RawJsonClientOptions {
  /** The signing name and endpoint prefix: `dynamodb`, `ssm`. */
  service: string
  /** `x-amz-target` is `<targetPrefix>.<operation>`: `DynamoDB_20120810`, `AmazonSSM`. */
  targetPrefix: string
  /** The protocol's content type version: `1.0` (DynamoDB) or `1.1` (SSM). */
  jsonVersion: '1.0' | '1.1'
  region: string
  /** Default: defaultEndpoint(service, region). */
  endpoint?: string | undefined
  credentials: RawCredentials
  // No defaults: each caller states its service's bounds (the table's: storeBounds() in store-timeouts.ts).
  /** Per attempt (ms). */
  connectTimeoutMs: number
  /** Per attempt (ms). */
  requestTimeoutMs: number
  maxAttempts: number
  /** Responses larger than this are refused (default 2 MiB). */
  maxResponseBytes?: number
}

/** The service's regional endpoint: `https://<service>.<region>.amazonaws.com`, `.amazonaws.com.cn` in the China regions. */
export function defaultEndpoint(service: string, region: string): string {
  return `https://${service}.${region}.amazonaws.com${region.startsWith('cn-') ? '.cn' : ''}`
}

const RETRYABLE = new Set(['ProvisionedThroughputExceededException', 'ThrottlingException', 'RequestLimitExceeded', 'InternalServerError', 'InternalServerErrorException', 'ServiceUnavailable'])

export class RawJsonClient {
  private readonly url: URL
  private readonly agent: http.Agent
  private readonly mod: typeof http | typeof https
  constructor(private readonly opts: RawJsonClientOptions) {
    this.url = new URL(opts.endpoint ?? defaultEndpoint(opts.service, opts.region))
    this.mod = this.url.protocol === 'http:' ? http : https
    this.agent = new this.mod.Agent({ keepAlive: true, maxSockets: 256 })
  }

  /** The operation's JSON answer; retries throttling, 5xx and network errors up to maxAttempts. */
  async call(operation: string, body: unknown): Promise<unknown> {
    for (let i = 1; ; i++) {
      try {
        return await this.once(operation, body)
      } catch (e) {
        const err = e as { name?: string; code?: string; $retryable?: boolean }
        if (i >= this.opts.maxAttempts || !(err.$retryable || RETRYABLE.has(err.name ?? ''))) throw e
        await new Promise((r) => setTimeout(r, 25 * 2 ** (i - 1) * Math.random()))
      }
    }
  }

  private once(operation: string, body: unknown): Promise<unknown> {
    const payload = JSON.stringify(body)
    const { credentials: c, region, service } = this.opts
    const amzDate = new Date().toISOString().replace(/[:-]|\.\d{3}/g, '')
    const headers: Record<string, string> = {
      'content-type': `application/x-amz-json-${this.opts.jsonVersion}`,
      host: this.url.host,
      'x-amz-date': amzDate,
      'x-amz-target': `${this.opts.targetPrefix}.${operation}`,
      ...(c.sessionToken ? { 'x-amz-security-token': c.sessionToken } : {}),
    }
    headers.authorization = signV4({ headers, payload, amzDate, region, service, credentials: c })
    headers['content-length'] = String(Buffer.byteLength(payload))
    const maxBytes = this.opts.maxResponseBytes ?? 2 * 1024 * 1024
    const what = `${this.opts.targetPrefix}.${operation}`
    return new Promise((resolve, reject) => {
      const req = this.mod.request(
        { host: this.url.hostname, port: this.url.port, method: 'POST', path: '/', headers, agent: this.agent, timeout: this.opts.connectTimeoutMs },
        (res) => {
          const chunks: Buffer[] = []
          let size = 0
          res.on('data', (d: Buffer) => {
            if ((size += d.length) > maxBytes) req.destroy(Object.assign(new Error(`${what}: response too large`), { name: 'InternalServerError' }))
            else chunks.push(d)
          })
          res.on('error', (e) => {
            clearTimeout(timer)
            reject(e)
          })
          res.on('end', () => {
            clearTimeout(timer)
            let parsed: { __type?: string }
            try {
              parsed = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}')
            } catch {
              parsed = {}
            }
            const status = res.statusCode ?? 0
            if (status === 200) return resolve(parsed)
            // The message is left out: AWS messages may quote request values (parameter names, ARNs).
            const name = String(parsed.__type ?? (status >= 500 ? 'InternalServerError' : 'UnknownError')).split('#').pop()!
            reject(Object.assign(new Error(`${what}: ${name}`), { name, $metadata: { httpStatusCode: status }, $retryable: status >= 500 }))
          })
        },
      )
      // Connection timeout (socket idle before connect) and a total request timeout, as the SDK client's.
      req.on('timeout', () => req.destroy(Object.assign(new Error('connect ETIMEDOUT'), { name: 'TimeoutError', code: 'ETIMEDOUT', $retryable: true })))
      const timer = setTimeout(() => req.destroy(Object.assign(new Error('request timed out'), { name: 'TimeoutError', $retryable: true })), this.opts.requestTimeoutMs)
      req.on('error', (e: Error & { code?: string }) => {
        clearTimeout(timer)
        reject(Object.assign(e, { $retryable: true }))
      })
      req.end(payload)
    })
  }
}

export interface SignV4Input {
  /** Lower-case names; every one is signed (host, x-amz-date, x-amz-target, content-type, x-amz-security-token). */
  headers: Record<string, string>
  payload: string
  /** `YYYYMMDDTHHMMSSZ` */
  amzDate: string
  region: string
  service: string
  credentials: RawCredentials
}

/**
 * The Authorization header of AWS Signature Version 4 for `POST /` with no query (the JSON protocols of
 * DynamoDB and SSM). test/aws/raw-json-client.test.ts checks it against the SDK's own signer
 * (@smithy/signature-v4) for the same request.
 */
export function signV4({ headers, payload, amzDate, region, service, credentials: c }: SignV4Input): string {
  const names = Object.keys(headers).sort()
  const canonical = ['POST', '/', '', ...names.map((n) => `${n}:${headers[n]!.trim()}`), '', names.join(';'), sha256Hex(payload)].join('\n')
  const day = amzDate.slice(0, 8)
  const scope = `${day}/${region}/${service}/aws4_request`
  const toSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256Hex(canonical)].join('\n')
  const key = hmac(hmac(hmac(hmac(`AWS4${c.secretAccessKey}`, day), region), service), 'aws4_request')
  return `AWS4-HMAC-SHA256 Credential=${c.accessKeyId}/${scope}, SignedHeaders=${names.join(';')}, Signature=${hmac(key, toSign).toString('hex')}`
}

const sha256Hex = (s: string) => createHash('sha256').update(s).digest('hex')
const hmac = (k: Buffer | string, s: string) => createHmac('sha256', k).update(s).digest()
