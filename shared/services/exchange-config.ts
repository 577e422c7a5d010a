// Provider and role configuration as token exchange reads it: cached per container for at most
// CONFIG_CACHE_SECONDS (≤ 5 s), so a warm exchange reads no table, and deleting a provider, removing a
// client ID or changing a trust policy takes effect within that bound.

import { TtlCache } from '../cache/ttl-cache.ts'
import { parsePolicyDocument, type PolicyDocument } from '../policy/document.ts'
import type { OidcProviderRecord, OidcProviderStore } from '../store/oidc-provider-store.ts'
import type { RoleStore } from '../store/role-store.ts'
import { roleKeyOf } from '../validation/ram-rules.ts'

export interface ExchangeRole {
  roleName: string
  roleId: string
  maxSessionDuration: number
  trust: PolicyDocument
}

export class ExchangeConfig {
  // At most 10 000 providers and 10 000 roles per container, each reused for ttlMs (≤ 5 s) after its read.
  private readonly providers: TtlCache<string, OidcProviderRecord | undefined>
  private readonly roles: TtlCache<string, ExchangeRole | undefined>

  constructor(
    private readonly stores: { providers: Pick<OidcProviderStore, 'get'>; roles: Pick<RoleStore, 'get'> },
    ttlMs: number,
    now?: () => number,
  ) {
    const opts = { ttlMs: Math.min(ttlMs, 5000), maxEntries: 10_000, ...(now ? { now } : {}) }
    this.providers = new TtlCache(opts)
    this.roles = new TtlCache(opts)
  }

  provider(accountId: string, name: string): Promise<OidcProviderRecord | undefined> {
    return this.providers.get(`${accountId}/${name}`, async () => {
      const p = await this.stores.providers.get(accountId, name)
      // Shared by every exchange for the TTL and never changed: frozen, so the JWKS cache may
      // normalise the fingerprints once per record (jwks-cache.ts).
      if (p) Object.freeze(p.fingerprints)
      return p
    })
  }

  role(accountId: string, roleName: string): Promise<ExchangeRole | undefined> {
    return this.roles.get(`${accountId}/${roleKeyOf(roleName)}`, async () => {
      const r = await this.stores.roles.get(accountId, roleName)
      if (!r) return undefined
      const trust = parsePolicyDocument(r.trustPolicy, 'trust', { stored: true })
      return { roleName: r.roleName, roleId: r.roleId, maxSessionDuration: r.maxSessionDuration, trust }
    })
  }
}
