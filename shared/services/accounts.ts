// Accounts and their root AccessKeys: identifier generation, the idempotent bootstrap of the
// operator account, and the operator-only CreateAccount action (oidc-sts extension, Version 2026-11-01).

import { randomInt } from 'node:crypto'
import { ApiError } from '../errors.ts'
import { actionsWith, type ActionDefinition } from '../http/action.ts'
import type { AccountStore } from '../store/account-store.ts'
import { optionalString } from '../validation/params.ts'

export const OIDC_STS_VERSION = '2026-11-01'

const BASE62 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789'
export function randomBase62(length: number): string {
  let out = ''
  for (let i = 0; i < length; i++) out += BASE62[randomInt(BASE62.length)]
  return out
}

export const generateAccountId = () => `${randomInt(1, 10)}${Array.from({ length: 15 }, () => randomInt(10)).join('')}`
export const generateAccessKey = () => ({ accessKeyId: `LTAI${randomBase62(20)}`, secret: randomBase62(30) })

export interface RootCredentials {
  AccountId: string
  AccessKeyId: string
  AccessKeySecret: string
}

/**
 * Makes sure the operator account and its AccessKey exist; safe to run at every start. A changed
 * secret for the same AccessKeyId (rotated through the environment) replaces the stored one.
 */
export async function bootstrapOperatorAccount(accounts: AccountStore, creds: RootCredentials, now: number): Promise<'created' | 'exists'> {
  const key = { accessKeyId: creds.AccessKeyId, secret: creds.AccessKeySecret, status: 'Active' as const, operator: true }
  if (!(await accounts.getAccount(creds.AccountId))) {
    try {
      await accounts.createAccountWithKey(creds.AccountId, key, now)
      return 'created'
    } catch (e) {
      if (!(e instanceof ApiError && e.code === 'EntityAlreadyExists.Account')) throw e
    }
  }
  await accounts.putAccessKey({ ...key, accountId: creds.AccountId, createdAt: now })
  return 'exists'
}

export interface AccountDeps {
  accounts: AccountStore
}

const define = actionsWith<AccountDeps>()

const createAccount = define({
  product: 'OidcSts',
  version: OIDC_STS_VERSION,
  name: 'CreateAccount',
  operatorOnly: true,
  parse: (params) => ({
    accountId: optionalString(params, 'AccountId', { min: 16, max: 16, pattern: /^[1-9]\d{15}$/, patternHint: '16 decimal digits, not starting with 0' }),
  }),
  permission: (input) => ({ action: 'oidcsts:CreateAccount', resource: `acs:oidcsts:::account/${input.accountId ?? '*'}` }),
  async run(input, { deps, request }) {
    const accountId = input.accountId ?? generateAccountId()
    const key = generateAccessKey()
    await deps.accounts.createAccountWithKey(accountId, { accessKeyId: key.accessKeyId, secret: key.secret, status: 'Active', operator: false }, request.now.getTime())
    return { AccountId: accountId, AccessKeyId: key.accessKeyId, AccessKeySecret: key.secret }
  },
})

export const accountActions = [createAccount] as ActionDefinition<any, AccountDeps>[] // eslint-disable-line @typescript-eslint/no-explicit-any
