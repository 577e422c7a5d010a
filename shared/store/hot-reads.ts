// The three reads of a cold token exchange (provider, role, stored JWKS copy) on the raw client, with
// the same keys and the same item checks as the toolbox entities in table.ts / jwks-copy-store.ts
// (an item that does not match its entity's schema is an InternalError, as a toolbox formatter error is).
// test/store/hot-reads.test.ts checks they return exactly what the toolbox stores return.

import { parseStoredCopy } from '../oidc/jwks-cache-copy.ts'
import { roleKeyOf } from '../validation/ram-rules.ts'
import type { JwksCopyRecord } from './jwks-copy-store.ts'
import type { OidcProviderRecord } from './oidc-provider-store.ts'
import { type AttributeValue, RawDynamo, unmarshallItem } from './raw-dynamodb.ts'
import type { RoleRecord } from './role-store.ts'
import { toStoreError } from './store-errors.ts'
import { PROVIDER_PREFIX, ROLE_PREFIX, accountPk } from './table-keys.ts'

type Kind = 'string' | 'number' | 'strings' | 'tags'
const PROVIDER: Record<keyof OidcProviderRecord, Kind> = {
  accountId: 'string', name: 'string', issuerUrl: 'string', clientIds: 'strings', fingerprints: 'strings', issuanceLimitTime: 'number',
  description: 'string', createdAt: 'number', updatedAt: 'number', version: 'number',
}
const ROLE: Record<keyof RoleRecord, Kind> = {
  accountId: 'string', nameKey: 'string', roleName: 'string', roleId: 'string', description: 'string', trustPolicy: 'string',
  maxSessionDuration: 'number', tags: 'tags', attachmentCount: 'number', createdAt: 'number', updatedAt: 'number', version: 'number',
}
const JWKS = { issuer: 'string', fetchedAt: 'number', keyIds: 'strings', copy: 'string', storedAt: 'number' } as const

const ok = (kind: Kind, v: unknown): boolean =>
  kind === 'string' ? typeof v === 'string'
    : kind === 'number' ? typeof v === 'number' && Number.isFinite(v)
      : kind === 'strings' ? Array.isArray(v) && v.every((s) => typeof s === 'string')
        : Array.isArray(v) && v.every((t) => t !== null && typeof t === 'object' && typeof t.key === 'string' && typeof t.value === 'string' && Object.keys(t).length === 2)

function pick<T>(entity: string, shape: Record<string, Kind>, item: Record<string, AttributeValue>): T {
  const raw = unmarshallItem(item)
  if (raw._et !== undefined && raw._et !== entity) throw new Error(`${entity}: item of entity ${String(raw._et)}`)
  const out: Record<string, unknown> = {}
  for (const [k, kind] of Object.entries(shape)) {
    if (!ok(kind, raw[k])) throw new Error(`${entity}: attribute ${k} does not match the schema`)
    out[k] = raw[k]
  }
  return out as T
}

export class HotReads {
  constructor(private readonly db: RawDynamo, private readonly tableName: string) {}

  private async get<T>(entity: string, shape: Record<string, Kind>, pk: string, sk: string): Promise<T | undefined> {
    let item
    try {
      item = await this.db.getItem(this.tableName, { pk: { S: pk }, sk: { S: sk } })
    } catch (e) {
      throw toStoreError(e)
    }
    if (item === undefined) return undefined
    try {
      return pick<T>(entity, shape, item)
    } catch (e) {
      throw toStoreError(e)
    }
  }

  provider(accountId: string, name: string): Promise<OidcProviderRecord | undefined> {
    return this.get('OIDCProvider', PROVIDER, accountPk(accountId), `${PROVIDER_PREFIX}${name}`)
  }

  role(accountId: string, roleName: string): Promise<RoleRecord | undefined> {
    return this.get('Role', ROLE, accountPk(accountId), `${ROLE_PREFIX}${roleKeyOf(roleName)}`)
  }

  async jwksCopy(issuer: string): Promise<JwksCopyRecord | undefined> {
    const found = await this.get<{ issuer: string; fetchedAt: number; keyIds: string[]; copy: string; storedAt: number }>('JwksCopy', JWKS, `JWKS#${issuer}`, 'JWKS')
    if (found === undefined) return undefined
    const copy = parseStoredCopy(found.copy)
    return copy === undefined ? undefined : { ...found, copy }
  }
}
