// One `npm start` per DATA_DIR: two DynamoDB Local engines on the same files break each other (the
// first one answers InternalFailure from then on), so the second start is refused before anything runs.
// The lock is a file holding the owner's pid, created exclusively; one whose process is gone (a
// SIGKILL, a crash) is stale and taken over. Two starters taking over the same stale lock can both see
// it stale, and the later one's removal then deletes the earlier one's new lock: so a created lock is
// read back after a short settle time, and only a lock still holding our pid counts. The check sees the
// local pid namespace only (not another container sharing the volume).

import { mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'

export class DataDirInUseError extends Error {
  override readonly name = 'DataDirInUseError'
}

/** How long a created lock must survive, unchanged, before it counts (a competing takeover is synchronous). */
const SETTLE_MS = 100

/**
 * Takes DATA_DIR for this process until it exits (released by an exit hook, so process.exit and the
 * signal handlers' exits release it too); returns the release (idempotent, only removes its own lock).
 */
export async function lockDataDir(dataDir: string): Promise<() => void> {
  mkdirSync(dataDir, { recursive: true })
  const path = resolve(join(dataDir, 'npm-start.pid'))
  for (let attempt = 0; attempt < 3; attempt++) {
    if (createExclusively(path)) {
      const release = () => {
        process.off('exit', release)
        try {
          if (ownerOf(path) === process.pid) unlinkSync(path)
        } catch {
          // Already gone.
        }
      }
      process.on('exit', release)
      await new Promise((r) => setTimeout(r, SETTLE_MS))
      if (ownerOf(path) === process.pid) return release
      release()
      throw new DataDirInUseError(`DATA_DIR ${resolve(dataDir)} was taken by another npm start (pid ${ownerOf(path) ?? '?'}) at the same time`)
    }
    const owner = ownerOf(path)
    if (owner !== undefined && owner !== process.pid && isRunning(owner)) {
      throw new DataDirInUseError(`DATA_DIR ${resolve(dataDir)} is in use by another npm start (pid ${owner}): stop it, or set another DATA_DIR (if no such process is yours, delete ${path})`)
    }
    try {
      unlinkSync(path) // stale: its process is gone
    } catch {
      // Another starter took it over first: the next attempt finds its pid.
    }
  }
  throw new DataDirInUseError(`DATA_DIR ${resolve(dataDir)} is being taken by another npm start`)
}

/** Writes our pid to `path` unless the file exists; whether it did. */
function createExclusively(path: string): boolean {
  try {
    writeFileSync(path, `${process.pid}\n`, { flag: 'wx' })
    return true
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false
    throw e
  }
}

function ownerOf(path: string): number | undefined {
  try {
    const pid = Number(readFileSync(path, 'utf8').trim())
    return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined
  } catch {
    return undefined
  }
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (e) {
    // EPERM: it exists, under another user.
    return (e as NodeJS.ErrnoException).code === 'EPERM'
  }
}
