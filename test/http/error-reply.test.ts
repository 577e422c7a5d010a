// The one writer of the error reply: status, headers and envelope body, for app.ts's error handlers,
// its raw-socket answer to unreadable HTTP and the Lambda adapter's answer to a failed injection.
import { describe, expect, it } from 'vitest'
import { ApiError } from '../../shared/errors.ts'
import { errorReply, newRequestId, toApiError } from '../../shared/http/error-reply.ts'

const RID = '0F8E2B1C-3D4A-4B5C-9D6E-7F8091A2B3C4'

describe('errorReply', () => {
  it('answers the error\'s status with the envelope as JSON, its content-type and the request id header', () => {
    const reply = errorReply(new ApiError('InvalidParameter.Format', 'bad "x"'), RID, 'sts.example.com', 'Sts')
    expect(reply.status).toBe(400)
    expect(Object.entries(reply.headers)).toEqual([
      ['content-type', 'application/json; charset=utf-8'],
      ['x-acs-request-id', RID],
    ])
    expect(reply.body).toBe(
      `{"RequestId":"${RID}","HostId":"sts.example.com","Code":"InvalidParameter.Format","Message":"bad \\"x\\"",` +
        `"Recommend":"https://api.aliyun.com/troubleshoot?q=InvalidParameter.Format&product=Sts&requestId=${RID}"}`,
    )
  })

  it('sends x-acs-retry-after (milliseconds) first when the error carries a delay', () => {
    const reply = errorReply(new ApiError('Throttling.User', 'slow down', { retryAfterMs: 1500 }), RID, 'oidc-sts', 'OidcSts')
    expect(reply.status).toBe(429)
    expect(Object.keys(reply.headers)).toEqual(['x-acs-retry-after', 'content-type', 'x-acs-request-id'])
    expect(reply.headers['x-acs-retry-after']).toBe('1500')
  })

  it('puts an error\'s detail in the envelope as AccessDeniedDetail, after the fixed members', () => {
    const detail = { PolicyType: 'AccountLevelIdentityBasedPolicy', AuthAction: 'sts:AssumeRole' }
    const body = JSON.parse(errorReply(new ApiError('NoPermission', 'denied', { detail }), RID, 'ram.aliyuncs.com', 'Ram').body)
    expect(Object.keys(body)).toEqual(['RequestId', 'HostId', 'Code', 'Message', 'Recommend', 'AccessDeniedDetail'])
    expect(body.AccessDeniedDetail).toEqual(detail)
  })

  it('encodes the code in the Recommend link', () => {
    const body = JSON.parse(errorReply(new ApiError('InvalidParameter.a&b', 'm'), RID, 'h', 'Ims').body)
    expect(body.Recommend).toBe(`https://api.aliyun.com/troubleshoot?q=InvalidParameter.a%26b&product=Ims&requestId=${RID}`)
  })

  it('answers an unknown failure as a 500 InternalError that names nothing of it', () => {
    const reply = errorReply(toApiError(new Error('secret at /srv/x.ts:1:1')), RID, 'oidc-sts', 'OidcSts')
    expect(reply.status).toBe(500)
    expect(JSON.parse(reply.body)).toMatchObject({ Code: 'InternalError', Message: 'The request processing has failed due to some unknown error, exception or failure.' })
    expect(reply.body).not.toContain('secret')
  })
})

describe('newRequestId', () => {
  it('is a fresh upper-case UUID each time (Alibaba\'s format)', () => {
    const a = newRequestId()
    expect(a).toMatch(/^[0-9A-F]{8}-[0-9A-F]{4}-4[0-9A-F]{3}-[89AB][0-9A-F]{3}-[0-9A-F]{12}$/)
    expect(newRequestId()).not.toBe(a)
  })
})
