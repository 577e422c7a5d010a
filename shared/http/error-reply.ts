// Error code -> the Alibaba error envelope {RequestId, HostId, Code, Message, Recommend} and status.
// Unknown failures become InternalError with a generic message: no stack, no SDK text, ever.

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

export function toApiError(e: unknown): ApiError {
  if (e instanceof ApiError) return e
  return new ApiError('InternalError', 'The request processing has failed due to some unknown error, exception or failure.', { cause: e })
}

export function errorEnvelope(err: ApiError, requestId: string, hostId: string, product: Product): ErrorEnvelope {
  return {
    RequestId: requestId,
    HostId: hostId,
    Code: err.code,
    Message: err.message,
    Recommend: `https://api.aliyun.com/troubleshoot?q=${encodeURIComponent(err.code)}&product=${product}&requestId=${requestId}`,
    ...(err.detail ? { AccessDeniedDetail: err.detail } : {}),
  }
}
