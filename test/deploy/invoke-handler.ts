// Runs a Lambda entry as the Lambda runtime would, in a process of its own: import the module (the cold
// start, with the environment the test gives), call handler(event, context) once, print the result.
// Usage: tsx test/deploy/invoke-handler.ts <module (a functions/*.ts or a bundled index.mjs)> <event.json>
// Prints `RESULT <json>` or `ERROR <json>` as its last stdout line; the function's own logs come before.
// INVOKE_TIMEOUT_MS is the function's timeout (what getRemainingTimeInMillis counts down); with
// INVOKE_KILL_AT_TIMEOUT=true the invocation is also ended there, as Lambda ends it: `TIMEOUT <json>`.
import { randomUUID } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { pathToFileURL } from 'node:url'

const [modulePath, eventPath] = process.argv.slice(2)
if (!modulePath || !eventPath) {
  process.stderr.write('usage: invoke-handler.ts <module> <event.json>\n')
  process.exit(2)
}
const event: unknown = JSON.parse(readFileSync(eventPath, 'utf8'))
const deadline = Date.now() + Number(process.env.INVOKE_TIMEOUT_MS ?? 300_000)
const context = {
  awsRequestId: randomUUID(),
  functionName: 'invoke-handler',
  getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
}
let line: string
let code = 0
let finished = false
if (process.env.INVOKE_KILL_AT_TIMEOUT === 'true') {
  setTimeout(() => {
    if (finished) return
    finished = true
    process.stdout.write(`TIMEOUT ${JSON.stringify({ timeoutMs: Number(process.env.INVOKE_TIMEOUT_MS ?? 300_000) })}\n`, () => process.exit(3))
  }, Math.max(0, deadline - Date.now()))
}
try {
  const { handler } = (await import(pathToFileURL(resolve(modulePath)).href)) as { handler: (e: unknown, c: unknown) => Promise<unknown> }
  line = `RESULT ${JSON.stringify((await handler(event, context)) ?? null)}`
} catch (e) {
  line = `ERROR ${JSON.stringify({ name: (e as Error).name, message: (e as Error).message })}`
  code = 1
}
// Like a frozen Lambda container, nothing left running (keep-alive sockets) is waited for.
if (!finished) {
  finished = true
  process.stdout.write(`${line}\n`, () => process.exit(code))
}
