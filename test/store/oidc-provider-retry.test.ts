// A list edit whose answer is lost although it succeeded (a timeout or a reset after DynamoDB applied
// it) is retried by the AWS SDK with the same request: the retry must not answer "already registered"
// or "not registered" for the call's own change. Real SDK client and DynamoDB Local; the lost answer is
// a middleware on the client's own stack that lets the first UpdateItem through and then throws the
// transient error the SDK's retry strategy retries.
import { describe, expect, it } from 'vitest'
import { AccountStore } from '../../shared/store/account-store.ts'
import { OidcProviderStore } from '../../shared/store/oidc-provider-store.ts'
import { createTestTable } from '../support/store.ts'

async function providerWithLostAnswers() {
  const { table, documentClient } = await createTestTable('provider-retry')
  const sent: string[] = []
  let loseNext = false
  documentClient.middlewareStack.add(
    (next, context) => async (args) => {
      const command = String((context as { commandName?: string }).commandName)
      sent.push(command)
      const out = await next(args)
      if (loseNext && command === 'UpdateItemCommand') {
        loseNext = false
        throw Object.assign(new Error('the answer was lost after the write'), { name: 'TimeoutError', $metadata: {} })
      }
      return out
    },
    // Inside the retry middleware (finalizeRequest), as a network failure is.
    { step: 'deserialize', name: 'loseAnAnswer' },
  )
  const accountId = '4444444444444444'
  const now = Date.now()
  await new AccountStore(table).createAccountWithKey(accountId, { accessKeyId: 'LTAIretrytest000001', secret: 's'.repeat(30), status: 'Active', operator: false }, now)
  const store = new OidcProviderStore(table)
  await store.create({ accountId, name: 'ci', issuerUrl: 'https://idp.example.com', fingerprints: ['a'.repeat(40)], clientIds: ['a'], issuanceLimitTime: 12, description: '', createdAt: now, updatedAt: now, version: 1 })
  return { store, accountId, now, sent, loseTheNextAnswer: () => (loseNext = true) }
}

describe('OIDC provider list edits retried by the SDK after a lost answer', () => {
  it('adds once and answers with the provider, not EntityAlreadyExists', async () => {
    const p = await providerWithLostAnswers()
    p.sent.length = 0
    p.loseTheNextAnswer()
    const added = await p.store.addToList(p.accountId, 'ci', 'clientIds', 'b', p.now)
    expect(p.sent.filter((c) => c === 'UpdateItemCommand')).toHaveLength(2) // the write, and the SDK's retry
    expect(added).toMatchObject({ clientIds: ['a', 'b'], version: 2 })
    expect(added).not.toHaveProperty('lastOp')
    // A later add of the same value by another call is still refused.
    await expect(p.store.addToList(p.accountId, 'ci', 'clientIds', 'b', p.now)).rejects.toMatchObject({ code: 'EntityAlreadyExists.OIDCProvider.ClientId' })
  })

  it('removes once and answers with the provider, not EntityNotExist', async () => {
    const p = await providerWithLostAnswers()
    await p.store.addToList(p.accountId, 'ci', 'fingerprints', 'b'.repeat(40), p.now)
    p.sent.length = 0
    p.loseTheNextAnswer()
    const removed = await p.store.removeFromList(p.accountId, 'ci', 'fingerprints', 'a'.repeat(40), p.now)
    expect(p.sent.filter((c) => c === 'UpdateItemCommand')).toHaveLength(2)
    expect(removed).toMatchObject({ fingerprints: ['b'.repeat(40)], version: 3 })
    await expect(p.store.removeFromList(p.accountId, 'ci', 'fingerprints', 'a'.repeat(40), p.now)).rejects.toMatchObject({ code: 'EntityNotExist.OIDCProvider.Fingerprint' })
  })
})
