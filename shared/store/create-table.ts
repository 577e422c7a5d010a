// Creates the single table when absent (idempotent): keys, TTL on expiresAt, stream with both images.
// Used by the local runner and the tests; on AWS the table comes from serverless.yml resources.

import {
  CreateTableCommand,
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  ResourceInUseException,
  UpdateTimeToLiveCommand,
} from '@aws-sdk/client-dynamodb'
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb'

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
        ],
        KeySchema: [
          { AttributeName: 'pk', KeyType: 'HASH' },
          { AttributeName: 'sk', KeyType: 'RANGE' },
        ],
        StreamSpecification: { StreamEnabled: true, StreamViewType: 'NEW_AND_OLD_IMAGES' },
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
