// Authenticates a signed RPC request: signature verification (shared/signing) with store-backed
// seams (AccessKey lookup with a bounded cache, single-use nonces), producing the Caller.

import { TtlCache } from '../cache/ttl-cache.ts'
import { ApiError } from '../errors.ts'
import type { Caller } from '../http/action.ts'
import type { Authenticate } from '../http/app.ts'
import { verifyRequestSignature } from '../signing/verify.ts'
import type { AccessKeyRecord, AccountStore } from '../store/account-store.ts'
import type { NonceStore } from '../store/nonce-store.ts'

/** Resolves STS temporary credentials (the token-exchange issue); absent until then. */
export type SessionResolver = (accessKeyId: string, securityToken: string, now: Date) => Promise<{ secret: string; caller: Caller }>

export interface AuthenticatorDeps {
  accounts: AccountStore
  nonces: NonceStore
  windowSeconds: number
  sessions: SessionResolver
  /** How long a looked-up AccessKey may be reused without a table read (bound on revocation delay). */
  keyCacheMs?: number
}

export function createAuthenticator(deps: AuthenticatorDeps): Authenticate {
  // Per-container: at most 1000 keys, each trusted for keyCacheMs (default 5 s) after its read.
  const keyCache = new TtlCache<string, AccessKeyRecord | undefined>({ ttlMs: deps.keyCacheMs ?? 5000, maxEntries: 1000 })

  return async (req, now) => {
    let caller: Caller | undefined
    await verifyRequestSignature(req, {
      now: () => now,
      windowSeconds: deps.windowSeconds,
      consumeNonce: (accessKeyId, nonce, ttlSeconds) => deps.nonces.consume(accessKeyId, nonce, ttlSeconds, now),
      resolveKey: async (accessKeyId, securityToken) => {
        if (accessKeyId.startsWith('STS.')) {
          if (securityToken === undefined) {
            throw new ApiError('InvalidSecurityToken.Malformed', 'Temporary credentials (STS.* AccessKeyId) need their SecurityToken (x-acs-security-token).')
          }
          const session = await deps.sessions(accessKeyId, securityToken, now)
          caller = session.caller
          return { accessKeyId, secret: session.secret, active: true }
        }
        if (securityToken !== undefined) {
          throw new ApiError('InvalidSecurityToken.MismatchWithAccessKey', 'A SecurityToken was sent with a long-term AccessKeyId; it belongs to STS.* temporary credentials only.')
        }
        const record = await keyCache.get(accessKeyId, () => deps.accounts.getAccessKey(accessKeyId))
        if (!record) return undefined
        caller = { type: 'root', accountId: record.accountId, accessKeyId, operator: record.operator }
        return { accessKeyId, secret: record.secret, active: record.status === 'Active' }
      },
    })
    if (!caller) throw new ApiError('InvalidAccessKeyId.NotFound', 'Specified access key is not found.')
    return caller
  }
}
