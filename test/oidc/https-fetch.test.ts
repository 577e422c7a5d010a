// The IdP fetcher over real sockets: thumbprints on every connection, SSRF refusals before connecting, hostile servers bounded.
import https from 'node:https'
import type { AddressInfo, Socket } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { freePort } from '../../local/dynamodb-local.ts'
import { fetchHttpsJson, type FetchOptions, IdpConnections, OidcFetchError } from '../../shared/oidc/https-fetch.ts'
import { rejectionOf } from '../support/errors.ts'
import { type HttpsIdp, startHttpsIdp } from '../support/https-idp.ts'
import { silentServer } from '../support/silent-server.ts'
import { createTestPki, issueLeaf, type TestPki } from '../support/test-ca.ts'

let pki: TestPki
let otherPki: TestPki
let idp: HttpsIdp
let base: FetchOptions

const failure = (p: Promise<unknown>) => rejectionOf(p, OidcFetchError)

beforeAll(async () => {
  ;[pki, otherPki] = await Promise.all([createTestPki('Fetch'), createTestPki('Other')])
  idp = await startHttpsIdp({ pki })
  base = { fingerprints: [pki.intermediate.sha1], allowPrivate: true, ca: pki.root.certPem }
})
afterAll(async () => {
  await idp?.close()
})

describe('fetchHttpsJson: thumbprints', () => {
  it.each([
    ['intermediate', () => pki.intermediate.sha1],
    ['root (appended from the trust store)', () => pki.root.sha1],
    ['leaf', () => pki.leaf.sha1],
  ])('accepts the fingerprint of the %s', async (_name, fp) => {
    const r = await fetchHttpsJson(idp.origin + idp.discoveryPath, { ...base, fingerprints: ['0'.repeat(40), fp().toUpperCase()] })
    expect(r.status).toBe(200)
    expect(r.json.issuer).toBe(idp.issuer)
    expect(r.matchedFingerprint).toBe(fp())
    expect(r.chain.map((c) => c.sha1)).toEqual([pki.leaf.sha1, pki.intermediate.sha1, pki.root.sha1])
    expect(r.chain.map((c) => c.selfSigned)).toEqual([false, false, true])
    expect(r.chain[1]!.subject).toContain('CN=Fetch Intermediate CA')
    expect(Date.parse(r.chain[0]!.notAfter)).toBeGreaterThan(Date.now())
    // The spec §6.2 recipe's answer: the last certificate the server sends (here the intermediate).
    expect(r.lastSentSha1).toBe(pki.intermediate.sha1)
    expect(r.lastSentExact).toBe(false)
  })

  it('rejects a chain without any registered fingerprint with the observed chain and the fingerprint to add', async () => {
    const e = await failure(fetchHttpsJson(idp.origin + idp.discoveryPath, { ...base, fingerprints: [otherPki.intermediate.sha1] }))
    expect(e.kind).toBe('fingerprint-mismatch')
    expect(e.chain?.map((c) => c.sha1)).toEqual([pki.leaf.sha1, pki.intermediate.sha1, pki.root.sha1])
    expect(e.lastSentSha1).toBe(pki.intermediate.sha1)
    expect(e.message).toContain(pki.intermediate.sha1)
  })

  it('rejects when no fingerprint is registered at all', async () => {
    expect((await failure(fetchHttpsJson(idp.origin + idp.discoveryPath, { ...base, fingerprints: [] }))).kind).toBe('fingerprint-mismatch')
  })

  it('rejects a chain that does not validate against the trust store, even when the fingerprint matches', async () => {
    const e = await failure(fetchHttpsJson(idp.origin + idp.discoveryPath, { ...base, ca: otherPki.root.certPem, fingerprints: [pki.intermediate.sha1] }))
    expect(e.kind).toBe('certificate-invalid')
    expect(e.detail).toBe('UNABLE_TO_GET_ISSUER_CERT_LOCALLY')
  })

  it('lists the chain as sent for an untrusted chain when asked (health check)', async () => {
    const e = await failure(
      fetchHttpsJson(idp.origin + idp.discoveryPath, { ...base, ca: otherPki.root.certPem, exactSentChain: true }),
    )
    expect(e.kind).toBe('certificate-invalid')
    expect(e.chain?.map((c) => c.sha1)).toEqual([pki.leaf.sha1, pki.intermediate.sha1])
    expect(e.lastSentSha1).toBe(pki.intermediate.sha1)
    expect(e.lastSentExact).toBe(true)
  })

  it('checks the thumbprint on every connection: no TLS session is resumed', async () => {
    idp.resetCounts()
    await fetchHttpsJson(idp.origin + idp.discoveryPath, base)
    const e = await failure(fetchHttpsJson(idp.origin + idp.discoveryPath, { ...base, fingerprints: [otherPki.root.sha1] }))
    expect(e.kind).toBe('fingerprint-mismatch')
    await fetchHttpsJson(idp.origin + idp.discoveryPath, base)
    expect(idp.connections).toBe(3)
    expect(idp.resumedSessions).toBe(0)
  })

  it('with a pool, a second request reuses the verified connection and checks the thumbprint on it again', async () => {
    idp.resetCounts()
    const connections = new IdpConnections()
    try {
      const first = await fetchHttpsJson(idp.origin + idp.discoveryPath, { ...base, connections })
      const second = await fetchHttpsJson(idp.origin + idp.jwksPath, { ...base, connections })
      expect(idp.connections).toBe(1)
      expect(idp.resumedSessions).toBe(0)
      // The reused connection carries the chain of its own handshake, matched again for this request.
      expect(second.chain).toEqual(first.chain)
      expect(second.matchedFingerprint).toBe(pki.intermediate.sha1)
      // The same pooled connection, asked with fingerprints its chain does not carry: refused, not trusted
      // because it was verified before.
      const e = await failure(fetchHttpsJson(idp.origin + idp.discoveryPath, { ...base, fingerprints: [otherPki.root.sha1], connections }))
      expect(e.kind).toBe('fingerprint-mismatch')
      expect(e.chain?.map((c) => c.sha1)).toEqual([pki.leaf.sha1, pki.intermediate.sha1, pki.root.sha1])
      expect(idp.connections).toBe(1)
      // A refused connection is closed, never handed out again: the next request has a new, fully checked one.
      await fetchHttpsJson(idp.origin + idp.discoveryPath, { ...base, connections })
      expect(idp.connections).toBe(2)
      expect(idp.resumedSessions).toBe(0)
    } finally {
      connections.close()
    }
  })

  it('with a pool, a connection whose thumbprint check failed is not pooled', async () => {
    idp.resetCounts()
    const connections = new IdpConnections()
    try {
      expect((await failure(fetchHttpsJson(idp.origin + idp.discoveryPath, { ...base, fingerprints: [otherPki.root.sha1], connections }))).kind).toBe('fingerprint-mismatch')
      await fetchHttpsJson(idp.origin + idp.discoveryPath, { ...base, connections })
      expect(idp.connections).toBe(2)
    } finally {
      connections.close()
    }
  })

  it('with a pool, a request whose pooled connection the server closed goes out again on a new, checked connection', async () => {
    // Answers the first request of each connection, drops the connection on the second: what a server
    // closing an idle keep-alive connection just as it is reused looks like to the client.
    const served = new WeakSet<Socket>()
    let accepted = 0
    const server = https.createServer({ key: pki.leaf.keyPem, cert: pki.leaf.certPem + pki.intermediate.certPem }, (req, res) => {
      if (served.has(req.socket)) return req.socket.destroy()
      served.add(req.socket)
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}')
    })
    server.on('connection', () => accepted++)
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
    const origin = `https://127.0.0.1:${(server.address() as AddressInfo).port}`
    const connections = new IdpConnections()
    try {
      await fetchHttpsJson(`${origin}/a`, { ...base, connections })
      const r = await fetchHttpsJson(`${origin}/b`, { ...base, connections })
      expect(r.json).toEqual({ ok: true })
      expect(r.matchedFingerprint).toBe(pki.intermediate.sha1)
      expect(accepted).toBe(2)
    } finally {
      connections.close()
      server.closeAllConnections()
      await new Promise<void>((r) => server.close(() => r()))
    }
  })

  it('refuses a certificate for another host name', async () => {
    const wrongHost = await issueLeaf(pki.intermediate, { dnsNames: ['other.example'], ips: ['10.9.9.9'] })
    const server = await startHttpsIdp({ pki: { ...pki, leaf: wrongHost } })
    try {
      const e = await failure(fetchHttpsJson(server.origin + server.discoveryPath, base))
      expect(e.kind).toBe('certificate-invalid')
      expect(e.detail).toBe('ERR_TLS_CERT_ALTNAME_INVALID')
    } finally {
      await server.close()
    }
  })

  it('refuses an expired certificate', async () => {
    const expired = await issueLeaf(pki.intermediate, { notBefore: new Date(Date.now() - 10 * 86_400_000), notAfter: new Date(Date.now() - 86_400_000) })
    const server = await startHttpsIdp({ pki: { ...pki, leaf: expired } })
    try {
      const e = await failure(fetchHttpsJson(server.origin + server.discoveryPath, base))
      expect(e.kind).toBe('certificate-invalid')
      expect(e.detail).toBe('CERT_HAS_EXPIRED')
    } finally {
      await server.close()
    }
  })

  it.each([
    ['leaf', () => pki.leaf.sha1, () => pki.intermediate.sha1],
    ['leaf+intermediate+root', () => pki.root.sha1, () => pki.intermediate.sha1],
  ] as const)('reports the exact last certificate sent when the server sends %s', async (chain, exact, approx) => {
    const server = await startHttpsIdp({ pki, chain })
    try {
      // A leaf-only server validates only if the trust store has the intermediate.
      const opts = { ...base, ca: [pki.root.certPem, pki.intermediate.certPem] }
      const plain = await fetchHttpsJson(server.origin + server.discoveryPath, opts)
      expect(plain.lastSentSha1).toBe(approx())
      const probed = await fetchHttpsJson(server.origin + server.discoveryPath, { ...opts, exactSentChain: true })
      expect(probed.lastSentSha1).toBe(exact())
      expect(probed.lastSentExact).toBe(true)
    } finally {
      await server.close()
    }
  })

  it('follows a certificate switch to another CA on the next connection', async () => {
    const server = await startHttpsIdp({ pki })
    try {
      const both = { ...base, ca: [pki.root.certPem, otherPki.root.certPem] }
      expect((await fetchHttpsJson(server.origin + server.discoveryPath, both)).matchedFingerprint).toBe(pki.intermediate.sha1)
      server.usePki(otherPki)
      const e = await failure(fetchHttpsJson(server.origin + server.discoveryPath, both))
      expect(e.kind).toBe('fingerprint-mismatch')
      expect(e.lastSentSha1).toBe(otherPki.intermediate.sha1)
      const r = await fetchHttpsJson(server.origin + server.discoveryPath, { ...both, fingerprints: [pki.intermediate.sha1, otherPki.intermediate.sha1] })
      expect(r.matchedFingerprint).toBe(otherPki.intermediate.sha1)
    } finally {
      await server.close()
    }
  })
})

describe('fetchHttpsJson: SSRF guard', () => {
  const spellings = (port: number) => [
    `https://127.0.0.1:${port}/.well-known/openid-configuration`,
    `https://localhost:${port}/.well-known/openid-configuration`,
    `https://2130706433:${port}/.well-known/openid-configuration`,
    `https://0177.0.0.1:${port}/.well-known/openid-configuration`,
    `https://0x7f.1:${port}/.well-known/openid-configuration`,
    `https://[::1]:${port}/.well-known/openid-configuration`,
    `https://[::ffff:127.0.0.1]:${port}/.well-known/openid-configuration`,
    `https://[::ffff:7f00:1]:${port}/.well-known/openid-configuration`,
    'https://169.254.169.254/latest/meta-data/',
    'https://100.100.100.200/latest/meta-data/',
    'https://10.0.0.1/',
    'https://192.168.1.1/',
    'https://172.16.0.1/',
    'https://100.64.0.1/',
    'https://[fe80::1]/',
    'https://[fc00::1]/',
  ]

  it('refuses every loopback, private, link-local and metadata spelling before connecting', async () => {
    idp.resetCounts()
    for (const url of spellings(idp.port)) {
      const e = await failure(fetchHttpsJson(url, { ...base, allowPrivate: false }))
      expect(e.kind, url).toBe('forbidden-address')
      expect(e.message, url).toMatch(/^the host \S+ is not allowed: its address is /)
    }
    // Refused by the guard, not by the network: the IdP listening on loopback was never contacted.
    expect(idp.connections).toBe(0)
    expect(idp.requests(idp.discoveryPath)).toBe(0)
  })

  it('gives the same message whether or not a port is open', async () => {
    const closed = await freePort()
    for (const host of ['127.0.0.1', 'localhost', '[::ffff:127.0.0.1]']) {
      const open = await failure(fetchHttpsJson(`https://${host}:${idp.port}/x`, { ...base, allowPrivate: false }))
      const shut = await failure(fetchHttpsJson(`https://${host}:${closed}/x`, { ...base, allowPrivate: false }))
      expect(open.kind).toBe('forbidden-address')
      expect(shut.message).toBe(open.message)
      expect(shut.kind).toBe(open.kind)
    }
  })

  it('refuses a name that resolves to a private address (injected resolver), before connecting', async () => {
    const resolver: FetchOptions['resolver'] = (_h, _o, cb) => cb(null, [{ address: '100.100.100.200', family: 4 }])
    const e = await failure(fetchHttpsJson('https://idp.example/.well-known/openid-configuration', { ...base, allowPrivate: false, resolver }))
    expect(e.kind).toBe('forbidden-address')
    expect(e.message).toContain('Alibaba Cloud metadata')
  })

  it('connects to the local IdP when private issuers are allowed', async () => {
    await expect(fetchHttpsJson(`https://localhost:${idp.port}${idp.discoveryPath}`, base)).resolves.toMatchObject({ status: 200 })
  })
})

describe('fetchHttpsJson: hostile or broken servers', () => {
  it('refuses plain http and malformed URLs', async () => {
    expect((await failure(fetchHttpsJson(`http://127.0.0.1:${idp.port}/`, base))).kind).toBe('not-https')
    expect((await failure(fetchHttpsJson('not a url', base))).kind).toBe('not-https')
    expect((await failure(fetchHttpsJson(`https://user:pw@127.0.0.1:${idp.port}/`, base))).kind).toBe('not-https')
  })

  it('does not follow redirects', async () => {
    idp.resetCounts()
    idp.route('/moved', { status: 302, headers: { location: `${idp.origin}${idp.discoveryPath}` } })
    const e = await failure(fetchHttpsJson(`${idp.origin}/moved`, base))
    expect(e.kind).toBe('redirect')
    expect(e.status).toBe(302)
    expect(idp.requests(idp.discoveryPath)).toBe(0)
  })

  it('reports error statuses and connection resets', async () => {
    idp.route('/err', { status: 500, body: { error: 'boom' } })
    idp.route('/reset', { mode: 'reset' })
    expect(await failure(fetchHttpsJson(`${idp.origin}/err`, base))).toMatchObject({ kind: 'bad-status', status: 500 })
    expect((await failure(fetchHttpsJson(`${idp.origin}/reset`, base))).kind).toBe('unreachable')
  })

  it('reports a refused connection as unreachable without saying how', async () => {
    const e = await failure(fetchHttpsJson(`https://127.0.0.1:${await freePort()}/`, base))
    expect(e.kind).toBe('unreachable')
    expect(e.message).toBe('could not connect to 127.0.0.1')
    expect(e.detail).toBe('ECONNREFUSED')
  })

  it('bounds the handshake with the connect timeout', async () => {
    // Accepts TCP but never speaks TLS.
    const silent = await silentServer()
    try {
      const e = await failure(fetchHttpsJson(`https://127.0.0.1:${silent.port}/`, { ...base, connectTimeoutMs: 150 }))
      // The connect timer's own failure (not the total timeout's, nor a refused connection).
      expect(e.kind).toBe('timeout')
      expect(e.message).toBe('could not connect to 127.0.0.1 within 150 ms')
    } finally {
      await silent.close()
    }
  })

  it('bounds a server that never answers, and a slow body, with the total timeout', async () => {
    idp.route('/hang', { mode: 'hang' })
    idp.route('/slow', { mode: 'slow-body', slowChunkMs: 20 })
    for (const path of ['/hang', '/slow']) {
      const e = await failure(fetchHttpsJson(`${idp.origin}${path}`, { ...base, totalTimeoutMs: 300 }))
      // The total timer's own failure: the 300 ms budget, not the default 5 s, cut it.
      expect(e.kind, path).toBe('timeout')
      expect(e.message, path).toBe(`${new URL(idp.origin).hostname} did not deliver the document within 300 ms`)
    }
  })

  it('caps the body size: declared too large, and endless', async () => {
    idp.route('/big', { body: { keys: 'x'.repeat(4096) } })
    idp.route('/endless', { mode: 'endless' })
    expect((await failure(fetchHttpsJson(`${idp.origin}/big`, { ...base, maxBodyBytes: 1024 }))).kind).toBe('too-large')
    // Cut by the size cap while streaming (not by a timeout: that would be kind 'timeout').
    const endless = await failure(fetchHttpsJson(`${idp.origin}/endless`, { ...base, maxBodyBytes: 64 * 1024 }))
    expect(endless.kind).toBe('too-large')
    expect(endless.message).toMatch(/ is larger than 65536 bytes$/)
  })

  it.each([
    ['not JSON', 'not json'],
    ['a top-level array', '[1,2]'],
    ['a top-level string', '"x"'],
    ['null', 'null'],
    ['absurdly nested JSON', '['.repeat(300_000) + ']'.repeat(300_000)],
  ])('rejects %s as bad-json', async (_what, body) => {
    idp.route('/bad', { body })
    expect((await failure(fetchHttpsJson(`${idp.origin}/bad`, { ...base, maxBodyBytes: 1024 * 1024 }))).kind).toBe('bad-json')
  })

  it('rejects invalid UTF-8 and unrequested compression', async () => {
    idp.route('/latin1', { body: Buffer.from([0x7b, 0x22, 0xff, 0x22, 0x3a, 0x31, 0x7d]) })
    idp.route('/gzip', { body: '{}', headers: { 'content-encoding': 'gzip' } })
    expect((await failure(fetchHttpsJson(`${idp.origin}/latin1`, base))).kind).toBe('bad-json')
    expect((await failure(fetchHttpsJson(`${idp.origin}/gzip`, base))).kind).toBe('bad-json')
  })

  it('drops __proto__ members instead of letting them reach a prototype', async () => {
    idp.route('/proto', { body: '{"__proto__":{"polluted":true},"a":{"__proto__":{"x":1}},"b":1}' })
    const r = await fetchHttpsJson(`${idp.origin}/proto`, base)
    expect(Object.getPrototypeOf(r.json)).toBe(Object.prototype)
    expect(Object.hasOwn(r.json, '__proto__')).toBe(false)
    expect((r.json as { polluted?: unknown }).polluted).toBeUndefined()
    expect(Object.assign({}, r.json.a) as { x?: unknown }).not.toHaveProperty('x')
    expect(r.json.b).toBe(1)
  })
})
