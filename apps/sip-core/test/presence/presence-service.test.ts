import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ActiveCallInfo } from '../../src/calls/call-types.ts';
import { DEFAULT_PRESENCE } from '../../src/config.ts';
import { PresenceService } from '../../src/presence/presence-service.ts';
import type { NotifyChannel, Party } from '../../src/presence/store.ts';

/** The notifier's bookkeeping with a recording NOTIFY channel: what is sent, when, and when it stops. */

const bob: Party = { id: 'bob', customerId: 'c1', aor: 'sip:bob@example.test' };
const carol: Party = { id: 'carol', customerId: 'c1', aor: 'sip:carol@example.test' };

interface Sent {
  state: string;
  body: string;
}

function recorder(fail = false): NotifyChannel & { sent: Sent[] } {
  const sent: Sent[] = [];
  return {
    sent,
    notify: async (headers, body) => {
      sent.push({ state: headers['Subscription-State'] ?? '', body });
      if (fail) throw new Error('481');
    },
    drop: () => undefined,
  };
}

let bindings: string[];
let calls: ActiveCallInfo[];
let service: PresenceService;

const call = (state: ActiveCallInfo['state']): ActiveCallInfo => ({
  callId: 'call-1',
  state,
  direction: 'internal',
  caller: 'alice',
  callee: 'bob',
  callerSubscriberId: 'alice',
  calleeSubscriberId: 'bob',
  callerWithheld: false,
  startedAt: new Date(),
  codecs: [],
  relay: null,
});

/** Lets the subscription's NOTIFY queue run. */
const settle = () => vi.advanceTimersByTimeAsync(0);

beforeEach(() => {
  vi.useFakeTimers();
  bindings = [];
  calls = [];
  service = new PresenceService({
    sources: { bindings: () => bindings, calls: () => calls },
    config: { ...DEFAULT_PRESENCE },
    log: pino({ level: 'silent' }),
  });
});
afterEach(() => {
  service.close();
  vi.useRealTimers();
});

describe('presence notifier', () => {
  it('notifies registration changes once each, and ends an unrefreshed subscription with reason=timeout', async () => {
    const channel = recorder();
    service.subscribe('presence', carol, bob, channel, 60);
    await settle();
    bindings = ['phone'];
    service.registrationsChanged(bob.aor);
    service.registrationsChanged(bob.aor);
    service.registrationsChanged('sip:someone@example.test');
    await settle();
    expect(channel.sent.map((n) => n.state)).toEqual(['active;expires=60', 'active;expires=60']);
    expect(channel.sent[0]?.body).toContain('<basic>closed</basic>');
    expect(channel.sent[1]?.body).toContain('<basic>open</basic>');
    expect(service.status(bob.id, bob.aor)).toBe('online');

    await vi.advanceTimersByTimeAsync(60_000);
    expect(channel.sent.at(-1)?.state).toBe('terminated;reason=timeout');
    expect(service.store.size).toBe(0);
    bindings = [];
    service.registrationsChanged(bob.aor);
    await settle();
    expect(channel.sent).toHaveLength(3);
  });

  it('dialog: versions count up, a call that ends is reported terminated once, then left out', async () => {
    const channel = recorder();
    service.subscribe('dialog', carol, bob, channel, 600);
    for (const state of ['trying', 'early', 'answered', 'ended'] as const) {
      calls = [call(state)];
      service.callChanged(call(state));
    }
    calls = [];
    service.callChanged(call('ended'));
    service.refresh(service.store.all()[0]!, 600);
    await settle();
    const states = channel.sent.map((n) => /<state>(\w+)<\/state>/.exec(n.body)?.[1] ?? 'none');
    expect(states).toEqual(['none', 'trying', 'early', 'confirmed', 'terminated', 'none']);
    expect(channel.sent.map((n) => /version="(\d+)"/.exec(n.body)?.[1])).toEqual([
      '0',
      '1',
      '2',
      '3',
      '4',
      '5',
    ]);
    expect(channel.sent[1]?.body).toContain('direction="recipient"');
    expect(service.status(bob.id, bob.aor)).toBe('offline');
  });

  it('a call of the presentity marks it on the phone and in a call', async () => {
    const channel = recorder();
    bindings = ['phone'];
    service.subscribe('presence', carol, bob, channel, 600);
    calls = [call('answered')];
    service.callChanged(calls[0]!);
    await settle();
    expect(channel.sent.at(-1)?.body).toContain('<rpid:on-the-phone/>');
    expect(service.status(bob.id, bob.aor)).toBe('in-call');
  });

  it('a published document wins until it is removed', async () => {
    const channel = recorder();
    service.subscribe('presence', carol, bob, channel, 600);
    service.store.publish(
      bob.id,
      { etag: 'e1', body: '<presence>away</presence>', expiresAt: Date.now() + 60_000 },
      () => undefined,
    );
    service.publicationChanged(bob.id);
    service.store.unpublish(bob.id, 'e1');
    service.publicationChanged(bob.id);
    await settle();
    expect(channel.sent.map((n) => n.body.includes('away'))).toEqual([false, true, false]);
  });

  it('a NOTIFY the watcher refuses ends the subscription', async () => {
    service.subscribe('presence', carol, bob, recorder(true), 600);
    await settle();
    expect(service.store.size).toBe(0);
    expect(service.store.countOf(carol.id)).toBe(0);
  });
});
