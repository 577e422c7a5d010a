// The raw GetItem client's request signature is AWS Signature Version 4 exactly as the AWS SDK computes
// it: the SDK's own signer (@smithy/signature-v4) is the oracle, for generated requests and credentials.
import { createHash, createHmac } from 'node:crypto'
import { SignatureV4 } from '@smithy/signature-v4'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { signV4 } from '../../shared/store/raw-dynamodb.ts'

const bytes = (d: string | ArrayBuffer | ArrayBufferView): string | Uint8Array =>
  typeof d === 'string' ? d : d instanceof ArrayBuffer ? new Uint8Array(d) : new Uint8Array(d.buffer, d.byteOffset, d.byteLength)

/** The Checksum interface the signer wants, on node:crypto (SHA-256, or HMAC-SHA-256 with a secret). */
class Sha256 {
  private readonly h
  constructor(secret?: string | ArrayBuffer | ArrayBufferView) {
    this.h = secret === undefined ? createHash('sha256') : createHmac('sha256', bytes(secret))
  }
  update(data: string | ArrayBuffer | ArrayBufferView) {
    this.h.update(bytes(data))
  }
  async digest() {
    return new Uint8Array(this.h.digest())
  }
  reset() {}
}

async function oracle(input: { host: string; target: string; payload: string; region: string; service: string; amzDate: string; credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string } }) {
  const signer = new SignatureV4({ service: input.service, region: input.region, credentials: input.credentials, sha256: Sha256, applyChecksum: false })
  const d = input.amzDate
  const date = new Date(`${d.slice(0, 4)}-${d.slice(4, 6)}-${d.slice(6, 8)}T${d.slice(9, 11)}:${d.slice(11, 13)}:${d.slice(13, 15)}Z`)
  const signed = await signer.sign(
    { method: 'POST', protocol: 'https:', hostname: input.host, path: '/', query: {}, headers: { 'content-type': 'application/x-amz-json-1.0', host: input.host, 'x-amz-target': input.target }, body: input.payload },
    { signingDate: date },
  )
  return signed.headers as Record<string, string>
}

describe('raw-dynamodb signV4', () => {
  it('equals the AWS SDK signer for generated requests, with and without a session token', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          region: fc.constantFrom('eu-central-1', 'us-east-1', 'ap-southeast-1'),
          service: fc.constantFrom('dynamodb', 'ssm'),
          payload: fc.json(),
          time: fc.integer({ min: Date.UTC(2020, 0, 1), max: Date.UTC(2035, 0, 1) }),
          accessKeyId: fc.stringMatching(/^ASIA[A-Z0-9]{16}$/),
          secretAccessKey: fc.stringMatching(/^[A-Za-z0-9/+]{40}$/),
          sessionToken: fc.option(fc.stringMatching(/^[A-Za-z0-9/+=]{20,200}$/), { nil: undefined }),
          target: fc.constantFrom('DynamoDB_20120810.GetItem', 'AmazonSSM.GetParameters'),
        }),
        async (r) => {
          const host = `${r.service}.${r.region}.amazonaws.com`
          const amzDate = new Date(Math.floor(r.time / 1000) * 1000).toISOString().replace(/[:-]|\.\d{3}/g, '')
          const credentials = { accessKeyId: r.accessKeyId, secretAccessKey: r.secretAccessKey, ...(r.sessionToken ? { sessionToken: r.sessionToken } : {}) }
          const expected = await oracle({ host, target: r.target, payload: r.payload, region: r.region, service: r.service, amzDate, credentials })
          const headers: Record<string, string> = { 'content-type': 'application/x-amz-json-1.0', host, 'x-amz-date': amzDate, 'x-amz-target': r.target, ...(r.sessionToken ? { 'x-amz-security-token': r.sessionToken } : {}) }
          const ours = signV4({ headers, payload: r.payload, amzDate, region: r.region, service: r.service, credentials })
          // The SDK signs its own header set (it adds x-amz-content-sha256 only for S3): same signed headers, same signature.
          expect(ours).toBe(expected.authorization)
          expect(expected['x-amz-date']).toBe(amzDate)
          if (r.sessionToken) expect(expected['x-amz-security-token']).toBe(r.sessionToken)
        },
      ),
      { numRuns: 200 },
    )
  })
})
