// The local bootstrap credentials file: a malformed one is refused without quoting it (V8's JSON
// error quotes the text around the fault, which can be the secret).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { resolveRootCredentials, rootCredentialsPath } from '../../local/root-credentials.ts'
import { loadConfig } from '../../shared/config.ts'

describe('resolveRootCredentials', () => {
  it.each([
    ['a single-quoted secret', `{"AccountId":"1234567890123456","AccessKeyId":"LTAIabc","AccessKeySecret":'SuperSecretValue0123456789abcd'}`],
    ['an unquoted secret', `{"AccountId":"1234567890123456","AccessKeyId":"LTAIabc","AccessKeySecret":SuperSecretValue0123456789abcd}`],
    ['a short file', `SuperSecretValue`],
  ])('refuses a file with %s without printing any of it', async (_name, text) => {
    const dataDir = mkdtempSync(join(tmpdir(), 'oidc-sts-root-'))
    try {
      writeFileSync(rootCredentialsPath(dataDir), text)
      const config = loadConfig({ TABLE_NAME: 'oidc-sts', DATA_DIR: dataDir })
      // The file is read before any store call.
      const failure = await resolveRootCredentials(config, undefined as never).then(() => undefined, (e: Error) => e)
      expect(failure?.message).toMatch(/is not JSON \(SyntaxError\)/)
      expect(failure?.message).not.toMatch(/SuperSec|":'|":S/)
    } finally {
      rmSync(dataDir, { recursive: true, force: true })
    }
  })
})
