// SSRF guard: which addresses are refused, in every spelling, and the DNS lookup that enforces it.
import type { LookupAddress } from 'node:dns'
import { describe, expect, it } from 'vitest'
import { ForbiddenAddressError, guardedLookup, isForbiddenAddress, type Resolver } from '../../shared/oidc/net-guard.ts'

describe('isForbiddenAddress', () => {
  it.each([
    ['127.0.0.1', 'loopback'],
    ['127.255.255.254', 'loopback'],
    ['0.0.0.0', 'this network'],
    ['0.1.2.3', 'this network'],
    ['10.0.0.1', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['192.168.1.1', 'private'],
    ['169.254.169.254', 'metadata'],
    ['169.254.1.1', 'link-local'],
    ['100.100.100.200', 'Alibaba Cloud metadata'],
    ['100.64.0.1', 'carrier-grade NAT'],
    ['100.127.255.255', 'carrier-grade NAT'],
    ['224.0.0.1', 'multicast'],
    ['239.255.255.250', 'multicast'],
    ['240.0.0.1', 'reserved'],
    ['255.255.255.255', 'broadcast'],
    ['198.18.0.1', 'benchmarking'],
    ['::1', 'loopback'],
    ['::', 'unspecified'],
    ['0:0:0:0:0:0:0:1', 'loopback'],
    ['fc00::1', 'unique local'],
    ['fd00:ec2::254', 'unique local'],
    ['fe80::1', 'link-local'],
    ['fe80::1%eth0', 'link-local'],
    ['febf::1', 'link-local'],
    ['ff02::1', 'multicast'],
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:7f00:1', 'loopback'],
    ['::ffff:169.254.169.254', 'metadata'],
    ['::ffff:a9fe:a9fe', 'metadata'],
    ['[::ffff:127.0.0.1]', 'loopback'],
    ['::ffff:0:127.0.0.1', 'loopback'],
    ['::127.0.0.1', 'IPv4-compatible'],
    ['::8.8.8.8', 'IPv4-compatible'],
    ['64:ff9b::127.0.0.1', 'NAT64'],
    ['64:ff9b::a9fe:a9fe', 'metadata'],
    ['64:ff9b:1::1', 'local-use NAT64'],
    ['2002:7f00:1::', '6to4'],
    ['2002:a9fe:a9fe::1', 'metadata'],
    ['2001:0:4136:e378::1', 'Teredo'],
    ['2001:db8::1', 'documentation'],
  ])('refuses %s (%s)', (ip, why) => {
    const reason = isForbiddenAddress(ip)
    expect(reason).toBeDefined()
    expect(reason).toContain(why)
  })

  it.each(['8.8.8.8', '1.1.1.1', '100.63.255.255', '100.128.0.1', '172.32.0.1', '172.15.255.255', '169.253.0.1', '192.169.0.1', '223.255.255.255',
    '2606:4700:4700::1111', '2001:4860:4860::8888', '::ffff:8.8.8.8', '64:ff9b::808:808', '2002:808:808::1'])('allows the public address %s', (ip) => {
    expect(isForbiddenAddress(ip)).toBeUndefined()
  })

  it.each(['localhost', '2130706433', '0177.0.0.1', '0x7f.1', '', '1.2.3', ':::1', '1::2::3'])('refuses %j, which is not an IP address in standard notation', (s) => {
    expect(isForbiddenAddress(s)).toBe('not an IP address')
  })

  it('judges the WHATWG-normalised form of odd IPv4 spellings as loopback', () => {
    for (const spelling of ['2130706433', '0177.0.0.1', '0x7f.1', '0x7f000001', '127.1']) {
      const host = new URL(`https://${spelling}/`).hostname
      expect(host).toBe('127.0.0.1')
      expect(isForbiddenAddress(host)).toContain('loopback')
    }
    expect(isForbiddenAddress(new URL('https://[::ffff:127.0.0.1]/').hostname)).toContain('loopback')
    expect(isForbiddenAddress(new URL('https://[0:0:0:0:0:ffff:a9fe:a9fe]/').hostname)).toContain('metadata')
  })
})

function fakeResolver(answers: Record<string, string[]>): Resolver {
  return (hostname, _options, callback) => {
    const list = answers[hostname]
    if (!list) {
      const e: NodeJS.ErrnoException = new Error('not found')
      e.code = 'ENOTFOUND'
      return callback(e, [])
    }
    callback(null, list.map((address): LookupAddress => ({ address, family: address.includes(':') ? 6 : 4 })))
  }
}

function lookupAsync(fn: ReturnType<typeof guardedLookup>, host: string, options: { all?: boolean } = {}) {
  return new Promise<{ address: unknown; family?: number }>((resolve, reject) =>
    fn(host, options, (err, address, family) => (err ? reject(err) : resolve({ address, family }))),
  )
}

describe('guardedLookup', () => {
  const resolver = fakeResolver({
    'idp.example': ['93.184.216.34'],
    'internal.example': ['10.1.2.3'],
    'rebind.example': ['93.184.216.34', '127.0.0.1'],
    'v6.example': ['2606:4700::6810:84e5'],
    'mapped.example': ['::ffff:169.254.169.254'],
  })

  it('returns public addresses in both callback shapes (single and all)', async () => {
    const lookup = guardedLookup(false, resolver)
    await expect(lookupAsync(lookup, 'idp.example')).resolves.toEqual({ address: '93.184.216.34', family: 4 })
    await expect(lookupAsync(lookup, 'v6.example', { all: true })).resolves.toMatchObject({ address: [{ address: '2606:4700::6810:84e5', family: 6 }] })
  })

  it.each(['internal.example', 'rebind.example', 'mapped.example'])('refuses %s, which resolves to a forbidden address', async (host) => {
    const err = await lookupAsync(guardedLookup(false, resolver), host).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(ForbiddenAddressError)
    expect((err as Error).message).toMatch(new RegExp(`^the host ${host.replace('.', '\\.')} is not allowed`))
  })

  it('refuses localhost through the real resolver', async () => {
    const err = await lookupAsync(guardedLookup(false), 'localhost', { all: true }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(ForbiddenAddressError)
    expect((err as ForbiddenAddressError).reason).toMatch(/loopback/)
  })

  it('resolves without checking when private issuers are allowed', async () => {
    await expect(lookupAsync(guardedLookup(true, resolver), 'internal.example')).resolves.toEqual({ address: '10.1.2.3', family: 4 })
  })

  it('passes resolver errors through', async () => {
    await expect(lookupAsync(guardedLookup(false, resolver), 'nowhere.example')).rejects.toMatchObject({ code: 'ENOTFOUND' })
  })
})
