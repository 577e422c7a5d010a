// Resolves STS temporary credentials for request authentication (shared/auth/authenticate.ts): the
// SecurityToken is unsealed with the token keys, so no table is read on this path.

import type { SessionResolver } from '../auth/authenticate.ts'
import { ApiError } from '../errors.ts'
import type { Caller } from '../http/action.ts'
import { type PolicyDocument, parsePolicyDocument } from '../policy/document.ts'
import { MAX_SECURITY_TOKEN_LENGTH, unsealSecurityToken } from './seal.ts'
import type { TokenKeyRing } from './token-keys.ts'

/** Parsed session policies kept per resolver: at most this many distinct texts, oldest dropped first. */
const POLICY_CACHE_MAX = 256

export function createSessionResolver(keys: TokenKeyRing): SessionResolver {
  const policies = new Map<string, PolicyDocument>()

  const sessionPolicy = (text: string): PolicyDocument => {
    const hit = policies.get(text)
    if (hit) return hit
    let document: PolicyDocument
    try {
      // The text was validated at exchange time; the request-parameter length limit does not apply to
      // its normalised form (which can be longer), the token bound does.
      document = parsePolicyDocument(text, 'session', { maxLength: MAX_SECURITY_TOKEN_LENGTH })
    } catch (e) {
      // Sealed by us yet unreadable (a grammar change between versions): fail closed.
      throw new ApiError('InvalidSecurityToken.Malformed', 'The SecurityToken is malformed: its session policy cannot be read; request new credentials.', { cause: e })
    }
    if (policies.size >= POLICY_CACHE_MAX) policies.delete(policies.keys().next().value as string)
    policies.set(text, document)
    return document
  }

  return async (accessKeyId, securityToken, now) => {
    const payload = unsealSecurityToken(securityToken, keys, now)
    if (payload.akid !== accessKeyId) {
      throw new ApiError(
        'InvalidSecurityToken.MismatchWithAccessKey',
        `The SecurityToken does not belong to AccessKeyId ${JSON.stringify(accessKeyId.slice(0, 64))}; send the AccessKeyId it was issued with.`,
      )
    }
    const caller: Caller = {
      type: 'assumed-role',
      accountId: payload.account,
      accessKeyId: payload.akid,
      roleName: payload.roleName,
      roleId: payload.roleId,
      sessionName: payload.sessionName,
      ...(payload.sessionPolicy === undefined ? {} : { sessionPolicy: sessionPolicy(payload.sessionPolicy) }),
    }
    return { secret: payload.secret, caller }
  }
}
