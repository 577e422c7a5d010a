// A minimal DynamoDB client for the token-exchange cold path: GetItem only, JSON protocol 1.0, SigV4
// from node:crypto, one keep-alive agent. Loading and first use cost ~10 ms where the AWS SDK v3
// client + lib-dynamodb + dynamodb-toolbox cost ~100 ms on a cold start (BENCHMARKS.md "Cold start").
// Everything else (writes, queries, transactions) stays on the toolbox stores, loaded on first use.
// Errors carry the SDK's shapes (name = the exception's short name, network errors keep their code),
// so store-errors.ts maps them exactly as it maps SDK failures.

import { createHash, createHmac } from 'node:crypto'
import http from 'node:http'
import https from 'node:https'

export type AttributeValue =
  | { S: string } | { N: string } | { BOOL: boolean } | { NULL: true }
  | { L: AttributeValue[] } | { M: Record<string, AttributeValue> } | { SS: string[] } | { NS: string[] }

export interface RawCredentials { accessKeyId: string; secretAccessKey: string; sessionToken?: string | undefined }

export interface RawDynamoOptions {
  region: string
  endpoint?: string | undefined
  credentials: RawCredentials
  connectTimeoutMs?: number
  requestTimeoutMs?: number
  maxAttempts?: number
}

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

const MAX_RESPONSE_BYTES = 2 * 1024 * 1024

const RETRYABLE = new Set(['ProvisionedThroughputExceededException', 'ThrottlingException', 'RequestLimitExceeded', 'InternalServerError', 'ServiceUnavailable'])

export class RawDynamo {
  private readonly url: URL
  private readonly agent: http.Agent
  private readonly mod: typeof http | typeof https
  constructor(private readonly opts: RawDynamoOptions) {
    this.url = new URL(opts.endpoint ?? `https://dynamodb.${opts.region}.amazonaws.com`)
    this.mod = this.url.protocol === 'http:' ? http : https
    this.agent = new this.mod.Agent({ keepAlive: true, maxSockets: 256 })
  }

  async getItem(tableName: string, key: Record<string, AttributeValue>, consistent = true): Promise<Record<string, AttributeValue> | undefined> {
    const out = (await this.call('GetItem', { TableName: tableName, Key: key, ConsistentRead: consistent })) as { Item?: Record<string, AttributeValue> }
    return out.Item
  }

  private async call(target: string, body: unknown): Promise<unknown> {
    const attempts = this.opts.maxAttempts ?? 2
    for (let i = 1; ; i++) {
      try {
        return await this.once(target, body)
      } catch (e) {
        const err = e as { name?: string; code?: string; $retryable?: boolean }
        if (i >= attempts || !(err.$retryable || RETRYABLE.has(err.name ?? ''))) throw e
        await new Promise((r) => setTimeout(r, 25 * 2 ** (i - 1) * Math.random()))
      }
    }
  }

  private once(target: string, body: unknown): Promise<unknown> {
    const payload = JSON.stringify(body)
    const { credentials: c, region } = this.opts
    const amzDate = new Date().toISOString().replace(/[:-]|\.\d{3}/g, '')
    const headers: Record<string, string> = {
      'content-type': 'application/x-amz-json-1.0',
      host: this.url.host,
      'x-amz-date': amzDate,
      'x-amz-target': `DynamoDB_20120810.${target}`,
      ...(c.sessionToken ? { 'x-amz-security-token': c.sessionToken } : {}),
    }
    headers.authorization = signV4({ headers, payload, amzDate, region, service: 'dynamodb', credentials: c })
    headers['content-length'] = String(Buffer.byteLength(payload))
    return new Promise((resolve, reject) => {
      const req = this.mod.request(
        { host: this.url.hostname, port: this.url.port, method: 'POST', path: '/', headers, agent: this.agent, timeout: this.opts.connectTimeoutMs ?? 2000 },
        (res) => {
          const chunks: Buffer[] = []
          let size = 0
          res.on('data', (d: Buffer) => {
            // An item is at most 400 KB: anything far larger is not DynamoDB answering.
            if ((size += d.length) > MAX_RESPONSE_BYTES) req.destroy(Object.assign(new Error('response too large'), { name: 'InternalServerError' }))
            else chunks.push(d)
          })
          res.on('error', reject)
          res.on('end', () => {
            clearTimeout(timer)
            let parsed: { __type?: string; message?: string; Message?: string }
            try {
              parsed = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}')
            } catch {
              parsed = {}
            }
            const status = res.statusCode ?? 0
            if (status === 200) return resolve(parsed)
            const name = String(parsed.__type ?? (status >= 500 ? 'InternalServerError' : 'UnknownError')).split('#').pop()!
            reject(Object.assign(new Error(`DynamoDB ${target}: ${name}`), { name, $metadata: { httpStatusCode: status }, $retryable: status >= 500 }))
          })
        },
      )
      // Connection timeout (socket idle before connect) and a total request timeout, as the SDK client's.
      req.on('timeout', () => req.destroy(Object.assign(new Error('connect ETIMEDOUT'), { name: 'TimeoutError', code: 'ETIMEDOUT', $retryable: true })))
      const timer = setTimeout(() => req.destroy(Object.assign(new Error('request timed out'), { name: 'TimeoutError', $retryable: true })), this.opts.requestTimeoutMs ?? 5000)
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
 * DynamoDB and SSM). test/store/raw-dynamodb.test.ts checks it against the SDK's own signer
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

/** AttributeValue -> plain value (S, N as number, BOOL, NULL, L, M; sets as arrays). */
export function unmarshallValue(v: AttributeValue): unknown {
  if ('S' in v) return v.S
  if ('N' in v) return Number(v.N)
  if ('BOOL' in v) return v.BOOL
  if ('NULL' in v) return null
  if ('L' in v) return v.L.map(unmarshallValue)
  if ('M' in v) return unmarshallItem(v.M)
  if ('SS' in v) return [...v.SS]
  if ('NS' in v) return v.NS.map(Number)
  throw new TypeError('unsupported attribute type')
}

export function unmarshallItem(item: Record<string, AttributeValue>): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(item)) out[k] = unmarshallValue(v)
  return out
}
