// GETs one JSON document from an IdP over HTTPS: SSRF guard, validated TLS chain with a registered thumbprint on every connection, timeouts, size cap.
//
// node:https rather than global fetch: undici exposes neither the peer chain nor the connected socket,
// and both are needed to check thumbprints on the very connection the document arrives on.

import type { ClientRequest, IncomingMessage } from 'node:http'
import https from 'node:https'
import { isIP } from 'node:net'
import type { TLSSocket } from 'node:tls'
import { approximateLastSent, type ChainEntry, matchFingerprint, normaliseFingerprints, readPeerChain } from './https-fetch-chain.ts'
import { OidcFetchError } from './https-fetch-error.ts'
import { probeSentChain } from './https-fetch-probe.ts'
import type { IdpConnections } from './https-fetch-reuse.ts'
import { ForbiddenAddressError, guardedLookup, isForbiddenAddress, type Resolver } from './net-guard.ts'

export { OidcFetchError, type OidcFetchErrorKind } from './https-fetch-error.ts'
export { IdpConnections } from './https-fetch-reuse.ts'
export type { ChainEntry } from './https-fetch-chain.ts'

export const FETCH_DEFAULTS = {
  /** DNS + TCP + TLS handshake. */
  connectTimeoutMs: 2_000,
  /** Everything, headers and body included: bounds slow (slowloris) and endless bodies. */
  totalTimeoutMs: 5_000,
  maxBodyBytes: 512 * 1024,
} as const
/** Issue 4: connect and total timeouts are at most 5 s whatever the caller asks. */
export const MAX_TIMEOUT_MS = 5_000
const MAX_BODY_LIMIT = 4 * 1024 * 1024

export interface FetchOptions {
  /** Registered SHA-1 thumbprints (40 hex); the validated chain must contain at least one. */
  fingerprints: readonly string[]
  /** ALLOW_PRIVATE_ISSUERS: skip the SSRF guard (local IdPs). Default false. */
  allowPrivate?: boolean
  /**
   * Trust anchors replacing node's default store (tests; node's rule: `ca` replaces the bundled
   * Mozilla roots and NODE_EXTRA_CA_CERTS). Default: node's store = bundled roots + NODE_EXTRA_CA_CERTS
   * (start node with --use-openssl-ca to use the operating system's store instead).
   */
  ca?: string | Buffer | Array<string | Buffer>
  connectTimeoutMs?: number
  totalTimeoutMs?: number
  maxBodyBytes?: number
  /**
   * Also list the chain exactly as the server sends it (one extra handshake, nothing sent), so
   * `lastSentSha1` is the spec §6.2 openssl answer and certificate-invalid errors carry a chain. For the
   * health check; token exchange leaves it off.
   */
  exactSentChain?: boolean
  /** DNS resolver behind the guard; dns.lookup by default (tests inject one). */
  resolver?: Resolver
  /**
   * A keep-alive pool shared by the requests of one issuer fetch (fetchIssuerKeys: discovery + JWKS).
   * Without it every request has a connection of its own. Either way every connection's chain and
   * thumbprint are checked (https-fetch-reuse.ts).
   */
  connections?: IdpConnections
}

export interface FetchResult {
  status: number
  json: Record<string, unknown>
  /** The validated chain, leaf first, as node reports it (trust-store root appended). */
  chain: ChainEntry[]
  /** The registered fingerprint found in the chain. */
  matchedFingerprint: string
  /** Thumbprint of the last certificate the server sends (spec §6.2); see `lastSentExact`. */
  lastSentSha1: string
  /** True when probed (exactSentChain), false when approximated (approximateLastSent). */
  lastSentExact: boolean
}

// A resumed TLS session carries no peer chain and node skips checkServerIdentity on resumption, so
// resumption would let a connection skip the thumbprint check: every connection gets a fresh full
// handshake. Without a pool (FetchOptions.connections) a request also gets a connection of its own
// (IdP fetches are rare, the JWKS cache sits above).
const agent = new https.Agent({ keepAlive: false, maxCachedSessions: 0 }) // bound: no pooled sockets, zero cached TLS sessions

// OpenSSL verification results (and node's host check) that mean "this chain is not trusted for this host".
const CERTIFICATE_ERRORS = new Set([
  'UNABLE_TO_GET_ISSUER_CERT', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_DECRYPT_CERT_SIGNATURE', 'UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY', 'CERT_SIGNATURE_FAILURE',
  'CERT_NOT_YET_VALID', 'CERT_HAS_EXPIRED', 'ERROR_IN_CERT_NOT_BEFORE_FIELD', 'ERROR_IN_CERT_NOT_AFTER_FIELD',
  'DEPTH_ZERO_SELF_SIGNED_CERT', 'SELF_SIGNED_CERT_IN_CHAIN', 'CERT_CHAIN_TOO_LONG', 'CERT_REVOKED',
  'INVALID_CA', 'PATH_LENGTH_EXCEEDED', 'INVALID_PURPOSE', 'CERT_UNTRUSTED', 'CERT_REJECTED',
  'HOSTNAME_MISMATCH', 'ERR_TLS_CERT_ALTNAME_INVALID', 'ERR_TLS_CERT_ALTNAME_FORMAT',
  'UNABLE_TO_GET_CRL', 'CRL_SIGNATURE_FAILURE', 'CRL_NOT_YET_VALID', 'CRL_HAS_EXPIRED',
  // Node's name for every other OpenSSL verification failure (a too-weak signature digest, a name
  // constraint violated, an unhandled critical extension): the chain is refused all the same.
  'UNSPECIFIED',
])

export interface HttpsTarget {
  url: string
  /** WHATWG-normalised host without IPv6 brackets: what is resolved or connected. */
  hostname: string
  /** Host as shown in messages (brackets kept for IPv6). */
  host: string
  port: number
  path: string
  literalIp: boolean
}

/** Parses with WHATWG URL (normalising decimal/octal/hex IPv4 and IPv6 spellings) and requires plain https. */
export function parseHttpsUrl(url: string): HttpsTarget {
  let u: URL
  try {
    u = new URL(url)
  } catch (cause) {
    throw new OidcFetchError('not-https', 'the URL is not a valid absolute URL', { url, host: '', cause })
  }
  if (u.protocol !== 'https:') {
    throw new OidcFetchError('not-https', `only https URLs are fetched, this one uses ${u.protocol.slice(0, 16)}`, { url, host: u.hostname })
  }
  if (u.username !== '' || u.password !== '') {
    throw new OidcFetchError('not-https', 'URLs with user information are not fetched', { url, host: u.hostname })
  }
  const hostname = u.hostname.startsWith('[') ? u.hostname.slice(1, -1) : u.hostname
  return {
    url,
    hostname,
    host: u.hostname,
    port: u.port === '' ? 443 : Number(u.port),
    path: `${u.pathname}${u.search}`,
    literalIp: isIP(hostname) !== 0,
  }
}

/** Refuses a literal IP host before any socket exists (node does not call `lookup` for literals). */
export function checkLiteralHost(target: HttpsTarget, allowPrivate: boolean): void {
  if (!target.literalIp || allowPrivate) return
  const reason = isForbiddenAddress(target.hostname)
  if (reason !== undefined) {
    const e = new ForbiddenAddressError(target.host, reason)
    throw new OidcFetchError('forbidden-address', e.message, { url: target.url, host: target.host, cause: e })
  }
}

const clampTimeout = (v: number | undefined, fallback: number) =>
  v === undefined || !Number.isFinite(v) ? fallback : Math.min(Math.max(Math.floor(v), 1), MAX_TIMEOUT_MS)

export async function fetchHttpsJson(url: string, opts: FetchOptions): Promise<FetchResult> {
  const target = parseHttpsUrl(url)
  const allowPrivate = opts.allowPrivate === true
  checkLiteralHost(target, allowPrivate)
  const connectTimeoutMs = clampTimeout(opts.connectTimeoutMs, FETCH_DEFAULTS.connectTimeoutMs)
  const probe = () => probeSentChain(target, { allowPrivate, resolver: opts.resolver, timeoutMs: connectTimeoutMs })
  let result: FetchResult
  try {
    result = await requestRetryingPooled(target, opts, connectTimeoutMs)
  } catch (e) {
    if (opts.exactSentChain && e instanceof OidcFetchError && (e.kind === 'fingerprint-mismatch' || e.kind === 'certificate-invalid')) {
      const sent = await probe().catch(() => undefined)
      const last = sent?.[sent.length - 1]
      if (sent !== undefined && last !== undefined) {
        e.chain ??= sent
        e.lastSentSha1 = last.sha1
        e.lastSentExact = true
      }
    }
    throw e
  }
  if (opts.exactSentChain) {
    const sent = await probe().catch(() => undefined)
    const last = sent?.[sent.length - 1]
    if (last !== undefined) return { ...result, lastSentSha1: last.sha1, lastSentExact: true }
  }
  return result
}

/**
 * One request; when it went out on a pooled keep-alive connection that broke (the server may close an
 * idle connection just as it is reused), once more on a new connection, within the same total timeout.
 * GETs are idempotent; the broken socket is destroyed, so the pool cannot hand it out again.
 */
async function requestRetryingPooled(target: HttpsTarget, opts: FetchOptions, connectTimeoutMs: number): Promise<FetchResult> {
  const totalTimeoutMs = clampTimeout(opts.totalTimeoutMs, FETCH_DEFAULTS.totalTimeoutMs)
  const started = performance.now()
  const attempt = { reusedSocket: false }
  try {
    return await request(target, opts, connectTimeoutMs, totalTimeoutMs, attempt)
  } catch (e) {
    const left = Math.floor(totalTimeoutMs - (performance.now() - started))
    if (!attempt.reusedSocket || !(e instanceof OidcFetchError) || e.kind !== 'unreachable' || left < 1) throw e
    return request(target, opts, Math.min(connectTimeoutMs, left), left, { reusedSocket: false })
  }
}

function request(target: HttpsTarget, opts: FetchOptions, connectTimeoutMs: number, totalTimeoutMs: number, attempt: { reusedSocket: boolean }): Promise<FetchResult> {
  const maxBodyBytes = Math.min(Math.max(Math.floor(opts.maxBodyBytes ?? FETCH_DEFAULTS.maxBodyBytes), 1), MAX_BODY_LIMIT)
  const fingerprints = normaliseFingerprints(opts.fingerprints)
  const { url, host } = target
  const fail = (kind: ConstructorParameters<typeof OidcFetchError>[0], message: string, extra: Partial<ConstructorParameters<typeof OidcFetchError>[2]> = {}) =>
    new OidcFetchError(kind, message, { url, host, ...extra })

  return new Promise<FetchResult>((resolve, reject) => {
    let settled = false
    let verified: { chain: ChainEntry[]; matched: string; lastSent: string } | undefined
    let req: ClientRequest | undefined
    const finish = (err: OidcFetchError | undefined, result?: FetchResult) => {
      if (settled) return
      settled = true
      clearTimeout(connectTimer)
      clearTimeout(totalTimer)
      if (err) {
        req?.destroy()
        reject(err)
      } else resolve(result!)
    }
    // Timers are unref'd: an open socket keeps the process alive anyway, a lone timer should not.
    const connectTimer = setTimeout(() => finish(fail('timeout', `could not connect to ${host} within ${connectTimeoutMs} ms`)), connectTimeoutMs)
    connectTimer.unref()
    const totalTimer = setTimeout(() => finish(fail('timeout', `${host} did not deliver the document within ${totalTimeoutMs} ms`)), totalTimeoutMs)
    totalTimer.unref()

    // A new connection: its handshake validated the chain (rejectUnauthorized); read it, remember it for
    // the pool, check the thumbprint.
    const onSecureConnect = (socket: TLSSocket) => {
      clearTimeout(connectTimer)
      // rejectUnauthorized already destroyed untrusted chains; this is the belt to those braces.
      if (!socket.authorized) {
        return finish(fail('certificate-invalid', `the TLS certificate chain of ${host} is not trusted (${String(socket.authorizationError)})`))
      }
      const chain = readPeerChain(socket)
      if (chain.length === 0) {
        return finish(fail('certificate-invalid', `no certificate chain is available for the connection to ${host}`))
      }
      // Only a connection that passed is pooled for the next request (which checks it again, with its own fingerprints).
      if (checkThumbprint(chain)) opts.connections?.record(socket, chain)
    }
    // A pooled connection: the chain validated at its own handshake, checked against THIS request's fingerprints.
    const onPooledSocket = (socket: TLSSocket, chain: ChainEntry[]) => {
      clearTimeout(connectTimer)
      attempt.reusedSocket = true
      if (!socket.authorized) return finish(fail('certificate-invalid', `the TLS certificate chain of ${host} is not trusted (${String(socket.authorizationError)})`))
      checkThumbprint(chain)
    }
    const checkThumbprint = (chain: ChainEntry[]): boolean => {
      const lastSent = approximateLastSent(chain)!
      const matched = matchFingerprint(chain, fingerprints)
      if (matched === undefined) {
        finish(
          fail('fingerprint-mismatch', `none of the registered fingerprints is in the certificate chain of ${host}; the last certificate it sends has the fingerprint ${lastSent}`, {
            chain,
            lastSentSha1: lastSent,
            lastSentExact: false,
          }),
        )
        return false
      }
      verified = { chain, matched, lastSent }
      return true
    }

    const onResponse = (res: IncomingMessage) => {
      // Fail closed if this response did not come over a connection we checked (e.g. a reused socket).
      if (verified === undefined) return finish(fail('certificate-invalid', `the connection to ${host} was not verified`))
      const status = res.statusCode ?? 0
      if (status >= 300 && status < 400) return finish(fail('redirect', `${host} answered with a redirect (status ${status}); redirects are not followed`, { status }))
      if (status < 200 || status >= 300) return finish(fail('bad-status', `${host} answered with status ${status}`, { status }))
      const encoding = res.headers['content-encoding']
      if (encoding !== undefined && encoding.toLowerCase() !== 'identity') {
        return finish(fail('bad-json', `${host} sent a ${encoding.slice(0, 32)}-encoded body although none was accepted`))
      }
      const declared = Number(res.headers['content-length'])
      if (Number.isFinite(declared) && declared > maxBodyBytes) {
        return finish(fail('too-large', `the document from ${host} is larger than ${maxBodyBytes} bytes`))
      }
      const chunks: Buffer[] = []
      let size = 0
      let ended = false
      res.on('data', (chunk: Buffer) => {
        size += chunk.length
        if (size > maxBodyBytes) return finish(fail('too-large', `the document from ${host} is larger than ${maxBodyBytes} bytes`))
        chunks.push(chunk)
      })
      res.on('end', () => {
        ended = true
        let json: Record<string, unknown>
        try {
          json = parseJsonObject(Buffer.concat(chunks, size))
        } catch (e) {
          return finish(fail('bad-json', `the document from ${host} ${(e as Error).message}`))
        }
        const { chain, matched, lastSent } = verified!
        finish(undefined, { status, json, chain, matchedFingerprint: matched, lastSentSha1: lastSent, lastSentExact: false })
      })
      res.on('error', (cause) => finish(fail('unreachable', `the connection to ${host} broke while reading the document`, { cause, detail: errorCode(cause) })))
      res.on('close', () => {
        if (!ended) finish(fail('unreachable', `the connection to ${host} closed before the document was complete`))
      })
    }

    try {
      req = https.request(
        {
          host: target.hostname,
          port: target.port,
          path: target.path,
          method: 'GET',
          headers: { accept: 'application/json', 'accept-encoding': 'identity', 'user-agent': 'oidc-sts' },
          agent: opts.connections?.agent ?? agent,
          // SNI is the URL's host name; TLS forbids IP literals in SNI, the certificate's IP SAN is checked instead.
          ...(target.literalIp ? {} : { servername: target.hostname }),
          lookup: guardedLookup(opts.allowPrivate === true, opts.resolver),
          rejectUnauthorized: true,
          minVersion: 'TLSv1.2',
          ...(opts.ca === undefined ? {} : { ca: opts.ca }),
        },
        onResponse,
      )
    } catch (cause) {
      return finish(fail('unreachable', `could not start a request to ${host}`, { cause }))
    }
    req.on('socket', (socket) => {
      const tlsSocket = socket as TLSSocket
      // A socket the pool hands out again completed (and passed) its handshake before: no secureConnect
      // will come. Any other socket is new and is checked when its handshake completes.
      const pooled = opts.connections?.chainOf(tlsSocket)
      if (pooled !== undefined) onPooledSocket(tlsSocket, pooled)
      else tlsSocket.once('secureConnect', () => onSecureConnect(tlsSocket))
    })
    req.on('error', (e) => finish(mapRequestError(e, target)))
    req.end()
  })
}

function errorCode(e: unknown): string | undefined {
  const code = (e as { code?: unknown } | undefined)?.code
  return typeof code === 'string' ? code : undefined
}

function mapRequestError(e: Error, target: HttpsTarget): OidcFetchError {
  const { url, host } = target
  if (e instanceof ForbiddenAddressError) {
    return new OidcFetchError('forbidden-address', e.message, { url, host, cause: e })
  }
  const code = errorCode(e)
  if (code !== undefined && CERTIFICATE_ERRORS.has(code)) {
    return new OidcFetchError('certificate-invalid', `the TLS certificate chain of ${host} failed validation (${code})`, { url, host, detail: code, cause: e })
  }
  // One message for refused, reset, unreachable and TLS protocol failures: which one happened stays in `detail`.
  return new OidcFetchError('unreachable', `could not connect to ${host}`, { url, host, detail: code ?? e.message, cause: e })
}

const utf8 = new TextDecoder('utf-8', { fatal: true })

/**
 * UTF-8 JSON whose top level is an object. `__proto__` members are dropped while parsing so that no
 * later copy of the document (Object.assign, merges) can change a prototype. Errors say what was
 * wrong, never what the body contained.
 */
export function parseJsonObject(body: Uint8Array): Record<string, unknown> {
  let text: string
  try {
    text = utf8.decode(body)
  } catch {
    throw new Error('is not valid UTF-8')
  }
  let value: unknown
  try {
    value = JSON.parse(text, (key, v: unknown) => (key === '__proto__' ? undefined : v))
  } catch {
    // Includes RangeError from absurd nesting: still just "not JSON" for the caller.
    throw new Error('is not valid JSON')
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error('is not a JSON object')
  return value as Record<string, unknown>
}
