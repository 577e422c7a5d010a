// The servers of the HTTP benchmarks, in a process of their own (the load generator runs in the
// runner, so the two do not share a core): a hello-world Fastify route, and the whole service as
// `npm start` serves it (every action, configuration from the environment, log lines to stdout), and
// that service without its audit table copy. Talks to the runner over IPC: sends {ready, hello,
// service, noTableCopy} ports, answers {rss} requests, exits on {stop}.

import Fastify from 'fastify'
import { loadConfig } from '../../shared/config.ts'
import { parseTokenKeys } from '../../shared/credentials/token-keys.ts'
import { createLogger } from '../../shared/log.ts'
import { managementActions } from '../../shared/management-app.ts'
import { buildServiceApp } from '../../shared/service-app.ts'
import { stsActions } from '../../shared/services/sts-actions.ts'
import { openStores } from '../../shared/store/stores.ts'

const config = loadConfig()
const hello = Fastify({ logger: false })
hello.route({ method: ['GET', 'POST'], url: '/', handler: async () => ({ hello: 'world' }) })
await hello.listen({ host: '127.0.0.1', port: 0 })

const service = buildServiceApp({
  config,
  stores: openStores(config),
  logger: createLogger(config.logLevel),
  tokenKeys: parseTokenKeys(config.tokenKeys!),
  actions: [...managementActions(), ...stsActions],
})
await service.listen({ host: '127.0.0.1', port: 0 })
// The same service without the audit table copy (the log line stays): isolates what writing the copy
// in the background costs the same CPU.
const noTableCopy = buildServiceApp({
  config,
  stores: { ...openStores(config), audit: undefined as never },
  logger: createLogger(config.logLevel),
  tokenKeys: parseTokenKeys(config.tokenKeys!),
  actions: [...managementActions(), ...stsActions],
})
await noTableCopy.listen({ host: '127.0.0.1', port: 0 })

const portOf = (app: { server: { address(): unknown } }) => (app.server.address() as { port: number }).port
process.on('message', async (m: { type: string; gc?: boolean }) => {
  if (m.type === 'rss') {
    if (m.gc) globalThis.gc?.()
    const mem = process.memoryUsage()
    process.send!({ type: 'rss', rss: mem.rss, heapUsed: mem.heapUsed, cpu: process.cpuUsage() })
  } else if (m.type === 'stop') {
    await hello.close()
    await service.close()
    await noTableCopy.close()
    process.exit(0)
  }
})
process.send!({ type: 'ready', hello: portOf(hello), service: portOf(service), noTableCopy: portOf(noTableCopy) })
