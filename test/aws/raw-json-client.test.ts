// The raw AWS JSON client's request signature (DynamoDB GetItem, SSM GetParameters) is AWS Signature
// Version 4 exactly as the AWS SDK computes it: the SDK's own signer (@smithy/signature-v4) is the
// oracle, for generated requests and credentials.
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { defaultEndpoint, signV4 } from '../../shared/aws/raw-json-client.ts'
import { sigV4Oracle } from '../support/sigv4-oracle.ts'

describe('raw JSON client signV4', () => {
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
          const contentType = r.service === 'ssm' ? 'application/x-amz-json-1.1' : 'application/x-amz-json-1.0'
          const expected = await sigV4Oracle({ host, target: r.target, contentType, payload: r.payload, region: r.region, service: r.service, amzDate, credentials })
          const headers: Record<string, string> = { 'content-type': contentType, host, 'x-amz-date': amzDate, 'x-amz-target': r.target, ...(r.sessionToken ? { 'x-amz-security-token': r.sessionToken } : {}) }
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

  it('posts to the regional endpoint, the .cn domain in the China regions', () => {
    expect(defaultEndpoint('ssm', 'eu-central-1')).toBe('https://ssm.eu-central-1.amazonaws.com')
    expect(defaultEndpoint('dynamodb', 'cn-northwest-1')).toBe('https://dynamodb.cn-northwest-1.amazonaws.com.cn')
  })
})
