// Counts the DynamoDB commands a client sends, by command name, with a middleware on the client's
// own stack (the real client and the real engine: nothing is mocked, every call still goes out).

import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb'
import type { OpCounts } from './ddb-counter.ts'

export function countCommands(client: DynamoDBDocumentClient): { counts: () => OpCounts; reset: () => void } {
  let counts: OpCounts = {}
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const name = String((context as { commandName?: string }).commandName ?? 'unknown').replace(/Command$/, '')
      counts[name] = (counts[name] ?? 0) + 1
      return next(args)
    },
    { step: 'initialize', name: 'benchCountCommands' },
  )
  return { counts: () => ({ ...counts }), reset: () => (counts = {}) }
}
