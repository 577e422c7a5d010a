// RFC 3986 percent-encoding exactly as the Alibaba Cloud SDKs apply it when they canonicalise a request.

/**
 * `encodeURIComponent`, then the five sub-delims it leaves alone (`!'()*`) escaped too, so only the
 * RFC 3986 unreserved set (`A-Z a-z 0-9 - _ . ~`) stays literal and a space becomes `%20` (never `+`).
 * This is the SDKs' `encode` byte for byte: any difference, however "more correct", breaks signatures.
 *
 * Throws `URIError` on a lone UTF-16 surrogate, as the SDK does: such a string cannot have been
 * decoded from a URL, so the caller rejects it before canonicalising (see verify.ts).
 */
export function percentEncode(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (c) => SUB_DELIMS[c] ?? c)
}

const SUB_DELIMS: Readonly<Record<string, string>> = {
  '!': '%21',
  "'": '%27',
  '(': '%28',
  ')': '%29',
  '*': '%2A',
}

/** True when the string is well-formed UTF-16, i.e. `percentEncode` will not throw on it. */
export function isWellFormedText(value: string): boolean {
  return !LONE_SURROGATE.test(value)
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/
