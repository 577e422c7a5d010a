// Mints STS temporary credentials for an assumed-role session: a random `STS.` AccessKeyId and
// secret, and the SecurityToken that carries them (seal.ts). Pure but for randomness and keys.

import { formatUtc } from '../time.ts'
import { SECURITY_TOKEN_VERSION, type SecurityTokenPayload, sealSecurityToken } from './seal.ts'
import { randomBase58, type TokenKeyRing } from './token-keys.ts'

/** 24 base58 characters: ~140 bits, unguessable and unique without a table. */
export const ACCESS_KEY_ID_RANDOM_LENGTH = 24
/** 44 base58 characters: ~257 bits. */
export const ACCESS_KEY_SECRET_LENGTH = 44
/** Alibaba's ceiling for MaxSessionDuration (spec §1.1). */
export const MAX_SESSION_SECONDS = 43200

export interface SessionClaims {
  accountId: string
  roleName: string
  roleId: string
  roleArn: string
  sessionName: string
  durationSeconds: number
  /** Serialised normalised session policy JSON (serializePolicyDocument), when the request had one. */
  sessionPolicy?: string
  providerArn: string
  sub: string
  issuer: string
}

/** The `Credentials` object of an AssumeRole* response (spec §1.3). */
export interface StsCredentials {
  AccessKeyId: string
  AccessKeySecret: string
  SecurityToken: string
  /** `YYYY-MM-DDThh:mm:ssZ`: issue time (whole seconds) + durationSeconds. */
  Expiration: string
}

export function mintCredentials(session: SessionClaims, keys: TokenKeyRing, now: Date): StsCredentials {
  const { durationSeconds } = session
  // The caller validated DurationSeconds against the role; this guards the token's own invariant.
  if (!Number.isSafeInteger(durationSeconds) || durationSeconds < 1 || durationSeconds > MAX_SESSION_SECONDS) {
    throw new Error(`mintCredentials: durationSeconds must be an integer in 1..${MAX_SESSION_SECONDS}`)
  }
  const iat = Math.floor(now.getTime() / 1000)
  const exp = iat + durationSeconds
  const accessKeyId = `STS.${randomBase58(ACCESS_KEY_ID_RANDOM_LENGTH)}`
  const secret = randomBase58(ACCESS_KEY_SECRET_LENGTH)
  const payload: SecurityTokenPayload = {
    v: SECURITY_TOKEN_VERSION,
    account: session.accountId,
    roleArn: session.roleArn,
    roleName: session.roleName,
    roleId: session.roleId,
    sessionName: session.sessionName,
    akid: accessKeyId,
    secret,
    iat,
    exp,
    // Undefined without a session policy: left out of the sealed JSON, and one object shape for both.
    sessionPolicy: session.sessionPolicy,
    providerArn: session.providerArn,
    sub: session.sub,
    issuer: session.issuer,
  }
  return {
    AccessKeyId: accessKeyId,
    AccessKeySecret: secret,
    SecurityToken: sealSecurityToken(payload, keys),
    Expiration: formatUtc(exp * 1000),
  }
}

/**
 * `Credentials` as JSON text, without JSON.stringify's scan of the ~1 KB SecurityToken for characters
 * to escape: every value minted here is drawn from an alphabet that needs none (base58, `STS.`,
 * base64url and `.`, the digits and `-:TZ+` of a UTC time), so quoting them is enough
 * (test/credentials/mint.test.ts checks this against JSON.stringify).
 */
export function credentialsJson(c: StsCredentials): string {
  return `{"AccessKeyId":"${c.AccessKeyId}","AccessKeySecret":"${c.AccessKeySecret}","SecurityToken":"${c.SecurityToken}","Expiration":"${c.Expiration}"}`
}
