// Runs one suite in a fresh node process (tsx for the TypeScript sources, --expose-gc for memory
// figures) with the service's environment, its stdout (the service's log lines) discarded like a
// Lambda's log stream, its stderr shown; the suite writes its result to BENCH_OUT.

import { spawn } from 'node:child_process'
import { readFileSync, rmSync } from 'node:fs'
import { join } from 'node:path'

export interface SuiteRun<T> {
  result: T
  wallMs: number
}

export async function runSuite<T>(
  file: string,
  opts: { env: Record<string, string>; dir: string; args?: string[]; timeoutMs?: number; nodeArgs?: string[] },
): Promise<SuiteRun<T>> {
  const out = join(opts.dir, `result-${Date.now()}-${Math.random().toString(36).slice(2)}.json`)
  const started = performance.now()
  const child = spawn(process.execPath, ['--expose-gc', ...(opts.nodeArgs ?? []), '--import', 'tsx', file, ...(opts.args ?? [])], {
    env: { ...process.env, ...opts.env, BENCH_OUT: out },
    stdio: ['ignore', 'ignore', 'inherit'],
  })
  const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 10 * 60_000)
  const code = await new Promise<number | null>((resolve) => child.on('exit', (c, signal) => resolve(signal ? -1 : c)))
  clearTimeout(timer)
  if (code !== 0) throw new Error(`suite ${file} failed (exit ${code})`)
  const result = JSON.parse(readFileSync(out, 'utf8')) as T
  rmSync(out, { force: true })
  return { result, wallMs: performance.now() - started }
}
