import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CdrMediaStats } from '@switchboard/db';
import { startEngine } from '@switchboard/engine';
import { createMetricsRegistry, type MetricsServer, startMetricsServer } from '@switchboard/metrics';
import { verifyWakeToken } from '@switchboard/push';
import type { FakeApns, FakeFcm } from '@switchboard/push/testing';
import { startBaresip, writeToneWav } from '@switchboard/testkit';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SipCorePushOptions } from '../../src/push/setup.ts';
import { type RunningSipCore, startSipCore } from '../../src/start.ts';
import { APNS_PARAM, BUNDLE, startPushServices, storePushCredentials } from '../support/push.ts';
import { allocatePort, expectSippOk, runSipp, type SippRun } from './support/sipp.ts';
import {
  type CallStack,
  callFields,
  closeCallStack,
  completedCdr,
  DOMAIN,
  registerWithSipp,
  startCallStack,
} from './support/stack.ts';

/**
 * RFC 8599 §7 through engine + sip-core + rtpengine + PostgreSQL: calls to a subscriber whose app
 * sleeps (a push binding whose flow is older than the flow lifetime) push the app through local
 * stand-ins for APNs and FCM, are held until sipp plays the woken app registering from a new
 * socket, and then reach it there. A second sip-core node on its own engine shares the database, so
 * a REGISTER through it releases a call held on the first (change feed). Node A's /metrics is
 * scraped at the end for the push counters.
 */
const PROJECT = 'switchboard-wake-test';
const SECRET = 'push-wake-node-b-secret';
/** A flow older than this is not live: the app is pushed instead of rung. */
const FLOW_LIFETIME_MS = 300;
const log = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
const credentialsKey = randomBytes(32);
const users = ['alice', 'bob', 'carol', 'dave', 'erin', 'fred', 'gina', 'henry', 'iris'];

let stack: CallStack;
let apns: FakeApns;
let fcm: FakeFcm;
let pushOptions: SipCorePushOptions;
let carolPort: number;
let audioDir: string;
const registry = createMetricsRegistry({ process: false });
let metricsServer: MetricsServer;
let nodeB: { engine: Awaited<ReturnType<typeof startEngine>>; sipCore: RunningSipCore; address: string };

beforeAll(async () => {
  const services = await startPushServices(PROJECT);
  ({ apns, fcm } = services);
  const { certificate } = services;
  pushOptions = {
    endpoints: { apnsUrl: apns.url, fcmUrl: fcm.url, fcmTokenUrl: fcm.tokenUrl },
    ca: certificate.cert,
    credentialsKey,
    flowLifetimeMs: FLOW_LIFETIME_MS,
  };
  stack = await startCallStack(
    Object.fromEntries(users.map((u) => [u, `${u}-secret`])),
    { ringTimeout: 20, pushWaitTimeout: 3 },
    async (db, tenant, subscribers) => {
      await storePushCredentials(db, tenant, credentialsKey, services.apnsCredentials);
      await storePushCredentials(db, tenant, credentialsKey, services.fcmCredentials);
      // fred's app does not wake: his calls go on to carol (call forward on no answer).
      await db.db.prisma.callForward.create({
        data: {
          subscriberId: subscribers.get('fred')!,
          type: 'cfna',
          destinations: { create: [{ position: 0, kind: 'uri', destination: `sip:carol@${DOMAIN}` }] },
        },
      });
    },
    {
      push: pushOptions,
      metrics: registry,
    },
  );
  metricsServer = await startMetricsServer({ host: '127.0.0.1', port: 0 }, registry);
  audioDir = mkdtempSync(join(tmpdir(), 'push-wake-audio-'));
  writeToneWav(join(audioDir, 'alice.wav'), 440, 60);
  carolPort = await registerWithSipp(stack, 'carol', 'carol-secret');
  // Node B: its own engine and sip-core on the same database (only REGISTERs go through it here).
  const engine = await startEngine(
    {
      sipListen: [{ transport: 'udp', host: '127.0.0.1', port: 0 }],
      engineAdmin: { host: '127.0.0.1', port: 0 },
      engineSecret: SECRET,
    },
    { logger: log },
  );
  const sipCore = await startSipCore(
    {
      drachtio: { host: '127.0.0.1', port: engine.adminAddress.port, secret: SECRET },
      nodeName: 'calls-test-b',
      auth: { algorithms: ['MD5'] },
      access: { rateLimitPerSecond: 0 },
      nat: { keepaliveInterval: 0 },
    },
    { prisma: stack.testDb.db.prisma, db: stack.testDb.db, logger: log, push: pushOptions },
  );
  nodeB = { engine, sipCore, address: `127.0.0.1:${engine.listeners[0]!.port}` };
}, 90_000);

afterAll(async () => {
  await nodeB?.sipCore.close();
  await nodeB?.engine.close();
  await closeCallStack(stack);
  await Promise.all([apns?.close(), fcm?.close(), metricsServer?.close()]);
  if (audioDir) rmSync(audioDir, { recursive: true, force: true });
}, 30_000);

const token = (n: number): string => n.toString(16).padStart(64, 'b');
type App = { user: string; provider: 'apns' | 'fcm'; prid: string; param: string };
const apnsApp = (user: string, n: number): App => ({
  user,
  provider: 'apns',
  prid: token(n),
  param: APNS_PARAM,
});
const fcmApp = (user: string): App => ({ user, provider: 'fcm', prid: `fcm-${user}-token`, param: PROJECT });

/** The app registers with its pn-* values from a fresh socket (through `via`, node A by default). */
async function appRegisters(app: App, via = stack.sipAddress): Promise<number> {
  const port = await allocatePort();
  const run = runSipp({
    scenario: 'push-app-register.xml',
    port,
    remote: via,
    fields: [
      app.user,
      `[authentication username=${app.user} password=${app.user}-secret]`,
      DOMAIN,
      app.provider,
      app.prid,
      app.param,
    ],
    authUri: DOMAIN,
  });
  expectSippOk(await run.done, `${app.user}'s app registers`);
  return port;
}

/** The app registered, then went to sleep: its flow is older than the flow lifetime. */
async function appSleeps(app: App): Promise<void> {
  await appRegisters(app);
  await new Promise((resolve) => setTimeout(resolve, FLOW_LIFETIME_MS + 200));
}

async function caller(callee: string, scenario: string): Promise<SippRun> {
  return runSipp({
    scenario,
    port: await allocatePort(),
    remote: stack.sipAddress,
    fields: callFields('alice', 'alice-secret', callee),
    authUri: `${callee}@${DOMAIN}`,
    timeoutS: 30,
  });
}

/** The woken app registers from a new socket and answers the held call there. */
async function appWakesAndAnswers(app: App, via?: string): Promise<SippRun> {
  const port = await appRegisters(app, via);
  return runSipp({ scenario: 'uas-push-woken.xml', port, timeoutS: 30 });
}

/** Polls `done` (bounded, 10 s). */
async function until(what: string, done: () => boolean): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`no ${what} within 10 s`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const cdrCount = () => stack.testDb.db.prisma.cdr.count();

describe('a call to a sleeping app', () => {
  it('baresip calls: one voip push through APNs, the call held until the app registers from a new socket, answered there with media through rtpengine', async () => {
    const app = apnsApp('bob', 1);
    await appSleeps(app);
    const before = await cdrCount();
    const pushed = apns.received.length;
    const alice = await startBaresip(
      { user: 'alice', domain: DOMAIN, password: 'alice-secret', registrar: stack.sipAddress },
      { play: join(audioDir, 'alice.wav') },
    );
    try {
      alice.dial(`sip:bob@${DOMAIN}`);
      await apns.until(pushed + 1);
      const push = apns.received[pushed]!;
      expect(push.problem).toBeUndefined();
      expect(push.path).toBe(`/3/device/${app.prid}`);
      expect(push.headers['apns-push-type']).toBe('voip');
      expect(push.headers['apns-topic']).toBe(`${BUNDLE}.voip`);
      const body = JSON.parse(push.body) as Record<string, string>;
      expect(body).toMatchObject({ type: 'call', callerName: 'alice', callerNumber: 'alice' });
      expect(
        verifyWakeToken(stack.sipCore.config.auth.nonceSecret, body.callId!, body.token!, Date.now()),
      ).toBe(true);
      expect(stack.sipCore.push.registrations.waiting).toBe(1);

      const woken = await appWakesAndAnswers(app);
      await alice.waitFor('established', 15_000);
      // A few seconds of audio each way: baresip's tone and the app's g711a.pcap.
      await new Promise((resolve) => setTimeout(resolve, 3000));
      alice.hangup();
      await alice.waitFor('closed');
      expectSippOk(await woken.done, 'bob woken');
      const cdr = await completedCdr(stack, before);
      expect(cdr).toMatchObject({
        disposition: 'answered',
        callerSubscriberId: stack.subscribers.get('alice'),
        calleeSubscriberId: stack.subscribers.get('bob'),
        callId: body.callId,
      });
      // The CDR records how long the call was held for the app.
      expect(cdr.pushWaitMs).toBeGreaterThan(0);
      // Both legs' media went through the relay.
      const stats = cdr.mediaStats as CdrMediaStats | null;
      expect(stats?.a?.packetsReceived, JSON.stringify(stats)).toBeGreaterThan(50);
      expect(stats?.b?.packetsReceived, JSON.stringify(stats)).toBeGreaterThan(50);
      // One push for the call, however many times the INVITE was retransmitted meanwhile.
      expect(apns.received.length).toBe(pushed + 1);
      expect(stack.sipCore.push.registrations.waiting).toBe(0);
    } finally {
      alice.stop();
    }
  }, 60_000);

  it('through FCM: no REGISTER within the push wait ends the attempt with 480', async () => {
    const app = fcmApp('erin');
    await appSleeps(app);
    const before = await cdrCount();
    const sends = fcm.sends.length;
    const started = Date.now();
    const call = await caller('erin', 'uac-call-rejected.xml');
    expectSippOk(await call.done, 'alice');
    // The 3 s push wait, not the 20 s ring timeout.
    expect(Date.now() - started).toBeLessThan(15_000);
    const cdr = await completedCdr(stack, before);
    expect(cdr).toMatchObject({ disposition: 'no_answer', sipCode: 480 });
    expect(cdr.pushWaitMs).toBeGreaterThanOrEqual(2900);
    expect(fcm.sends.length).toBe(sends + 1);
    const message = JSON.parse(fcm.sends[sends]!.body) as {
      message: { token: string; data: Record<string, string>; android: { priority: string } };
    };
    expect(message.message.token).toBe(app.prid);
    expect(message.message.data).toMatchObject({ type: 'call', callId: cdr.callId, callerName: 'alice' });
    expect(message.message.android.priority).toBe('HIGH');
    expect(stack.sipCore.push.registrations.waiting).toBe(0);
  }, 60_000);

  it('an app that does not wake counts as not reachable: call forward on no answer applies', async () => {
    await appSleeps(apnsApp('fred', 2));
    const before = await cdrCount();
    const carol = runSipp({ scenario: 'uas-answer.xml', port: carolPort, timeoutS: 30 });
    await carol.listening();
    const call = await caller('fred', 'uac-call-bye.xml');
    const [a, c] = await Promise.all([call.done, carol.done]);
    expectSippOk(a, 'alice');
    expectSippOk(c, 'carol');
    const cdr = await completedCdr(stack, before);
    expect(cdr).toMatchObject({
      disposition: 'answered',
      forwardType: 'cfna',
      calleeSubscriberId: stack.subscribers.get('carol'),
    });
  }, 60_000);

  it('CANCEL while the call waits ends the wait: no fork when the app registers afterwards', async () => {
    const app = apnsApp('gina', 3);
    await appSleeps(app);
    const before = await cdrCount();
    const pushed = apns.received.length;
    const call = await caller('gina', 'uac-call-cancel-waiting.xml');
    expectSippOk(await call.done, 'alice');
    const cdr = await completedCdr(stack, before);
    expect(cdr).toMatchObject({ disposition: 'cancelled', sipCode: 487, bLegId: null });
    expect(stack.sipCore.push.registrations.waiting).toBe(0);
    expect(apns.received.length).toBe(pushed + 1);
    // The app comes back after the caller gave up: nothing is sent to it (no call, no second push).
    await appRegisters(app);
    expect(stack.sipCore.activeCalls()).toEqual([]);
    expect(apns.received.length).toBe(pushed + 1);
  }, 60_000);

  it("the subscriber's other device rings meanwhile and can answer first", async () => {
    const app = apnsApp('dave', 4);
    await appSleeps(app);
    const deskPort = await registerWithSipp(stack, 'dave', 'dave-secret');
    const before = await cdrCount();
    const pushed = apns.received.length;
    const desk = runSipp({ scenario: 'uas-answer.xml', port: deskPort, timeoutS: 30 });
    await desk.listening();
    const call = await caller('dave', 'uac-call-bye.xml');
    const [a, d] = await Promise.all([call.done, desk.done]);
    expectSippOk(a, 'alice');
    expectSippOk(d, 'dave desk');
    const cdr = await completedCdr(stack, before);
    expect(cdr).toMatchObject({ disposition: 'answered', calleeSubscriberId: stack.subscribers.get('dave') });
    // The app was pushed too (both ring in parallel), and its wait ended with the answer.
    expect(apns.received.length).toBe(pushed + 1);
    expect(stack.sipCore.push.registrations.waiting).toBe(0);
  }, 60_000);

  it('the app registering through another node releases the call held on this one (change feed)', async () => {
    const app = apnsApp('henry', 5);
    await appSleeps(app);
    const before = await cdrCount();
    const pushed = apns.received.length;
    const call = await caller('henry', 'uac-call-bye.xml');
    await apns.until(pushed + 1);
    const woken = await appWakesAndAnswers(app, nodeB.address);
    const [a, h] = await Promise.all([call.done, woken.done]);
    expectSippOk(a, 'alice');
    expectSippOk(h, 'henry woken through node B');
    const cdr = await completedCdr(stack, before);
    expect(cdr).toMatchObject({
      disposition: 'answered',
      calleeSubscriberId: stack.subscribers.get('henry'),
    });
    const row = await stack.testDb.db.prisma.registration.findFirst({
      where: { aor: `sip:henry@${DOMAIN}`, pnPrid: app.prid },
    });
    expect(row?.node).toBe('calls-test-b');
    expect(apns.received.length).toBe(pushed + 1);
  }, 60_000);
});

describe('a message to a sleeping app', () => {
  it('is held, pushed once and delivered to the socket the app registers from', async () => {
    const app = fcmApp('iris');
    await appSleeps(app);
    const sends = fcm.sends.length;
    const sender = await caller('iris', 'uac-message.xml');
    await until('the FCM push', () => fcm.sends.length > sends);
    const message = JSON.parse(fcm.sends[sends]!.body) as { message: { data: Record<string, string> } };
    expect(message.message.data).toMatchObject({
      type: 'message',
      callerName: 'alice',
      callerNumber: 'alice',
    });
    const port = await appRegisters(app);
    const woken = runSipp({ scenario: 'uas-push-message.xml', port, timeoutS: 30 });
    const [a, i] = await Promise.all([sender.done, woken.done]);
    expectSippOk(a, 'alice');
    expectSippOk(i, 'iris woken');
    expect(fcm.sends.length).toBe(sends + 1);
    expect(stack.sipCore.push.registrations.waiting).toBe(0);
  }, 60_000);

  it('gets 480 when the app does not register within the push wait', async () => {
    await appSleeps(apnsApp('iris', 6));
    // iris now has two sleeping apps (FCM and APNs); neither wakes.
    const pushed = apns.received.length;
    const sender = await caller('iris', 'uac-message-refused.xml');
    expectSippOk(await sender.done, 'alice');
    expect(apns.received.length).toBe(pushed + 1);
  }, 60_000);
});

describe('metrics', () => {
  it('/metrics counts the pushes by provider and result and the waits by how they ended', async () => {
    const response = await fetch(`http://127.0.0.1:${metricsServer.port}/metrics`);
    expect(response.status).toBe(200);
    const text = await response.text();
    const value = (series: string): number => {
      const line = text.split('\n').find((l) => l.startsWith(`${series} `));
      return line === undefined ? 0 : Number(line.slice(series.length + 1));
    };
    // Every push the stand-ins took was counted as sent, by provider (all wake-ups: purpose call).
    expect(apns.received.length).toBeGreaterThanOrEqual(6);
    expect(value('switchboard_push_notifications_total{provider="apns",purpose="call",result="ok"}')).toBe(
      apns.received.length,
    );
    expect(value('switchboard_push_notifications_total{provider="fcm",purpose="call",result="ok"}')).toBe(
      fcm.sends.length,
    );
    expect(value('switchboard_push_notifications_total{provider="apns",purpose="call",result="error"}')).toBe(
      0,
    );
    // bob (call) woke; henry woke through node B; iris' message woke.
    expect(value('switchboard_push_waits_total{kind="call",result="woken"}')).toBe(2);
    expect(value('switchboard_push_waits_total{kind="message",result="woken"}')).toBe(1);
    // erin and fred did not wake; iris' two apps did not wake for the refused message.
    expect(value('switchboard_push_waits_total{kind="call",result="timed_out"}')).toBe(2);
    expect(value('switchboard_push_waits_total{kind="message",result="timed_out"}')).toBe(2);
    // gina's caller cancelled; dave's desk answered while his app was being woken.
    expect(value('switchboard_push_waits_total{kind="call",result="cancelled"}')).toBe(2);
    expect(value('switchboard_push_waits_active')).toBe(0);
  });
});
