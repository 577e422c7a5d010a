// A counting wrapper in front of DynamoDB Local: an HTTP pass-through that forwards every request
// unchanged to the real engine and counts it by operation (X-Amz-Target). Any process (the TS sources,
// the esbuild bundle in a fresh node) pointed at it with DYNAMODB_ENDPOINT is counted at the wire.
// GET /__bench/counts answers the counters as JSON (the path is never a DynamoDB call).

import http from 'node:http'
import type { AddressInfo } from 'node:net'

export type OpCounts = Record<string, number>

export interface DdbCounter {
  endpoint: string
  counts(): OpCounts
  close(): Promise<void>
}

export async function startDdbCounter(target: string): Promise<DdbCounter> {
  const upstream = new URL(target)
  const agent = new http.Agent({ keepAlive: true, maxSockets: 64 })
  const counts: OpCounts = {}
  const server = http.createServer((req, res) => {
    if (req.method === 'GET' && req.url === '/__bench/counts') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(counts))
      return
    }
    const target = String(req.headers['x-amz-target'] ?? 'unknown')
    const op = target.includes('.') ? target.slice(target.indexOf('.') + 1) : target
    counts[op] = (counts[op] ?? 0) + 1
    const out = http.request(
      { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers, agent },
      (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers)
        up.pipe(res)
      },
    )
    out.on('error', () => res.destroy())
    req.pipe(out)
  })
  server.keepAliveTimeout = 60_000
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  const { port } = server.address() as AddressInfo
  return {
    endpoint: `http://127.0.0.1:${port}`,
    counts: () => ({ ...counts }),
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections()
        server.close(() => r())
        agent.destroy()
      }),
  }
}

/** Counters read over HTTP (from a child process), and the difference of two readings. */
export async function readCounts(endpoint: string): Promise<OpCounts> {
  const res = await fetch(`${endpoint}/__bench/counts`)
  return (await res.json()) as OpCounts
}

export function diffCounts(after: OpCounts, before: OpCounts): OpCounts {
  const out: OpCounts = {}
  for (const [op, n] of Object.entries(after)) {
    const d = n - (before[op] ?? 0)
    if (d !== 0) out[op] = d
  }
  return out
}

export const totalOf = (c: OpCounts) => Object.values(c).reduce((a, b) => a + b, 0)
