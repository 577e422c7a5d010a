// How large one page of a List* answer may grow. MaxItems alone does not bound it: ListRoles and
// ListPolicies allow 1000 items, each up to a 1024-character description and 20 tags of 128 + 128
// characters (~25 KB in 4-byte characters), so a full page could exceed the 6 MB a Lambda function may
// return synchronously, which API Gateway answers with a bare 500 outside the error envelope.

/**
 * The bound on a page's items, in bytes as `listItemBytes` counts them: a page stops before the item
 * that would pass it (IsTruncated, with a Marker right after the last item sent). 4 MiB leaves room
 * under Lambda's 6 MB for the rest of the body and the response's own envelope.
 */
export const MAX_LIST_PAGE_BYTES = 4 * 1024 * 1024

/**
 * The bytes one item adds to a List* response on Lambda: its JSON (UTF-8), escaped once more as the
 * `body` string of the function's response (each `"` and `\` doubled again), plus the `,` before it.
 * Counting the second escape keeps the bound whatever the text: a description of quotes takes twice
 * as many bytes there as in the body.
 */
export function listItemBytes(item: unknown): number {
  // The outer JSON.stringify adds two quotes; the separator is one byte.
  return Buffer.byteLength(JSON.stringify(JSON.stringify(item)), 'utf8') - 1
}
