// Reads the validated TLS chain of an IdP connection and matches it against registered SHA-1 thumbprints (spec §6).
import { createHash, X509Certificate } from 'node:crypto'
import type { DetailedPeerCertificate, TLSSocket } from 'node:tls'

/** One certificate of a chain as an operator needs to see it (health check, mismatch errors). */
export interface ChainEntry {
  /** Distinguished name, e.g. `CN=R11, O=Let's Encrypt, C=US`. */
  subject: string
  issuer: string
  /** SHA-1 of the DER bytes, 40 lower-case hex digits: the thumbprint form of spec §6.1. */
  sha1: string
  /** ISO 8601; empty when the certificate's date cannot be read. */
  notAfter: string
  selfSigned: boolean
}

/** Real chains are 2-4 long; the walk stops here whatever the peer sends. */
const MAX_CHAIN_LENGTH = 10

const FINGERPRINT = /^[0-9a-f]{40}$/

/** Lower-cases, drops anything that is not 40 hex digits, removes duplicates. */
export function normaliseFingerprints(fingerprints: readonly string[]): string[] {
  return [...new Set(fingerprints.map((f) => f.trim().toLowerCase()).filter((f) => FINGERPRINT.test(f)))]
}

function formatName(name: Record<string, string | string[] | undefined> | undefined): string {
  if (!name) return ''
  return Object.entries(name)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}=${Array.isArray(v) ? v.join('+') : v}`)
    .join(', ')
}

function isoDate(text: string | undefined): string {
  const ms = text === undefined ? NaN : Date.parse(text)
  return Number.isFinite(ms) ? new Date(ms).toISOString() : ''
}

/**
 * The peer chain as node reports it: leaf first, then each `issuerCertificate`. Node builds it from the
 * certificates the server sent and then appends issuers found in the trust store (spec §6.3), so the
 * last entry is usually the trust-store root although the server did not send it. On a resumed TLS
 * session node has no chain at all and this returns [] (callers then fail closed).
 *
 * Node links those certificates by name and key identifier only, not by the chain OpenSSL verified:
 * a server could send, beside its valid chain, a forged (say, expired, so OpenSSL passes over it)
 * certificate with its intermediate's name and key "issued" by any public CA certificate, which it
 * then sends too, and that certificate would be matched against the registered fingerprints. So the
 * walk ends at the first certificate whose key did not sign the one before it: what remains is a chain
 * of real signatures from the leaf OpenSSL validated. (Dates are not checked: an expired cross-signed
 * root that a server sends last is what the spec's openssl recipe has operators register, and its
 * issuer did sign it.)
 */
export function readPeerChain(socket: TLSSocket): ChainEntry[] {
  const out: ChainEntry[] = []
  const seen = new Set<string>()
  let cert: DetailedPeerCertificate | undefined = socket.getPeerCertificate(true)
  let child: X509Certificate | undefined
  while (cert && Buffer.isBuffer(cert.raw) && cert.raw.length > 0 && out.length < MAX_CHAIN_LENGTH) {
    const sha1 = createHash('sha1').update(cert.raw).digest('hex')
    if (seen.has(sha1)) break
    seen.add(sha1)
    const x509 = parseCertificate(cert.raw)
    if (x509 === undefined || (child !== undefined && !signedBy(child, x509))) break
    child = x509
    const next: DetailedPeerCertificate | undefined = cert.issuerCertificate
    out.push({
      subject: formatName(cert.subject as unknown as Record<string, string | string[]>),
      issuer: formatName(cert.issuer as unknown as Record<string, string | string[]>),
      sha1,
      notAfter: isoDate(cert.valid_to),
      selfSigned: next === cert || (next !== undefined && Buffer.isBuffer(next.raw) && next.raw.equals(cert.raw)),
    })
    cert = next
  }
  return out
}

function parseCertificate(der: Buffer): X509Certificate | undefined {
  try {
    return new X509Certificate(der)
  } catch {
    return undefined
  }
}

/** Whether `issuer`'s key verifies `child`'s signature (and names it as its issuer). */
function signedBy(child: X509Certificate, issuer: X509Certificate): boolean {
  try {
    return child.checkIssued(issuer) && child.verify(issuer.publicKey)
  } catch {
    return false
  }
}

/**
 * True when normalised `fingerprints` vouch for both connections a set of keys arrived over (the
 * discovery document's and the JWKS's): each validated chain holds at least one of them.
 */
export function chainsVouchFor(chains: { discoveryChain: readonly ChainEntry[]; jwksChain: readonly ChainEntry[] }, fingerprints: readonly string[]): boolean {
  return chains.discoveryChain.some((c) => fingerprints.includes(c.sha1)) && chains.jwksChain.some((c) => fingerprints.includes(c.sha1))
}

/** The first registered fingerprint found anywhere in the validated chain (a match on any certificate counts, spec §6.1). */
export function matchFingerprint(chain: readonly ChainEntry[], fingerprints: readonly string[]): string | undefined {
  const present = new Set(chain.map((c) => c.sha1))
  return normaliseFingerprints(fingerprints).find((f) => present.has(f))
}

/**
 * Approximates the spec §6.2 openssl recipe ("the last certificate the server sends") from node's
 * chain: drop a trailing self-signed certificate (node appends the trust-store root) unless it is the
 * only one. Differs from openssl when the server itself sends its root (openssl: the root; here: the
 * certificate below it) or sends only its leaf while the trust store holds the intermediate
 * (openssl: the leaf; here: the intermediate). Both answers are in the validated chain, so either
 * works as a registered fingerprint here; `probeSentChain` gives the exact answer.
 */
export function approximateLastSent(chain: readonly ChainEntry[]): string | undefined {
  const last = chain[chain.length - 1]
  if (last === undefined) return undefined
  if (chain.length > 1 && last.selfSigned) return chain[chain.length - 2]!.sha1
  return last.sha1
}
