import { describe, expect, it } from 'vitest'
import { isInNetwork, parseIpAddress, parseIpNetwork } from '../../shared/policy/ip-address.ts'

describe('parseIpAddress', () => {
  it.each([
    ['0.0.0.0', 0xffff00000000n],
    ['10.0.0.1', 0xffff0a000001n],
    ['255.255.255.255', 0xffffffffffffn],
    ['::ffff:10.0.0.1', 0xffff0a000001n],
    ['::ffff:a00:1', 0xffff0a000001n],
    ['::', 0n],
    ['::1', 1n],
    ['1::', 1n << 112n],
    ['2001:db8::8a2e:370:7334', 0x20010db80000000000008a2e03707334n],
    ['2001:DB8:0:0:0:0:0:1', 0x20010db8000000000000000000000001n],
    ['1:2:3:4:5:6:7:8', 0x00010002000300040005000600070008n],
    ['1:2:3:4:5:6:1.2.3.4', 0x00010002000300040005000601020304n],
    ['1::2:3:4:5:6:7', 0x00010000000200030004000500060007n],
  ])('reads %s', (text, expected) => {
    expect(parseIpAddress(text)).toBe(expected)
  })

  it.each([
    '',
    '1.2.3',
    '1.2.3.4.5',
    '256.1.1.1',
    '01.2.3.4',
    '1.2.3.-4',
    '1.2.3.4/32',
    ' 1.2.3.4',
    ':::',
    '1:::2',
    '1::2::3',
    '1:2:3:4:5:6:7',
    '1:2:3:4:5:6:7:8:9',
    '1:2:3:4:5:6:7::8',
    '12345::',
    'g::1',
    ':1::',
    '1::2:',
    '1.2.3.4::',
    '::1.2.3.4:5',
    'fe80::1%eth0',
    '::ffff:256.0.0.1',
  ])('refuses %j', (text) => {
    expect(parseIpAddress(text)).toBeUndefined()
  })
})

describe('parseIpNetwork and isInNetwork', () => {
  const inside = (cidr: string, ip: string) => {
    const network = parseIpNetwork(cidr)
    const address = parseIpAddress(ip)
    if (network === undefined || address === undefined) throw new Error(`bad fixture ${cidr} ${ip}`)
    return isInNetwork(address, network)
  }

  it.each([
    ['10.0.0.0/8', '10.255.1.2', true],
    ['10.0.0.0/8', '11.0.0.1', false],
    ['10.1.2.3/8', '10.9.9.9', true], // host bits are ignored
    ['192.168.1.0/24', '192.168.1.255', true],
    ['192.168.1.0/24', '192.168.2.0', false],
    ['192.168.1.7', '192.168.1.7', true], // a plain address is a /32
    ['192.168.1.7', '192.168.1.8', false],
    ['0.0.0.0/0', '203.0.113.5', true],
    ['0.0.0.0/0', '2001:db8::1', false], // IPv4 "anything" does not cover IPv6
    ['10.0.0.0/8', '::ffff:10.1.1.1', true], // IPv4-mapped request address
    ['::ffff:10.0.0.0/104', '10.2.3.4', true],
    ['2001:db8::/32', '2001:db8:ffff::1', true],
    ['2001:db8::/32', '2001:db9::1', false],
    ['2001:db8::1', '2001:db8::1', true],
    ['2001:db8::1/128', '2001:db8::2', false],
    ['::/0', '10.0.0.1', false], // IPv6 "anything" does not cover IPv4 clients (as in IAM)
    ['::/0', '::ffff:10.0.0.1', false],
    ['::/0', '2001:db8::1', true],
    ['::ffff:0:0/96', '10.0.0.1', true], // the IPv4-mapped block itself does
    ['::/64', '::ffff:10.0.0.1', false],
    ['fe80::/10', 'febf::1', true],
    ['fe80::/10', 'fec0::1', false],
  ])('%s contains %s -> %s', (cidr, ip, expected) => {
    expect(inside(cidr, ip)).toBe(expected)
  })

  it.each(['10.0.0.0/33', '10.0.0.0/', '10.0.0.0/08', '10.0.0.0/-1', '::/129', '10.0.0.0/8/8', 'example.com/8'])('refuses %j', (text) => {
    expect(parseIpNetwork(text)).toBeUndefined()
  })
})
