// A test table's stream as DynamoDB Local writes it, read through the DynamoDB Streams API: the records
// Lambda's event source mapping would hand key refresh, in the shape of its event (eventSourceARN added,
// as Lambda adds it).
import { inject } from 'vitest'
import { RawJsonClient } from '../../shared/aws/raw-json-client.ts'
import { storeBounds } from '../../shared/store/store-timeouts.ts'

export interface StreamRecord {
  eventID: string
  eventName: 'INSERT' | 'MODIFY' | 'REMOVE'
  eventSource: string
  eventSourceARN: string
  dynamodb: { Keys: Record<string, { S: string }>; SequenceNumber: string; StreamViewType: string; ApproximateCreationDateTime: number; [more: string]: unknown }
}

const client = (targetPrefix: string) =>
  new RawJsonClient({ service: 'dynamodb', targetPrefix, jsonVersion: '1.0', region: 'us-east-1', endpoint: inject('dynamodbEndpoint'), credentials: { accessKeyId: 'local', secretAccessKey: 'local' }, ...storeBounds() })

/** Every record of the table's stream so far, oldest first. */
export async function tableStreamRecords(tableName: string): Promise<StreamRecord[]> {
  const dynamodb = client('DynamoDB_20120810')
  const streams = client('DynamoDBStreams_20120810')
  const table = (await dynamodb.call('DescribeTable', { TableName: tableName })) as { Table: { LatestStreamArn: string } }
  const streamArn = table.Table.LatestStreamArn
  const described = (await streams.call('DescribeStream', { StreamArn: streamArn })) as { StreamDescription: { Shards: { ShardId: string }[] } }
  const out: StreamRecord[] = []
  for (const { ShardId } of described.StreamDescription.Shards) {
    let iterator = ((await streams.call('GetShardIterator', { StreamArn: streamArn, ShardId, ShardIteratorType: 'TRIM_HORIZON' })) as { ShardIterator?: string }).ShardIterator
    while (iterator !== undefined) {
      const page = (await streams.call('GetRecords', { ShardIterator: iterator })) as { Records: Omit<StreamRecord, 'eventSourceARN'>[]; NextShardIterator?: string }
      if (page.Records.length === 0) break
      out.push(...page.Records.map((r) => ({ ...r, eventSourceARN: streamArn })))
      iterator = page.NextShardIterator
    }
  }
  return out.sort((a, b) => (BigInt(a.dynamodb.SequenceNumber) < BigInt(b.dynamodb.SequenceNumber) ? -1 : 1))
}

/** The records naming one item (by sk) that are not in `seen`, which they are added to. */
export async function newRecordsFor(tableName: string, sk: string, seen: Set<string>): Promise<StreamRecord[]> {
  const fresh = (await tableStreamRecords(tableName)).filter((r) => r.dynamodb.Keys.sk?.S === sk && !seen.has(r.dynamodb.SequenceNumber))
  for (const r of fresh) seen.add(r.dynamodb.SequenceNumber)
  return fresh
}
