// The event bus: the EventBridge publisher (through its client seam: batches of 10 and 256 KB, refused entries
// retried once, the rest logged, nothing sent past the caller's deadline), the in-process bus (EventBridge envelopes, async in-order delivery,
// drain, close), and the validation of incoming key-rotation events against the sample in events/.
import { readFileSync } from 'node:fs'
import type { PutEventsCommand } from '@aws-sdk/client-eventbridge'
import { describe, expect, it } from 'vitest'
import { EventBridgePublisher } from '../../shared/events/eventbridge-publisher.ts'
import { InProcessBus } from '../../shared/events/in-process-bus.ts'
import { DETAIL_TYPES, EVENT_SOURCE, parseKeyRotationEvent, type ServiceEvent } from '../../shared/events/service-events.ts'
import { recordingLogger } from './support.ts'

const sample = JSON.parse(readFileSync(new URL('../../events/eventbridge-key-rotation.json', import.meta.url), 'utf8'))
const events = (n: number): ServiceEvent[] => Array.from({ length: n }, (_, i) => ({ detailType: DETAIL_TYPES.keyRotation, detail: { issuer: `https://idp${i}.example.com` } }))

describe('EventBridgePublisher', () => {
  it('sends at most 10 entries per PutEvents to the bus, with source oidc-sts and JSON details', async () => {
    const calls: PutEventsCommand['input'][] = []
    const client = { send: async (c: PutEventsCommand) => (calls.push(c.input), { FailedEntryCount: 0, Entries: c.input.Entries!.map(() => ({ EventId: 'x' })) }) }
    const publisher = new EventBridgePublisher({ busName: 'oidc-sts-test', region: 'eu-central-1', logger: recordingLogger(), client: client as never })
    expect(await publisher.publish(events(23))).toEqual({ published: 23, undelivered: [] })
    expect(calls.map((c) => c.Entries!.length)).toEqual([10, 10, 3])
    expect(calls[0]!.Entries![0]).toMatchObject({ EventBusName: 'oidc-sts-test', Source: EVENT_SOURCE, DetailType: 'OIDC Issuer Key Rotation', Detail: '{"issuer":"https://idp0.example.com"}' })
  })

  it('keeps each PutEvents within 256 KB as EventBridge counts entries, so one large event cannot fail the call of the others', async () => {
    const calls: PutEventsCommand['input'][] = []
    const client = { send: async (c: PutEventsCommand) => (calls.push(c.input), { FailedEntryCount: 0, Entries: c.input.Entries!.map(() => ({ EventId: 'x' })) }) }
    const publisher = new EventBridgePublisher({ busName: 'b', region: 'eu-central-1', logger: recordingLogger(), client: client as never })
    // 60 KB details (3-byte characters): four fit a call, a fifth would not.
    const big = (i: number): ServiceEvent => ({ detailType: DETAIL_TYPES.keyRotation, detail: { issuer: `https://idp${i}.example.com`, addedKeyIds: ['€'.repeat(20_000)] } })
    const sent = [big(0), ...events(2), big(1), big(2), big(3), big(4), big(5)]
    expect(await publisher.publish(sent)).toEqual({ published: 8, undelivered: [] })
    const size = (e: NonNullable<PutEventsCommand['input']['Entries']>[number]) => 14 + Buffer.byteLength(e.Source!) + Buffer.byteLength(e.DetailType!) + Buffer.byteLength(e.Detail!)
    for (const c of calls) expect(c.Entries!.reduce((n, e) => n + size(e), 0)).toBeLessThan(256 * 1024)
    expect(calls.map((c) => c.Entries!.length)).toEqual([6, 2])
    // In order.
    expect(calls.flatMap((c) => c.Entries!.map((e) => e.Detail))).toEqual(sent.map((e) => JSON.stringify(e.detail)))
  })

  it('retries refused entries once and logs, with their detail, those still refused', async () => {
    const logger = recordingLogger()
    let attempt = 0
    const client = {
      send: async (c: PutEventsCommand) => {
        attempt++
        // First call: entries 1 and 3 refused; second call (the two retried): the first of them refused again.
        const refused = attempt === 1 ? [1, 3] : [0]
        return { FailedEntryCount: refused.length, Entries: c.input.Entries!.map((_, i) => (refused.includes(i) ? { ErrorCode: 'InternalFailure' } : { EventId: 'x' })) }
      },
    }
    const publisher = new EventBridgePublisher({ busName: 'b', region: 'eu-central-1', logger, client: client as never })
    const sent = events(4)
    const result = await publisher.publish(sent)
    // The very object passed in, so a caller can tell which of its events still has to be announced.
    expect(result).toEqual({ published: 3, undelivered: [sent[1]] })
    expect(result.undelivered[0]).toBe(sent[1])
    expect(logger.find('event not delivered to EventBridge')).toEqual([expect.objectContaining({ level: 'error', fields: expect.objectContaining({ detail: '{"issuer":"https://idp1.example.com"}' }) })])
  })

  it('counts every event as failed when the bus stays unreachable, without throwing', async () => {
    const logger = recordingLogger()
    const client = { send: async () => { throw Object.assign(new Error('connect ETIMEDOUT'), { name: 'TimeoutError' }) } }
    const publisher = new EventBridgePublisher({ busName: 'b', region: 'eu-central-1', logger, client: client as never })
    const sent = events(2)
    expect(await publisher.publish(sent)).toEqual({ published: 0, undelivered: sent })
    expect(logger.find('PutEvents failed')).toHaveLength(2)
  })

  it('stops at the deadline when the bus never answers: the call in flight is aborted, nothing else is sent, every event is returned undelivered and logged', async () => {
    const logger = recordingLogger()
    let calls = 0
    let aborted = 0
    // A bus that takes the request and never answers: the send settles only when its abortSignal aborts.
    const client = {
      send: (_c: PutEventsCommand, opts?: { abortSignal?: AbortSignal }) => {
        calls++
        return new Promise((_, reject) => {
          opts?.abortSignal?.addEventListener('abort', () => {
            aborted++
            reject(Object.assign(new Error('Request aborted'), { name: 'AbortError' }))
          })
        })
      },
    }
    const publisher = new EventBridgePublisher({ busName: 'b', region: 'eu-central-1', logger, client: client as never })
    const sent = events(23)
    const started = Date.now()
    const result = await publisher.publish(sent, { signal: AbortSignal.timeout(1_500) })
    // Bound generous on purpose (the budget is 1.5 s; without the deadline this never returns).
    expect(Date.now() - started).toBeLessThan(5_000)
    expect(result).toEqual({ published: 0, undelivered: sent })
    expect({ calls, aborted }).toEqual({ calls: 1, aborted: 1 })
    expect(logger.find('PutEvents failed')).toEqual([expect.objectContaining({ fields: expect.objectContaining({ attempt: 1, entries: 10 }) })])
    expect(logger.find('PutEvents stopped: the publish deadline has passed')).toEqual([expect.objectContaining({ fields: expect.objectContaining({ entriesLeft: 23 }) })])
    expect(logger.find('event not delivered to EventBridge')).toHaveLength(23)
  }, 15_000)

  it('returns at the deadline even from a client that ignores the abort signal', async () => {
    const client = { send: () => new Promise(() => {}) }
    const publisher = new EventBridgePublisher({ busName: 'b', region: 'eu-central-1', logger: recordingLogger(), client: client as never })
    const sent = events(2)
    expect(await publisher.publish(sent, { signal: AbortSignal.timeout(200) })).toEqual({ published: 0, undelivered: sent })
  }, 15_000)

  it('sends nothing once the deadline has passed', async () => {
    const logger = recordingLogger()
    const controller = new AbortController()
    controller.abort()
    let calls = 0
    const client = { send: async () => { calls++; throw new Error('no call expected') } }
    const publisher = new EventBridgePublisher({ busName: 'b', region: 'eu-central-1', logger, client: client as never })
    const sent = events(3)
    expect(await publisher.publish(sent, { signal: controller.signal })).toEqual({ published: 0, undelivered: sent })
    expect(calls).toBe(0)
    expect(logger.find('event not delivered to EventBridge')).toHaveLength(3)

  })
})

describe('InProcessBus', () => {
  it('delivers EventBridge-shaped envelopes to the subscribers of the detail-type, in order, after publish returns', async () => {
    const logger = recordingLogger()
    const bus = new InProcessBus({ logger })
    const seen: string[] = []
    const envelopes: unknown[] = []
    // Subscribers only record: the bus catches what a subscriber throws, so assertions run after drain().
    bus.subscribe(DETAIL_TYPES.keyRotation, async (e) => {
      seen.push((e.detail as { issuer: string }).issuer)
      envelopes.push(e)
    })
    bus.subscribe(DETAIL_TYPES.healthChanged, () => { throw new Error('not this one') })
    await bus.publish(events(3))
    expect(seen).toEqual([])
    expect(await bus.drain()).toBe(true)
    expect(seen).toEqual(['https://idp0.example.com', 'https://idp1.example.com', 'https://idp2.example.com'])
    for (const e of envelopes) {
      expect(e).toMatchObject({ version: '0', source: 'oidc-sts', 'detail-type': 'OIDC Issuer Key Rotation', time: expect.stringMatching(/Z$/), id: expect.any(String) })
    }
    expect(new Set(envelopes.map((e) => (e as { id: string }).id)).size).toBe(3)
    // Nothing was delivered to the other detail-type's subscriber (it would have thrown and been logged).
    expect(logger.find('event delivery failed')).toEqual([])
    expect(logger.find('event published')).toHaveLength(3)
  })

  it('logs a failing subscriber and keeps delivering; delivers nothing after close', async () => {
    const logger = recordingLogger()
    const bus = new InProcessBus({ logger })
    let calls = 0
    bus.subscribe(DETAIL_TYPES.keyRotation, () => {
      calls++
      throw new Error('consumer broke')
    })
    await bus.publish(events(2))
    await bus.drain()
    expect(calls).toBe(2)
    expect(logger.find('event delivery failed')).toHaveLength(2)
    bus.close()
    await bus.publish(events(1))
    await bus.drain()
    expect(calls).toBe(2)
    expect(bus.published()).toHaveLength(3)
  })

  it('publishes nothing once the deadline has passed, and returns every event undelivered', async () => {
    const logger = recordingLogger()
    const bus = new InProcessBus({ logger })
    const controller = new AbortController()
    controller.abort()
    const sent = events(2)
    expect(await bus.publish(sent, { signal: controller.signal })).toEqual({ published: 0, undelivered: sent })
    expect(bus.published()).toEqual([])
    expect(logger.find('event not delivered: the publish deadline has passed')).toHaveLength(2)
  })
})

describe('parseKeyRotationEvent', () => {
  it('accepts the sample, with observedAt as the instant a copy must postdate', () => {
    expect(parseKeyRotationEvent(sample)).toEqual({ issuer: 'https://idp.example.com', notBefore: Date.parse('2026-11-28T10:04:59.120Z'), reason: 'key-ids-changed', eventId: sample.id })
  })

  it('without observedAt, uses the end of the event\'s time second', () => {
    const { observedAt: _o, ...detail } = sample.detail
    expect(parseKeyRotationEvent({ ...sample, detail })).toMatchObject({ notBefore: Date.parse('2026-11-28T10:05:01Z') })
  })

  it.each([
    [{ ...sample, detail: { ...sample.detail, issuer: 'https://idp.example.com/?x=1' } }, 'not an https issuer URL'],
    [{ ...sample, detail: { ...sample.detail, issuer: `https://${'a'.repeat(260)}.com` } }, 'not an https issuer URL'],
    [{ ...sample, time: 'later', detail: { issuer: 'https://idp.example.com' } }, 'no valid time'],
  ])('refuses %#', (event, reason) => {
    expect(parseKeyRotationEvent(event)).toEqual({ rejected: expect.stringContaining(reason) })
  })
})
