// The typed failure of an IdP fetch: a closed set of kinds, plus the observed chain when the handshake got that far.
import type { ChainEntry } from './https-fetch-chain.ts'

export type OidcFetchErrorKind =
  | 'forbidden-address'
  | 'not-https'
  | 'unreachable'
  | 'timeout'
  | 'too-large'
  | 'redirect'
  | 'bad-status'
  | 'bad-json'
  | 'certificate-invalid'
  | 'fingerprint-mismatch'

export interface OidcFetchErrorDetails {
  url: string
  /** Host as written in the URL (no port): safe to show. */
  host: string
  /** The validated chain (fingerprint-mismatch), or the chain as sent (certificate-invalid with exactSentChain). */
  chain?: ChainEntry[]
  /** Thumbprint of the last certificate the server sends (spec §6.2): the one to register. */
  lastSentSha1?: string
  /** True when lastSentSha1 comes from a probe of the sent chain, false when approximated. */
  lastSentExact?: boolean
  /** HTTP status for redirect / bad-status. */
  status?: number
  /** Server-side detail (errno or OpenSSL code). Never sent to clients. */
  detail?: string
  cause?: unknown
}

/**
 * `message` is operator-facing and says which check failed; it never contains response bodies. For
 * forbidden addresses it is the same whether or not anything listens there (nothing was contacted).
 */
export class OidcFetchError extends Error {
  readonly kind: OidcFetchErrorKind
  readonly url: string
  readonly host: string
  chain: ChainEntry[] | undefined
  lastSentSha1: string | undefined
  lastSentExact: boolean | undefined
  readonly status: number | undefined
  readonly detail: string | undefined

  constructor(kind: OidcFetchErrorKind, message: string, details: OidcFetchErrorDetails) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause })
    this.name = 'OidcFetchError'
    this.kind = kind
    this.url = details.url
    this.host = details.host
    this.chain = details.chain
    this.lastSentSha1 = details.lastSentSha1
    this.lastSentExact = details.lastSentExact
    this.status = details.status
    this.detail = details.detail
  }
}
