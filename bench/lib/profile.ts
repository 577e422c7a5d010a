// A CPU profile (node:inspector, sampling) of a workload, summarised as shares of samples by what
// the innermost recognisable frame belongs to: signature verification, sealing, and the rest by part.

import { mkdirSync, writeFileSync } from 'node:fs'
import { Session } from 'node:inspector/promises'
import { join } from 'node:path'

interface ProfileNode {
  id: number
  callFrame: { functionName: string; url: string }
  children?: number[]
}
interface CpuProfile {
  nodes: ProfileNode[]
  samples: number[]
}

export interface ProfileSummary {
  samples: number
  intervalUs: number
  /** Category -> share of all samples (0..1), descending. */
  shares: Record<string, number>
  /** Share of samples in which the thread was idle (`(idle)`: waiting in the event loop, for I/O or a timer). */
  idle: number
  /** Category -> share of the busy (non-idle, `(program)` included) samples: where the CPU time goes. */
  busyShares: Record<string, number>
}

type Rule = [category: string, test: (fn: string, url: string) => boolean]

const IDLE = 'idle / waiting (I/O)'
const PROGRAM = 'V8 and native code outside JavaScript ((program))'

// Checked from the sampled leaf frame towards the root; the first frame a rule recognises decides.
const RULES: Rule[] = [
  ['signature verification (node:crypto verify)', (fn) => fn === 'verifyJwsSignature'],
  ['sealing the SecurityToken (AES-256-GCM)', (fn) => fn === 'sealSecurityToken'],
  ['random AccessKeyId/secret (randomBase58)', (fn) => fn === 'randomBase58'],
  ['token parsing and claim checks', (_fn, url) => /shared\/oidc\/(verify-token|jws-json|jws-base64url)\.ts/.test(url)],
  ['JWKS cache lookup', (_fn, url) => /shared\/oidc\/(jwks-cache|discovery-jwks|https-fetch-chain)\.ts/.test(url)],
  ['trust policy evaluation', (_fn, url) => /shared\/policy\//.test(url)],
  ['config cache', (_fn, url) => /shared\/(services\/exchange-config|cache\/ttl-cache)\.ts/.test(url)],
  ['logging and audit (JSON log lines, audit buffer)', (_fn, url) => /shared\/(log|audit\/audit-log)\.ts/.test(url)],
  ['DynamoDB client and stores (none when warm)', (_fn, url) => /node_modules\/(@aws-sdk|@smithy|dynamodb-toolbox)\//.test(url) || /shared\/store\//.test(url)],
  ['exchange orchestration and response shaping', (_fn, url) => /shared\/(services\/sts-actions|credentials\/mint|time|validation\/)/.test(url)],
  ['request parsing and dispatch (rpc-request, app.ts)', (_fn, url) => /shared\/http\/(rpc-request|app|error-reply)\.ts/.test(url)],
  ['Fastify + @fastify/aws-lambda + light-my-request', (_fn, url) => /node_modules\/(fastify|@fastify|light-my-request|find-my-way|avvio|fast-json-stringify|toad-cache|abstract-logging|process-warning|fast-querystring)\//.test(url) || /shared\/http\/lambda-adapter\.ts/.test(url)],
  ['garbage collection', (fn) => fn === '(garbage collector)'],
  // V8's own and native work with no JavaScript frame on the stack (compiler, runtime, Node's C++
  // between callbacks): work on the main thread, so busy. Only `(idle)` is waiting.
  [PROGRAM, (fn) => fn === '(program)'],
]

export async function profile(workload: () => Promise<void>, intervalUs = 100): Promise<ProfileSummary> {
  const session = new Session()
  session.connect()
  await session.post('Profiler.enable')
  await session.post('Profiler.setSamplingInterval', { interval: intervalUs })
  await session.post('Profiler.start')
  await workload()
  const { profile } = (await session.post('Profiler.stop')) as unknown as { profile: CpuProfile }
  await session.post('Profiler.disable')
  session.disconnect()
  // BENCH_CPUPROFILE_DIR=<dir>: keep the raw profile too (open it in Chrome DevTools or speedscope).
  const dir = process.env.BENCH_CPUPROFILE_DIR
  if (dir) {
    mkdirSync(dir, { recursive: true })
    writeFileSync(join(dir, `${process.pid}-${Date.now()}.cpuprofile`), JSON.stringify(profile))
  }
  return summarise(profile, intervalUs)
}

export function summarise(p: CpuProfile, intervalUs: number): ProfileSummary {
  const byId = new Map<number, ProfileNode>()
  const parent = new Map<number, number>()
  for (const n of p.nodes) {
    byId.set(n.id, n)
    for (const c of n.children ?? []) parent.set(c, n.id)
  }
  const categoryOf = new Map<number, string>()
  const classify = (id: number): string => {
    const known = categoryOf.get(id)
    if (known !== undefined) return known
    let cur: number | undefined = id
    let result = 'other (node internals, event loop)'
    while (cur !== undefined) {
      const { functionName, url } = byId.get(cur)!.callFrame
      if (functionName === '(idle)') {
        result = IDLE
        break
      }
      const rule = RULES.find(([, test]) => test(functionName, url))
      if (rule) {
        result = rule[0]
        break
      }
      cur = parent.get(cur)
    }
    categoryOf.set(id, result)
    return result
  }
  const counts = new Map<string, number>()
  for (const s of p.samples) {
    const c = classify(s)
    counts.set(c, (counts.get(c) ?? 0) + 1)
  }
  const total = p.samples.length
  const sorted = [...counts.entries()].sort((a, b) => b[1] - a[1])
  const shares = Object.fromEntries(sorted.map(([k, v]) => [k, v / total]))
  const idleCount = counts.get(IDLE) ?? 0
  const busy = total - idleCount
  const busyShares = Object.fromEntries(sorted.filter(([k]) => k !== IDLE).map(([k, v]) => [k, busy > 0 ? v / busy : 0]))
  return { samples: total, intervalUs, shares, idle: total > 0 ? idleCount / total : 0, busyShares }
}
