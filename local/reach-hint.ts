// What to tell someone whose `npm run demo` or `npm run accounts` cannot talk to the server: a refused
// connection means nothing listens (start it), but a reset or a TLS error means something does listen,
// in another way than the tool expected (HTTPS, or a certificate it does not trust): "start the server"
// would then be the wrong advice.

const TLS_TRUST_CODES = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_HAS_EXPIRED',
  'ERR_TLS_CERT_ALTNAME_INVALID',
])
const NOT_PLAIN_HTTP_CODES = new Set(['UND_ERR_SOCKET', 'ECONNRESET', 'HPE_INVALID_CONSTANT', 'HPE_INVALID_HEADER_TOKEN'])

/** The error code of a failed fetch (undici puts the system's in `cause`). */
export function fetchFailureCode(e: unknown): string | undefined {
  const err = e as { name?: string; cause?: { code?: string } }
  return err.cause?.code ?? err.name
}

/**
 * Advice for a failed fetch of `origin`, or undefined when nothing listens there (ECONNREFUSED: the
 * caller's own "start the server" advice applies) or the failure says nothing more specific.
 */
export function reachHint(code: string | undefined, origin: string): string | undefined {
  if (code !== undefined && TLS_TRUST_CODES.has(code)) {
    return `Something answers at ${origin} over HTTPS with a certificate this process does not trust (${code}): set NODE_EXTRA_CA_CERTS to the CA that signed npm start's TLS_CERT_FILE.`
  }
  if (code !== undefined && NOT_PLAIN_HTTP_CODES.has(code) && origin.startsWith('http:')) {
    return `Something listens at ${origin} but does not answer plain HTTP (${code}): if npm start serves HTTPS (TLS_CERT_FILE), set OIDC_STS_ENDPOINT=${origin.replace(/^http:/, 'https:')} (and NODE_EXTRA_CA_CERTS to its CA).`
  }
  return undefined
}
