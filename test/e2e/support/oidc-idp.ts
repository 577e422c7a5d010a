// A real OpenID provider, the `oidc-provider` package, served over HTTPS on 127.0.0.1 with a test CA,
// and a programmatic authorization code flow against it: GET /auth, the built-in login and consent
// forms (devInteractions) submitted as a browser would, cookies kept by hand, the code redeemed at
// the token endpoint for an ID token. Nothing here is a stub of the IdP side.

import { spawn } from 'node:child_process'
import { createHash, generateKeyPairSync, randomBytes, X509Certificate, type JsonWebKey } from 'node:crypto'
import type { IncomingMessage, ServerResponse } from 'node:http'
import https from 'node:https'
import type { AddressInfo } from 'node:net'
// @ts-expect-error oidc-provider 9 ships no type declarations (and @types/oidc-provider is not a dependency); the little used here is typed below.
import ProviderClass from 'oidc-provider'
import type { TestPki } from '../../support/test-ca.ts'

/** The part of oidc-provider's API this file uses. */
interface OidcProvider {
  callback(): (req: IncomingMessage, res: ServerResponse) => void
  on(event: string, listener: (...args: unknown[]) => void): void
}
interface OidcAccount {
  accountId: string
  claims(): Promise<Record<string, unknown>>
}
type ProviderConstructor = new (issuer: string, configuration: Record<string, unknown>) => OidcProvider
const Provider = ProviderClass as ProviderConstructor

/** Where the client says it wants the code: never fetched, only read from the final Location header. */
const REDIRECT_URI = 'https://client.example.test/callback'
/** Every request of the flow is bounded. */
const REQUEST_TIMEOUT_MS = 10_000
/** GET /auth, login form, login resume, consent form, consent resume, callback: a margin above that. */
const MAX_FLOW_STEPS = 12

export interface IdTokenResult {
  idToken: string
  /** The ID token's payload, decoded (not verified: the service under test verifies it). */
  claims: Record<string, unknown>
  /** The forms submitted on the way, in order: e.g. ['login', 'consent']. */
  interactions: string[]
}

export interface OidcIdp {
  /** https://127.0.0.1:<port> */
  readonly issuer: string
  readonly clientId: string
  /** The RS256 signing key's public JWK as the provider publishes it. */
  readonly signingKey: JsonWebKey
  /** Requests seen per path (e.g. '/.well-known/openid-configuration', '/jwks'). */
  requests(path: string): number
  /** Runs the authorization code flow as `login` (the account's sub) and returns the ID token. */
  signIn(login: string): Promise<IdTokenResult>
  close(): Promise<void>
}

export interface OidcIdpOptions {
  pki: TestPki
  clientId: string
  /** The one account findAccount knows: its id is the sub of the ID tokens. */
  subject: string
}

export async function startOidcIdp(options: OidcIdpOptions): Promise<OidcIdp> {
  const counts = new Map<string, number>()
  let handler: ((req: IncomingMessage, res: ServerResponse) => void) | undefined
  // The server sends leaf + intermediate, as public IdPs do; the issuer needs the port, so the
  // provider is created once the server listens.
  const server = https.createServer({ cert: options.pki.leafAndIntermediatePem, key: options.pki.leaf.keyPem }, (req, res) => {
    const path = (req.url ?? '/').split('?')[0] ?? '/'
    counts.set(path, (counts.get(path) ?? 0) + 1)
    if (handler) handler(req, res)
    else res.writeHead(503).end()
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const issuer = `https://127.0.0.1:${(server.address() as AddressInfo).port}`

  // RS256 with a 2048-bit key: what the service requires at minimum.
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 })
  const kid = `rsa-${randomBytes(4).toString('hex')}`
  const signingKey: JsonWebKey = { ...publicKey.export({ format: 'jwk' }), kid, alg: 'RS256', use: 'sig' }
  const clientSecret = randomBytes(24).toString('base64url')

  const provider = new Provider(issuer, {
    clients: [{
      client_id: options.clientId,
      client_secret: clientSecret,
      redirect_uris: [REDIRECT_URI],
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
      id_token_signed_response_alg: 'RS256',
    }],
    jwks: { keys: [{ ...privateKey.export({ format: 'jwk' }), kid, alg: 'RS256', use: 'sig' }] },
    async findAccount(_ctx: unknown, id: string): Promise<OidcAccount | undefined> {
      if (id !== options.subject) return undefined
      return { accountId: id, claims: async () => ({ sub: id }) }
    },
    cookies: { keys: [randomBytes(32).toString('hex')] },
    // Explicit lifetimes (seconds): a 10-minute ID token, as short-lived CI/workload tokens are.
    ttl: { AuthorizationCode: 60, Interaction: 600, Session: 600, Grant: 600, AccessToken: 600, IdToken: 600 },
    features: { devInteractions: { enabled: true } },
  })
  // An unexpected failure inside the provider would otherwise surface only as an opaque error page.
  const serverErrors: unknown[] = []
  provider.on('server_error', (_ctx, error) => serverErrors.push(error))
  handler = provider.callback()

  const ca = options.pki.root.certPem
  return {
    issuer,
    clientId: options.clientId,
    signingKey,
    requests: (path) => counts.get(path) ?? 0,
    async signIn(login) {
      try {
        return await authorizationCodeFlow({ issuer, ca, clientId: options.clientId, clientSecret, login })
      } catch (e) {
        if (serverErrors.length > 0) throw new Error(`${(e as Error).message}; oidc-provider server errors: ${serverErrors.map(String).join('; ')}`)
        throw e
      }
    },
    async close() {
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}

interface FlowOptions {
  issuer: string
  ca: string
  clientId: string
  clientSecret: string
  login: string
}

async function authorizationCodeFlow(o: FlowOptions): Promise<IdTokenResult> {
  const discovery = await request(`${o.issuer}/.well-known/openid-configuration`, { ca: o.ca })
  if (discovery.status !== 200) throw new Error(`discovery answered HTTP ${discovery.status}`)
  const metadata = JSON.parse(discovery.body) as { authorization_endpoint: string; token_endpoint: string }

  const jar = new CookieJar()
  const state = randomBytes(16).toString('base64url')
  const nonce = randomBytes(16).toString('base64url')
  const verifier = randomBytes(32).toString('base64url')
  const authorize = new URL(metadata.authorization_endpoint)
  authorize.search = new URLSearchParams({
    client_id: o.clientId,
    response_type: 'code',
    scope: 'openid',
    redirect_uri: REDIRECT_URI,
    state,
    nonce,
    code_challenge: createHash('sha256').update(verifier).digest('base64url'),
    code_challenge_method: 'S256',
  }).toString()

  const interactions: string[] = []
  let next: { url: string; method: 'GET' | 'POST'; form?: Record<string, string> } = { url: authorize.href, method: 'GET' }
  let code: string | undefined
  for (let step = 0; step < MAX_FLOW_STEPS && code === undefined; step++) {
    const url = new URL(next.url)
    const body = next.form ? new URLSearchParams(next.form).toString() : undefined
    const res = await request(url.href, {
      ca: o.ca,
      method: next.method,
      headers: {
        ...(body !== undefined ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
        ...(jar.header(url) ? { cookie: jar.header(url) } : {}),
      },
      ...(body !== undefined ? { body } : {}),
    })
    jar.store(url, res.setCookie)
    if (res.status >= 300 && res.status < 400 && res.location) {
      const target = new URL(res.location, url)
      if (target.href.startsWith(REDIRECT_URI)) {
        if (target.searchParams.get('error')) throw new Error(`the IdP answered the client with error=${target.searchParams.get('error')}: ${target.searchParams.get('error_description')}`)
        if (target.searchParams.get('state') !== state) throw new Error('the callback carries another state')
        code = target.searchParams.get('code') ?? undefined
        if (code === undefined) throw new Error(`the callback carries no code: ${target.href}`)
      } else {
        next = { url: target.href, method: 'GET' }
      }
      continue
    }
    if (res.status === 200 && /<form/i.test(res.body)) {
      // devInteractions renders one form per prompt: a hidden `prompt` field names it.
      const form = parseForm(res.body)
      const prompt = form.fields.prompt
      if (prompt === 'login') next = { url: new URL(form.action, url).href, method: 'POST', form: { ...form.fields, login: o.login, password: 'any' } }
      else if (prompt === 'consent') next = { url: new URL(form.action, url).href, method: 'POST', form: form.fields }
      else throw new Error(`unexpected interaction form (prompt=${prompt ?? 'none'}) at ${url.pathname}`)
      interactions.push(prompt)
      continue
    }
    throw new Error(`unexpected HTTP ${res.status} at ${url.pathname}: ${res.body.slice(0, 500)}`)
  }
  if (code === undefined) throw new Error(`no authorization code after ${MAX_FLOW_STEPS} steps`)

  const basic = Buffer.from(`${encodeURIComponent(o.clientId)}:${encodeURIComponent(o.clientSecret)}`).toString('base64')
  const token = await request(metadata.token_endpoint, {
    ca: o.ca,
    method: 'POST',
    headers: { authorization: `Basic ${basic}`, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: REDIRECT_URI, code_verifier: verifier }).toString(),
  })
  if (token.status !== 200) throw new Error(`the token endpoint answered HTTP ${token.status}: ${token.body}`)
  const idToken = (JSON.parse(token.body) as { id_token?: string }).id_token
  if (!idToken) throw new Error('the token response has no id_token')
  const claims = JSON.parse(Buffer.from(idToken.split('.')[1] ?? '', 'base64url').toString('utf8')) as Record<string, unknown>
  if (claims.nonce !== nonce) throw new Error('the ID token carries another nonce')
  return { idToken, claims, interactions }
}

/** The first form of an HTML page: its action and its (hidden and visible) input values. */
function parseForm(html: string): { action: string; fields: Record<string, string> } {
  const form = /<form\b[^>]*\baction="([^"]*)"[^>]*>([\s\S]*?)<\/form>/i.exec(html)
  if (!form) throw new Error('no form with an action on the page')
  const fields: Record<string, string> = {}
  for (const input of (form[2] ?? '').matchAll(/<input\b[^>]*>/gi)) {
    const name = /\bname="([^"]*)"/i.exec(input[0])?.[1]
    const value = /\bvalue="([^"]*)"/i.exec(input[0])?.[1]
    if (name !== undefined && value !== undefined) fields[name] = decodeHtml(value)
  }
  return { action: decodeHtml(form[1] ?? ''), fields }
}

const decodeHtml = (s: string) => s.replace(/&amp;/g, '&').replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>')

/** Just enough of RFC 6265 for one origin: name, value, Path (prefix match), deletion by Max-Age/Expires. */
class CookieJar {
  private readonly cookies = new Map<string, { value: string; path: string }>()

  store(from: URL, setCookie: string[]) {
    for (const line of setCookie) {
      const [pair = '', ...attributes] = line.split(';').map((s) => s.trim())
      const eq = pair.indexOf('=')
      if (eq <= 0) continue
      const name = pair.slice(0, eq)
      const value = pair.slice(eq + 1)
      const attr = (n: string) => attributes.find((a) => a.toLowerCase().startsWith(`${n}=`))?.slice(n.length + 1)
      const path = attr('path') ?? (from.pathname.replace(/\/[^/]*$/, '') || '/')
      const maxAge = attr('max-age')
      const expires = attr('expires')
      const expired = (maxAge !== undefined && Number(maxAge) <= 0) || (expires !== undefined && Date.parse(expires) <= Date.now())
      const key = `${name}\u0000${path}`
      if (expired) this.cookies.delete(key)
      else this.cookies.set(key, { value, path })
    }
  }

  header(to: URL): string {
    const matches = (path: string) => to.pathname === path || to.pathname.startsWith(path.endsWith('/') ? path : `${path}/`)
    return [...this.cookies.entries()]
      .filter(([, c]) => matches(c.path))
      .map(([key, c]) => `${key.split('\u0000')[0]}=${c.value}`)
      .join('; ')
  }
}

interface Reply {
  status: number
  location: string | undefined
  setCookie: string[]
  body: string
}

/** One HTTPS request trusting `ca` only, no connection reuse, bounded in time. */
function request(url: string, o: { ca: string; method?: string; headers?: Record<string, string>; body?: string }): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = https.request(url, { method: o.method ?? 'GET', headers: o.headers, ca: o.ca, agent: false, timeout: REQUEST_TIMEOUT_MS }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => resolve({
        status: res.statusCode ?? 0,
        location: res.headers.location,
        setCookie: res.headers['set-cookie'] ?? [],
        body: Buffer.concat(chunks).toString('utf8'),
      }))
      res.on('error', reject)
    })
    req.on('timeout', () => req.destroy(new Error(`no answer from ${url} within ${REQUEST_TIMEOUT_MS} ms`)))
    req.on('error', reject)
    req.end(o.body)
  })
}

/**
 * The thumbprint an operator registers, computed as spec §6.2 does: `openssl s_client -showcerts`
 * against the host, SHA-1 of the LAST certificate the server sends, 40 lower-case hex digits.
 * (openssl runs as a child process: the IdP answering it lives in this process, so nothing may block.)
 */
export async function lastSentCertificateSha1(origin: string): Promise<string> {
  const { hostname, port } = new URL(origin)
  const child = spawn('openssl', ['s_client', '-showcerts', '-connect', `${hostname}:${port}`, '-servername', 'localhost'], { stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  child.stdout.setEncoding('utf8').on('data', (s: string) => { out += s })
  const timer = setTimeout(() => child.kill('SIGKILL'), REQUEST_TIMEOUT_MS)
  await new Promise<void>((resolve, reject) => {
    child.once('error', reject)
    child.once('close', () => resolve())
  }).finally(() => clearTimeout(timer))
  const sent = out.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? []
  const last = sent.at(-1)
  if (last === undefined) throw new Error(`openssl s_client printed no certificate for ${origin}`)
  return createHash('sha1').update(new X509Certificate(last).raw).digest('hex')
}
