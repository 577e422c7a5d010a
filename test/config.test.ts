// loadConfig's endpoint setting: a URL may carry a credential (user:password@, a signed query), so a
// refused endpoint is quoted only as its scheme and host, and not at all when it is no URL; one with
// a user name or password is refused, naming the setting without repeating the password.

import { inspect } from 'node:util'
import { describe, expect, it } from 'vitest'
import { ConfigError, loadConfig } from '../shared/config.ts'

const SECRET = 's3cret-Pa55word-0123456789'

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig(env)
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError)
    // Nothing of the value anywhere on the error: message, problems, any other property.
    expect(inspect(e, { depth: 5 })).not.toContain(SECRET)
    return (e as ConfigError).problems
  }
  throw new Error('expected a ConfigError')
}

describe('DYNAMODB_ENDPOINT', () => {
  it('accepts an http(s) URL of a host, port and path', () => {
    for (const v of ['http://127.0.0.1:8000', 'https://dynamodb.eu-central-1.amazonaws.com', 'http://[::1]:8000/', 'http://localhost:8000/ddb']) {
      expect(loadConfig({ DYNAMODB_ENDPOINT: v }).dynamodbEndpoint).toBe(v)
    }
  })

  it('refuses a user name or password in the URL, naming the setting and the host, never the password', () => {
    expect(problemsOf({ DYNAMODB_ENDPOINT: `https://admin:${SECRET}@ddb.example.com:8443/x` })).toEqual([
      'DYNAMODB_ENDPOINT must not carry a user name or password (user:password@); the endpoint is "https://ddb.example.com:8443" without them',
    ])
    expect(problemsOf({ DYNAMODB_ENDPOINT: `http://:${SECRET}@127.0.0.1:8000` })[0]).toMatch(/^DYNAMODB_ENDPOINT must not carry a user name or password/)
    expect(problemsOf({ DYNAMODB_ENDPOINT: `http://${SECRET}@127.0.0.1:8000` })[0]).toMatch(/^DYNAMODB_ENDPOINT must not carry a user name or password/)
    // Another scheme with a credential: the credential is what is refused first, still unquoted.
    expect(problemsOf({ DYNAMODB_ENDPOINT: `ftp://admin:${SECRET}@ddb.example.com` })[0]).toMatch(/^DYNAMODB_ENDPOINT must not carry a user name or password/)
  })

  it('refuses a query or fragment (a signed URL, say) without quoting it', () => {
    expect(problemsOf({ DYNAMODB_ENDPOINT: `http://127.0.0.1:8000/?X-Amz-Signature=${SECRET}` })).toEqual(['DYNAMODB_ENDPOINT must not carry a query or fragment (got "http://127.0.0.1:8000" with one)'])
    expect(problemsOf({ DYNAMODB_ENDPOINT: `http://127.0.0.1:8000/#${SECRET}` })).toEqual(['DYNAMODB_ENDPOINT must not carry a query or fragment (got "http://127.0.0.1:8000" with one)'])
  })

  it('does not quote a value that is no URL at all (it may be a misplaced secret)', () => {
    const notUrl = 'DYNAMODB_ENDPOINT must be an http(s) URL such as http://127.0.0.1:8000 (the value is not a URL; not shown, as it may hold a credential)'
    expect(problemsOf({ DYNAMODB_ENDPOINT: SECRET })).toEqual([notUrl])
    // Accepted by the former /^https?:\/\/\S+$/ check, then thrown by new URL() in the store client with the value as its `input`.
    expect(problemsOf({ DYNAMODB_ENDPOINT: `http://[${SECRET}` })).toEqual([notUrl])
    expect(problemsOf({ DYNAMODB_ENDPOINT: `http://h ${SECRET}` })).toEqual([notUrl])
  })

  it('quotes another scheme as scheme and host only', () => {
    expect(problemsOf({ DYNAMODB_ENDPOINT: `ftp://ddb.example.com/${SECRET}` })).toEqual(['DYNAMODB_ENDPOINT must be an http(s) URL such as http://127.0.0.1:8000 (got "ftp://ddb.example.com")'])
  })

  it('is reported with the other invalid settings at once', () => {
    expect(problemsOf({ DYNAMODB_ENDPOINT: `https://u:${SECRET}@h`, PORT: 'x' })).toHaveLength(2)
  })
})
