// Shared by test/health and test/key-refresh: a real service with the issuer index, a logger that
// records, OIDC tokens from a test signing key, exchanges through app.inject(), a second account.
import { sign as cryptoSign } from 'node:crypto'
import { expect } from 'vitest'
import type { Logger } from '../../shared/log.ts'
import { injectExchange } from '../support/exchange-fixture.ts'
import type { TestSigningKey } from '../support/https-idp.ts'
import type { Credentials } from '../support/sign.ts'
import type { TestService } from '../support/service.ts'

export const OIDC_STS = '2026-11-01'
export const RAM = '2015-05-01'

export interface LogLine {
  level: string
  msg: string
  fields: Record<string, unknown>
}

export function recordingLogger(): Logger & { lines: LogLine[]; find(msg: string): LogLine[] } {
  const lines: LogLine[] = []
  const at = (level: string) => (msg: string, fields: Record<string, unknown> = {}) => {
    lines.push({ level, msg, fields })
  }
  return { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error'), record: at('info'), find: (msg) => lines.filter((l) => l.msg === msg) }
}

const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url')

/** An RS256 ID token from `key` for `issuer`, issued at `now`. */
export function idToken(issuer: string, key: TestSigningKey, now: Date, claims: Record<string, unknown> = {}): string {
  const header = b64({ alg: 'RS256', kid: key.kid, typ: 'JWT' })
  const iat = Math.floor(now.getTime() / 1000)
  const payload = b64({ iss: issuer, sub: 'repo:octo-org/app:ref:refs/heads/main', aud: 'sts.aliyuncs.com', iat, exp: iat + 600, jti: `j-${Math.random()}`, ...claims })
  const input = `${header}.${payload}`
  return `${input}.${cryptoSign('sha256', Buffer.from(input), key.privateKey).toString('base64url')}`
}

/** AssumeRoleWithOIDC through the app, as the credential providers send it (form body). */
export async function exchange(svc: Pick<TestService, 'app'>, account: string, provider: string, role: string, token: string, now: Date) {
  const res = await injectExchange(svc.app, {
    OIDCProviderArn: `acs:ram::${account}:oidc-provider/${provider}`,
    RoleArn: `acs:ram::${account}:role/${role}`,
    RoleSessionName: 'health-test',
    OIDCToken: token,
  }, { timestamp: now })
  return { status: res.statusCode, body: res.json() as Record<string, any> } // eslint-disable-line @typescript-eslint/no-explicit-any
}

export function trustPolicy(account: string, provider: string): string {
  return JSON.stringify({
    Version: '1',
    Statement: [{ Effect: 'Allow', Action: 'sts:AssumeRole', Principal: { Federated: `acs:ram::${account}:oidc-provider/${provider}` }, Condition: { StringEquals: { 'oidc:aud': 'sts.aliyuncs.com' } } }],
  })
}

/** A provider and a role trusting it, in the account `creds` sign for. */
export async function registerProvider(svc: TestService, opts: { account: string; name: string; issuer: string; fingerprints: string[]; role?: string; creds?: Credentials }) {
  const created = await svc.call('CreateOIDCProvider', '2019-08-15', { OIDCProviderName: opts.name, IssuerUrl: opts.issuer, ClientIds: 'sts.aliyuncs.com', ...(opts.fingerprints.length > 0 ? { Fingerprints: opts.fingerprints.join(',') } : {}) }, opts.creds)
  expect(created.status, JSON.stringify(created.body)).toBe(200)
  if (opts.role) {
    const role = await svc.call('CreateRole', RAM, { RoleName: opts.role, AssumeRolePolicyDocument: trustPolicy(opts.account, opts.name) }, opts.creds)
    expect(role.status, JSON.stringify(role.body)).toBe(200)
  }
}

/** A second account (operator action) and its root credentials. */
export async function createAccount(svc: TestService): Promise<{ accountId: string; creds: Credentials }> {
  const res = await svc.call('CreateAccount', OIDC_STS, {})
  expect(res.status, JSON.stringify(res.body)).toBe(200)
  return { accountId: res.body.AccountId, creds: { accessKeyId: res.body.AccessKeyId, secret: res.body.AccessKeySecret } }
}
