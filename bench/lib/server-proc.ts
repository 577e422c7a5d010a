// Starts bench/procs/http-server.ts in a process of its own and talks to it over IPC.

import { spawn, type ChildProcess } from 'node:child_process'

export interface ServerProc {
  helloPort: number
  servicePort: number
  /** The service without its audit table copy. */
  noTableCopyPort: number
  /** Memory and CPU so far; `gc` collects first (for resident-memory figures). */
  memory(gc?: boolean): Promise<{ rss: number; heapUsed: number; cpu: NodeJS.CpuUsage }>
  stop(): Promise<void>
  child: ChildProcess
}

export async function startServerProc(env: Record<string, string>): Promise<ServerProc> {
  const child = spawn(process.execPath, ['--expose-gc', '--import', 'tsx', 'bench/procs/http-server.ts'], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  })
  const exited = new Promise<void>((r) => child.once('exit', () => r()))
  const ready = await new Promise<{ hello: number; service: number; noTableCopy: number }>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`http-server exited early (${code})`)))
    const onMessage = (m: { type: string; hello: number; service: number; noTableCopy: number }) => {
      if (m.type === 'ready') {
        child.off('message', onMessage)
        resolve(m)
      }
    }
    child.on('message', onMessage)
  })
  return {
    child,
    helloPort: ready.hello,
    servicePort: ready.service,
    noTableCopyPort: ready.noTableCopy,
    memory: (gc = false) =>
      new Promise((resolve) => {
        const onMessage = (m: { type: string; rss: number; heapUsed: number; cpu: NodeJS.CpuUsage }) => {
          if (m.type === 'rss') {
            child.off('message', onMessage)
            resolve(m)
          }
        }
        child.on('message', onMessage)
        child.send({ type: 'rss', gc })
      }),
    stop: async () => {
      if (child.exitCode === null) child.send({ type: 'stop' })
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000)
      await exited
      clearTimeout(timer)
    },
  }
}
