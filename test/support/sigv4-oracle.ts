// AWS Signature Version 4 as the AWS SDK computes it (@smithy/signature-v4 on node:crypto): the oracle
// the raw AWS JSON client's signatures are checked against.
import { createHash, createHmac } from 'node:crypto'
import { SignatureV4 } from '@smithy/signature-v4'

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

export async function sigV4Oracle(input: { host: string; target: string; contentType?: string; payload: string; region: string; service: string; amzDate: string; credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string } }) {
  const signer = new SignatureV4({ service: input.service, region: input.region, credentials: input.credentials, sha256: Sha256, applyChecksum: false })
  const d = input.amzDate
  const date = new Date(`${d.slice(0, 4)}-${d.slice(4, 6)}-${d.slice(6, 8)}T${d.slice(9, 11)}:${d.slice(11, 13)}:${d.slice(13, 15)}Z`)
  const signed = await signer.sign(
    { method: 'POST', protocol: 'https:', hostname: input.host, path: '/', query: {}, headers: { 'content-type': input.contentType ?? 'application/x-amz-json-1.0', host: input.host, 'x-amz-target': input.target }, body: input.payload },
    { signingDate: date },
  )
  return signed.headers as Record<string, string>
}

