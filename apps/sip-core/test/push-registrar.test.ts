import { randomBytes } from 'node:crypto';
import { type FakeApns, type FakeFcm, FCM_UNREGISTERED } from '@switchboard/push/testing';
import { pino } from 'pino';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { type RunningSipCore, startSipCore } from '../src/start.ts';
import {
  createSubscriber,
  createTenant,
  createTestDatabase,
  type TestDatabase,
  type TestTenant,
} from './support/database.ts';
import { describeOnEngine, onEngine, startTestEngine, type TestEngine } from './support/engine.ts';
import { APNS_PARAM, startPushServices, storePushCredentials } from './support/push.ts';
import { runSipp, stopAllSipp } from './support/sipp.ts';

/**
 * RFC 8599 registrar: sipp "apps" register with push parameters through engine + sip-core +
 * PostgreSQL; the platform pushes through local stand-ins for APNs and FCM.
 */
const log = pino({ level: process.env.SIPCORE_TEST_LOG ?? 'silent' });
const DOMAIN = 'push.example.test';
const SECRET = 'push-integration-secret';
const PROJECT = 'switchboard-push-test';
const credentialsKey = randomBytes(32);
let testDb: TestDatabase;
let tenant: TestTenant;
let engine: TestEngine;
let sipCore: RunningSipCore;
let apns: FakeApns;
let fcm: FakeFcm;
let remote: string;

beforeAll(async () => {
  testDb = await createTestDatabase();
  tenant = await createTenant(testDb.db, DOMAIN);
  await createSubscriber(testDb.db, tenant, 'alice', 'alice-secret');
  await createSubscriber(testDb.db, tenant, 'bob', 'bob-secret');
  const services = await startPushServices(PROJECT);
  ({ apns, fcm } = services);
  const { certificate } = services;
  await storePushCredentials(testDb, tenant, credentialsKey, services.apnsCredentials);
  await storePushCredentials(testDb, tenant, credentialsKey, services.fcmCredentials);
  engine = await startTestEngine({ secret: SECRET, logger: log });
  remote = engine.remote;
  sipCore = await startSipCore(
    {
      drachtio: engine.drachtio,
      nodeName: 'push-node',
      registrar: { minExpires: 4, maxExpires: 3600 },
      access: { rateLimitPerSecond: 0 },
      nat: { keepaliveInterval: 0 },
    },
    {
      prisma: testDb.db.prisma,
      db: testDb.db,
      logger: log,
      push: {
        endpoints: { apnsUrl: apns.url, fcmUrl: fcm.url, fcmTokenUrl: fcm.tokenUrl },
        ca: certificate.cert,
        credentialsKey,
        refreshLeadSeconds: 60,
        refreshScanMs: 200,
      },
    },
  );
}, 60_000);

afterAll(async () => {
  stopAllSipp();
  await sipCore?.close();
  await engine?.close();
  await Promise.all([apns?.close(), fcm?.close()]);
  await testDb?.drop();
});

const AOR = (user: string): string => `sip:${user}@${DOMAIN}`;
const token = (n: number): string => n.toString(16).padStart(64, 'a');

function app(
  user: string,
  fields: { provider: string; prid: string; param: string; expires: number },
): string[] {
  return [
    `${user};${DOMAIN};[authentication username=${user} password=${user}-secret];${fields.provider};${fields.prid};${fields.param};${fields.expires}`,
  ];
}

async function rowsOf(user: string) {
  await sipCore.location.flush();
  return testDb.db.prisma.registration.findMany({ where: { aor: AOR(user) } });
}

describeOnEngine(onEngine('RFC 8599 registrar through the engine (sipp)'), { timeout: 60_000 }, () => {
  it('registers an iOS app with pn-* parameters: 200 with Feature-Caps, parameters stored', async () => {
    const result = await runSipp({
      scenario: 'push-register.xml',
      remote,
      csv: app('alice', { provider: 'apns', prid: token(1), param: APNS_PARAM, expires: 600 }),
    });
    expect(result.code, result.output).toBe(0);
    const rows = await rowsOf('alice');
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      pnProvider: 'apns',
      pnPrid: token(1),
      pnParam: APNS_PARAM,
      pnRefresh: 60,
      receivedPort: result.port,
    });
  });

  it('replaces the binding when the app re-registers with the same pn-* values from a new port', async () => {
    const fields = { provider: 'apns', prid: token(2), param: APNS_PARAM, expires: 600 };
    const first = await runSipp({ scenario: 'push-register.xml', remote, csv: app('bob', fields) });
    expect(first.code, first.output).toBe(0);
    const second = await runSipp({ scenario: 'push-register.xml', remote, csv: app('bob', fields) });
    expect(second.code, second.output).toBe(0);
    expect(second.port).not.toBe(first.port);
    const rows = await rowsOf('bob');
    expect(rows).toHaveLength(1);
    expect(rows[0]!.receivedPort).toBe(second.port);
    expect(sipCore.location.lookup(AOR('bob'))).toHaveLength(1);
  });

  it('answers 555 to a push service that does not exist', async () => {
    const result = await runSipp({
      scenario: 'push-refused.xml',
      remote,
      csv: app('alice', { provider: 'webpush', prid: token(3), param: 'x', expires: 600 }),
    });
    expect(result.code, result.output).toBe(0);
    expect((await rowsOf('alice')).some((row) => row.pnPrid === token(3))).toBe(false);
  });

  it('tells a waiting wake-up when the device registers', async () => {
    const key = `apns\u0000${token(4)}\u0000${APNS_PARAM}`;
    const waiting = sipCore.push.registrations.waitFor(key, 30_000);
    const result = await runSipp({
      scenario: 'push-register.xml',
      remote,
      csv: app('alice', { provider: 'apns', prid: token(4), param: APNS_PARAM, expires: 600 }),
    });
    expect(result.code, result.output).toBe(0);
    const binding = await waiting;
    expect(binding).toMatchObject({ aor: AOR('alice'), pnPrid: token(4), receivedPort: result.port });
  });

  it('pushes a refresh when a +sip.pnsreg binding nears expiry without a refresh', async () => {
    const before = fcm.sends.length;
    // Granted 16 s, so the refresh push is due 8 s (half the interval) before expiry.
    const result = await runSipp({
      scenario: 'push-register.xml',
      remote,
      csv: app('bob', { provider: 'fcm', prid: 'fcm-refresh-token', param: PROJECT, expires: 16 }),
    });
    expect(result.code, result.output).toBe(0);
    const refreshPush = () => fcm.sends.slice(before).find((s) => s.body.includes('fcm-refresh-token'));
    await vi.waitFor(() => expect(refreshPush()).toBeDefined(), { timeout: 20_000, interval: 100 });
    const pushed = refreshPush();
    expect(pushed?.problem).toBeUndefined();
    const message = JSON.parse(pushed!.body) as { message: { data: Record<string, string> } };
    expect(message.message.data).toEqual({ type: 'refresh-registration', aor: AOR('bob') });
    expect(fcm.exchanges.length).toBeGreaterThanOrEqual(1);
    await vi.waitFor(
      async () => {
        const row = (await rowsOf('bob')).find((r) => r.pnPrid === 'fcm-refresh-token');
        expect(row).toMatchObject({ pnRefresh: 8, pushLastResult: 'delivered' });
      },
      { timeout: 5000, interval: 100 },
    );
  });

  it('removes a binding whose device token APNs answers 410 Unregistered, and one FCM answers 404', async () => {
    apns.answers.set(token(5), { status: 410, body: { reason: 'Unregistered' } });
    fcm.answers.set('fcm-dead-token', FCM_UNREGISTERED);
    for (const fields of [
      { provider: 'apns', prid: token(5), param: APNS_PARAM, expires: 600 },
      { provider: 'fcm', prid: 'fcm-dead-token', param: PROJECT, expires: 600 },
    ]) {
      const result = await runSipp({ scenario: 'push-register.xml', remote, csv: app('alice', fields) });
      expect(result.code, result.output).toBe(0);
      const binding = sipCore.location.lookup(AOR('alice')).find((b) => b.pnPrid === fields.prid);
      expect(binding).toBeDefined();
      const outcome = await sipCore.push.service.wake(binding!, {
        callId: `call-${fields.provider}`,
        callerName: 'Bob',
        callerNumber: '+4311002',
        withheld: false,
      });
      expect(outcome.outcome).toBe('unregistered');
      expect(sipCore.location.lookup(AOR('alice')).some((b) => b.pnPrid === fields.prid)).toBe(false);
      expect((await rowsOf('alice')).some((row) => row.pnPrid === fields.prid)).toBe(false);
    }
  });
});
