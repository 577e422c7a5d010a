// A fresh table on the run's DynamoDB Local for one test file: real engine, no SDK mocks.
import { randomBytes } from 'node:crypto'
import { inject } from 'vitest'
import { ensureTable } from '../../shared/store/create-table.ts'
import { createDocumentClient, defineTable } from '../../shared/store/table.ts'

export async function createTestTable(prefix = 'test') {
  const endpoint = inject('dynamodbEndpoint')
  const tableName = `${prefix}-${randomBytes(4).toString('hex')}`
  const documentClient = createDocumentClient({ tableName, region: 'us-east-1', endpoint })
  await ensureTable(documentClient, tableName)
  return { endpoint, tableName, documentClient, table: defineTable(documentClient, tableName) }
}
