// A write whose answer is lost although it succeeded (a timeout or a reset after DynamoDB applied it) is
// retried by the AWS SDK with the same request. For a list edit the retry must neither answer "already
// registered" / "not registered" for the call's own change nor apply it twice, even when another edit of
// the provider lands between the lost answer and the retry. Real SDK client and DynamoDB Local; the
// lost answer is a middleware on the client's own stack that lets the write through, optionally runs
// another client's edit, and then throws the transient error the SDK's retry strategy retries.
// Also: the account bootstrap's transaction retried on a transaction conflict.
import { describe, expect, it } from 'vitest'
import { AccountStore } from '../../shared/store/account-store.ts'
import { OidcProviderStore } from '../../shared/store/oidc-provider-store.ts'
import { createDocumentClient, defineTable } from '../../shared/store/table.ts'
import { bootstrapOperatorAccount, generateAccessKey, generateAccountId } from '../../shared/services/accounts.ts'
import { createTestTable } from '../support/store.ts'

const WRITE = 'TransactWriteItemsCommand'

async function providerWithLostAnswers(clientIds: string[] = ['a']) {
  const { table, documentClient, endpoint, tableName } = await createTestTable('provider-retry')
  const sent: string[] = []
  let lose: { between?: () => Promise<unknown> } | undefined
  documentClient.middlewareStack.add(
    (next, context) => async (args) => {
      const command = String((context as { commandName?: string }).commandName)
      sent.push(command)
      const out = await next(args)
      if (lose !== undefined && command === WRITE) {
        const { between } = lose
        lose = undefined
        await between?.()
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
  await store.create({ accountId, name: 'ci', issuerUrl: 'https://idp.example.com', fingerprints: ['a'.repeat(40)], clientIds, issuanceLimitTime: 12, description: '', createdAt: now, updatedAt: now, version: 1 })
  // Another client of the same table (another container), without the lost answers.
  const other = new OidcProviderStore(defineTable(createDocumentClient({ tableName, region: 'us-east-1', endpoint }), tableName))
  return { store, other, accountId, now, sent, loseTheNextAnswer: (between?: () => Promise<unknown>) => (lose = between ? { between } : {}) }
}

describe('OIDC provider list edits retried by the SDK after a lost answer', () => {
  it('adds once and answers with the provider, not EntityAlreadyExists', async () => {
    const p = await providerWithLostAnswers()
    p.sent.length = 0
    p.loseTheNextAnswer()
    const added = await p.store.addToList(p.accountId, 'ci', 'clientIds', 'b', p.now)
    expect(p.sent.filter((c) => c === WRITE)).toHaveLength(2) // the write, and the SDK's retry
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
    expect(p.sent.filter((c) => c === WRITE)).toHaveLength(2)
    expect(removed).toMatchObject({ fingerprints: ['b'.repeat(40)], version: 3 })
    await expect(p.store.removeFromList(p.accountId, 'ci', 'fingerprints', 'a'.repeat(40), p.now)).rejects.toMatchObject({ code: 'EntityNotExist.OIDCProvider.Fingerprint' })
  })

  it('an add retried after another call removed the value again does not bring it back', async () => {
    const p = await providerWithLostAnswers(['a', 'b'])
    p.loseTheNextAnswer(() => p.other.removeFromList(p.accountId, 'ci', 'clientIds', 'c', p.now))
    await p.store.addToList(p.accountId, 'ci', 'clientIds', 'c', p.now)
    expect((await p.other.get(p.accountId, 'ci'))!.clientIds).toEqual(['a', 'b'])
  })

  it('a removal retried after another call added the value again leaves the new one', async () => {
    const p = await providerWithLostAnswers(['a', 'b'])
    p.loseTheNextAnswer(() => p.other.addToList(p.accountId, 'ci', 'clientIds', 'a', p.now))
    await p.store.removeFromList(p.accountId, 'ci', 'clientIds', 'a', p.now)
    expect((await p.other.get(p.accountId, 'ci'))!.clientIds).toEqual(['b', 'a'])
  })

  it('an add retried after another call edited another value answers with success, not a refusal of its own change', async () => {
    const p = await providerWithLostAnswers(['a'])
    p.loseTheNextAnswer(() => p.other.addToList(p.accountId, 'ci', 'clientIds', 'x', p.now))
    const added = await p.store.addToList(p.accountId, 'ci', 'clientIds', 'b', p.now)
    expect(added.clientIds).toEqual(['a', 'b', 'x'])
  })
})

describe('account bootstrap', () => {
  it('retries a transaction conflict (two cold starts at once, as DynamoDB reports it on AWS) and creates the account', async () => {
    const { tableName, endpoint } = await createTestTable('bootstrap-conflict')
    const documentClient = createDocumentClient({ tableName, region: 'us-east-1', endpoint })
    let conflicts = 2
    documentClient.middlewareStack.add(
      (next, context) => async (args) => {
        if (String((context as { commandName?: string }).commandName) === WRITE && conflicts-- > 0) {
          throw Object.assign(new Error('Transaction cancelled [None, TransactionConflict]'), {
            name: 'TransactionCanceledException',
            CancellationReasons: [{ Code: 'None' }, { Code: 'TransactionConflict' }],
            $metadata: { httpStatusCode: 400 },
          })
        }
        return next(args)
      },
      { step: 'initialize', name: 'transactionConflict' },
    )
    const accounts = new AccountStore(defineTable(documentClient, tableName))
    const key = generateAccessKey()
    const accountId = generateAccountId()
    await bootstrapOperatorAccount(accounts, { AccountId: accountId, AccessKeyId: key.accessKeyId, AccessKeySecret: key.secret }, Date.now())
    expect(conflicts).toBe(-1)
    expect(await accounts.getAccount(accountId)).toMatchObject({ accountId })
  })
})
