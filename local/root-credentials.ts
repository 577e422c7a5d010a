// The bootstrap (operator) account's credentials in local mode: from the environment, else from
// DATA_DIR/root-credentials.json, else generated once and written there with mode 0600.

import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import type { Config } from '../shared/config.ts'
import { generateAccessKey, generateAccountId, type RootCredentials } from '../shared/services/accounts.ts'
import type { AccountStore } from '../shared/store/account-store.ts'

export function rootCredentialsPath(dataDir: string): string {
  return resolve(join(dataDir, 'root-credentials.json'))
}

function readFile(path: string): RootCredentials | undefined {
  if (!existsSync(path)) return undefined
  let parsed: Partial<RootCredentials>
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8')) as Partial<RootCredentials>
  } catch (e) {
    // Not V8's message: it quotes the text around the fault, which may be the secret.
    throw new Error(`${path} is not JSON (${(e as Error).name}): it should hold {"AccountId","AccessKeyId","AccessKeySecret"}`)
  }
  if (parsed === null || typeof parsed !== 'object' || typeof parsed.AccountId !== 'string' || typeof parsed.AccessKeyId !== 'string' || typeof parsed.AccessKeySecret !== 'string') {
    throw new Error(`${path} is not a root credentials file ({"AccountId","AccessKeyId","AccessKeySecret"})`)
  }
  return parsed as RootCredentials
}

export async function resolveRootCredentials(config: Config, accounts: AccountStore): Promise<{ creds: RootCredentials; source: 'env' | 'file' | 'generated'; path?: string }> {
  const path = rootCredentialsPath(config.dataDir)
  if (config.rootAccessKeyId && config.rootAccessKeySecret) {
    // A key given by the environment keeps the account it already belongs to across restarts.
    const existing = await accounts.getAccessKey(config.rootAccessKeyId)
    const accountId = config.rootAccountId ?? existing?.accountId ?? readFile(path)?.AccountId ?? generateAccountId()
    return { creds: { AccountId: accountId, AccessKeyId: config.rootAccessKeyId, AccessKeySecret: config.rootAccessKeySecret }, source: 'env' }
  }
  const fromFile = readFile(path)
  if (fromFile) {
    return { creds: { ...fromFile, AccountId: config.rootAccountId ?? fromFile.AccountId }, source: 'file', path }
  }
  const key = generateAccessKey()
  const creds = { AccountId: config.rootAccountId ?? generateAccountId(), AccessKeyId: key.accessKeyId, AccessKeySecret: key.secret }
  mkdirSync(config.dataDir, { recursive: true })
  writeFileSync(path, `${JSON.stringify(creds, null, 2)}\n`, { mode: 0o600, flag: 'wx' })
  chmodSync(path, 0o600)
  return { creds, source: 'generated', path }
}
