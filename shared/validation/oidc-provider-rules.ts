// Parameter rules of the IMS OIDC provider actions (alibaba-api.md §3.1), shared by management and
// token exchange (which parses provider ARNs and applies the same name rules).

import { ApiError, invalidParameter } from '../errors.ts'
import { checkString, type StringRule } from './params.ts'

export const PROVIDER_LIMITS = {
  providersPerAccount: 100,
  clientIdsPerProvider: 50,
  fingerprintsPerProvider: 5,
  issuanceLimitTime: { min: 1, max: 168, default: 12 },
  descriptionMax: 256,
  listMaxItems: { min: 1, max: 100, default: 100 },
} as const

// Letters, digits, '.', '-', '_'; must start and end with a letter or digit (a single character is allowed).
export const PROVIDER_NAME_RULE: StringRule = {
  max: 128,
  pattern: /^[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?$/,
  patternHint: 'letters, digits, ".", "-" and "_", starting and ending with a letter or digit',
}

export const DESCRIPTION_RULE: StringRule = { max: PROVIDER_LIMITS.descriptionMax }

const CLIENT_ID_RULE: StringRule = {
  max: 128,
  pattern: /^[A-Za-z0-9][A-Za-z0-9._:/-]*$/,
  patternHint: 'letters, digits, ".", "-", "_", ":" and "/", starting with a letter or digit',
}

export function checkClientId(name: string, value: string): string {
  return checkString(name, value, CLIENT_ID_RULE)
}

/** A SHA-1 certificate fingerprint: 40 hex digits, stored lower-case (colons are not accepted). */
export function checkFingerprint(name: string, value: string): string {
  if (!/^[A-Za-z0-9]+$/.test(value)) {
    throw invalidParameter(name, 'InvalidChars', `The parameter "${name}" must be hex digits without separators (e.g. 902ef2deeb3c5b13ea4c3d5193629309e231ae55).`)
  }
  if (!/^[0-9A-Fa-f]{40}$/.test(value)) {
    throw invalidParameter(name, 'Format', `The parameter "${name}" must be a SHA-1 fingerprint of 40 hex digits (got ${value.length} characters).`)
  }
  return value.toLowerCase()
}

export const normaliseFingerprint = (v: string) => v.toLowerCase()

/**
 * IssuerUrl: https only, <= 255 characters, a valid absolute URL with a host, and no query, fragment
 * or userinfo. Kept exactly as given (tokens' `iss` must equal it byte for byte).
 */
export function checkIssuerUrl(name: string, value: string): string {
  if (value.length > 255) {
    throw invalidParameter(name, 'Length', `The parameter "${name}" must be at most 255 characters long (got ${value.length}).`)
  }
  const format = (why: string) => invalidParameter(name, 'Format', `The parameter "${name}" is not a valid issuer URL: ${why}.`)
  if (/[\s\u0000-\u001f\u007f]/.test(value)) throw format('it contains whitespace or control characters')
  if (!/^https:\/\//.test(value)) throw format('it must start with "https://"')
  // The URL parser silently repairs these ("https:///h" -> "https://h/", a backslash -> "/"): the stored value
  // would then differ from the `iss` any IdP sends, so refuse them rather than keep a URL that never matches.
  if (/^https:\/\/\//.test(value) || value.includes('\\')) throw format('it must name a host right after "https://" and contain no "\\"')
  let url: URL
  try {
    url = new URL(value)
  } catch {
    throw format('it cannot be parsed')
  }
  if (url.protocol !== 'https:') throw format('it must use https')
  if (url.username !== '' || url.password !== '' || /^https:\/\/[^/]*@/.test(value)) throw format('it must not contain userinfo')
  if (value.includes('?')) throw format('it must not contain a query')
  if (value.includes('#')) throw format('it must not contain a fragment')
  if (url.hostname === '') throw format('it has no host')
  return value
}

export function providerArn(accountId: string, name: string): string {
  return `acs:ram::${accountId}:oidc-provider/${name}`
}

/** Parses `acs:ram::<16 digits>:oidc-provider/<name>`; failure -> InvalidParameter.<param>.Format. */
export function parseProviderArn(param: string, arn: string): { accountId: string; name: string } {
  const m = /^acs:ram::(\d{16}):oidc-provider\/(.+)$/.exec(arn)
  if (!m || !PROVIDER_NAME_RULE.pattern!.test(m[2]!) || m[2]!.length > 128) {
    throw new ApiError(`InvalidParameter.${param}.Format`, `The parameter "${param}" must look like acs:ram::<accountId>:oidc-provider/<name>.`)
  }
  return { accountId: m[1]!, name: m[2]! }
}
