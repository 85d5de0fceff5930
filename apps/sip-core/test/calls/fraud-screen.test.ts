import { type CreditControl, startCreditControl } from '@switchboard/api';
import { pino } from 'pino';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { IN_PROGRESS } from '../../src/cdr/cdr-writer.ts';
import { describeOnEngine, onEngine } from '../support/engine.ts';
import { addCarrier } from './support/provision.ts';
import { allocatePort, expectSippOk, runSipp } from './support/sipp.ts';
import { type CallStack, callFields, closeCallStack, startCallStack } from './support/stack.ts';

/**
 * Fraud screening at call start (docs/billing.md, "Fraud limits"), through the engine, sip-core,
 * rtpengine and PostgreSQL with a sipp caller and a sipp gateway: dave's customer is postpaid with a
 * credit account that blocks high-risk destinations and alerts above 2 calls within an hour. 882 is
 * on the operator's high-risk list. Blocked calls get 403 with a Warning and never reach the gateway
 * (which answers every call it gets); each raises a `high-risk-call` alert, and the calls past the
 * burst threshold raise exactly one `call-burst`. Switched to `alert`, the call goes through and is
 * alerted.
 */

const log = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
const GATEWAY_IP = '127.0.0.26';
const NUMBER = '+882165550123';
let stack: CallStack;
let gatewayPort: number;
let control: CreditControl;

beforeAll(async () => {
  gatewayPort = await allocatePort();
  stack = await startCallStack(
    { dave: 'dave-secret' },
    { ringTimeout: 10 },
    async (db, tenant) => {
      const prisma = db.db.prisma;
      await addCarrier(prisma, [{ name: 'gw', host: GATEWAY_IP, port: gatewayPort, priority: 1 }]);
      const group = await prisma.peeringGroup.findFirstOrThrow({ where: { name: 'carrier' } });
      await prisma.peeringRule.create({ data: { groupId: group.id, calleePrefix: '882' } });
      await prisma.creditAccount.create({
        data: { customerId: tenant.customerId, highRiskAction: 'block', burstCalls: 2, burstSeconds: 3600 },
      });
      await prisma.highRiskPrefix.create({ data: { prefix: '882', note: 'international networks' } });
      await prisma.highRiskPrefix.create({ data: { prefix: '8821', note: 'a longer one wins' } });
    },
    {
      credit: async (db) => {
        control = await startCreditControl(db.db, log);
        return control;
      },
    },
  );
}, 90_000);

afterAll(async () => {
  await closeCallStack(stack);
}, 30_000);

const prisma = () => stack.testDb.db.prisma;

async function daveCalls(scenario: string) {
  return runSipp({
    scenario,
    port: await allocatePort(),
    remote: stack.sipAddress,
    fields: callFields('dave', 'dave-secret', NUMBER),
    authUri: `${NUMBER}@example.test`,
    timeoutS: 30,
  });
}

/** Bounded wait (15 s) for `count` alerts of a kind (they are written beside the call, not before it). */
async function alerts(kind: string, count: number) {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const rows = await prisma().creditEvent.findMany({
      where: { customerId: stack.tenant.customerId, kind },
      orderBy: { createdAt: 'asc' },
    });
    if (rows.length >= count || Date.now() > deadline) return rows;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Bounded wait (15 s) for `count` completed CDRs newer than `since`. */
async function completedSince(since: Date, count: number) {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const rows = await prisma().cdr.findMany({
      where: { createdAt: { gt: since } },
      orderBy: { createdAt: 'asc' },
    });
    if (rows.length >= count && rows.every((r) => r.sipReason !== IN_PROGRESS)) return rows;
    if (Date.now() > deadline) throw new Error(`${count} completed CDRs expected, found ${rows.length}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describeOnEngine(onEngine('fraud screening at call start'), () => {
  it('blocks calls to a high-risk prefix with 403, alerts each, and alerts a burst once', async () => {
    const since = new Date();
    // The gateway answers whatever reaches it: a blocked call that reached it would be answered, and
    // the caller's scenario, which accepts only the 403 with the high-risk Warning, would fail.
    const gateway = runSipp({
      scenario: 'uas-gateway-answer.xml',
      port: gatewayPort,
      localIp: GATEWAY_IP,
      timeoutS: 60,
    });
    await gateway.listening();
    for (let i = 0; i < 4; i++) {
      const dave = await daveCalls('uac-call-high-risk-refused.xml');
      expectSippOk(await dave.done, `blocked call ${i + 1}`);
    }
    const cdrs = await completedSince(since, 4);
    expect(cdrs.map((c) => [c.sipCode, c.peerGatewayId])).toEqual(Array(4).fill([403, null]));

    const highRisk = await alerts('high-risk-call', 4);
    expect(highRisk).toHaveLength(4);
    for (const a of highRisk)
      expect(a.detail).toMatchObject({ prefix: '8821', number: '882165550123', action: 'blocked' });
    expect(new Set(highRisk.map((a) => (a.detail as { callId: string }).callId))).toEqual(
      new Set(cdrs.map((c) => c.callId)),
    );
    // Calls 3 and 4 are both more than 2 within the hour: one alert for the window, not one per call.
    const bursts = await alerts('call-burst', 2);
    expect(bursts).toHaveLength(1);
    expect(bursts[0]?.detail).toMatchObject({ calls: 3, threshold: 2, withinSeconds: 3600 });

    // Alerting only: the same destination now goes through to the gateway, and is alerted.
    await prisma().creditAccount.update({
      where: { customerId: stack.tenant.customerId },
      data: { highRiskAction: 'alert', burstCalls: null, burstSeconds: null },
    });
    // The screen follows the change feed: ask it (bounded) until it lets the destination through.
    const dave = stack.subscribers.get('dave') ?? '';
    let passed = false;
    for (let i = 0; i < 100 && !passed; i++) {
      const ask = { callId: `probe-${i}`, customerId: stack.tenant.customerId, subscriberId: dave };
      passed = control.screen({ ...ask, number: '882165550123', at: new Date() }).kind === 'pass';
      if (!passed) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(passed).toBe(true);
    const next = new Date();
    const call = await daveCalls('uac-call-bye.xml');
    const [c, g] = await Promise.all([call.done, gateway.done]);
    expectSippOk(c, 'dave');
    expectSippOk(g, 'gateway');
    const [answered] = await completedSince(next, 1);
    expect(answered).toMatchObject({ disposition: 'answered' });
    const alerted = (await alerts('high-risk-call', 6)).filter(
      (a) => (a.detail as { callId: string }).callId === answered?.callId,
    );
    expect(alerted).toHaveLength(1);
    expect(alerted[0]?.detail).toMatchObject({ action: 'alerted', prefix: '8821' });
    expect(await alerts('call-burst', 2)).toHaveLength(1);
  }, 120_000);
});
