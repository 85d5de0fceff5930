import { CALL_CONTROL_CHANNEL, REGISTRATIONS_CHANNEL } from '@switchboard/db';
import { createMetricsRegistry, sipCoreMetrics } from '@switchboard/metrics';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ActiveCall } from '../src/types.ts';
import { type Actor, createWorld, type World } from './support/world.ts';

/**
 * The live state an admin works with: registrations (kick one), calls in progress (hang one up) and the
 * dashboard's aggregate figures, each seen only within the principal's tenant.
 */

let world: World;
const metrics = createMetricsRegistry({ process: false });
const notices: Record<string, string[]> = { [CALL_CONTROL_CHANNEL]: [], [REGISTRATIONS_CHANNEL]: [] };
let stopListening: Array<() => Promise<void>> = [];

beforeAll(async () => {
  world = await createWorld('live_state', { metrics });
  for (const channel of Object.keys(notices)) {
    stopListening.push(await world.db.onChange(channel, (payload) => notices[channel]!.push(payload)));
  }
});
afterAll(async () => {
  for (const stop of stopListening) await stop();
  stopListening = [];
  await world?.close();
});

const api = (actor: Actor, method: 'GET' | 'DELETE', url: string) =>
  world.request(actor, method, `/api/v1${url}`);

/** Polls until `read` holds (bounded): NOTIFY arrives on its own connection. */
async function eventually(read: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!read()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function liveCall(callId: string, customerId: string, subscriberId: string): ActiveCall {
  return {
    id: callId,
    callId,
    direction: 'outbound',
    state: 'answered',
    caller: '+4311001',
    callee: '0800111',
    startedAt: new Date(world.now() - 30_000),
    answeredAt: new Date(world.now() - 20_000),
    callerSubscriberId: subscriberId,
    callerCustomerId: customerId,
    codecs: ['PCMA/8000'],
    mediaRelay: '127.0.0.1:22222',
    node: 'node-1',
  };
}

describe('live calls', () => {
  it('lists codecs, relay and duration, only to the tenants of the call', async () => {
    world.calls.length = 0;
    world.calls.push(
      liveCall('call-a', world.ids.cA, world.ids.sA),
      liveCall('call-b', world.ids.cB, world.ids.sB),
    );
    const mine = await api('customerA', 'GET', '/calls');
    expect(mine.statusCode).toBe(200);
    expect(mine.json().items.map((c: { callId: string }) => c.callId)).toEqual(['call-a']);
    const [call] = mine.json().items;
    expect(call.codecs).toEqual(['PCMA/8000']);
    expect(call.mediaRelay).toBe('127.0.0.1:22222');
    expect(call.durationMs).toBeGreaterThanOrEqual(19_000);
    const reseller = await api('resellerB', 'GET', '/calls');
    expect(reseller.json().items.map((c: { callId: string }) => c.callId)).toEqual(['call-b']);
    expect((await api('operator', 'GET', '/calls')).json().total).toBe(2);
  });

  it("hangs up one's own call through the change feed and never another tenant's", async () => {
    const refused = await api('customerA', 'DELETE', '/calls/call-b');
    expect(refused.statusCode).toBe(404);
    expect((await api('resellerA', 'DELETE', '/calls/call-b')).statusCode).toBe(404);
    expect((await api('customerA', 'DELETE', '/calls/no-such-call')).statusCode).toBe(404);
    const done = await api('customerA', 'DELETE', '/calls/call-a');
    expect(done.statusCode).toBe(202);
    await eventually(() => notices[CALL_CONTROL_CHANNEL]!.length > 0);
    expect(notices[CALL_CONTROL_CHANNEL]!.map((p) => JSON.parse(p))).toEqual([{ callId: 'call-a' }]);
    const audit = await world.prisma.auditEntry.findFirst({
      where: { action: 'hangup', entityId: 'call-a' },
    });
    expect(audit?.actor).toBe(world.users.customerA.email);
  });
});

describe('registrations', () => {
  it("removes a binding of one's own tenant and announces its AOR; another tenant's is not found", async () => {
    expect((await api('customerA', 'DELETE', `/registrations/${world.ids.regB}`)).statusCode).toBe(404);
    expect((await api('resellerA', 'DELETE', `/registrations/${world.ids.regB}`)).statusCode).toBe(404);
    expect(await world.prisma.registration.count({ where: { id: world.ids.regB } })).toBe(1);
    const listed = await api('customerA', 'GET', '/registrations');
    expect(listed.json().items.map((r: { id: string }) => r.id)).toEqual([world.ids.regA]);

    const removed = await api('customerA', 'DELETE', `/registrations/${world.ids.regA}`);
    expect(removed.statusCode).toBe(204);
    expect(await world.prisma.registration.count({ where: { id: world.ids.regA } })).toBe(0);
    await eventually(() => notices[REGISTRATIONS_CHANNEL]!.length > 0);
    expect(JSON.parse(notices[REGISTRATIONS_CHANNEL]![0]!)).toEqual({
      aors: ['sip:alice@a.example.com'],
      origin: 'api',
    });
    expect((await api('operator', 'GET', '/registrations')).json().total).toBe(1);
  });
});

describe('dashboard', () => {
  it('counts devices (AOR + instance), not bindings, within the tenant', async () => {
    const sub = world.ids.sB;
    const binding = (key: string, instanceId: string | null, contact: string) => ({
      subscriberId: sub,
      aor: 'sip:bob@b.example.com',
      bindingKey: key,
      contactUri: contact,
      receivedAddress: '127.0.0.1',
      receivedPort: 5070,
      transport: 'udp' as const,
      expiresAt: new Date(world.now() + 600_000),
      instanceId,
      callId: key,
      cseq: 1,
      node: 'node-1',
    });
    // One phone holding two flows (RFC 5626 reg-id 1 and 2) and a second phone: two devices, three bindings.
    await world.prisma.registration.createMany({
      data: [
        binding('k1', '<urn:uuid:phone-1>', 'sip:bob@127.0.0.1:5070'),
        binding('k2', '<urn:uuid:phone-1>', 'sip:bob@127.0.0.1:5071'),
      ],
    });
    const before = (await api('resellerB', 'GET', '/dashboard')).json();
    // The fixture's own binding of bob (no instance) is a device of its own.
    expect(before).toMatchObject({ bindings: 3, devices: 2, registeredSubscribers: 1 });
    const customerA = (await api('customerA', 'GET', '/dashboard')).json();
    expect(customerA).toMatchObject({ bindings: 0, devices: 0 });
    expect(customerA.sipAuthFailures).toBeNull();
  });

  it('counts calls per hour in SQL for the tenant, with web and SIP authentication failures', async () => {
    const at = new Date(world.now() - 2 * 3_600_000);
    for (const [customerId, subscriberId, disposition] of [
      [world.ids.cA, world.ids.sA, 'answered'],
      [world.ids.cA, world.ids.sA, 'busy'],
      [world.ids.cB, world.ids.sB, 'answered'],
    ] as const) {
      await world.prisma.cdr.create({
        data: {
          callId: `dash-${Math.random()}`,
          direction: 'outbound',
          callerDialled: 'x',
          calleeDialled: 'y',
          startedAt: at,
          endedAt: at,
          disposition,
          callerCustomerId: customerId,
          callerSubscriberId: subscriberId,
        },
      });
    }
    await world.request(null, 'POST', '/api/v1/auth/login', {
      email: world.users.customerA.email,
      password: 'wrong password here',
    });
    sipCoreMetrics(metrics).authFailures.inc(3);

    const a = (await api('customerA', 'GET', '/dashboard')).json();
    expect(a.callsLast24h).toBe(2);
    expect(a.answeredLast24h).toBe(1);
    expect(a.callsPerHour).toHaveLength(24);
    expect(a.callsPerHour.reduce((n: number, h: { calls: number }) => n + h.calls, 0)).toBe(2);
    const hour = a.callsPerHour.find((h: { calls: number }) => h.calls > 0);
    expect(new Date(hour.hour).getTime()).toBe(Math.floor(at.getTime() / 3_600_000) * 3_600_000);
    expect(a.activeCalls).toBe(1);
    const operator = (await api('operator', 'GET', '/dashboard')).json();
    expect(operator.callsLast24h).toBe(3);
    expect(operator.sipAuthFailures).toBe(3);
    expect(operator.webLoginFailuresLast24h).toBeGreaterThanOrEqual(1);
  });
});
