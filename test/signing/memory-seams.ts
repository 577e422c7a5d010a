// In-memory seams for verifyRequestSignature: a fixed clock, a Map of keys, a Set of used nonces.

import { ApiError } from '../../shared/errors.ts'
import type { SigningKey, VerifyDeps } from '../../shared/signing/verify.ts'

export const NOW = new Date('2024-01-01T00:00:00Z')

export const LONG_TERM = { accessKeyId: 'LTAI5tExampleKeyId000', secret: 'ExampleSecretForDocsOnly000000' }
export const INACTIVE = { accessKeyId: 'LTAI5tInactiveKeyId00', secret: 'InactiveSecretForDocsOnly00000' }
export const STS = { accessKeyId: 'STS.ExampleTempKeyId', secret: 'ExampleTempSecret', securityToken: 'CAIExampleSecurityToken==' }

interface StoredKey extends SigningKey {
  securityToken?: string
}

export interface MemorySeams {
  deps: VerifyDeps
  nonces: Set<string>
  resolveCalls: Array<[string, string | undefined]>
  consumeCalls: Array<[string, string, number]>
}

export function memorySeams(now: Date = NOW): MemorySeams {
  const keys = new Map<string, StoredKey>([
    [LONG_TERM.accessKeyId, { ...LONG_TERM, active: true }],
    [INACTIVE.accessKeyId, { ...INACTIVE, active: false }],
    [STS.accessKeyId, { ...STS, active: true }],
  ])
  const nonces = new Set<string>()
  const resolveCalls: MemorySeams['resolveCalls'] = []
  const consumeCalls: MemorySeams['consumeCalls'] = []
  const deps: VerifyDeps = {
    now: () => now,
    windowSeconds: 900,
    resolveKey: async (accessKeyId, securityToken) => {
      resolveCalls.push([accessKeyId, securityToken])
      const key = keys.get(accessKeyId)
      if (key?.securityToken !== undefined && key.securityToken !== securityToken) {
        throw new ApiError('InvalidSecurityToken.Malformed', 'The security token is malformed.')
      }
      return key === undefined ? undefined : { accessKeyId: key.accessKeyId, secret: key.secret, active: key.active }
    },
    consumeNonce: async (accessKeyId, nonce, ttlSeconds) => {
      consumeCalls.push([accessKeyId, nonce, ttlSeconds])
      const id = `${accessKeyId}\n${nonce}`
      if (nonces.has(id)) return false
      nonces.add(id)
      return true
    },
  }
  return { deps, nonces, resolveCalls, consumeCalls }
}
