// Starts DynamoDB Local (the official AWS emulator, a jar shipped in the npm package
// amplify-dynamodb-simulator) as a child process, and stops it: used by `npm start` and the test setup.

import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { mkdirSync } from 'node:fs'
import { createRequire } from 'node:module'
import { createServer } from 'node:net'
import { dirname, join, resolve } from 'node:path'

export interface DynamoDbLocal {
  endpoint: string
  port: number
  /** Stops the engine and waits for the process to exit (SIGKILL after a bound). */
  stop(): Promise<void>
}

export class JavaMissingError extends Error {
  constructor() {
    super('Java 17+ is required to run DynamoDB Local (the embedded store): install a JRE (e.g. `apt-get install openjdk-17-jre-headless`) or set DYNAMODB_ENDPOINT to an existing DynamoDB endpoint.')
    this.name = 'JavaMissingError'
  }
}

function emulatorDir(): string {
  const require = createRequire(import.meta.url)
  return join(dirname(require.resolve('amplify-dynamodb-simulator/package.json')), 'emulator')
}

function javaAvailable(): boolean {
  const r = spawnSync('java', ['-version'], { stdio: 'ignore' })
  return r.status === 0
}

export async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const srv = createServer()
    srv.unref()
    srv.on('error', reject)
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address()
      const port = typeof addr === 'object' && addr ? addr.port : 0
      srv.close(() => resolvePort(port))
    })
  })
}

async function waitUntilListening(port: number, child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`DynamoDB Local exited early with code ${child.exitCode}`)
    try {
      // Any HTTP answer means the engine is up (it answers 400 to a bare GET).
      await fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(500) })
      return
    } catch {
      await new Promise((r) => setTimeout(r, 100))
    }
  }
  throw new Error(`DynamoDB Local did not answer on port ${port} within ${timeoutMs} ms`)
}

export async function startDynamoDbLocal(opts: { dataDir?: string; inMemory?: boolean; port?: number; log?: (line: string) => void } = {}): Promise<DynamoDbLocal> {
  if (!javaAvailable()) throw new JavaMissingError()
  const dir = emulatorDir()
  const port = opts.port ?? (await freePort())
  const storage: string[] = opts.inMemory
    ? ['-inMemory']
    : (() => {
        const dbPath = resolve(opts.dataDir ?? '.data', 'dynamodb')
        mkdirSync(dbPath, { recursive: true })
        return ['-dbPath', dbPath]
      })()
  const javaArgs = [
    `-Djava.library.path=${join(dir, 'DynamoDBLocal_lib')}`,
    '-jar', join(dir, 'DynamoDBLocal.jar'),
    '-port', String(port),
    ...storage,
    '-sharedDb',
    '-disableTelemetry',
  ]
  // A small shell guard owns the Java process: when our stdin pipe closes (we stop it, or this Node
  // process dies even by SIGKILL) it terminates Java and waits for it, so no JVM is ever orphaned.
  const guard = 'java "$@" </dev/null & j=$!; trap \'kill $j 2>/dev/null; wait $j; exit 0\' TERM INT; cat >/dev/null; kill $j 2>/dev/null; wait $j'
  const child = spawn('sh', ['-c', guard, 'dynamodb-local', ...javaArgs], {
    stdio: ['pipe', 'pipe', 'pipe'],
    cwd: dir,
    // Its own process group: a terminal's Ctrl-C reaches npm start, which flushes what waits for the
    // table and then stops this guard, not Java directly (which raced the last audit write).
    detached: true,
  })
  child.stdout?.on('data', (b: Buffer) => opts.log?.(b.toString()))
  child.stderr?.on('data', (b: Buffer) => opts.log?.(b.toString()))
  const exited = new Promise<void>((r) => child.once('exit', () => r()))

  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return
    child.stdin?.end()
    const killTimer = setTimeout(() => child.kill('SIGKILL'), 10_000)
    await exited
    clearTimeout(killTimer)
  }

  try {
    await waitUntilListening(port, child, 30_000)
  } catch (e) {
    await stop()
    throw e
  }
  return { endpoint: `http://127.0.0.1:${port}`, port, stop }
}
