// The OpenID provider of `npm run demo`, small on purpose: a throwaway CA made once with the openssl CLI
// (kept at DATA_DIR/demo-ca.pem, so the server trusts it through one fixed NODE_EXTRA_CA_CERTS), an
// HTTPS server on 127.0.0.1 that serves the discovery document and the JWKS, and an RS256 key that
// signs ID tokens. For the demo only: a real IdP (GitHub Actions, a Kubernetes cluster, Keycloak...)
// plays this part in production.

import { execFile } from 'node:child_process'
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes, sign, X509Certificate, type KeyObject } from 'node:crypto'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import https from 'node:https'
import type { AddressInfo } from 'node:net'
import { join, resolve } from 'node:path'
import { promisify } from 'node:util'

const openssl = (args: string[]) => promisify(execFile)('openssl', args)

export interface DemoCa {
  /** Absolute path of the CA certificate: what the server's NODE_EXTRA_CA_CERTS must name. */
  readonly caFile: string
  /** True when this call made the CA (a server started before must be restarted to trust it). */
  readonly created: boolean
  readonly caPem: string
  /** The demo IdP's TLS certificate (issued by the CA) and key. */
  readonly tlsCertPem: string
  readonly tlsKeyPem: string
  /** The RSA key that signs ID tokens. */
  readonly signingKey: KeyObject
  /**
   * SHA-1 of the CA certificate's DER bytes: the demo IdP sends leaf + CA, so the CA is the last
   * certificate it sends, which is what the openssl recipe of the README hashes.
   */
  readonly thumbprint: string
}

const FILES = { ca: 'demo-ca.pem', caKey: 'ca-key.pem', tlsCert: 'tls-cert.pem', tlsKey: 'tls-key.pem', signingKey: 'signing-key.pem' }

// Extensions for the CA and for the IdP's server certificate (valid for 127.0.0.1 and localhost).
const OPENSSL_CONFIG = `[req]
distinguished_name = dn
prompt = no
[dn]
CN = oidc-sts demo CA
[ca]
basicConstraints = critical,CA:TRUE,pathlen:0
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[leaf]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = IP:127.0.0.1,DNS:localhost
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
`

/**
 * The demo CA, its IdP certificate and the token-signing key: read from DATA_DIR when a previous run
 * made them (DATA_DIR/demo-ca.pem and DATA_DIR/demo-idp/), else made now. A half-made set (a crash
 * mid-way) is made again; the CA file is written last.
 */
export async function ensureDemoCa(dataDir: string): Promise<DemoCa> {
  const caFile = resolve(dataDir, FILES.ca)
  const dir = resolve(dataDir, 'demo-idp')
  const inDir = (name: string) => join(dir, name)
  const complete = existsSync(caFile) && [FILES.caKey, FILES.tlsCert, FILES.tlsKey, FILES.signingKey].every((f) => existsSync(inDir(f)))
  if (!complete) {
    mkdirSync(dataDir, { recursive: true })
    const work = mkdtempSync(join(resolve(dataDir), 'demo-idp-new-'))
    try {
      await makeDemoPki(work)
      rmSync(dir, { recursive: true, force: true })
      renameSync(work, dir)
    } catch (e) {
      rmSync(work, { recursive: true, force: true })
      throw e
    }
    writeFileSync(`${caFile}.tmp`, readFileSync(inDir(FILES.ca)))
    renameSync(`${caFile}.tmp`, caFile)
  }
  const caPem = readFileSync(caFile, 'utf8')
  return {
    caFile,
    created: !complete,
    caPem,
    tlsCertPem: readFileSync(inDir(FILES.tlsCert), 'utf8'),
    tlsKeyPem: readFileSync(inDir(FILES.tlsKey), 'utf8'),
    signingKey: createPrivateKey(readFileSync(inDir(FILES.signingKey), 'utf8')),
    thumbprint: createHash('sha1').update(new X509Certificate(caPem).raw).digest('hex'),
  }
}

async function makeDemoPki(dir: string): Promise<void> {
  const f = (name: string) => join(dir, name)
  writeFileSync(f('openssl.cnf'), OPENSSL_CONFIG)
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes']
  // 1. A self-signed CA, ten years.
  await openssl(['req', '-x509', ...ec, '-keyout', f(FILES.caKey), '-out', f(FILES.ca), '-days', '3650', '-config', f('openssl.cnf'), '-extensions', 'ca'])
  // 2. The IdP's server certificate, issued by that CA, two years.
  await openssl(['req', '-new', ...ec, '-keyout', f(FILES.tlsKey), '-out', f('tls.csr'), '-config', f('openssl.cnf'), '-subj', '/CN=localhost'])
  await openssl([
    'x509', '-req', '-in', f('tls.csr'), '-CA', f(FILES.ca), '-CAkey', f(FILES.caKey), '-set_serial', `0x${randomBytes(8).toString('hex')}`,
    '-days', '730', '-extfile', f('openssl.cnf'), '-extensions', 'leaf', '-out', f(FILES.tlsCert),
  ])
  // 3. The ID-token signing key: RSA 2048, the least the service accepts.
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 })
  writeFileSync(f(FILES.signingKey), privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 })
}

export interface DemoIdp {
  /** https://127.0.0.1:<port> */
  readonly issuer: string
  /** Signs an ID token (RS256) with the standard claims filled in: iss, iat, exp (10 minutes), jti. */
  signIdToken(claims: { sub: string; aud: string } & Record<string, unknown>): string
  close(): Promise<void>
}

/** Serves discovery and JWKS over HTTPS on 127.0.0.1 (a free port); `onRequest` hears every request. */
export async function startDemoIdp(ca: DemoCa, onRequest: (method: string, path: string) => void = () => {}): Promise<DemoIdp> {
  const publicJwk = createPublicKey(ca.signingKey).export({ format: 'jwk' })
  const kid = createHash('sha256').update(String(publicJwk.n)).digest('base64url').slice(0, 16)
  let issuer = ''
  // Leaf + CA: the CA is the last certificate sent, so its SHA-1 is the thumbprint to register.
  const server = https.createServer({ cert: ca.tlsCertPem + ca.caPem, key: ca.tlsKeyPem }, (req, res) => {
    const path = (req.url ?? '/').split('?')[0]
    onRequest(req.method ?? 'GET', path ?? '/')
    const json = (status: number, body: unknown) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body))
    if (path === '/.well-known/openid-configuration') {
      return json(200, {
        issuer,
        jwks_uri: `${issuer}/jwks`,
        response_types_supported: ['id_token'],
        subject_types_supported: ['public'],
        id_token_signing_alg_values_supported: ['RS256'],
      })
    }
    if (path === '/jwks') return json(200, { keys: [{ ...publicJwk, kid, alg: 'RS256', use: 'sig' }] })
    return json(404, { error: 'not_found' })
  })
  await new Promise<void>((resolveListen, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', resolveListen)
  })
  issuer = `https://127.0.0.1:${(server.address() as AddressInfo).port}`

  return {
    issuer,
    signIdToken(claims) {
      const now = Math.floor(Date.now() / 1000)
      const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url')
      const input = `${b64({ alg: 'RS256', typ: 'JWT', kid })}.${b64({ iss: issuer, iat: now, exp: now + 600, jti: randomBytes(12).toString('hex'), ...claims })}`
      return `${input}.${sign('sha256', Buffer.from(input), ca.signingKey).toString('base64url')}`
    },
    async close() {
      server.closeAllConnections()
      await new Promise<void>((done) => server.close(() => done()))
    },
  }
}
