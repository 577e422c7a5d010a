// The order of a health-check run's issuers (shared/services/health-order.ts): accounts take turns, so
// one account's many issuers cannot push another's out of a run that stops early.
import { describe, expect, it } from 'vitest'
import { issuerOrder } from '../../shared/services/health-order.ts'
import type { DirectoryHealthKey, DirectoryProvider } from '../../shared/store/provider-directory.ts'

const provider = (accountId: string, name: string, issuerUrl: string): DirectoryProvider => ({ accountId, name, issuerUrl, fingerprints: [] })

function byIssuer(providers: DirectoryProvider[]): Map<string, DirectoryProvider[]> {
  const out = new Map<string, DirectoryProvider[]>()
  for (const p of providers) out.set(p.issuerUrl, [...(out.get(p.issuerUrl) ?? []), p])
  return out
}

const ATTACKER = '1111111111111111'
const VICTIM = '2222222222222222'
const OTHER = '3333333333333333'

describe('issuerOrder', () => {
  it('gives each account one issuer per round: 100 never-checked issuers of one account do not push out another account\'s checked one', () => {
    const providers = [
      ...Array.from({ length: 100 }, (_, i) => provider(ATTACKER, `p${i}`, `https://slow${i}.attacker.example`)),
      provider(VICTIM, 'ci', 'https://idp.victim.example'),
      provider(OTHER, 'ci', 'https://idp.other.example'),
    ]
    const health: DirectoryHealthKey[] = [{ accountId: VICTIM, name: 'ci', issuerUrl: 'https://idp.victim.example' }]
    for (let run = 0; run < 50; run++) {
      const order = issuerOrder(byIssuer(providers), health).map(([issuer]) => issuer)
      expect(order).toHaveLength(102)
      expect(new Set(order).size).toBe(102)
      // The first round has one issuer of each account: a run that checks only three still checks both others.
      expect(order.slice(0, 3)).toEqual(expect.arrayContaining(['https://idp.victim.example', 'https://idp.other.example']))
    }
  })

  it('puts an account\'s never-checked issuers before its checked ones', () => {
    const providers = [
      provider(VICTIM, 'old1', 'https://old1.example'),
      provider(VICTIM, 'old2', 'https://old2.example'),
      provider(VICTIM, 'new', 'https://new.example'),
    ]
    const health: DirectoryHealthKey[] = [
      { accountId: VICTIM, name: 'old1', issuerUrl: 'https://old1.example' },
      { accountId: VICTIM, name: 'old2', issuerUrl: 'https://old2.example' },
      // A record of another issuer (the provider was re-created with a new IssuerUrl): not a check of this one.
      { accountId: VICTIM, name: 'new', issuerUrl: 'https://before.example' },
    ]
    for (let run = 0; run < 20; run++) expect(issuerOrder(byIssuer(providers), health)[0]![0]).toBe('https://new.example')
  })

  it('schedules an issuer several accounts trust once, with all its providers, at the first of their turns', () => {
    const shared = 'https://token.actions.githubusercontent.com'
    const providers = [provider(VICTIM, 'gh', shared), provider(OTHER, 'gh', shared), provider(OTHER, 'own', 'https://own.example')]
    const order = issuerOrder(byIssuer(providers), [])
    expect(order.map(([issuer]) => issuer).sort()).toEqual([shared, 'https://own.example'].sort())
    expect(order.find(([issuer]) => issuer === shared)![1].map((p) => p.accountId).sort()).toEqual([VICTIM, OTHER])
  })

  it('is empty for no providers', () => {
    expect(issuerOrder(new Map(), [])).toEqual([])
  })
})
