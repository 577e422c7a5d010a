// Child processes for black-box tests (npm start, the accounts CLI): a clean environment, and waits that
// are event-driven (output or exit) with an upper bound, never sleeps.

import { spawn, type ChildProcess } from 'node:child_process'
import { readdirSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url))
export const TSX = `${REPO_ROOT}node_modules/.bin/tsx`
/**
 * `npm start` as package.json runs it, with `new Child(process.execPath, START_ARGS, env)`: one node
 * process, so SIGTERM reaches local/start.ts's handler directly (the tsx CLI's relay gives the child
 * 30 ms to acknowledge a signal, then SIGKILLs it and exits 143: seen under a loaded test run).
 */
export const START_ARGS = ['--import', 'tsx', 'local/start.ts']

/** Variables that configure the service or the CLI: a test states the ones it means. */
const SERVICE_VARIABLES = [
  'HOST', 'PORT', 'DATA_DIR', 'DYNAMODB_ENDPOINT', 'TABLE_NAME', 'ROOT_ACCOUNT_ID', 'ROOT_ACCESS_KEY_ID',
  'ROOT_ACCESS_KEY_SECRET', 'TOKEN_KEYS', 'ALLOW_PRIVATE_ISSUERS', 'TLS_CERT_FILE', 'TLS_KEY_FILE', 'LOG_LEVEL',
  'OIDC_STS_ENDPOINT', 'SIGNATURE_WINDOW_SECONDS',
]

export function testEnv(vars: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' }
  for (const name of SERVICE_VARIABLES) delete env[name]
  return { ...env, ...vars }
}

export interface Finished {
  code: number | null
  signal: NodeJS.Signals | null
  stdout: string
  stderr: string
}

/** A started child whose output is collected; waits resolve on output or exit, bounded by a timeout. */
export class Child {
  readonly process: ChildProcess
  stdout = ''
  stderr = ''
  private readonly exited: Promise<Finished>

  constructor(command: string, args: readonly string[], env: NodeJS.ProcessEnv) {
    this.process = spawn(command, args, { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] })
    this.process.stdout?.setEncoding('utf8').on('data', (s: string) => { this.stdout += s })
    this.process.stderr?.setEncoding('utf8').on('data', (s: string) => { this.stderr += s })
    this.exited = new Promise((resolve, reject) => {
      this.process.once('error', reject)
      // 'close' comes after the output streams have ended, so nothing printed is lost.
      this.process.once('close', (code, signal) => resolve({ code, signal, stdout: this.stdout, stderr: this.stderr }))
    })
  }

  get running(): boolean {
    return this.process.exitCode === null && this.process.signalCode === null
  }

  /** Resolves with the first match of `pattern` in stderr; rejects if the child exits first or on timeout. */
  waitForStderr(pattern: RegExp, timeoutMs: number): Promise<RegExpMatchArray> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const m = pattern.exec(this.stderr)
        if (m) finish(() => resolve(m))
      }
      const onExit = () => {
        check()
        finish(() => reject(new Error(`the process exited before printing ${pattern}; stderr:\n${this.stderr}`)))
      }
      const timer = setTimeout(() => finish(() => reject(new Error(`no ${pattern} on stderr within ${timeoutMs} ms; stderr:\n${this.stderr}`))), timeoutMs)
      let done = false
      const finish = (settle: () => void) => {
        if (done) return
        done = true
        clearTimeout(timer)
        this.process.stderr?.off('data', check)
        this.process.off('close', onExit)
        settle()
      }
      this.process.stderr?.on('data', check)
      this.process.once('close', onExit)
      check()
    })
  }

  /** Resolves when the child has exited and its output is complete; rejects on timeout. */
  waitForExit(timeoutMs: number): Promise<Finished> {
    let timer: NodeJS.Timeout | undefined
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`the process did not exit within ${timeoutMs} ms; stderr:\n${this.stderr}`)), timeoutMs)
    })
    return Promise.race([this.exited, timeout]).finally(() => clearTimeout(timer))
  }

  /** For cleanup after a failed test: SIGTERM, then SIGKILL if it does not exit within the bound. */
  async stop(timeoutMs = 20_000): Promise<void> {
    if (!this.running) return
    this.process.kill('SIGTERM')
    try {
      await this.waitForExit(timeoutMs)
    } catch {
      this.process.kill('SIGKILL')
      await this.waitForExit(5_000).catch(() => undefined)
    }
  }
}

/** Runs a command to completion (bounded). */
export async function run(command: string, args: readonly string[], env: NodeJS.ProcessEnv, timeoutMs = 30_000): Promise<Finished> {
  const child = new Child(command, args, env)
  try {
    return await child.waitForExit(timeoutMs)
  } finally {
    await child.stop()
  }
}

interface ProcessInfo {
  pid: number
  ppid: number
  argv: string[]
}

/** Every live process (Linux /proc); zombies have an empty argv. */
function listProcesses(): ProcessInfo[] {
  const out: ProcessInfo[] = []
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8')
      // `pid (comm) state ppid ...`; comm may hold spaces and parentheses, so read after the last ')'.
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1])
      const argv = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').filter((a) => a !== '')
      out.push({ pid: Number(entry), ppid, argv })
    } catch {
      // exited while we looked
    }
  }
  return out
}

/** Command lines of the live processes whose argv mentions `needle` (e.g. a DATA_DIR given to Java). */
export function processesMentioning(needle: string): string[] {
  return listProcesses()
    .filter((p) => p.pid !== process.pid && p.argv.some((a) => a.includes(needle)))
    .map((p) => p.argv.join(' '))
}

/** Command lines of every live descendant of `pid`. */
export function descendantsOf(pid: number): string[] {
  const all = listProcesses()
  const found: string[] = []
  const parents = new Set([pid])
  // Parents before children is not guaranteed in /proc order: repeat until nothing new joins.
  for (let grew = true; grew; ) {
    grew = false
    for (const p of all) {
      if (parents.has(p.ppid) && !parents.has(p.pid)) {
        parents.add(p.pid)
        found.push(p.argv.join(' '))
        grew = true
      }
    }
  }
  return found
}

/** A java command line (the JVM itself, not the shell guard that mentions it). */
export const isJava = (cmdline: string) => /^(\S*\/)?java\s/.test(cmdline)
