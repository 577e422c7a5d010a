// Single-use request nonces: a conditional put that succeeds once per (AccessKeyId, nonce) while the
// record lives. TTL removes them on AWS; the condition also treats an expired record as free, so
// correctness never depends on TTL deletion timing (DynamoDB Local does not delete).

import { randomBytes } from 'node:crypto'
import { PutItemCommand } from 'dynamodb-toolbox'
import type { StoreTable } from './table.ts'
import { isConditionalCheckFailed, toStoreError } from './store-errors.ts'

export class NonceStore {
  constructor(private readonly t: StoreTable) {}

  /**
   * true when this nonce was unused (and is now used); false when it was seen within its lifetime.
   * The record keeps a random id of THIS call: when the AWS SDK retries a write that timed out but had
   * succeeded, the retry carries the same item, finds its own write and is not taken for a replay. A
   * replayed HTTP request is a new call with a new id, so it is refused. (The request signature must
   * not serve as that id: a replay carries the very same signature, and was accepted as a "retry".)
   */
  async consume(accessKeyId: string, nonce: string, ttlSeconds: number, now: Date): Promise<boolean> {
    const nowSec = Math.floor(now.getTime() / 1000)
    const sig = randomBytes(16).toString('base64url')
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
        return old?.sig?.S === sig
      }
      throw toStoreError(e)
    }
  }
}
