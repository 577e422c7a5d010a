// The claims of one assumed-role session (what an exchange mints credentials for), for the credential
// tests: a role of account 1234567890123456 assumed through an OIDC provider, with one change or more.
import type { SessionClaims } from '../../shared/credentials/mint.ts'

export const sessionClaims = (over: Partial<SessionClaims> = {}): SessionClaims => ({
  accountId: '1234567890123456',
  roleName: 'demo-role',
  roleId: '301234567890123456',
  roleArn: 'acs:ram::1234567890123456:role/demo-role',
  sessionName: 'sess-1',
  durationSeconds: 3600,
  providerArn: 'acs:ram::1234567890123456:oidc-provider/demo-idp',
  sub: 'system:serviceaccount:prod:billing',
  issuer: 'https://idp.example.com',
  ...over,
})
