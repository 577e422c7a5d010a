// The order in which a health-check run checks its issuers. A run can stop before the last one (its time
// budget, a slow IdP after another), so the order decides who is checked: the accounts take turns, one
// issuer each per round, and within an account the issuers it has never had checked come first. One
// account with many providers on slow IdPs, or providers re-created under new issuer URLs for every run
// (never checked, so always first), takes one place in each round and cannot push the other accounts'
// issuers out of the run. Pure: the store scan and the run are the caller's (health-check.ts).

import type { DirectoryHealthKey, DirectoryProvider } from '../store/provider-directory.ts'

/** A copy of `items` in a random order (Fisher–Yates; fairness, not secrecy). */
export function shuffle<T>(items: readonly T[], random: () => number = Math.random): T[] {
  const out = [...items]
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1))
    ;[out[i], out[j]] = [out[j]!, out[i]!]
  }
  return out
}

/**
 * Every issuer of `byIssuer` once, in checking order: round after round, each account (in a random
 * order) gets its next issuer not scheduled yet; an account's issuers it has no health record for yet
 * (`health`) before the others, each group in a random order. An issuer trusted by several accounts is
 * scheduled at the first of their turns.
 */
export function issuerOrder<M extends DirectoryProvider>(
  byIssuer: ReadonlyMap<string, readonly M[]>,
  health: readonly DirectoryHealthKey[],
  random: () => number = Math.random,
): Array<[string, M[]]> {
  const checked = new Set(health.map((h) => `${h.accountId}/${h.name}/${h.issuerUrl}`))
  const perAccount = new Map<string, { fresh: string[]; known: string[] }>()
  for (const [issuer, members] of byIssuer) {
    for (const accountId of new Set(members.map((p) => p.accountId))) {
      const never = members.some((p) => p.accountId === accountId && !checked.has(`${accountId}/${p.name}/${issuer}`))
      let queue = perAccount.get(accountId)
      if (queue === undefined) perAccount.set(accountId, (queue = { fresh: [], known: [] }))
      ;(never ? queue.fresh : queue.known).push(issuer)
    }
  }
  const queues = shuffle([...perAccount.values()], random).map((q) => [...shuffle(q.fresh, random), ...shuffle(q.known, random)])
  const scheduled = new Set<string>()
  const order: Array<[string, M[]]> = []
  for (let round = 0; scheduled.size < byIssuer.size; round++) {
    for (const queue of queues) {
      // The account's next issuer that no earlier turn scheduled.
      while (queue.length > 0 && scheduled.has(queue[0]!)) queue.shift()
      const issuer = queue.shift()
      if (issuer === undefined) continue
      scheduled.add(issuer)
      order.push([issuer, [...byIssuer.get(issuer)!]])
    }
  }
  return order
}
