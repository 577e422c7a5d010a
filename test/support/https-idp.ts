// A local HTTPS OpenID provider for tests: serves discovery + JWKS on 127.0.0.1, can misbehave per route, counts what it sees.
import { generateKeyPairSync, type JsonWebKey, type KeyObject } from 'node:crypto'
import https from 'node:https'
import type { AddressInfo, Socket } from 'node:net'
import type { TLSSocket } from 'node:tls'
import type { TestPki } from './test-ca.ts'

export type ChainSent = 'leaf' | 'leaf+intermediate' | 'leaf+intermediate+root'

export interface RouteBehaviour {
  /** Default 200. */
  status?: number
  /** A JSON value (serialised), or a raw body as a string (sent as UTF-8) or Buffer. */
  body?: unknown
  headers?: Record<string, string>
  /** Wait before sending the status line. */
  delayMs?: number
  /**
   * normal: send body; hang: never answer; reset: destroy the socket on request; endless: stream
   * JSON-ish bytes until the client goes away; slow-body: headers at once, then one byte per
   * slowChunkMs forever.
   */
  mode?: 'normal' | 'hang' | 'reset' | 'endless' | 'slow-body'
  slowChunkMs?: number
}

export interface HttpsIdp {
  /** https://127.0.0.1:<port> */
  readonly origin: string
  readonly port: number
  /** The issuer the discovery document names by default (origin + issuerPath). */
  readonly issuer: string
  readonly discoveryPath: string
  readonly jwksPath: string
  /** Replace the JWKS `keys`. */
  setKeys(keys: JsonWebKey[]): void
  /** Merge fields into (or, with undefined values, remove from) the discovery document. */
  setDiscovery(fields: Record<string, unknown>): void
  /** Override a path's behaviour (undefined restores the default). */
  route(path: string, behaviour: RouteBehaviour | undefined): void
  /** Requests seen per path. */
  requests(path: string): number
  /** TCP connections accepted (a refused-before-connecting request adds none). */
  readonly connections: number
  /** TCP connections open right now (a client that keeps none open leaves 0 once its closes arrive). */
  readonly openConnections: number
  /** TLS handshakes that resumed a session. */
  readonly resumedSessions: number
  /** Switch certificate/key (and chain sent) for new connections, e.g. to another CA mid-test. */
  usePki(pki: TestPki, chain?: ChainSent): void
  resetCounts(): void
  close(): Promise<void>
}

export interface HttpsIdpOptions {
  pki: TestPki
  chain?: ChainSent
  /** Path of the issuer under the origin, e.g. '/realms/test'; default ''. */
  issuerPath?: string
  keys?: JsonWebKey[]
}

function certChain(pki: TestPki, chain: ChainSent): string {
  if (chain === 'leaf') return pki.leaf.certPem
  if (chain === 'leaf+intermediate') return pki.leaf.certPem + pki.intermediate.certPem
  return pki.leaf.certPem + pki.intermediate.certPem + pki.root.certPem
}

export async function startHttpsIdp(options: HttpsIdpOptions): Promise<HttpsIdp> {
  const issuerPath = options.issuerPath ?? ''
  const discoveryPath = `${issuerPath}/.well-known/openid-configuration`
  const jwksPath = `${issuerPath}/jwks`
  let keys: JsonWebKey[] = options.keys ?? []
  let discoveryFields: Record<string, unknown> = {}
  const overrides = new Map<string, RouteBehaviour>()
  const counts = new Map<string, number>()
  const sockets = new Set<Socket>()
  const timers = new Set<NodeJS.Timeout>()
  let connections = 0
  let resumedSessions = 0
  let origin = ''

  const server = https.createServer({ key: options.pki.leaf.keyPem, cert: certChain(options.pki, options.chain ?? 'leaf+intermediate') })
  server.on('connection', (s: Socket) => {
    connections++
    sockets.add(s)
    s.on('close', () => sockets.delete(s))
  })
  server.on('secureConnection', (s: TLSSocket) => {
    if (s.isSessionReused()) resumedSessions++
  })

  const defaultBehaviour = (path: string): RouteBehaviour | undefined => {
    if (path === discoveryPath) {
      const doc: Record<string, unknown> = {
        issuer: origin + issuerPath,
        jwks_uri: origin + jwksPath,
        authorization_endpoint: `${origin}${issuerPath}/authorize`,
        token_endpoint: `${origin}${issuerPath}/token`,
        response_types_supported: ['id_token'],
        subject_types_supported: ['public'],
        id_token_signing_alg_values_supported: ['RS256', 'ES256'],
      }
      for (const [k, v] of Object.entries(discoveryFields)) {
        if (v === undefined) delete doc[k]
        else doc[k] = v
      }
      return { body: doc }
    }
    if (path === jwksPath) return { body: { keys } }
    return undefined
  }

  server.on('request', (req, res) => {
    const path = (req.url ?? '/').split('?')[0]!
    counts.set(path, (counts.get(path) ?? 0) + 1)
    const b = overrides.get(path) ?? defaultBehaviour(path) ?? { status: 404, body: { error: 'not found' } }
    const mode = b.mode ?? 'normal'
    if (mode === 'reset') return req.socket.destroy()
    if (mode === 'hang') return
    const respond = () => {
      const headers = { 'content-type': 'application/json', ...b.headers }
      if (mode === 'endless' || mode === 'slow-body') {
        res.writeHead(b.status ?? 200, headers)
        const chunk = mode === 'endless' ? Buffer.alloc(16 * 1024, 0x20) : Buffer.from(' ')
        if (mode === 'endless') res.write('{"keys":[')
        const timer = setInterval(() => {
          if (res.destroyed || res.writableEnded) return clearInterval(timer)
          res.write(chunk)
        }, mode === 'endless' ? 1 : (b.slowChunkMs ?? 50))
        timers.add(timer)
        res.on('close', () => {
          clearInterval(timer)
          timers.delete(timer)
        })
        return
      }
      const body = typeof b.body === 'string' || Buffer.isBuffer(b.body) ? b.body : JSON.stringify(b.body ?? {})
      res.writeHead(b.status ?? 200, headers)
      res.end(body)
    }
    if (b.delayMs) {
      const t = setTimeout(respond, b.delayMs)
      timers.add(t)
    } else respond()
  })

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as AddressInfo).port
  origin = `https://127.0.0.1:${port}`

  return {
    origin,
    port,
    issuer: origin + issuerPath,
    discoveryPath,
    jwksPath,
    setKeys(k) {
      keys = k
    },
    setDiscovery(fields) {
      discoveryFields = { ...discoveryFields, ...fields }
    },
    route(path, behaviour) {
      if (behaviour === undefined) overrides.delete(path)
      else overrides.set(path, behaviour)
    },
    requests: (path) => counts.get(path) ?? 0,
    get connections() {
      return connections
    },
    get openConnections() {
      return sockets.size
    },
    get resumedSessions() {
      return resumedSessions
    },
    usePki(pki, chain = 'leaf+intermediate') {
      server.setSecureContext({ key: pki.leaf.keyPem, cert: certChain(pki, chain) })
    },
    resetCounts() {
      counts.clear()
      connections = 0
      resumedSessions = 0
    },
    async close() {
      for (const t of timers) clearTimeout(t)
      for (const s of sockets) s.destroy()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}

export interface TestSigningKey {
  kid: string
  privateKey: KeyObject
  publicKey: KeyObject
  /** Public JWK with kid, alg and use. */
  jwk: JsonWebKey
}

/** A signing key pair and its public JWK (RSA 2048 by default; modulusLength/exponent for weak-key cases). */
export function makeSigningKey(
  kid: string,
  kind: { type: 'rsa'; modulusLength?: number; publicExponent?: number; alg?: string } | { type: 'ec'; curve?: 'P-256' | 'P-384' | 'P-521'; alg?: string } = { type: 'rsa' },
): TestSigningKey {
  if (kind.type === 'rsa') {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: kind.modulusLength ?? 2048, publicExponent: kind.publicExponent ?? 65537 })
    return { kid, privateKey, publicKey, jwk: { ...publicKey.export({ format: 'jwk' }), kid, alg: kind.alg ?? 'RS256', use: 'sig' } }
  }
  const curve = kind.curve ?? 'P-256'
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: curve })
  const alg = kind.alg ?? { 'P-256': 'ES256', 'P-384': 'ES384', 'P-521': 'ES512' }[curve]
  return { kid, privateKey, publicKey, jwk: { ...publicKey.export({ format: 'jwk' }), kid, alg, use: 'sig' } }
}
