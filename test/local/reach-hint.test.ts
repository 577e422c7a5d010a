// The demo's and the accounts CLI's advice when they cannot talk to the server, from real failed fetches:
// "start it" only when nothing listens; otherwise what does listen (HTTPS, an untrusted certificate).
import { createServer } from 'node:https'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { freePort } from '../../local/dynamodb-local.ts'
import { fetchFailureCode, reachHint } from '../../local/reach-hint.ts'
import { createTestPki } from '../support/test-ca.ts'

let port: number
const server = createServer()
beforeAll(async () => {
  const pki = await createTestPki('reach-hint')
  server.setSecureContext({ cert: pki.leafAndIntermediatePem, key: pki.leaf.keyPem })
  server.on('request', (_req, res) => res.end('{"status":"ok"}'))
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  port = (server.address() as { port: number }).port
})
afterAll(() => new Promise<void>((r) => server.close(() => r())))

async function hintFor(url: string): Promise<{ code: string | undefined; hint: string | undefined }> {
  try {
    await fetch(url)
  } catch (e) {
    const code = fetchFailureCode(e)
    return { code, hint: reachHint(code, new URL(url).origin) }
  }
  throw new Error(`${url} answered`)
}

describe('reachHint', () => {
  it('plain HTTP to an HTTPS server: names HTTPS and the endpoint to set, not "start the server"', async () => {
    const { hint } = await hintFor(`http://127.0.0.1:${port}/health`)
    expect(hint).toContain('does not answer plain HTTP')
    expect(hint).toContain(`OIDC_STS_ENDPOINT=https://127.0.0.1:${port}`)
  })

  it('HTTPS with a certificate this process does not trust: names NODE_EXTRA_CA_CERTS', async () => {
    const { hint } = await hintFor(`https://127.0.0.1:${port}/health`)
    expect(hint).toContain('NODE_EXTRA_CA_CERTS')
  })

  it('nothing listening: no hint of its own (the caller says to start the server)', async () => {
    const closed = await freePort()
    const { code, hint } = await hintFor(`http://127.0.0.1:${closed}/health`)
    expect(code).toBe('ECONNREFUSED')
    expect(hint).toBeUndefined()
  })
})
