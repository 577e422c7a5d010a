// ID tokens as an IdP would issue them (a GitHub Actions-shaped claim set, ~1 KB), signed with the
// bench IdP's keys, and the AssumeRoleWithOIDC request that carries one (query string, as the SDK sends it).

import { createPrivateKey, type KeyObject, randomUUID, sign } from 'node:crypto'
import type { BenchAlg, BenchContext } from './context.ts'
import { percentEncode } from '../../shared/signing/percent-encode.ts'

const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url')
const keyCache = new Map<string, KeyObject>()

/** What a token needs of the bench context: the IdP's key for `alg`, its issuer and the client ID. */
export type TokenContext = Pick<BenchContext, 'issuer' | 'clientId'> & { keys: Partial<BenchContext['keys']> }

export function idToken(ctx: TokenContext, alg: BenchAlg, overrides: { kid?: string; claims?: Record<string, unknown>; nowSec?: number } = {}): string {
  const signer = ctx.keys[alg]
  if (!signer) throw new Error(`idToken: no ${alg} key in the context`)
  const { kid, privatePem } = signer
  let key = keyCache.get(privatePem)
  if (!key) keyCache.set(privatePem, (key = createPrivateKey(privatePem)))
  const iat = overrides.nowSec ?? Math.floor(Date.now() / 1000)
  const header = b64({ alg, kid: overrides.kid ?? kid, typ: 'JWT' })
  const payload = b64({
    jti: randomUUID(),
    sub: 'repo:octo-org/app:ref:refs/heads/main',
    aud: ctx.clientId,
    ref: 'refs/heads/main',
    sha: 'a3c1f9e4b2d8c7e6f5a4b3c2d1e0f9a8b7c6d5e4',
    repository: 'octo-org/app',
    repository_owner: 'octo-org',
    repository_owner_id: '65432198',
    repository_visibility: 'private',
    repository_id: '123456789',
    run_id: '9876543210',
    run_number: '42',
    run_attempt: '1',
    actor: 'octocat',
    actor_id: '583231',
    workflow: 'deploy',
    workflow_ref: 'octo-org/app/.github/workflows/deploy.yml@refs/heads/main',
    event_name: 'push',
    ref_type: 'branch',
    job_workflow_ref: 'octo-org/app/.github/workflows/deploy.yml@refs/heads/main',
    runner_environment: 'github-hosted',
    iss: ctx.issuer,
    nbf: iat - 5,
    iat,
    exp: iat + 3600,
    ...overrides.claims,
  })
  const input = `${header}.${payload}`
  const signature = sign('sha256', Buffer.from(input), alg === 'ES256' ? { key, dsaEncoding: 'ieee-p1363' } : key)
  return `${input}.${signature.toString('base64url')}`
}

/** The query string of an AssumeRoleWithOIDC call (the official SDK puts every parameter there). */
export function exchangeQuery(ctx: Pick<BenchContext, 'providerArn' | 'roleArn'>, token: string, sessionName = 'bench-session'): string {
  const params: Record<string, string> = {
    Action: 'AssumeRoleWithOIDC',
    Version: '2015-04-01',
    Format: 'JSON',
    Timestamp: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
    OIDCProviderArn: ctx.providerArn,
    RoleArn: ctx.roleArn,
    RoleSessionName: sessionName,
    DurationSeconds: '3600',
    OIDCToken: token,
  }
  return Object.entries(params).map(([k, v]) => `${k}=${percentEncode(v)}`).join('&')
}
