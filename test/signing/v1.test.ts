// Legacy RPC V1 (HMAC-SHA1) string to sign and signature against the worked example of spec §5.5.

import { describe, it, expect } from 'vitest'
import { signV1, stringToSignV1 } from '../../shared/signing/v1.ts'

const params: Array<[string, string]> = [
  ['AccessKeyId', 'LTAI5tExampleKeyId000'],
  ['Action', 'AssumeRole'],
  ['DurationSeconds', '3600'],
  ['Format', 'JSON'],
  ['RoleArn', 'acs:ram::1234567890123456:role/demo-role'],
  ['RoleSessionName', 'alice@example'],
  ['SignatureMethod', 'HMAC-SHA1'],
  ['SignatureNonce', '3b1a5b6e0b0f4c33a1b2c3d4e5f60718'],
  ['SignatureVersion', '1.0'],
  ['Timestamp', '2024-01-01T00:00:00Z'],
  ['Version', '2015-04-01'],
]
const EXPECTED_STRING_TO_SIGN =
  'POST&%2F&AccessKeyId%3DLTAI5tExampleKeyId000%26Action%3DAssumeRole%26DurationSeconds%3D3600%26Format%3DJSON%26RoleArn%3Dacs%253Aram%253A%253A1234567890123456%253Arole%252Fdemo-role%26RoleSessionName%3Dalice%2540example%26SignatureMethod%3DHMAC-SHA1%26SignatureNonce%3D3b1a5b6e0b0f4c33a1b2c3d4e5f60718%26SignatureVersion%3D1.0%26Timestamp%3D2024-01-01T00%253A00%253A00Z%26Version%3D2015-04-01'

describe('V1 worked example (spec §5.5)', () => {
  it('reproduces the string to sign and the signature', () => {
    const toSign = stringToSignV1('POST', params)
    expect(toSign).toBe(EXPECTED_STRING_TO_SIGN)
    expect(signV1('ExampleSecretForDocsOnly000000', toSign)).toBe('cqQ1MTdYkRnHncKCGO6wFmxQFmY=')
  })

  it('ignores the Signature parameter and the arrival order', () => {
    const shuffled = [...params].reverse()
    shuffled.splice(3, 0, ['Signature', 'cqQ1MTdYkRnHncKCGO6wFmxQFmY='])
    expect(stringToSignV1('POST', shuffled)).toBe(EXPECTED_STRING_TO_SIGN)
  })

  it('does not reorder the caller\'s array', () => {
    const input: Array<[string, string]> = [['b', '1'], ['a', '2']]
    stringToSignV1('GET', input)
    expect(input).toEqual([['b', '1'], ['a', '2']])
  })
})
