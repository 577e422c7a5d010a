// Turns an HTTP request into an RPC call: Action/Version (query, form or x-acs-* headers) and the
// decoded parameters (query ∪ form body). The one place that knows where the wire puts things.

import { ApiError } from '../errors.ts'

export type Pairs = ReadonlyArray<readonly [string, string]>

export interface RpcRequest {
  method: string
  path: string
  action: string
  version: string
  /** Decoded query pairs in arrival order (signature canonicalisation needs them apart from the form). */
  query: Pairs
  /** Decoded form-body pairs (empty unless content-type is application/x-www-form-urlencoded). */
  form: Pairs
  params: ReadonlyMap<string, string>
  headers: Readonly<Record<string, string | string[] | undefined>>
  body: Buffer
  sourceIp: string
}

const MAX_PARAMS = 200

/**
 * The header in which the Lambda adapter (lambda-adapter.ts) hands the app API Gateway's raw query
 * string, beside the URL instead of inside it. The adapter sets it on every event, replacing any
 * client's header of that name; only apps built with `queryFromLambdaAdapter` read it (app.ts), any
 * other app (the local HTTP server, tests) ignores it.
 */
export const RAW_QUERY_HEADER = 'x-oidc-sts-raw-query'

/**
 * One name or value: `+` is a space, then percent-decoding. Text with neither `%` nor `+` decodes to
 * itself, so it is returned as is: an OIDC token in the query (base64url) skips two scans of up to
 * 20 000 characters (BENCHMARKS.md).
 */
function decodeComponent(raw: string): string {
  if (!raw.includes('%') && !raw.includes('+')) return raw
  return decodeURIComponent(raw.replace(/\+/g, ' '))
}

/** application/x-www-form-urlencoded decoding (`+` is a space), as URLSearchParams does. */
export function decodePairs(raw: string, where: string): Array<[string, string]> {
  if (raw === '') return []
  const out: Array<[string, string]> = []
  for (const part of raw.split('&')) {
    if (part === '') continue
    const eq = part.indexOf('=')
    const rawName = eq < 0 ? part : part.slice(0, eq)
    const rawValue = eq < 0 ? '' : part.slice(eq + 1)
    try {
      out.push([decodeComponent(rawName), decodeComponent(rawValue)])
    } catch {
      throw new ApiError('InvalidParameter.Format', `The ${where} contains a malformed percent-encoding.`)
    }
    if (out.length > MAX_PARAMS) throw new ApiError('InvalidParameter.Format', `The ${where} has more than ${MAX_PARAMS} parameters.`)
  }
  return out
}

function header(headers: RpcRequest['headers'], name: string): string | undefined {
  const v = headers[name]
  if (Array.isArray(v)) {
    if (v.length > 1) throw new ApiError('InvalidParameter.Format', `The header ${name} is given more than once.`)
    return v[0]
  }
  return v
}

export function isFormBody(headers: RpcRequest['headers']): boolean {
  const ct = header(headers, 'content-type')
  return ct !== undefined && /^application\/x-www-form-urlencoded\s*(;|$)/i.test(ct)
}

export function parseRpcRequest(input: {
  method: string
  url: string
  /** The raw query string when it arrives beside the URL (RAW_QUERY_HEADER); the URL's own query otherwise. */
  rawQuery?: string | undefined
  headers: RpcRequest['headers']
  body: Buffer
  sourceIp: string
}): RpcRequest {
  const q = input.url.indexOf('?')
  const path = q < 0 ? input.url : input.url.slice(0, q)
  // Both would be two sources for the same parameters: the adapter never sends a query in the URL.
  if (input.rawQuery !== undefined && q >= 0) throw new ApiError('InvalidParameter.Format', 'The request carries its query string twice.')
  const query = decodePairs(input.rawQuery ?? (q < 0 ? '' : input.url.slice(q + 1)), 'query string')
  let form: Array<[string, string]> = []
  if (isFormBody(input.headers) && input.body.length > 0) {
    const text = input.body.toString('utf8')
    // Reject bodies that are not valid UTF-8 rather than sign/execute replacement characters.
    if (!Buffer.from(text, 'utf8').equals(input.body)) throw new ApiError('InvalidParameter.Format', 'The form body is not valid UTF-8.')
    form = decodePairs(text, 'form body')
  }
  const params = new Map<string, string>()
  addParams(params, query)
  addParams(params, form)
  const action = pick(params.get('Action'), header(input.headers, 'x-acs-action'), 'Action')
  const version = pick(params.get('Version'), header(input.headers, 'x-acs-version'), 'Version')
  return { method: input.method, path, action, version, query, form, params, headers: input.headers, body: input.body, sourceIp: input.sourceIp }
}

function addParams(params: Map<string, string>, pairs: Pairs): void {
  for (let i = 0; i < pairs.length; i++) {
    const [name, value] = pairs[i]!
    // A parameter given twice is ambiguous (which one was meant, which one was signed): refuse it.
    if (params.has(name)) throw new ApiError(`InvalidParameter.${safeName(name)}.Duplicate`, `The parameter "${safeName(name)}" is given more than once.`)
    params.set(name, value)
  }
}

function pick(fromParams: string | undefined, fromHeader: string | undefined, what: string): string {
  if (fromParams !== undefined && fromHeader !== undefined && fromParams !== fromHeader) {
    throw new ApiError('InvalidParameter', `The ${what} parameter and the x-acs-${what.toLowerCase()} header disagree.`)
  }
  return fromParams ?? fromHeader ?? ''
}

function safeName(name: string): string {
  return /^[A-Za-z0-9._-]{1,64}$/.test(name) ? name : 'Unknown'
}
