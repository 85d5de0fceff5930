import { randomUUID } from 'node:crypto';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ActiveCalls } from '../../src/calls/active-calls.ts';
import type { Call } from '../../src/calls/call.ts';
import { type CallCounters, InMemoryCallCounters } from '../../src/calls/call-counters.ts';
import { bestFailure, dispositionOf } from '../../src/calls/call-types.ts';
import { RedisCallCounters } from '../../src/calls/redis-call-counters.ts';

function fakeCall(callId: string): Call {
  return { callId, info: () => ({ callId }) } as unknown as Call;
}

const log = pino({ level: 'silent' });
const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

/** The same contract for both implementations: in this process, and shared through a real Redis. */
const implementations: Array<[string, () => CallCounters]> = [
  ['in memory', () => new InMemoryCallCounters()],
  [
    'in Redis',
    () => new RedisCallCounters({ url: REDIS_URL, keyPrefix: `test:${randomUUID()}:`, log, leaseMs: 60_000 }),
  ],
];

const party = (
  subscriberId: string,
  customerId: string | undefined,
  subscriberMax?: number,
  customerMax?: number,
) => ({
  subscriberId,
  customerId,
  subscriberMax,
  customerMax,
});

describe.each(implementations)('concurrent-call limits %s', (_name, make) => {
  let counters: CallCounters;
  beforeEach(() => {
    counters = make();
  });
  afterEach(async () => {
    await counters.close();
  });

  it('counts calls per subscriber and per customer and releases them once', async () => {
    const calls = new ActiveCalls(counters);
    const c1 = await calls.admit('c1', [party('alice', 'acme', 2, 3), party('bob', 'acme')]);
    if (!c1.ok) throw new Error('c1 refused');
    const first = calls.add(fakeCall('c1'), c1.release);
    const c2 = await calls.admit('c2', [party('alice', 'acme', 2, 3)]);
    expect(c2.ok).toBe(true);
    // alice has two calls: her own limit says busy.
    expect(await calls.admit('c3', [party('alice', 'acme', 2, 3)])).toMatchObject({ ok: false, status: 486 });
    // acme has two calls (c1 counts once although both parties are acme's).
    expect(await counters.count('customer', 'acme')).toBe(2);
    expect((await calls.admit('c4', [party('carol', 'acme', 2, 3)])).ok).toBe(true);
    expect(await calls.admit('c5', [party('dave', 'acme', 2, 3)])).toMatchObject({ ok: false, status: 503 });
    // A refused call counted nothing.
    expect(await counters.count('subscriber', 'dave')).toBe(0);
    first();
    first();
    expect(await counters.count('subscriber', 'alice')).toBe(1);
    expect(await counters.count('subscriber', 'bob')).toBe(0);
    expect((await calls.admit('c6', [party('alice', 'acme', 2, 3)])).ok).toBe(true);
  });

  it('counts a forwarded call for the subscriber it reaches, once per customer', async () => {
    const calls = new ActiveCalls(counters);
    const c1 = await calls.admit('c1', [party('alice', 'acme'), party('bob', 'acme')]);
    if (!c1.ok) throw new Error('c1 refused');
    // acme is at its limit with c1, but c1 forwarded to carol (acme too) needs no new room there.
    expect(await calls.admit('c2', [party('carol', 'acme', 1, 1)])).toMatchObject({ ok: false, status: 503 });
    const forwarded = await calls.admit('c1', [party('carol', 'acme', 1, 1)]);
    if (!forwarded.ok) throw new Error('the forward was refused');
    // carol now has a call; acme still counts c1 once.
    expect(await calls.admit('c3', [party('carol', undefined, 1)])).toMatchObject({ ok: false, status: 486 });
    expect(await counters.count('customer', 'acme')).toBe(1);
    // Another customer reached by the forward counts it.
    const other = await calls.admit('c1', [party('erin', 'globex')]);
    if (!other.ok) throw new Error('the forward was refused');
    expect(await calls.admit('c4', [party('fred', 'globex', undefined, 1)])).toMatchObject({
      ok: false,
      status: 503,
    });
    forwarded.release();
    other.release();
    expect(await counters.count('subscriber', 'carol')).toBe(0);
    expect(await counters.count('customer', 'globex')).toBe(0);
    // The forward's release left the original count alone.
    expect(await counters.count('customer', 'acme')).toBe(1);
    c1.release();
    expect(await counters.count('customer', 'acme')).toBe(0);
  });
});

describe('call counters in Redis', () => {
  it('lets exactly one of two nodes racing for the last room get it', async () => {
    const prefix = `test:${randomUUID()}:`;
    const counters = new RedisCallCounters({ url: REDIS_URL, keyPrefix: prefix, log });
    const other = new RedisCallCounters({ url: REDIS_URL, keyPrefix: prefix, log });
    try {
      const [a, b] = await Promise.all([
        new ActiveCalls(counters).admit('race-a', [party('alice', 'acme', undefined, 1)]),
        new ActiveCalls(other).admit('race-b', [party('bob', 'acme', undefined, 1)]),
      ]);
      expect([a.ok, b.ok].filter(Boolean)).toHaveLength(1);
    } finally {
      await other.close();
      await counters.close();
    }
  });
  it("stop counting a node's calls once their lease runs out without a heartbeat", async () => {
    const prefix = `test:${randomUUID()}:`;
    let now = Date.now();
    const dead = new RedisCallCounters({
      url: REDIS_URL,
      keyPrefix: prefix,
      log,
      leaseMs: 60_000,
      now: () => now,
    });
    const alive = new RedisCallCounters({
      url: REDIS_URL,
      keyPrefix: prefix,
      log,
      leaseMs: 60_000,
      now: () => now,
    });
    try {
      expect((await dead.claim('c1', [{ kind: 'customer', id: 'acme', max: 1 }])).ok).toBe(true);
      expect(await alive.claim('c2', [{ kind: 'customer', id: 'acme', max: 1 }])).toEqual({
        ok: false,
        failed: 0,
      });
      // The first node is gone (it renews nothing); a minute later its call no longer counts.
      now += 61_000;
      expect((await alive.claim('c2', [{ kind: 'customer', id: 'acme', max: 1 }])).ok).toBe(true);
      expect(await alive.count('customer', 'acme')).toBe(1);
    } finally {
      await alive.close();
      await dead.close();
    }
  });

  it('refuses a limited call when Redis cannot be reached, and lets an unlimited one through', async () => {
    const unreachable = new RedisCallCounters({ url: 'redis://127.0.0.1:1', log, leaseMs: 60_000 });
    try {
      expect(await unreachable.claim('c1', [{ kind: 'customer', id: 'acme', max: 5 }])).toEqual({
        ok: false,
        failed: 0,
      });
      expect((await unreachable.claim('c2', [{ kind: 'customer', id: 'acme' }])).ok).toBe(true);
    } finally {
      await unreachable.close();
    }
  });
});

describe('final responses of forked calls', () => {
  it('prefers 6xx, then busy, then a meaningful 4xx; timeouts become 480', () => {
    expect(
      bestFailure([
        { status: 486, reason: 'Busy' },
        { status: 603, reason: 'Decline' },
      ]).status,
    ).toBe(603);
    expect(
      bestFailure([
        { status: 408, reason: 'T' },
        { status: 486, reason: 'Busy' },
      ]).status,
    ).toBe(486);
    expect(
      bestFailure([
        { status: 408, reason: 'T' },
        { status: 487, reason: 'C' },
      ]).status,
    ).toBe(480);
    expect(
      bestFailure([
        { status: 503, reason: 'U' },
        { status: 404, reason: 'N' },
      ]).status,
    ).toBe(404);
  });

  it('maps final codes to CDR dispositions', () => {
    expect([200, 486, 600, 480, 408, 487, 603, 606, 503, 404].map(dispositionOf)).toEqual([
      'answered',
      'busy',
      'busy',
      'no_answer',
      'no_answer',
      'cancelled',
      'rejected',
      'rejected',
      'failed',
      'failed',
    ]);
  });
});
