// A fresh node process (plain node, no loader: what Lambda starts) that imports a bundled handler,
// answers one event and exits. Times are ms since the process started (performance.now()); the
// runner also times spawn -> exit from outside. BENCH_EXPECT: a string the 200 answer must contain.
import { readFileSync, writeFileSync } from 'node:fs'

const { handler } = await import(process.env.BENCH_BUNDLE)
const importedAt = performance.now()
const event = JSON.parse(readFileSync(process.env.BENCH_EVENT, 'utf8'))
const res = await handler(event, { awsRequestId: 'cold-start', getRemainingTimeInMillis: () => 30_000 })
const answeredAt = performance.now()
const ok = res.statusCode === 200 && res.body.includes(process.env.BENCH_EXPECT ?? '')
writeFileSync(process.env.BENCH_OUT, JSON.stringify({ status: res.statusCode, ok, body: ok ? '' : res.body.slice(0, 300), importedAt, answeredAt }))
process.exit(0)
