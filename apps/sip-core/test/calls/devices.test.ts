import { PushRegistrations, type PushResult } from '@switchboard/push';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { type CallTarget, isWakeTarget } from '../../src/calls/call-types.ts';
import { type DeviceWaker, deviceTargets, needsWake, withoutPushParams } from '../../src/calls/devices.ts';
import type { Binding } from '../../src/location/binding.ts';
import { makeBinding } from '../support/bindings.ts';

const NOW = 1_800_000_000_000;
const AOR = 'sip:bob@example.test';
const push = { pnProvider: 'apns', pnPrid: 'a1b2', pnParam: 'ABCDE12345.com.example.phone.voip' };
const contact = `sip:bob@203.0.113.5:40000;pn-provider=apns;pn-prid=a1b2;pn-param=${push.pnParam}`;

function waker(results: PushResult[] = []): DeviceWaker & { pushed: string[] } {
  const pushed: string[] = [];
  return {
    pushed,
    service: {
      async wake(binding) {
        pushed.push(binding.pnPrid ?? '');
        return results.shift() ?? { outcome: 'delivered', provider: 'apns' };
      },
    },
    registrations: new PushRegistrations<Binding>(),
    flowLifetimeMs: 30_000,
    log: pino({ level: 'silent' }),
    now: () => NOW,
  };
}

describe('which bindings are woken', () => {
  it('a push binding whose last REGISTER is older than the flow lifetime, or unknown', () => {
    const b = (registeredAt?: number) =>
      makeBinding({ aor: AOR, subscriberId: 's', ...push, ...(registeredAt ? { registeredAt } : {}) });
    expect(needsWake(b(NOW - 30_000), NOW, 30_000)).toBe(true);
    expect(needsWake(b(NOW - 29_999), NOW, 30_000)).toBe(false);
    expect(needsWake(b(), NOW, 30_000)).toBe(true);
    expect(needsWake(makeBinding({ aor: AOR, subscriberId: 's', registeredAt: 0 }), NOW, 30_000)).toBe(false);
  });

  it('strips the pn-* parameters and keeps the others', () => {
    expect(withoutPushParams(`${contact};transport=tcp`)).toBe('sip:bob@203.0.113.5:40000;transport=tcp');
    expect(withoutPushParams('sip:bob@203.0.113.5;PN-PRID=x;ob')).toBe('sip:bob@203.0.113.5;ob');
  });
});

describe('deviceTargets', () => {
  const sleeping = makeBinding({
    aor: AOR,
    subscriberId: 's',
    contactUri: contact,
    ...push,
    registeredAt: NOW - 60_000,
  });
  const desk = makeBinding({
    aor: AOR,
    subscriberId: 's',
    contactUri: 'sip:bob@192.0.2.9',
    registeredAt: NOW,
  });
  const call = { callId: 'c1', withheld: false };

  it('rings every binding directly without a waker', () => {
    const targets = deviceTargets([sleeping, desk]);
    expect(targets.some(isWakeTarget)).toBe(false);
  });

  it('wakes the sleeping app and rings its fresh contact without pn-* parameters', async () => {
    const w = waker();
    const [app, phone] = deviceTargets([sleeping, desk], { waker: w, call, timeoutMs: () => 1000 });
    expect(isWakeTarget(phone!)).toBe(false);
    if (!app || !isWakeTarget(app)) throw new Error('expected a wake target');
    const ready = app.ready(new AbortController().signal);
    await Promise.resolve();
    expect(w.registrations.waiting).toBe(1);
    w.registrations.registered({
      ...sleeping,
      receivedPort: 41000,
      contactUri: `${contact.replace('40000', '41000')}`,
    });
    const target = (await ready) as CallTarget;
    expect(target.uri).toBe('sip:bob@203.0.113.5:41000');
    expect(target.proxy).toBe(`sip:${sleeping.receivedAddress}:41000;transport=udp`);
    expect(w.pushed).toEqual(['a1b2']);
  });

  it('rings the binding where it registered when the push could not be sent', async () => {
    const w = waker([{ outcome: 'failed', provider: 'apns', reason: 'connect ECONNREFUSED' }]);
    const [app] = deviceTargets([sleeping], { waker: w, call, timeoutMs: () => 10_000 });
    if (!app || !isWakeTarget(app)) throw new Error('expected a wake target');
    const target = await app.ready(new AbortController().signal);
    expect(target?.uri).toBe(contact);
    expect(w.registrations.waiting).toBe(0);
  });

  it('ends the wait when aborted or when the app is gone (410)', async () => {
    const w = waker([{ outcome: 'unregistered', provider: 'apns', status: 410 }]);
    const [gone] = deviceTargets([sleeping], { waker: w, call, timeoutMs: () => 10_000 });
    if (!gone || !isWakeTarget(gone)) throw new Error('expected a wake target');
    expect(await gone.ready(new AbortController().signal)).toBeUndefined();
    const [waiting] = deviceTargets([sleeping], { waker: waker(), call, timeoutMs: () => 10_000 });
    if (!waiting || !isWakeTarget(waiting)) throw new Error('expected a wake target');
    const stop = new AbortController();
    const ready = waiting.ready(stop.signal);
    stop.abort();
    expect(await ready).toBeUndefined();
  });
});
