// Lists the certificates a TLS server actually sends (spec §6.2's openssl view), for operators: never used to trust anything.
//
// Node's peer chain appends issuers from the trust store (spec §6.3), so it cannot tell which
// certificates the server sent. A handshake against an EMPTY trust store (`ca: []`) cannot append
// anything: the chain node reports is exactly the server's. Verification is necessarily off on this
// connection, so it sends no application data and its result only feeds messages and the health check.

import { connect, type TLSSocket } from 'node:tls'
import { type ChainEntry, readPeerChain } from './https-fetch-chain.ts'
import type { HttpsTarget } from './https-fetch.ts'
import { guardedLookup, isForbiddenAddress, type Resolver } from './net-guard.ts'

export interface ProbeOptions {
  allowPrivate: boolean
  resolver?: Resolver | undefined
  timeoutMs: number
}

export function probeSentChain(target: Pick<HttpsTarget, 'hostname' | 'port' | 'literalIp'>, opts: ProbeOptions): Promise<ChainEntry[]> {
  // The same SSRF rules as the fetch itself: literal hosts here, names in the lookup.
  if (target.literalIp && !opts.allowPrivate && isForbiddenAddress(target.hostname) !== undefined) {
    return Promise.reject(new Error('forbidden address'))
  }
  return new Promise((resolve, reject) => {
    let socket: TLSSocket | undefined
    const timer = setTimeout(() => {
      socket?.destroy()
      reject(new Error('probe timed out'))
    }, opts.timeoutMs)
    timer.unref()
    socket = connect({
      host: target.hostname,
      port: target.port,
      ...(target.literalIp ? {} : { servername: target.hostname }),
      lookup: guardedLookup(opts.allowPrivate, opts.resolver),
      ca: [],
      rejectUnauthorized: false,
      minVersion: 'TLSv1.2',
    })
    socket.once('secureConnect', () => {
      clearTimeout(timer)
      const chain = readPeerChain(socket!)
      socket!.destroy()
      resolve(chain)
    })
    socket.once('error', (e) => {
      clearTimeout(timer)
      socket!.destroy()
      reject(e)
    })
  })
}
