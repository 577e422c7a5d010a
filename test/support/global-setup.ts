// Starts one in-memory DynamoDB Local for the whole run (or uses DYNAMODB_ENDPOINT) and stops it after.
import type { TestProject } from 'vitest/node'
import { startDynamoDbLocal, type DynamoDbLocal } from '../../local/dynamodb-local.ts'

let engine: DynamoDbLocal | undefined

export async function setup(project: TestProject) {
  let endpoint = process.env.DYNAMODB_ENDPOINT
  if (!endpoint) {
    engine = await startDynamoDbLocal({ inMemory: true })
    endpoint = engine.endpoint
  }
  project.provide('dynamodbEndpoint', endpoint)
}

export async function teardown() {
  await engine?.stop()
}

declare module 'vitest' {
  export interface ProvidedContext {
    dynamodbEndpoint: string
  }
}
