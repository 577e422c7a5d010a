// Error code -> the Alibaba error reply: status, headers and the envelope {RequestId, HostId, Code,
// Message, Recommend}, decided here for every path that answers a failure (app.ts's error handlers,
// its raw-socket answer to unreadable HTTP, the Lambda adapter's answer to a failed injection).
// Unknown failures become InternalError with a generic message: no stack, no SDK text, ever.

import { randomUUID } from 'node:crypto'
import { ApiError } from '../errors.ts'
import type { Product } from './action.ts'

export interface ErrorEnvelope {
  RequestId: string
  HostId: string
  Code: string
  Message: string
  Recommend: string
  AccessDeniedDetail?: Record<string, unknown>
}

/** An error reply as sent: `body` is the envelope's JSON. */
export interface ErrorReply {
  status: number
  headers: Record<string, string>
  body: string
}

/** The HostId of each product's envelope when the request's Host cannot be named (absent, unreadable, or no request at all). */
export const PRODUCT_HOSTS: Record<Product, string> = {
  Ims: 'ims.aliyuncs.com',
  Ram: 'ram.aliyuncs.com',
  Sts: 'sts.aliyuncs.com',
  OidcSts: 'oidc-sts',
}

/** A request id in Alibaba's format (an upper-case UUID): every request's (app.ts's genReqId) and a failure's answered outside one. */
export function newRequestId(): string {
  return randomUUID().toUpperCase()
}

export function toApiError(e: unknown): ApiError {
  if (e instanceof ApiError) return e
  return new ApiError('InternalError', 'The request processing has failed due to some unknown error, exception or failure.', { cause: e })
}

export function errorReply(err: ApiError, requestId: string, hostId: string, product: Product): ErrorReply {
  const headers: Record<string, string> = {}
  // Milliseconds: the official SDKs (@alicloud/openapi-core's getThrottlingTimeLeft, then the retry
  // policy's sleep) read the header as the delay in ms.
  if (err.retryAfterMs !== undefined) headers['x-acs-retry-after'] = String(err.retryAfterMs)
  headers['content-type'] = 'application/json; charset=utf-8'
  headers['x-acs-request-id'] = requestId
  return { status: err.status, headers, body: JSON.stringify(errorEnvelope(err, requestId, hostId, product)) }
}

function errorEnvelope(err: ApiError, requestId: string, hostId: string, product: Product): ErrorEnvelope {
  return {
    RequestId: requestId,
    HostId: hostId,
    Code: err.code,
    Message: err.message,
    Recommend: `https://api.aliyun.com/troubleshoot?q=${encodeURIComponent(err.code)}&product=${product}&requestId=${requestId}`,
    ...(err.detail ? { AccessDeniedDetail: err.detail } : {}),
  }
}
