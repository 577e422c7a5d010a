import { createHash } from 'node:crypto'
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { inspect } from 'node:util'
import { describe, expect, it } from 'vitest'
import { ConfigError } from '../../shared/config.ts'
import {
  createTokenKeyRing,
  formatTokenKeys,
  generateTokenKey,
  loadOrCreateTokenKeys,
  parseTokenKeys,
  randomBase58,
  tokenKeysPath,
} from '../../shared/credentials/token-keys.ts'

const KEY_A = Buffer.alloc(32, 1).toString('base64url')
const KEY_B = Buffer.alloc(32, 2).toString('base64url')

const problemsOf = (value: string): string[] => {
  try {
    parseTokenKeys(value)
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError)
    return (e as ConfigError).problems
  }
  throw new Error('expected a ConfigError')
}

describe('parseTokenKeys', () => {
  it('reads keys current first, every one accepted by kid and by protected header', () => {
    const ring = parseTokenKeys(`new-2:${KEY_B}, old-1:${KEY_A}`)
    expect(ring.current.kid).toBe('new-2')
    expect([...ring.byKid.keys()]).toEqual(['new-2', 'old-1'])
    expect(ring.current.key.export().equals(Buffer.alloc(32, 2))).toBe(true)
    const header = JSON.parse(Buffer.from(ring.current.protectedHeader, 'base64url').toString())
    expect(header).toEqual({ alg: 'dir', enc: 'A256GCM', kid: 'new-2' })
    expect(ring.byProtectedHeader.get(ring.current.protectedHeader)?.kid).toBe('new-2')
  })

  it('round-trips through formatTokenKeys', () => {
    const keys = [generateTokenKey(), generateTokenKey()]
    const ring = parseTokenKeys(formatTokenKeys(keys))
    expect([...ring.byKid.keys()]).toEqual(keys.map((k) => k.kid))
  })

  it.each([
    ['an empty value', '', /is empty/],
    ['an entry without a colon', `k1${KEY_A}`, /entry 1 is not <kid>:<key>/],
    ['a stray comma', `k1:${KEY_A},`, /entry 2 .*stray comma/],
    ['a bad kid', `k/1:${KEY_A}`, /entry 1: key id must be/],
    ['a duplicate kid', `k1:${KEY_A},k1:${KEY_B}`, /entry 2: key id "k1" appears twice/],
    ['a padded key', `k1:${Buffer.alloc(32, 1).toString('base64')}`, /not unpadded base64url/],
    ['a 16-byte key', `k1:${Buffer.alloc(16).toString('base64url')}`, /must decode to 32 bytes, it has 16/],
    ['a 33-byte key', `k1:${Buffer.alloc(33).toString('base64url')}`, /it has 33/],
  ])('refuses %s with a clear problem', (_, value, problem) => {
    expect(problemsOf(value).join('\n')).toMatch(problem)
  })

  it('reports every bad entry at once and never shows key material', () => {
    const secretish = Buffer.alloc(20, 7).toString('base64url')
    const problems = problemsOf(`a:${secretish},b:${KEY_A},b:${secretish}`)
    expect(problems).toHaveLength(3)
    expect(problems.join('\n')).not.toContain(secretish)
    expect(problems.join('\n')).not.toContain(KEY_A)
  })

  it('refuses an entry with key and id swapped without showing the key; a thumbprint-shaped id with a valid key is fine', () => {
    for (const value of [`${KEY_A}:tk-2026`, `${KEY_A}:${KEY_B.slice(0, 20)}`, `k1:${KEY_B},${KEY_A}:k2`]) {
      const problems = problemsOf(value).join('\n')
      expect(problems, value).toMatch(/looks like <key>:<kid>/)
      expect(problems, value).not.toContain(KEY_A)
      expect(problems, value).not.toContain(KEY_B)
    }
    // An RFC 7638 JWK thumbprint (SHA-256, 43 base64url characters) as the id of a valid key.
    const thumbprint = createHash('sha256').update('a jwk').digest('base64url')
    expect(parseTokenKeys(`${thumbprint}:${KEY_A}`).current.kid).toBe(thumbprint)
  })

  it('does not print key material when a ring is logged', () => {
    const ring = parseTokenKeys(`k1:${KEY_A}`)
    expect(inspect(ring, { depth: 10 })).not.toContain(KEY_A)
    expect(JSON.stringify(ring)).not.toContain(KEY_A)
  })

  it('refuses an empty ring and duplicate kids in createTokenKeyRing', () => {
    expect(() => createTokenKeyRing([])).toThrow()
    const k = generateTokenKey()
    expect(() => createTokenKeyRing([k, k])).toThrow(/duplicate/)
  })
})

describe('generateTokenKey and randomBase58', () => {
  it('makes distinct 32-byte keys with dated kids', () => {
    const a = generateTokenKey(new Date('2026-11-28T10:00:00Z'))
    const b = generateTokenKey(new Date('2026-11-28T10:00:00Z'))
    expect(a.kid).toMatch(/^tk-20261128-[1-9A-HJ-NP-Za-km-z]{6}$/)
    expect(a.kid).not.toBe(b.kid)
    expect(a.key.symmetricKeySize).toBe(32)
    expect(a.key.export().equals(b.key.export())).toBe(false)
  })

  it('draws base58 characters only, of the requested length, roughly uniformly', () => {
    const sample = randomBase58(58 * 400)
    expect(sample).toMatch(/^[1-9A-HJ-NP-Za-km-z]+$/)
    expect(sample).toHaveLength(58 * 400)
    const counts = new Map<string, number>()
    for (const c of sample) counts.set(c, (counts.get(c) ?? 0) + 1)
    expect(counts.size).toBe(58)
    // Expected 400 each; a biased modulo would skew the first characters far beyond this band.
    for (const n of counts.values()) expect(n).toBeGreaterThan(280)
    for (const n of counts.values()) expect(n).toBeLessThan(530)
  })
})

describe('loadOrCreateTokenKeys (local mode)', () => {
  const dir = () => mkdtempSync(join(tmpdir(), 'token-keys-'))

  it('generates a key once, writes it with mode 0600, and reads the same key afterwards', () => {
    const dataDir = join(dir(), 'nested')
    const first = loadOrCreateTokenKeys(dataDir)
    expect(first.source).toBe('generated')
    expect(first.path).toBe(tokenKeysPath(dataDir))
    expect(statSync(tokenKeysPath(dataDir)).mode & 0o777).toBe(0o600)
    const second = loadOrCreateTokenKeys(dataDir)
    expect(second.source).toBe('file')
    expect(second.ring.current.kid).toBe(first.ring.current.kid)
    expect(second.ring.current.key.export().equals(first.ring.current.key.export())).toBe(true)
    const file = JSON.parse(readFileSync(tokenKeysPath(dataDir), 'utf8'))
    expect(parseTokenKeys(file.TOKEN_KEYS).current.kid).toBe(first.ring.current.kid)
  })

  it('refuses a damaged key file without echoing its content', () => {
    const dataDir = dir()
    writeFileSync(tokenKeysPath(dataDir), `{"TOKEN_KEYS": "k1:${KEY_A}`)
    expect(() => loadOrCreateTokenKeys(dataDir)).toThrow(ConfigError)
    try {
      loadOrCreateTokenKeys(dataDir)
    } catch (e) {
      expect(String((e as Error).message)).not.toContain(KEY_A)
    }
    writeFileSync(tokenKeysPath(dataDir), '{"keys": []}')
    expect(() => loadOrCreateTokenKeys(dataDir)).toThrow(/no "TOKEN_KEYS" string/)
  })
})
