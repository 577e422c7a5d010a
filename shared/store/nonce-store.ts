// Single-use request nonces: a conditional put that succeeds once per (AccessKeyId, nonce) while the
// record lives. TTL removes them on AWS; the condition also treats an expired record as free, so
// correctness never depends on TTL deletion timing (DynamoDB Local does not delete).

import { PutItemCommand } from 'dynamodb-toolbox'
import type { StoreTable } from './table.ts'
import { isConditionalCheckFailed, toStoreError } from './store-errors.ts'

export class NonceStore {
  constructor(private readonly t: StoreTable) {}

  /** true when this nonce was unused (and is now used); false when it was seen within its lifetime. */
  async consume(accessKeyId: string, nonce: string, ttlSeconds: number, now: Date): Promise<boolean> {
    const nowSec = Math.floor(now.getTime() / 1000)
    try {
      await this.t.NonceEntity.build(PutItemCommand)
        .item({ accessKeyId, nonce, expiresAt: nowSec + ttlSeconds })
        .options({ condition: { or: [{ attr: 'expiresAt', exists: false }, { attr: 'expiresAt', lt: nowSec }] } })
        .send()
      return true
    } catch (e) {
      if (isConditionalCheckFailed(e)) return false
      throw toStoreError(e)
    }
  }
}
