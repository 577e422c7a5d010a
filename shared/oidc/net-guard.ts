// SSRF guard for IdP fetches: which IP addresses an issuer or jwks_uri may never reach, and a DNS lookup that enforces it.
//
// Why a lookup function and not a pre-check: a name checked by one resolution and connected by another
// can change in between (DNS rebinding). Handing `guardedLookup` to the socket makes the checked address
// the connected address. Node skips `lookup` for IP literals, so callers check literals themselves with
// `isForbiddenAddress` (after WHATWG URL parsing, which already turns `2130706433`, `0177.0.0.1`,
// `0x7f.1` into `127.0.0.1` and lower-cases/compresses IPv6).

import { lookup as dnsLookup, type LookupAddress, type LookupOptions } from 'node:dns'
import { isIP } from 'node:net'

/** Thrown through the lookup callback; carries no address detail beyond the category. */
export class ForbiddenAddressError extends Error {
  readonly code = 'ERR_FORBIDDEN_ADDRESS'
  constructor(readonly hostname: string, readonly reason: string) {
    super(`the host ${hostname} is not allowed: its address is ${reason}`)
    this.name = 'ForbiddenAddressError'
  }
}

type V4Rule = readonly [network: number, prefix: number, reason: string]

// Order matters only for the reason shown: specific (metadata) entries before their enclosing ranges.
const V4_RULES: readonly V4Rule[] = [
  [v4('169.254.169.254'), 32, 'a cloud metadata address (169.254.169.254)'],
  [v4('100.100.100.200'), 32, 'the Alibaba Cloud metadata address (100.100.100.200)'],
  [v4('255.255.255.255'), 32, 'the broadcast address'],
  [v4('0.0.0.0'), 8, 'a "this network" address (0.0.0.0/8)'],
  [v4('10.0.0.0'), 8, 'a private address (10.0.0.0/8)'],
  [v4('100.64.0.0'), 10, 'a carrier-grade NAT address (100.64.0.0/10)'],
  [v4('127.0.0.0'), 8, 'a loopback address (127.0.0.0/8)'],
  [v4('169.254.0.0'), 16, 'a link-local address (169.254.0.0/16)'],
  [v4('172.16.0.0'), 12, 'a private address (172.16.0.0/12)'],
  [v4('192.0.0.0'), 24, 'an IETF protocol assignment address (192.0.0.0/24)'],
  [v4('192.0.2.0'), 24, 'a documentation address (192.0.2.0/24)'],
  [v4('192.88.99.0'), 24, 'a 6to4 relay anycast address (192.88.99.0/24)'],
  [v4('192.168.0.0'), 16, 'a private address (192.168.0.0/16)'],
  [v4('198.18.0.0'), 15, 'a benchmarking address (198.18.0.0/15)'],
  [v4('198.51.100.0'), 24, 'a documentation address (198.51.100.0/24)'],
  [v4('203.0.113.0'), 24, 'a documentation address (203.0.113.0/24)'],
  [v4('224.0.0.0'), 4, 'a multicast address (224.0.0.0/4)'],
  [v4('240.0.0.0'), 4, 'a reserved address (240.0.0.0/4)'],
]

function v4(dotted: string): number {
  const parts = dotted.split('.').map(Number)
  return ((parts[0]! << 24) | (parts[1]! << 16) | (parts[2]! << 8) | parts[3]!) >>> 0
}

function inV4(addr: number, network: number, prefix: number): boolean {
  const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0
  return ((addr & mask) >>> 0) === network
}

function forbiddenV4(addr: number): string | undefined {
  for (const [network, prefix, reason] of V4_RULES) if (inV4(addr, network, prefix)) return reason
  return undefined
}

/** Eight 16-bit groups of a valid IPv6 text (zone already removed), or undefined. */
function parseV6(text: string): number[] | undefined {
  let s = text
  let tail: number[] = []
  if (s.includes('.')) {
    // Trailing dotted quad (::ffff:1.2.3.4, ::1.2.3.4, 64:ff9b::1.2.3.4): two groups from the IPv4 part.
    const lastColon = s.lastIndexOf(':')
    const quad = s.slice(lastColon + 1)
    if (isIP(quad) !== 4) return undefined
    const n = v4(quad)
    tail = [n >>> 16, n & 0xffff]
    s = s.slice(0, lastColon + 1)
    if (!s.endsWith('::')) s = s.slice(0, -1)
  }
  const halves = s.split('::')
  if (halves.length > 2) return undefined
  const parse = (h: string) => (h === '' ? [] : h.split(':').map((g) => (/^[0-9a-f]{1,4}$/.test(g) ? parseInt(g, 16) : NaN)))
  const head = parse(halves[0]!)
  const rest = halves.length === 2 ? parse(halves[1]!) : []
  const missing = 8 - tail.length - head.length - rest.length
  if (halves.length === 2 && missing < 1) return undefined
  const groups = halves.length === 2 ? [...head, ...new Array<number>(missing).fill(0), ...rest, ...tail] : [...head, ...tail]
  if (groups.length !== 8 || groups.some((g) => !Number.isInteger(g))) return undefined
  return groups
}

const embeddedV4 = (hi: number, lo: number) => (((hi << 16) | lo) >>> 0)

function forbiddenV6(g: number[]): string | undefined {
  const [g0, g1, g2, g3, g4, g5, g6, g7] = g as [number, number, number, number, number, number, number, number]
  const zeroUpTo = (n: number) => g.slice(0, n).every((x) => x === 0)
  if (zeroUpTo(8)) return 'the unspecified IPv6 address (::)'
  if (zeroUpTo(7) && g7 === 1) return 'the IPv6 loopback address (::1)'
  const tagged = (inner: string | undefined, what: string) => (inner === undefined ? undefined : `${inner}, as ${what}`)
  // ::ffff:a.b.c.d (mapped) and ::ffff:0:a.b.c.d (translated, RFC 2765): the socket reaches the IPv4 address.
  if (zeroUpTo(5) && g5 === 0xffff) return tagged(forbiddenV4(embeddedV4(g6, g7)), 'an IPv4-mapped IPv6 address')
  if (zeroUpTo(4) && g4 === 0xffff && g5 === 0) return tagged(forbiddenV4(embeddedV4(g6, g7)), 'an IPv4-translated IPv6 address')
  // ::a.b.c.d (IPv4-compatible, deprecated by RFC 4291): never a legitimate IdP address.
  if (zeroUpTo(6)) return 'an IPv4-compatible IPv6 address (::/96, deprecated)'
  // NAT64 well-known prefix: a DNS64 resolver can point any name here; judge the embedded IPv4.
  if (g0 === 0x64 && g1 === 0xff9b && g2 === 0 && g3 === 0 && g4 === 0 && g5 === 0) {
    return tagged(forbiddenV4(embeddedV4(g6, g7)), 'a NAT64 address (64:ff9b::/96)')
  }
  if (g0 === 0x64 && g1 === 0xff9b && g2 === 1) return 'a local-use NAT64 address (64:ff9b:1::/48)'
  // 6to4 embeds the IPv4 address in bits 16..47.
  if (g0 === 0x2002) return tagged(forbiddenV4(embeddedV4(g1, g2)), 'a 6to4 address (2002::/16)')
  if (g0 === 0x2001 && g1 === 0) return 'a Teredo address (2001::/32)'
  if (g0 === 0x2001 && g1 === 0xdb8) return 'a documentation address (2001:db8::/32)'
  if (g0 === 0x100 && g1 === 0 && g2 === 0 && g3 === 0) return 'a discard-only address (100::/64)'
  if ((g0 & 0xfe00) === 0xfc00) return 'a unique local address (fc00::/7)'
  if ((g0 & 0xffc0) === 0xfe80) return 'a link-local address (fe80::/10)'
  if ((g0 & 0xffc0) === 0xfec0) return 'a site-local address (fec0::/10, deprecated)'
  if ((g0 & 0xff00) === 0xff00) return 'a multicast address (ff00::/8)'
  return undefined
}

/**
 * Why `ip` must not be contacted, or undefined when it is a public unicast address. Anything that is
 * not an IP address in standard notation is refused (fail closed): callers pass resolved addresses or
 * WHATWG-normalised hosts. IPv6 may carry brackets or a zone (`fe80::1%eth0`).
 */
export function isForbiddenAddress(ip: string): string | undefined {
  let s = ip.trim()
  if (s.startsWith('[') && s.endsWith(']')) s = s.slice(1, -1)
  const zone = s.indexOf('%')
  if (zone >= 0) s = s.slice(0, zone)
  const family = isIP(s)
  if (family === 4) return forbiddenV4(v4(s))
  if (family === 6) {
    const groups = parseV6(s.toLowerCase())
    return groups === undefined ? 'an unparsable IPv6 address' : forbiddenV6(groups)
  }
  return 'not an IP address'
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void
/** The resolver the guard wraps; `dns.lookup` by default, injectable for tests. */
export type Resolver = (hostname: string, options: LookupOptions & { all: true }, callback: (err: NodeJS.ErrnoException | null, addresses: LookupAddress[]) => void) => void

const defaultResolver: Resolver = (hostname, options, callback) => dnsLookup(hostname, options, callback)

/**
 * A `dns.lookup`-compatible function for `net`/`tls`/`https` `lookup` options. It resolves every address
 * and refuses the name when ANY of them is forbidden (an attacker-controlled zone may mix a public and a
 * private answer; refusing is clearer to the operator than silently filtering). With `allowPrivate`
 * (ALLOW_PRIVATE_ISSUERS=true, local IdPs) it resolves without checking.
 */
export function guardedLookup(allowPrivate: boolean, resolve: Resolver = defaultResolver) {
  return function lookup(hostname: string, options: LookupOptions | number | LookupCallback, maybeCallback?: LookupCallback): void {
    const callback = (typeof options === 'function' ? options : maybeCallback) as LookupCallback
    const opts: LookupOptions = typeof options === 'object' && options !== null ? options : typeof options === 'number' ? { family: options } : {}
    resolve(hostname, { ...opts, all: true }, (err, addresses) => {
      if (err) return callback(err, opts.all ? [] : '')
      if (addresses.length === 0) {
        const e: NodeJS.ErrnoException = new Error(`no address for ${hostname}`)
        e.code = 'ENOTFOUND'
        return callback(e, opts.all ? [] : '')
      }
      if (!allowPrivate) {
        for (const a of addresses) {
          const reason = isForbiddenAddress(a.address)
          if (reason !== undefined) return callback(new ForbiddenAddressError(hostname, reason) as NodeJS.ErrnoException, opts.all ? [] : '')
        }
      }
      if (opts.all) return callback(null, addresses)
      const first = addresses[0]!
      callback(null, first.address, first.family)
    })
  }
}
