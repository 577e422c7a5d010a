// Creates the single table when absent (idempotent): keys, TTL on expiresAt, a stream of keys only,
// and the sparse issuer index of the background jobs (provider-directory.ts), which is added to a table
// made before it. Used by the local runner and the tests; on AWS the table comes from serverless.yml.

import {
  CreateTableCommand,
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  ResourceInUseException,
  UpdateTimeToLiveCommand,
} from '@aws-sdk/client-dynamodb'
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb'
import { ensureIssuerIndex, ISSUER_INDEX_DEFINITION } from './provider-directory.ts'

export async function ensureTable(client: DynamoDBDocumentClient, tableName: string): Promise<'created' | 'exists'> {
  let outcome: 'created' | 'exists' = 'created'
  try {
    await client.send(
      new CreateTableCommand({
        TableName: tableName,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [
          { AttributeName: 'pk', AttributeType: 'S' },
          { AttributeName: 'sk', AttributeType: 'S' },
          ISSUER_INDEX_DEFINITION.attribute,
        ],
        KeySchema: [
          { AttributeName: 'pk', KeyType: 'HASH' },
          { AttributeName: 'sk', KeyType: 'RANGE' },
        ],
        StreamSpecification: { StreamEnabled: true, StreamViewType: 'KEYS_ONLY' },
        // Created with the table, the index is ACTIVE at once (added later, DynamoDB Local takes seconds).
        GlobalSecondaryIndexes: [ISSUER_INDEX_DEFINITION.index],
      }),
    )
  } catch (e) {
    if (!(e instanceof ResourceInUseException)) throw e
    outcome = 'exists'
  }
  // DynamoDB Local creates tables ACTIVE at once; on AWS wait (bounded) for ACTIVE.
  for (let i = 0; i < 60; i++) {
    const d = await client.send(new DescribeTableCommand({ TableName: tableName }))
    if (d.Table?.TableStatus === 'ACTIVE') break
    await new Promise((r) => setTimeout(r, 1000))
  }
  if (outcome === 'exists') await ensureIssuerIndex(client, tableName)
  const ttl = await client.send(new DescribeTimeToLiveCommand({ TableName: tableName }))
  const status = ttl.TimeToLiveDescription?.TimeToLiveStatus
  if (status !== 'ENABLED' && status !== 'ENABLING') {
    await client.send(
      new UpdateTimeToLiveCommand({
        TableName: tableName,
        TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
      }),
    )
  }
  return outcome
}
