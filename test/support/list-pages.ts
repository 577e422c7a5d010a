// A List* action walked page by page under a small page-size bound (shared/services/list-page.ts, set
// through withDeps' listPageBytes), each page checked against what the bound promises.
import { expect } from 'vitest'
import { listItemBytes } from '../../shared/services/list-page.ts'
import { withDeps, type TestService } from './service.ts'

export interface SizePagedList {
  action: string
  version: string
  /** The page's items in a response body, e.g. body.Roles.Role. */
  items(body: Record<string, any>): Record<string, unknown>[] // eslint-disable-line @typescript-eslint/no-explicit-any
  /** The field that names an item, e.g. 'RoleName'. */
  name: string
}

/**
 * The names `list` returns to `svc`'s root with pages bound to `bytes` and MaxItems `maxItems`, following
 * each Marker to the end. Every page holds at least one item and at most maxItems, stays within the
 * bound unless it is a single item, and stops short of maxItems only before an item that did not fit:
 * `sizes` are the listItemBytes of the whole list, in order.
 */
export async function namesPagedBySize(svc: TestService, list: SizePagedList, bound: { bytes: number; maxItems: number; sizes: number[] }): Promise<string[]> {
  const { bytes, maxItems, sizes } = bound
  const call = withDeps(svc, { listPageBytes: bytes })
  const seen: string[] = []
  let marker: string | undefined
  do {
    const res = await call(list.action, list.version, { MaxItems: maxItems, ...(marker ? { Marker: marker } : {}) })
    expect(res.status).toBe(200)
    const page = list.items(res.body)
    expect(page.length).toBeGreaterThan(0)
    expect(page.length).toBeLessThanOrEqual(maxItems)
    const used = page.reduce((sum, item) => sum + listItemBytes(item), 0)
    if (page.length > 1) expect(used, `bound ${bytes}`).toBeLessThanOrEqual(bytes)
    // A page stops only for an item that did not fit (or for MaxItems).
    if (res.body.IsTruncated && page.length < maxItems) expect(used + sizes[seen.length + page.length]!).toBeGreaterThan(bytes)
    seen.push(...page.map((item) => item[list.name] as string))
    marker = res.body.IsTruncated ? res.body.Marker : undefined
  } while (marker)
  return seen
}
