import { describe, expect, it } from 'vitest';
import { ActiveCalls } from '../../src/calls/active-calls.ts';
import type { Call } from '../../src/calls/call.ts';
import { bestFailure, dispositionOf } from '../../src/calls/call-types.ts';

function fakeCall(callId: string): Call {
  return { callId, info: () => ({ callId }) } as unknown as Call;
}

describe('concurrent-call limits', () => {
  it('counts calls per subscriber and per customer and releases them once', () => {
    const calls = new ActiveCalls();
    const limits = { subscriberMax: 2, customerMax: 3 };
    expect(calls.admit('alice', 'acme', limits)).toEqual({ ok: true });
    const first = calls.add(fakeCall('c1'), [
      { subscriberId: 'alice', customerId: 'acme' },
      { subscriberId: 'bob', customerId: 'acme' },
    ]);
    calls.add(fakeCall('c2'), [{ subscriberId: 'alice', customerId: 'acme' }]);
    // alice has two calls: her own limit says busy.
    expect(calls.admit('alice', 'acme', limits)).toMatchObject({ ok: false, status: 486 });
    // acme has two calls (c1 counts once although both parties are acme's).
    expect(calls.admit('carol', 'acme', limits)).toEqual({ ok: true });
    calls.add(fakeCall('c3'), [{ subscriberId: 'carol', customerId: 'acme' }]);
    expect(calls.admit('dave', 'acme', limits)).toMatchObject({ ok: false, status: 503 });
    first();
    first();
    expect(calls.count()).toBe(2);
    expect(calls.admit('alice', 'acme', limits)).toEqual({ ok: true });
    expect(calls.admit('alice', 'acme', {})).toEqual({ ok: true });
  });
});

describe('forwarded calls', () => {
  it('count for the subscriber they reach, once per customer, and give the count back', () => {
    const calls = new ActiveCalls();
    const release = calls.add(fakeCall('c1'), [
      { subscriberId: 'alice', customerId: 'acme' },
      { subscriberId: 'bob', customerId: 'acme' },
    ]);
    // acme is at its limit with c1, but c1 forwarded to carol (acme too) needs no new room there.
    const limits = { subscriberMax: 1, customerMax: 1 };
    expect(calls.admit('carol', 'acme', limits)).toMatchObject({ ok: false, status: 503 });
    expect(calls.admit('carol', 'acme', limits, 'c1')).toEqual({ ok: true });
    const forwarded = calls.hold('c1', [{ subscriberId: 'carol', customerId: 'acme' }]);
    // carol now has a call; acme still counts c1 once.
    expect(calls.admit('carol', undefined, limits)).toMatchObject({ ok: false, status: 486 });
    expect(calls.admit('dave', 'acme', { customerMax: 2 })).toEqual({ ok: true });
    // Another customer reached by the forward counts it.
    const other = calls.hold('c1', [{ subscriberId: 'erin', customerId: 'globex' }]);
    expect(calls.admit('fred', 'globex', { customerMax: 1 })).toMatchObject({ ok: false, status: 503 });
    forwarded();
    other();
    expect(calls.admit('carol', 'acme', { subscriberMax: 1 })).toEqual({ ok: true });
    expect(calls.admit('fred', 'globex', { customerMax: 1 })).toEqual({ ok: true });
    release();
    expect(calls.admit('dave', 'acme', limits)).toEqual({ ok: true });
    expect(calls.count()).toBe(0);
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
