// IPv4/IPv6 address and CIDR parsing for the IpAddress / NotIpAddress condition operators, by hand.

/**
 * Every address lives in one 128-bit space: IPv6 as is, IPv4 as its IPv4-mapped IPv6 form
 * (`::ffff:a.b.c.d`). A client that reaches a dual-stack listener over IPv4 is often reported as
 * `::ffff:10.0.0.1`; mapping both spellings to the same number lets `10.0.0.0/8` match it.
 */
export interface IpNetwork {
  readonly address: bigint
  /** Prefix length in the 128-bit space (an IPv4 `/8` is stored as `/104`). */
  readonly prefix: number
}

const IPV4_MAPPED_PREFIX = 0xffffn << 32n
const DECIMAL_OCTET = /^(?:0|[1-9][0-9]{0,2})$/
const HEX_GROUP = /^[0-9a-fA-F]{1,4}$/
const PREFIX_LENGTH = /^(?:0|[1-9][0-9]{0,2})$/

/** Parses a plain IPv4 or IPv6 address (no prefix, no zone); undefined when malformed. */
export function parseIpAddress(text: string): bigint | undefined {
  if (text.includes(':')) return parseIpv6(text)
  const v4 = parseIpv4(text)
  return v4 === undefined ? undefined : IPV4_MAPPED_PREFIX | BigInt(v4)
}

/** Parses `address` or `address/prefix` (IPv4 or IPv6); undefined when malformed. */
export function parseIpNetwork(text: string): IpNetwork | undefined {
  const slash = text.indexOf('/')
  const addressText = slash === -1 ? text : text.slice(0, slash)
  const isV6 = addressText.includes(':')
  const address = parseIpAddress(addressText)
  if (address === undefined) return undefined
  const width = isV6 ? 128 : 32
  let prefix = width
  if (slash !== -1) {
    const prefixText = text.slice(slash + 1)
    if (!PREFIX_LENGTH.test(prefixText)) return undefined
    prefix = Number(prefixText)
    if (prefix > width) return undefined
  }
  // Host bits set in a CIDR (`10.1.2.3/8`) are accepted and ignored, as routers and IAM do.
  return { address, prefix: isV6 ? prefix : prefix + 96 }
}

export function isInNetwork(address: bigint, network: IpNetwork): boolean {
  // An IPv4 client is covered only by networks inside ::ffff:0:0/96 (IPv4 ranges, or the same spelled
  // as IPv6), not by a wider IPv6 range such as ::/0 that contains the mapped block by accident.
  if (network.prefix < 96 && address >> 32n === 0xffffn) return false
  const shift = BigInt(128 - network.prefix)
  return address >> shift === network.address >> shift
}

function parseIpv4(text: string): number | undefined {
  const parts = text.split('.')
  if (parts.length !== 4) return undefined
  let value = 0
  for (const part of parts) {
    // Leading zeros are refused: some parsers read `010` as octal, so its meaning is ambiguous.
    if (!DECIMAL_OCTET.test(part)) return undefined
    const octet = Number(part)
    if (octet > 255) return undefined
    value = value * 256 + octet
  }
  return value
}

function parseIpv6(text: string): bigint | undefined {
  // Zone IDs (`fe80::1%eth0`) name an interface, not a network: never valid in a policy or request.
  if (text.length > 45 || text.includes('%')) return undefined
  const gap = text.indexOf('::')
  if (gap !== -1 && text.indexOf('::', gap + 1) !== -1) return undefined
  const headText = gap === -1 ? text : text.slice(0, gap)
  const tailText = gap === -1 ? '' : text.slice(gap + 2)
  // A dotted IPv4 part may only end the address (`::ffff:10.0.0.1`), so only the final side may hold one.
  const head = parseGroups(headText, gap === -1)
  const tail = parseGroups(tailText, true)
  if (head === undefined || tail === undefined) return undefined
  const count = head.length + tail.length
  // Without a gap all eight groups are spelled out; `::` stands for at least one zero group.
  if (gap === -1 ? count !== 8 : count > 7) return undefined
  let value = 0n
  for (const n of [...head, ...new Array<number>(8 - count).fill(0), ...tail]) value = (value << 16n) | BigInt(n)
  return value
}

/** Colon-separated 16-bit groups; `''` is no group. The last one may be dotted IPv4 when `allowV4Tail`. */
function parseGroups(text: string, allowV4Tail: boolean): number[] | undefined {
  if (text === '') return []
  const parts = text.split(':')
  const numbers: number[] = []
  for (const [i, part] of parts.entries()) {
    if (allowV4Tail && i === parts.length - 1 && part.includes('.')) {
      const v4 = parseIpv4(part)
      if (v4 === undefined) return undefined
      numbers.push(Math.floor(v4 / 65536), v4 % 65536)
    } else if (HEX_GROUP.test(part)) {
      numbers.push(Number.parseInt(part, 16))
    } else {
      return undefined
    }
  }
  return numbers
}
