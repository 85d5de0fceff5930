import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyWakeToken } from '../src/payload.ts';
import { PushService } from '../src/service.ts';
import type { PushBinding, PushResult } from '../src/types.ts';
import { PushRegistrations, pnsKey, wakeAndWait } from '../src/waiters.ts';
import {
  BUNDLE,
  deviceToken,
  log,
  PROJECT,
  type Services,
  startServices,
  staticCredentials,
  TEAM,
} from './support.ts';

const DOMAIN = 'push.example.test';
const SECRET = 'wake-token-secret';
let services: Services;
let push: PushService;
const unregistered: PushBinding[] = [];
const results: Array<{ binding: PushBinding; purpose: string; result: PushResult }> = [];

beforeAll(async () => {
  services = await startServices();
  push = new PushService({
    credentials: staticCredentials(DOMAIN, [services.apnsCredentials, services.fcmCredentials]),
    endpoints: { apnsUrl: services.apns.url, fcmUrl: services.fcm.url, fcmTokenUrl: services.fcm.tokenUrl },
    ca: services.certificate.cert,
    tokenSecret: SECRET,
    log,
    onUnregistered: (binding) => {
      unregistered.push(binding);
    },
    onResult: (binding, purpose, result) => {
      results.push({ binding, purpose, result });
    },
  });
});

afterAll(async () => {
  push?.close();
  await services?.close();
});

const apnsBinding = (n: number, aor = `sip:alice@${DOMAIN}`): PushBinding => ({
  aor,
  bindingKey: `key-${n}`,
  pnProvider: 'apns',
  pnPrid: deviceToken(n),
  pnParam: `${TEAM}.${BUNDLE}.voip`,
});

const fcmBinding = (token: string): PushBinding => ({
  aor: `sip:bob@${DOMAIN}`,
  bindingKey: `key-${token}`,
  pnProvider: 'fcm',
  pnPrid: token,
  pnParam: PROJECT,
});

describe('push service', () => {
  it('wakes a device once per call however often the call forks to it', async () => {
    const before = services.apns.received.length;
    const binding = apnsBinding(100);
    const call = { callId: 'call-1@example', callerName: 'Bob', callerNumber: '+4311002', withheld: false };
    const [a, b] = await Promise.all([push.wake(binding, call), push.wake(binding, call)]);
    const again = await push.wake(binding, call);
    expect(a.outcome).toBe('delivered');
    expect(b).toBe(a);
    expect(again).toBe(a);
    expect(services.apns.received.length - before).toBe(1);
    // Another call to the same device is another push.
    await push.wake(binding, { ...call, callId: 'call-2@example' });
    expect(services.apns.received.length - before).toBe(2);
  });

  it('carries caller, call-id and a short-lived token, and no credentials', async () => {
    const before = services.apns.received.length;
    const call = { callId: 'call-3@example', callerName: 'Bob', callerNumber: '+4311002', withheld: false };
    await push.wake(apnsBinding(101), call);
    const body = JSON.parse(services.apns.received[before]!.body) as Record<string, string>;
    expect(Object.keys(body).sort()).toEqual(['callId', 'callerName', 'callerNumber', 'token', 'type']);
    expect(body).toMatchObject({
      type: 'call',
      callId: call.callId,
      callerName: 'Bob',
      callerNumber: '+4311002',
    });
    expect(verifyWakeToken(SECRET, call.callId, body.token!, Date.now())).toBe(true);
    expect(verifyWakeToken(SECRET, 'another-call', body.token!, Date.now())).toBe(false);
    expect(verifyWakeToken(SECRET, call.callId, body.token!, Date.now() + 61_000)).toBe(false);
  });

  it('says "anonymous" for a withheld caller, over FCM as well', async () => {
    const before = services.fcm.sends.length;
    const call = {
      callId: 'call-4@example',
      callerName: 'Secret Sam',
      callerNumber: '+4311009',
      withheld: true,
    };
    expect((await push.wake(fcmBinding('fcm-anon'), call)).outcome).toBe('delivered');
    const sent = JSON.parse(services.fcm.sends[before]!.body) as {
      message: { data: Record<string, string> };
    };
    expect(sent.message.data).toMatchObject({ callerName: 'anonymous', callerNumber: 'anonymous' });
    expect(JSON.stringify(sent)).not.toContain('Sam');
    expect(JSON.stringify(sent)).not.toContain('4311009');
  });

  it('hands dead bindings (APNs 410, FCM 404) to onUnregistered and records every result', async () => {
    services.apns.answers.set(deviceToken(102), { status: 410, body: { reason: 'Unregistered' } });
    services.fcm.answers.set('fcm-gone', {
      status: 404,
      body: { error: { code: 404, status: 'NOT_FOUND', details: [{ errorCode: 'UNREGISTERED' }] } },
    });
    const dead = [apnsBinding(102), fcmBinding('fcm-gone')];
    for (const binding of dead) expect((await push.refresh(binding)).outcome).toBe('unregistered');
    expect(unregistered.slice(-2)).toEqual(dead);
    expect(results.slice(-2).map((r) => [r.purpose, r.result.outcome])).toEqual([
      ['refresh', 'unregistered'],
      ['refresh', 'unregistered'],
    ]);
    expect(push.counters.get('apns', 'refresh', 'unregistered')).toBe(1);
    expect(push.counters.toPrometheus()).toContain(
      'switchboard_push_notifications_total{provider="fcm",purpose="refresh",outcome="unregistered"} 1',
    );
  });

  it('fails without contacting anyone when the domain has no credentials', async () => {
    const before = services.apns.received.length;
    const result = await push.test(apnsBinding(103, 'sip:carol@elsewhere.test'));
    expect(result).toMatchObject({ outcome: 'failed', reason: 'no apns credentials for elsewhere.test' });
    expect(services.apns.received.length).toBe(before);
  });
});

describe('push service without a reachable push service', () => {
  it('answers failed instead of throwing when nothing listens', async () => {
    const unreachable = new PushService({
      credentials: staticCredentials(DOMAIN, [services.apnsCredentials]),
      // Port 9 (discard) on loopback: nothing listens there in the test environment.
      endpoints: { apnsUrl: 'https://127.0.0.1:9' },
      ca: services.certificate.cert,
      tokenSecret: SECRET,
      log,
    });
    try {
      const result = await unreachable.refresh(apnsBinding(104));
      expect(result).toMatchObject({ outcome: 'failed', provider: 'apns' });
      expect(unreachable.counters.get('apns', 'refresh', 'failed')).toBe(1);
    } finally {
      unreachable.close();
    }
  });
});

describe('APNs sandbox', () => {
  it('sends the pushes of credentials uploaded as sandbox to the sandbox endpoint, the others to production', async () => {
    // Production is unreachable here: a push that went there would fail.
    const sandbox = new PushService({
      credentials: staticCredentials(DOMAIN, [{ ...services.apnsCredentials, environment: 'sandbox' }]),
      endpoints: { apnsUrl: 'https://127.0.0.1:9', apnsSandboxUrl: services.apns.url },
      ca: services.certificate.cert,
      tokenSecret: SECRET,
      log,
    });
    const production = new PushService({
      credentials: staticCredentials(DOMAIN, [{ ...services.apnsCredentials, environment: 'production' }]),
      endpoints: { apnsUrl: 'https://127.0.0.1:9', apnsSandboxUrl: services.apns.url },
      ca: services.certificate.cert,
      tokenSecret: SECRET,
      log,
    });
    try {
      const before = services.apns.received.length;
      expect(await sandbox.test(apnsBinding(110))).toMatchObject({ outcome: 'delivered' });
      expect(services.apns.received.length).toBe(before + 1);
      expect(await production.test(apnsBinding(111))).toMatchObject({ outcome: 'failed' });
      expect(services.apns.received.length).toBe(before + 1);
    } finally {
      sandbox.close();
      production.close();
    }
  });
});

describe('wake and wait', () => {
  it('resolves with the binding the device registers after the push', async () => {
    const registrations = new PushRegistrations<PushBinding>();
    const binding = apnsBinding(105);
    const fresh = { ...binding, bindingKey: 'fresh' };
    const received = services.apns.received.length;
    // The "device": registers as soon as APNs has the push.
    void services.apns.until(received + 1).then(() => registrations.registered(fresh));
    const outcome = await wakeAndWait(
      push,
      registrations,
      binding,
      { callId: 'call-5', withheld: false },
      {
        timeoutMs: 30_000,
      },
    );
    expect(outcome.result.outcome).toBe('delivered');
    expect(outcome.binding).toBe(fresh);
    expect(registrations.waiting).toBe(0);
  });

  it('does not wait when the push was not delivered', async () => {
    const registrations = new PushRegistrations<PushBinding>();
    services.apns.answers.set(deviceToken(106), { status: 400, body: { reason: 'BadDeviceToken' } });
    const outcome = await wakeAndWait(
      push,
      registrations,
      apnsBinding(106),
      { callId: 'call-6', withheld: false },
      {
        timeoutMs: 60_000,
      },
    );
    expect(outcome).toMatchObject({
      result: { outcome: 'rejected', reason: 'BadDeviceToken' },
      binding: undefined,
    });
    expect(registrations.waiting).toBe(0);
  });
});

describe('push registrations', () => {
  const binding = { pnProvider: 'apns', pnPrid: 'aa', pnParam: 'T.b.voip' };

  it('resolves a waiter with the binding the registrar reports', async () => {
    const registrations = new PushRegistrations<typeof binding>();
    const waiting = registrations.waitFor(pnsKey(binding)!, 60_000);
    registrations.registered({ ...binding, pnPrid: 'other' });
    expect(registrations.waiting).toBe(1);
    registrations.registered(binding);
    expect(await waiting).toBe(binding);
    expect(registrations.waiting).toBe(0);
  });

  it('gives up on abort and on timeout', async () => {
    const registrations = new PushRegistrations<typeof binding>();
    const controller = new AbortController();
    const aborted = registrations.waitFor(pnsKey(binding)!, 60_000, controller.signal);
    controller.abort();
    expect(await aborted).toBeUndefined();
    expect(await registrations.waitFor(pnsKey(binding)!, 1)).toBeUndefined();
    expect(registrations.waiting).toBe(0);
  });
});
