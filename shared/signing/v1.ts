// Legacy RPC signature V1 (HMAC-SHA1, SignatureVersion 1.0), as openapi-core `getRPCSignature` computes it.

import { createHmac } from 'node:crypto'
import { percentEncode } from './percent-encode.ts'
import { compareCodeUnits, type ParamPairs } from './acs3.ts'

/**
 * `METHOD&%2F&pct(name1=value1&name2=value2...)` over every parameter except `Signature`, names and
 * values percent-encoded, sorted by name in UTF-16 code-unit order: the SDK sorts `Object.keys()`
 * with the default comparator (Java's `String.compareTo` agrees). Names are unique here: the
 * verifier rejects a name given twice before it gets this far, as the SDK cannot send one.
 */
export function stringToSignV1(method: string, params: ParamPairs): string {
  const canonicalized = params
    .filter(([name]) => name !== 'Signature')
    .sort((a, b) => compareCodeUnits(a[0], b[0]) || compareCodeUnits(a[1], b[1]))
    .map(([name, value]) => `${percentEncode(name)}=${percentEncode(value)}`)
    .join('&')
  return `${method}&${percentEncode('/')}&${percentEncode(canonicalized)}`
}

/** base64 HMAC-SHA1 keyed with `secret + '&'` (the empty "token secret" of the OAuth 1 heritage). */
export function signV1(secret: string, stringToSign: string): string {
  return createHmac('sha1', `${secret}&`).update(stringToSign, 'utf8').digest('base64')
}
