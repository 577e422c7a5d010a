// The token keys that seal SecurityTokens: parsing TOKEN_KEYS (`<kid>:<base64url 32-byte key>`,
// comma-separated, current first, older ones accepted for unsealing during rotation), generation,
// and the local-mode key file DATA_DIR/token-keys.json (mode 0600, generated once).

import { createSecretKey, type KeyObject, randomBytes } from 'node:crypto'
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { ConfigError } from '../config.ts'
import { decodeBase64urlStrict, encodeBase64url } from '../oidc/jws-base64url.ts'
import { randomByte } from './random-pool.ts'

export const TOKEN_KEY_BYTES = 32
/** Key ids appear in every SecurityToken header: short, URL-safe, unambiguous. */
export const KID_PATTERN = /^[A-Za-z0-9._-]{1,64}$/
/** Why `kid` cannot be a token key id, or undefined. Never quotes it: a key id in error is maybe a key. */
function kidProblem(kid: string): string | undefined {
  return KID_PATTERN.test(kid) ? undefined : "key id must be 1 to 64 characters of letters, digits, '.', '_' or '-'"
}
/** More keys than this is a configuration mistake (each one is tried only by exact kid, so it costs nothing at runtime). */
export const MAX_TOKEN_KEYS = 16

export interface TokenKey {
  readonly kid: string
  /** 32 bytes, AES-256-GCM; a KeyObject so that logging a ring never prints key material. */
  readonly key: KeyObject
  /** base64url of `{"alg":"dir","enc":"A256GCM","kid":"<kid>"}`, the JWE protected header (and AAD). */
  readonly protectedHeader: string
  /** The protected header's ASCII bytes: the AAD of every token sealed with this key (read only). */
  readonly aad: Buffer
}

export interface TokenKeyRing {
  /** Seals new tokens. */
  readonly current: TokenKey
  /** Every key accepted for unsealing, current included, by kid. */
  readonly byKid: ReadonlyMap<string, TokenKey>
  /** The same keys by their exact protected header, so unsealing needs no header parsing. */
  readonly byProtectedHeader: ReadonlyMap<string, TokenKey>
}

export function makeTokenKey(kid: string, key: Uint8Array): TokenKey {
  const problem = kidProblem(kid)
  if (problem !== undefined) throw new Error(`token key: ${problem}`)
  if (key.length !== TOKEN_KEY_BYTES) throw new Error(`token key must be ${TOKEN_KEY_BYTES} bytes`)
  const header = JSON.stringify({ alg: 'dir', enc: 'A256GCM', kid })
  const protectedHeader = Buffer.from(header, 'utf8').toString('base64url')
  return Object.freeze({ kid, key: createSecretKey(Buffer.from(key)), protectedHeader, aad: Buffer.from(protectedHeader, 'ascii') })
}

/** A ring from keys in order, current first; kids must be distinct. */
export function createTokenKeyRing(keys: readonly TokenKey[]): TokenKeyRing {
  const [current] = keys
  if (current === undefined) throw new Error('a token key ring needs at least one key')
  const byKid = new Map<string, TokenKey>()
  const byProtectedHeader = new Map<string, TokenKey>()
  for (const k of keys) {
    if (byKid.has(k.kid)) throw new Error(`duplicate token key id "${k.kid}"`)
    byKid.set(k.kid, k)
    byProtectedHeader.set(k.protectedHeader, k)
  }
  return Object.freeze({ current, byKid, byProtectedHeader })
}

const BASE58 = Buffer.from('123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz', 'latin1')
const scratch = Buffer.alloc(64)

/** Uniformly random base58 (no 0/O/I/l) from the CSPRNG: bytes >= 232 (= 4 x 58) are dropped, so no bias. */
export function randomBase58(length: number): string {
  // The characters' codes go into one buffer, turned into a string once (appending to a string made a
  // new string per character: ~70 allocations per minted credential). The buffer is this module's own
  // (no pool slice another allocation could see) and is zeroed after use.
  const out = length <= scratch.length ? scratch : Buffer.alloc(length)
  let i = 0
  while (i < length) {
    // Pooled CSPRNG bytes: a randomBytes() call per credential cost more than the characters (BENCHMARKS.md).
    const b = randomByte()
    if (b < 232) out[i++] = BASE58[b % 58]!
  }
  const text = out.toString('latin1', 0, length)
  out.fill(0, 0, length)
  return text
}

/** A fresh key with a readable, dated kid such as `tk-20261128-4Fq9xZ`. */
export function generateTokenKey(now: Date = new Date()): TokenKey {
  const day = now.toISOString().slice(0, 10).replaceAll('-', '')
  return makeTokenKey(`tk-${day}-${randomBase58(6)}`, randomBytes(TOKEN_KEY_BYTES))
}

/** The TOKEN_KEYS spelling of keys (current first). */
export function formatTokenKeys(keys: readonly TokenKey[]): string {
  return keys.map((k) => `${k.kid}:${encodeBase64url(k.key.export())}`).join(',')
}

/**
 * Parses a TOKEN_KEYS value. Every problem is reported at once as a ConfigError naming the entry by
 * position and kid, never showing key material. Spaces around entries are ignored.
 */
export function parseTokenKeys(value: string, name = 'TOKEN_KEYS'): TokenKeyRing {
  const problems: string[] = []
  const keys: TokenKey[] = []
  const seen = new Set<string>()
  const entries = value.split(',')
  if (value.trim() === '') problems.push(`${name} is empty; expected <kid>:<base64url ${TOKEN_KEY_BYTES}-byte key>[,<kid>:<key>...]`)
  else if (entries.length > MAX_TOKEN_KEYS) problems.push(`${name} has ${entries.length} keys; at most ${MAX_TOKEN_KEYS} are accepted`)
  else {
    entries.forEach((raw, index) => {
      const entry = raw.trim()
      const where = `${name} entry ${index + 1}`
      const colon = entry.indexOf(':')
      if (colon < 0) {
        problems.push(`${where} is not <kid>:<key>${entry === '' ? ' (empty entry: stray comma?)' : ''}`)
        return
      }
      const kid = entry.slice(0, colon)
      const encoded = entry.slice(colon + 1)
      let ok = true
      const bytes = decodeBase64urlStrict(encoded)
      // Key and id swapped: the "id" is a key (32 bytes of base64url) and the "key" is none. A valid id
      // of that shape (a JWK thumbprint) with a valid key is fine; an id is quoted only when the entry is
      // not possibly swapped, so a key never appears in a message.
      const swapped = decodeBase64urlStrict(kid)?.length === TOKEN_KEY_BYTES && bytes?.length !== TOKEN_KEY_BYTES
      const kidInvalid = swapped ? 'it looks like <key>:<kid>; the entry is <kid>:<key>' : kidProblem(kid)
      const shown = kidInvalid === undefined ? ` ("${kid}")` : ''
      if (kidInvalid !== undefined) {
        problems.push(`${where}: ${kidInvalid}`)
        ok = false
      } else if (seen.has(kid)) {
        problems.push(`${where}: key id "${kid}" appears twice`)
        ok = false
      }
      seen.add(kid)
      if (bytes === undefined) {
        problems.push(`${where}${shown}: key is not unpadded base64url`)
        ok = false
      } else if (bytes.length !== TOKEN_KEY_BYTES) {
        problems.push(`${where}${shown}: key must decode to ${TOKEN_KEY_BYTES} bytes, it has ${bytes.length}`)
        ok = false
      }
      if (ok && bytes) keys.push(makeTokenKey(kid, bytes))
    })
  }
  if (problems.length > 0) throw new ConfigError(problems)
  return createTokenKeyRing(keys)
}

export function tokenKeysPath(dataDir: string): string {
  return resolve(join(dataDir, 'token-keys.json'))
}

/**
 * Local mode without TOKEN_KEYS: the ring from DATA_DIR/token-keys.json, else a key generated once and
 * written there with mode 0600 (`{"TOKEN_KEYS": "<kid>:<key>"}`, the same spelling, so it can be moved
 * into the environment as is).
 */
export function loadOrCreateTokenKeys(dataDir: string, now: Date = new Date()): { ring: TokenKeyRing; source: 'file' | 'generated'; path: string } {
  const path = tokenKeysPath(dataDir)
  if (!existsSync(path)) {
    const value = formatTokenKeys([generateTokenKey(now)])
    mkdirSync(dataDir, { recursive: true })
    try {
      // 'wx': when two processes start at once, one writes and the other reads the winner's key.
      writeFileSync(path, `${JSON.stringify({ TOKEN_KEYS: value }, null, 2)}\n`, { mode: 0o600, flag: 'wx' })
      chmodSync(path, 0o600)
      return { ring: parseTokenKeys(value), source: 'generated', path }
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e
    }
  }
  return { ring: readKeyFile(path), source: 'file', path }
}

function readKeyFile(path: string): TokenKeyRing {
  let parsed: unknown
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'))
  } catch (e) {
    throw new ConfigError([`${path} is not JSON ({"TOKEN_KEYS":"<kid>:<key>,..."}): ${(e as Error).name}`])
  }
  const value = (parsed as { TOKEN_KEYS?: unknown } | null)?.TOKEN_KEYS
  if (typeof value !== 'string') throw new ConfigError([`${path} has no "TOKEN_KEYS" string`])
  return parseTokenKeys(value, `${path} TOKEN_KEYS`)
}
