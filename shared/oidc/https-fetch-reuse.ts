// One keep-alive connection per IdP origin for the requests of ONE issuer fetch (discovery, then the
// JWKS, usually on the same host): one TCP + TLS handshake instead of two. On a cold start without a
// stored JWKS copy that handshake is the largest single item of the IdP fetch (BENCHMARKS.md "Cold
// start"); on a real network it is also one or two round trips.
//
// The thumbprint is still checked on every connection: each NEW connection gets a full handshake
// (maxCachedSessions 0: no TLS session is cached, so none can be resumed, and a resumed session would
// carry no peer chain anyway) whose validated chain is recorded against that socket; a request that
// gets a pooled socket is checked against the chain recorded for that very socket, with its own
// fingerprints, and fails closed when there is none. The SSRF guard ran when the socket connected (the
// address it checks is the address the socket is connected to); reuse never changes that address. The
// pool lives only as long as the fetch: `close()` ends its sockets, nothing is kept between fetches.

import https from 'node:https'
import type { TLSSocket } from 'node:tls'
import type { ChainEntry } from './https-fetch-chain.ts'

export class IdpConnections {
  readonly agent: https.Agent
  // Chains validated at each socket's handshake (rejectUnauthorized passed, chain read). Weak: a
  // closed socket drops out with its chain.
  private readonly chains = new WeakMap<TLSSocket, ChainEntry[]>()

  constructor() {
    // maxSockets 1: the requests of one fetch are sequential, so a second socket per origin would only
    // ever be a second handshake. maxCachedSessions 0: see above.
    this.agent = new https.Agent({ keepAlive: true, maxSockets: 1, maxFreeSockets: 1, maxCachedSessions: 0 })
  }

  /** Records the chain of a socket whose handshake just validated. */
  record(socket: TLSSocket, chain: ChainEntry[]): void {
    this.chains.set(socket, chain)
  }

  /** The chain validated when this socket connected, or undefined (not a socket of this pool, or not yet verified). */
  chainOf(socket: TLSSocket): ChainEntry[] | undefined {
    return this.chains.get(socket)
  }

  /** Ends every socket of the pool. */
  close(): void {
    this.agent.destroy()
  }
}
