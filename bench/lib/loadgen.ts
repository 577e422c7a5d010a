// A small keep-alive HTTP/1.1 load generator on raw sockets: `concurrency` connections, each with
// one request in flight (no pipelining), closed-loop (the next request leaves when the answer is in)
// or open-loop at a fixed rate (latency counted from the scheduled send time, so a stalled server
// cannot hide its queue). node:http's client costs more CPU per request than a small Fastify route,
// so it would measure itself rather than the server; this parses only the status line and
// Content-Length (every response of the servers under test carries one).

import net from 'node:net'

export interface LoadOptions {
  port: number
  host?: string
  concurrency: number
  durationMs: number
  /** The bytes of request number `i` (a full HTTP/1.1 request with Host and Content-Length). */
  request: (i: number) => Buffer
  /** Whether a response counts as a success; default: status 200. Also told the request's latency. */
  accept?: (status: number, body: Buffer, i: number, latencyMs: number) => boolean
  /** Open loop: requests per second in total; closed loop when absent. */
  ratePerSec?: number
  /** Latency samples kept (reservoir); default 200 000. */
  maxSamples?: number
}

export interface LoadResult {
  requests: number
  errors: number
  elapsedMs: number
  perSec: number
  p50Ms: number
  p99Ms: number
  maxMs: number
  /** Open loop only: scheduled requests still waiting for a free connection at the end (server behind). */
  unsent: number
  /** First few failures (status and start of the body) for the report. */
  failures: string[]
  /**
   * Messages the server sent on a connection with no request in flight (not answers, not counted as
   * requests): e.g. Node's `408 Request Timeout` on a keep-alive connection left idle past its
   * requestTimeout. With its status line, first few.
   */
  unsolicited: string[]
}

interface Conn {
  socket: net.Socket
  buf: Buffer
  busy: boolean
  started: number
  index: number
}

const HEADER_END = Buffer.from('\r\n\r\n')

export async function runLoad(opts: LoadOptions): Promise<LoadResult> {
  const host = opts.host ?? '127.0.0.1'
  const accept = opts.accept ?? ((status) => status === 200)
  const maxSamples = opts.maxSamples ?? 200_000
  const samples = new Float64Array(maxSamples)
  let sampleCount = 0
  let requests = 0
  let errors = 0
  let issued = 0
  const failures: string[] = []
  const unsolicited: string[] = []
  let stopping = false
  // Open loop: connections are taken round-robin, so none sits idle for the whole run (an idle
  // keep-alive connection is eventually timed out by the server, which is not the server failing).
  let nextConn = 0
  const queue: number[] = [] // open loop: scheduled send times waiting for a free connection

  const conns: Conn[] = await Promise.all(
    Array.from({ length: opts.concurrency }, () =>
      new Promise<Conn>((resolve, reject) => {
        const socket = net.connect({ host, port: opts.port }, () => resolve({ socket, buf: Buffer.alloc(0), busy: false, started: 0, index: 0 }))
        socket.setNoDelay(true)
        socket.once('error', reject)
      }),
    ),
  )

  let finish: () => void = () => undefined
  const done = new Promise<void>((r) => (finish = r))
  const t0 = performance.now()
  const deadline = t0 + opts.durationMs

  const record = (ms: number) => {
    if (sampleCount < maxSamples) samples[sampleCount++] = ms
    else {
      const j = Math.floor(Math.random() * (requests + 1))
      if (j < maxSamples) samples[j] = ms
    }
  }

  const send = (c: Conn, scheduledAt: number) => {
    c.busy = true
    c.index = issued++
    c.started = scheduledAt
    c.socket.write(opts.request(c.index))
  }

  const onIdle = (c: Conn) => {
    c.busy = false
    const now = performance.now()
    if (now >= deadline) {
      stopping = true
      if (conns.every((x) => !x.busy)) finish()
      return
    }
    if (opts.ratePerSec === undefined) send(c, now)
    else if (queue.length > 0) send(c, queue.shift()!)
  }

  for (const c of conns) {
    c.socket.on('data', (chunk: Buffer) => {
      c.buf = c.buf.length === 0 ? chunk : Buffer.concat([c.buf, chunk])
      for (;;) {
        const end = c.buf.indexOf(HEADER_END)
        if (end < 0) return
        const head = c.buf.subarray(0, end).toString('latin1')
        const m = /\r\ncontent-length:\s*(\d+)/i.exec(head)
        if (!m) {
          errors++
          if (failures.length < 5) failures.push(`no content-length: ${head.slice(0, 120)}`)
          c.socket.destroy()
          return
        }
        const total = end + 4 + Number(m[1])
        if (c.buf.length < total) return
        const status = Number(head.slice(9, 12))
        const body = c.buf.subarray(end + 4, total)
        c.buf = c.buf.subarray(total)
        if (!c.busy) {
          if (unsolicited.length < 5) unsolicited.push(`${status} ${body.toString('utf8', 0, Math.min(body.length, 120))}`)
          continue
        }
        requests++
        const latency = performance.now() - c.started
        record(latency)
        if (!accept(status, body, c.index, latency)) {
          errors++
          if (failures.length < 5) failures.push(`${status} ${body.toString('utf8', 0, Math.min(body.length, 200))}`)
        }
        onIdle(c)
      }
    })
    c.socket.on('error', () => undefined)
    c.socket.on('close', () => {
      if (c.busy) {
        // A request in flight lost with its connection: a failure.
        errors++
        c.busy = false
        if (!stopping && failures.length < 5) failures.push('connection closed by the server with a request in flight')
      } else if (!stopping && unsolicited.length < 5) {
        unsolicited.push('idle connection closed by the server')
      }
      // The run ends at its deadline, not when an idle connection goes away; open loop, the remaining
      // connections carry the load (closed loop, this connection's share stops).
      if (stopping && conns.every((x) => !x.busy)) finish()
      else if (opts.ratePerSec === undefined && conns.every((x) => x.socket.destroyed)) finish()
    })
  }

  // BENCH_DEBUG_STUCK=1: report a request still unanswered after 5 s (its index and what came back so far).
  const watchdog = process.env.BENCH_DEBUG_STUCK === '1'
    ? setInterval(() => {
        const now = performance.now()
        for (const c of conns) {
          if (c.busy && now - c.started > 5000) {
            console.error(`loadgen: request ${c.index} unanswered for ${((now - c.started) / 1000).toFixed(0)} s; received ${c.buf.length} bytes: ${JSON.stringify(c.buf.toString('latin1', 0, 300))}; sent: ${JSON.stringify(opts.request(c.index).toString('latin1', 0, 200))}`)
          }
        }
      }, 5000)
    : undefined
  let ticker: NodeJS.Timeout | undefined
  if (opts.ratePerSec === undefined) {
    for (const c of conns) send(c, performance.now())
  } else {
    const rate = opts.ratePerSec
    let scheduled = 0
    ticker = setInterval(() => {
      const now = performance.now()
      if (now >= deadline) {
        clearInterval(ticker)
        stopping = true
        if (conns.every((x) => !x.busy)) finish()
        return
      }
      const due = Math.floor(((now - t0) / 1000) * rate)
      for (; scheduled < due; scheduled++) {
        const at = t0 + (scheduled / rate) * 1000
        let free: Conn | undefined
        for (let k = 0; k < conns.length && free === undefined; k++) {
          const x = conns[(nextConn + k) % conns.length]!
          if (!x.busy && !x.socket.destroyed) {
            free = x
            nextConn = (nextConn + k + 1) % conns.length
          }
        }
        if (free) send(free, at)
        else queue.push(at)
      }
    }, 5)
  }

  await done
  if (ticker) clearInterval(ticker)
  if (watchdog) clearInterval(watchdog)
  const elapsedMs = performance.now() - t0
  for (const c of conns) c.socket.destroy()
  const s = samples.subarray(0, Math.min(sampleCount, maxSamples)).sort()
  const q = (p: number) => (s.length === 0 ? Number.NaN : s[Math.min(s.length - 1, Math.max(0, Math.ceil(p * s.length) - 1))]!)
  return {
    requests,
    errors,
    unsent: queue.length,
    elapsedMs,
    perSec: (requests / elapsedMs) * 1000,
    p50Ms: q(0.5),
    p99Ms: q(0.99),
    maxMs: s.length === 0 ? Number.NaN : s[s.length - 1]!,
    failures,
    unsolicited,
  }
}

/** The bytes of an HTTP/1.1 request. */
export function rawRequest(method: string, path: string, headers: Record<string, string>, body = ''): Buffer {
  const lines = [`${method} ${path} HTTP/1.1`]
  const names = new Set(Object.keys(headers).map((h) => h.toLowerCase()))
  for (const [k, v] of Object.entries(headers)) lines.push(`${k}: ${v}`)
  if (!names.has('content-length')) lines.push(`content-length: ${Buffer.byteLength(body)}`)
  return Buffer.from(`${lines.join('\r\n')}\r\n\r\n${body}`, 'utf8')
}
