// ACS3-HMAC-SHA256 (Alibaba Cloud V3 signature): Authorization parsing and canonicalisation, pure.

import { createHash, createHmac } from 'node:crypto'
import { ApiError } from '../errors.ts'
import { percentEncode } from './percent-encode.ts'

export const ACS3_ALGORITHM = 'ACS3-HMAC-SHA256'

/** Other V3 algorithms the SDKs can be configured with; named so the error says "unsupported", not "garbage". */
const UNSUPPORTED_ALGORITHMS = new Set(['ACS3-HMAC-SM3', 'ACS3-RSA-SHA256'])

export interface Acs3Authorization {
  algorithm: typeof ACS3_ALGORITHM
  accessKeyId: string
  signedHeaders: string[]
  signature: string
}

export type HeaderValue = string | string[] | undefined
export type RequestHeaders = Readonly<Record<string, HeaderValue>>
export type ParamPairs = ReadonlyArray<readonly [string, string]>

export interface CanonicalInput {
  method: string
  /** The path as it arrived (still percent-encoded), without the query. */
  path: string
  /** DECODED query pairs in arrival order. */
  query: ParamPairs
  /** Lower-case names, as node gives them. */
  headers: RequestHeaders
  /** Lower-hex SHA-256 of the body bytes. */
  hashedPayload: string
}

/**
 * How query parameter NAMES are written into the canonical query string.
 * - `rfc3986` (the documented rule): names percent-encoded like values, pairs sorted by UTF-8 bytes.
 * - `sdk` (what every official SDK actually signs): names written raw, sorted in UTF-16 code-unit
 *   order (`Object.keys(query).sort()`). Identical to `rfc3986` for names made of unreserved ASCII,
 *   i.e. every real API parameter; verify.ts only tries it when the two differ.
 */
export type QueryNameStyle = 'rfc3986' | 'sdk'

/** A signature that is missing a part or malformed (both signature versions). */
export const incomplete = (message: string) => new ApiError('IncompleteSignature', message)

const CREDENTIAL = /^[\x21-\x7E]{1,128}$/
// RFC 9110 token characters, lower-case only: the SDK lower-cases names before signing them.
const HEADER_NAME = /^[a-z0-9!#$%&'*+.^_`|~-]+$/
const HEX_SIGNATURE = /^[0-9a-f]{64}$/
const FIELDS = ['Credential', 'SignedHeaders', 'Signature'] as const
type Field = (typeof FIELDS)[number]

/**
 * Parses `ACS3-HMAC-SHA256 Credential=<id>,SignedHeaders=<a;b>,Signature=<hex>`.
 * Strict about content (so a malformed header never reaches key lookup) but tolerant of spaces after
 * commas, which hand-written clients following other vendors' docs add.
 */
export function parseAcs3Authorization(header: string): Acs3Authorization {
  const trimmed = header.trim()
  const space = trimmed.indexOf(' ')
  const algorithm = space < 0 ? trimmed : trimmed.slice(0, space)
  if (algorithm !== ACS3_ALGORITHM) {
    if (UNSUPPORTED_ALGORITHMS.has(algorithm)) {
      throw incomplete(`The signature algorithm ${algorithm} is not supported; sign with ${ACS3_ALGORITHM}.`)
    }
    throw incomplete(`The Authorization header does not start with the algorithm ${ACS3_ALGORITHM}.`)
  }
  const rest = space < 0 ? '' : trimmed.slice(space + 1).trimStart()
  if (rest === '') throw incomplete('The Authorization header has no Credential, SignedHeaders and Signature.')

  const fields = new Map<Field, string>()
  for (const element of rest.split(',')) {
    const part = element.replace(/^ +/, '')
    if (part === '') throw incomplete('The Authorization header has an empty element.')
    const eq = part.indexOf('=')
    const name = eq < 0 ? part : part.slice(0, eq)
    if (!isField(name)) {
      throw incomplete(`The Authorization header has an unknown element ${describeName(name)}; expected Credential, SignedHeaders and Signature.`)
    }
    if (fields.has(name)) throw incomplete(`The Authorization header gives ${name} more than once.`)
    const value = eq < 0 ? '' : part.slice(eq + 1)
    if (value === '') throw incomplete(`The Authorization header has an empty ${name}.`)
    fields.set(name, value)
  }
  for (const name of FIELDS) {
    if (!fields.has(name)) throw incomplete(`The Authorization header has no ${name}.`)
  }

  const accessKeyId = fields.get('Credential') as string
  if (!CREDENTIAL.test(accessKeyId)) {
    throw incomplete('The Authorization Credential must be an AccessKeyId of 1 to 128 visible ASCII characters.')
  }
  const signature = fields.get('Signature') as string
  if (!HEX_SIGNATURE.test(signature)) {
    throw incomplete('The Authorization Signature must be 64 lower-case hexadecimal characters.')
  }
  return { algorithm: ACS3_ALGORITHM, accessKeyId, signedHeaders: parseSignedHeaders(fields.get('SignedHeaders') as string), signature }
}

function isField(name: string): name is Field {
  return (FIELDS as readonly string[]).includes(name)
}

// Client-supplied text goes into an error message only when it is short and harmless.
function describeName(name: string): string {
  return /^[A-Za-z]{1,32}$/.test(name) ? `"${name}"` : '(unprintable)'
}

function parseSignedHeaders(list: string): string[] {
  const names = list.split(';')
  for (const [i, name] of names.entries()) {
    if (name === '') throw incomplete('The Authorization SignedHeaders has an empty header name.')
    if (!HEADER_NAME.test(name)) {
      throw incomplete('The Authorization SignedHeaders must list lower-case header names separated by ";".')
    }
    const previous = names[i - 1]
    if (previous !== undefined && previous === name) {
      throw incomplete(`The Authorization SignedHeaders lists ${name} more than once.`)
    }
    // Sorted input is part of the format: it makes the canonical form unique and is what SDKs send.
    if (previous !== undefined && previous > name) {
      throw incomplete('The Authorization SignedHeaders must be sorted.')
    }
  }
  return names
}

/**
 * Names that must appear in SignedHeaders for this request: `host` always, `content-type` when sent,
 * every `x-acs-*` sent. Without this an attacker could add or change an unsigned `x-acs-security-token`
 * or `content-type` on a captured request and keep its signature valid.
 */
export function requiredSignedHeaders(headers: RequestHeaders): string[] {
  const required = new Set(['host'])
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue
    const lower = name.toLowerCase()
    if (lower === 'content-type' || lower.startsWith('x-acs-')) required.add(lower)
  }
  return [...required].sort()
}

/** The required headers (see `requiredSignedHeaders`) that the client left out of SignedHeaders. */
export function unsignedRequiredHeaders(headers: RequestHeaders, signedHeaders: readonly string[]): string[] {
  const signed = new Set(signedHeaders)
  return requiredSignedHeaders(headers).filter((name) => !signed.has(name))
}

/** Signed header names that the request does not carry (it cannot have been signed as listed). */
export function absentSignedHeaders(headers: RequestHeaders, signedHeaders: readonly string[]): string[] {
  return signedHeaders.filter((name) => canonicalHeaderValue(headers, name) === undefined)
}

// Duplicate headers arrive as an array: values trimmed, sorted and comma-joined, as the SDK does.
// Inner whitespace is kept as-is because the SDK keeps it. Own properties only: the names come from the
// client's SignedHeaders, and `constructor` or `__proto__` would otherwise read Object.prototype.
function canonicalHeaderValue(headers: RequestHeaders, name: string): string | undefined {
  if (!Object.hasOwn(headers, name)) return undefined
  const value: unknown = headers[name]
  if (typeof value === 'string') return value.trim()
  if (!Array.isArray(value) || value.length === 0 || !value.every((v): v is string => typeof v === 'string')) return undefined
  return value.map((v) => v.trim()).sort().join(',')
}

export function canonicalQueryStringV3(query: ParamPairs, nameStyle: QueryNameStyle = 'rfc3986'): string {
  const pairs = [...query]
  if (nameStyle === 'rfc3986') {
    pairs.sort((a, b) => compareBytes(a[0], b[0]) || compareBytes(a[1], b[1]))
    return pairs.map(([name, value]) => `${percentEncode(name)}=${percentEncode(value)}`).join('&')
  }
  pairs.sort((a, b) => compareCodeUnits(a[0], b[0]) || compareCodeUnits(a[1], b[1]))
  return pairs.map(([name, value]) => `${name}=${percentEncode(value)}`).join('&')
}

// The SDK's path mapping; for RPC the path is always "/" so this only matters for odd paths.
function canonicalUri(path: string): string {
  if (path === '') return '/'
  return path.replace(/\+/g, '%20').replace(/\*/g, '%2A').replace(/%7E/g, '~')
}

/**
 * `METHOD\nURI\nQUERY\nHEADERS\n\nSIGNED\nPAYLOAD` over the headers the client listed.
 * Canonicalises from the DECODED query: SDKs send `(`, `)`, `*`, `!`, `'` unescaped in the URL
 * (node's querystring) but sign them escaped, so re-encoding decoded values is what matches.
 */
export function buildCanonicalRequestV3(
  req: CanonicalInput,
  signedHeaders: readonly string[],
  nameStyle: QueryNameStyle = 'rfc3986',
): string {
  let canonicalHeaders = ''
  for (const name of signedHeaders) {
    const value = canonicalHeaderValue(req.headers, name)
    if (value === undefined) throw incomplete(`The signed header ${name} is absent from the request.`)
    canonicalHeaders += `${name}:${value}\n`
  }
  return [
    req.method,
    canonicalUri(req.path),
    canonicalQueryStringV3(req.query, nameStyle),
    canonicalHeaders,
    signedHeaders.join(';'),
    req.hashedPayload,
  ].join('\n')
}

export function hashPayload(body: Buffer | string): string {
  return createHash('sha256').update(body).digest('hex')
}

export function stringToSignV3(canonicalRequest: string): string {
  return `${ACS3_ALGORITHM}\n${createHash('sha256').update(canonicalRequest, 'utf8').digest('hex')}`
}

export function signV3(secret: string, stringToSign: string): string {
  return createHmac('sha256', secret).update(stringToSign, 'utf8').digest('hex')
}

// UTF-8 byte order equals Unicode code-point order; it differs from JS's default (UTF-16) order only
// between astral characters and U+E000..U+FFFF.
function compareBytes(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'))
}

export function compareCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}
