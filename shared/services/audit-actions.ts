// ListAuditEvents (oidc-sts extension, Version 2026-11-01): an account's token exchanges of one UTC
// day, newest first, with paging. Records never contain tokens or secrets.

import { actionsWith, callerAccount, type ActionDefinition } from '../http/action.ts'
import type { AuditStore } from '../store/audit-store.ts'
import { formatUtc } from '../time.ts'
import { decodeMarker, encodeMarker, invalidMarker, optionalInteger, optionalString } from '../validation/params.ts'
import { ApiError } from '../errors.ts'
import { OIDC_STS_VERSION } from './accounts.ts'

const define = actionsWith<{ audit: AuditStore }>()

/**
 * A marker this action hands out: the day it pages through (`d`) and the sort key of the page's last
 * record (`a`, `<ISO time of that day>#<request id>`, audit-store.ts), which DynamoDB gets as the start
 * key: anything else, an empty string among them, is not ours.
 */
function isAuditMarker(m: Record<string, string>): m is { d: string; a: string } {
  const { d, a } = m
  return typeof d === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(d) && typeof a === 'string' && a.startsWith(`${d}T`) && /^T\d{2}:\d{2}:\d{2}\.\d{3}Z#[\x21-\x7e]{1,128}$/.test(a.slice(d.length))
}

const listAuditEvents = define({
  product: 'OidcSts',
  version: OIDC_STS_VERSION,
  name: 'ListAuditEvents',
  parse: (params) => {
    const date = optionalString(params, 'Date', { min: 10, max: 10, pattern: /^\d{4}-\d{2}-\d{2}$/, patternHint: 'a UTC day as YYYY-MM-DD' })
    // Date.parse rolls 2024-02-30 over to March 1: the day must read back as itself.
    if (date !== undefined && !(Date.parse(`${date}T00:00:00Z`) >= 0 && new Date(`${date}T00:00:00Z`).toISOString().slice(0, 10) === date)) {
      throw new ApiError('InvalidParameter.Date.Format', 'The parameter "Date" is not a valid day (YYYY-MM-DD).')
    }
    // The marker carries the day it pages through (d), so a next page asked for without Date, after
    // midnight UTC, continues that day instead of starting the next one past its end.
    const marker = decodeMarker(params)
    if (marker !== undefined && !isAuditMarker(marker)) {
      throw invalidMarker()
    }
    if (marker !== undefined && date !== undefined && marker.d !== date) {
      throw new ApiError('InvalidParameter.Marker.Format', 'The parameter "Marker" pages through another day than "Date".')
    }
    return { date: date ?? marker?.d, maxItems: optionalInteger(params, 'MaxItems', 1, 100) ?? 50, after: marker?.a }
  },
  permission: (_input, caller) => ({ action: 'oidcsts:ListAuditEvents', resource: `acs:oidcsts::${caller.accountId}:audit/*` }),
  async run(input, { caller, deps, request }) {
    const day = input.date ?? request.now.toISOString().slice(0, 10)
    const page = await deps.audit.list(callerAccount(caller), day, input.maxItems, input.after, request.now)
    return {
      IsTruncated: page.nextAt !== undefined,
      ...(page.nextAt !== undefined ? { Marker: encodeMarker({ d: day, a: page.nextAt }) } : {}),
      AuditEvents: {
        AuditEvent: page.items.map((r) => ({
          Time: formatUtc(r.time),
          RequestId: r.requestId,
          Outcome: r.outcome,
          ...(r.errorCode ? { ErrorCode: r.errorCode } : {}),
          ...(r.reason ? { Reason: r.reason } : {}),
          ...(r.providerArn ? { OIDCProviderArn: r.providerArn } : {}),
          ...(r.roleArn ? { RoleArn: r.roleArn } : {}),
          ...(r.sessionName ? { RoleSessionName: r.sessionName } : {}),
          ...(r.sub ? { Subject: r.sub } : {}),
          ...(r.jti ? { TokenId: r.jti } : {}),
          SourceIp: r.sourceIp,
        })),
      },
    }
  },
})

export const auditActions = [listAuditEvents] as ActionDefinition<any, { audit: AuditStore }>[] // eslint-disable-line @typescript-eslint/no-explicit-any
