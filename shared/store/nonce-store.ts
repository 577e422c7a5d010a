// Single-use request nonces: a conditional put that succeeds once per (AccessKeyId, nonce) while the
// record lives. TTL removes them on AWS; the condition also treats an expired record as free, so
// correctness never depends on TTL deletion timing (DynamoDB Local does not delete).

import { createHash } from 'node:crypto'
import { PutItemCommand } from 'dynamodb-toolbox'
import type { StoreTable } from './table.ts'
import { isConditionalCheckFailed, toStoreError } from './store-errors.ts'

export class NonceStore {
  constructor(private readonly t: StoreTable) {}

  /**
   * true when this nonce was unused (and is now used); false when it was seen within its lifetime.
   * The record keeps a digest of the request's signature: when the SDK retries a write that timed out
   * but had succeeded, the second attempt finds its own request, not a replay.
   */
  async consume(accessKeyId: string, nonce: string, ttlSeconds: number, now: Date, signature = ''): Promise<boolean> {
    const nowSec = Math.floor(now.getTime() / 1000)
    const sig = createHash('sha256').update(signature).digest('base64url').slice(0, 22)
    try {
      await this.t.NonceEntity.build(PutItemCommand)
        .item({ accessKeyId, nonce, sig, expiresAt: nowSec + ttlSeconds })
        .options({
          condition: { or: [{ attr: 'expiresAt', exists: false }, { attr: 'expiresAt', lt: nowSec }] },
          returnValuesOnConditionFalse: 'ALL_OLD',
        })
        .send()
      return true
    } catch (e) {
      if (isConditionalCheckFailed(e)) {
        const old = e.Item as { sig?: { S?: string } } | undefined
        return signature !== '' && old?.sig?.S === sig
      }
      throw toStoreError(e)
    }
  }
}
