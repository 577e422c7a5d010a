// SSM Parameter Store's GetParameters over HTTP on 127.0.0.1 (the JSON 1.1 protocol): what the
// deployed functions' secrets loader calls, for tests and the cold-start benchmark. Each request
// without the SDK's invocation header (the raw client's) has its SigV4 signature recomputed with the
// AWS SDK's own signer and compared.
import { once } from 'node:events'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { sigV4Oracle } from './sigv4-oracle.ts'

export interface LocalSsmCredentials { accessKeyId: string; secretAccessKey: string; sessionToken?: string }

export interface Received {
  target: string | undefined
  contentType: string | undefined
  body: { Names?: string[]; WithDecryption?: boolean }
  /** The raw client's signature equals the SDK signer's for the same request (SDK requests sign more headers: not checked). */
  signatureValid: boolean | undefined
}

/** SSM's GetParameters over HTTP on 127.0.0.1: `values` are the parameters that exist; `failures` are answered first, one per request. */
export class LocalSsm {
  constructor(private readonly region: string, private readonly credentials: LocalSsmCredentials) {}
  values: Record<string, string> = {}
  failures: Array<{ status: number; type: string; message: string }> = []
  received: Received[] = []
  private readonly server = http.createServer(async (req, res) => {
    const chunks: Buffer[] = []
    for await (const c of req) chunks.push(c as Buffer)
    const payload = Buffer.concat(chunks).toString('utf8')
    const h = req.headers as Record<string, string | undefined>
    let signatureValid: boolean | undefined
    if (!h['amz-sdk-invocation-id']) {
      const expected = await sigV4Oracle({
        host: h.host!,
        target: h['x-amz-target']!,
        contentType: h['content-type']!,
        payload,
        region: this.region,
        service: 'ssm',
        amzDate: h['x-amz-date']!,
        credentials: this.credentials,
      })
      signatureValid = expected.authorization === h.authorization && h['x-amz-security-token'] === this.credentials.sessionToken
    }
    const body = JSON.parse(payload) as Received['body']
    this.received.push({ target: h['x-amz-target'], contentType: h['content-type'], body, signatureValid })
    const failure = this.failures.shift()
    res.setHeader('content-type', 'application/x-amz-json-1.1')
    if (failure) {
      res.statusCode = failure.status
      res.end(JSON.stringify({ __type: `com.amazonaws.ssm#${failure.type}`, message: failure.message }))
      return
    }
    const names = body.Names ?? []
    res.end(JSON.stringify({
      Parameters: names.filter((n) => n in this.values).map((n) => ({ Name: n, Type: 'SecureString', Value: this.values[n], Version: 1, ARN: `arn:aws:ssm:${this.region}:123456789012:parameter${n}` })),
      InvalidParameters: names.filter((n) => !(n in this.values)),
    }))
  })
  endpoint = ''
  async start() {
    this.server.listen(0, '127.0.0.1')
    await once(this.server, 'listening')
    this.endpoint = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`
  }
  reset(values: Record<string, string>) {
    this.values = values
    this.failures = []
    this.received = []
  }
  close() {
    this.server.closeAllConnections()
    this.server.close()
  }
}

