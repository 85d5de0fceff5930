import { type CreditControl, type Rater, startCreditControl, startRater } from '@switchboard/api';
import { pino } from 'pino';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { IN_PROGRESS } from '../../src/cdr/cdr-writer.ts';
import { describeOnEngine, onEngine } from '../support/engine.ts';
import { addCarrier } from './support/provision.ts';
import { allocatePort, expectSippOk, runSipp } from './support/sipp.ts';
import { type CallStack, callFields, closeCallStack, startCallStack } from './support/stack.ts';

/**
 * The call that crosses a spend limit is cut (docs/billing.md, "Fraud limits"): carol's customer is
 * postpaid with a daily limit of 0.05 of which 0.02 is spent today; at 0.01 per second (1/1 intervals)
 * her call to the PSTN reserves from the 0.03 left and is cut with a BYE to both sides after 3 s, with
 * `spend-limit-reached` in the CDR. Rated, the day's spend is exactly the limit, the customer is
 * blocked and the next call gets 403. The gateway is a sipp UAS on its own loopback address.
 */

const log = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
const GATEWAY_IP = '127.0.0.24';
const NUMBER = '+4930555123';
let stack: CallStack;
let rater: Rater;
let gatewayPort: number;
let control: CreditControl;

beforeAll(async () => {
  gatewayPort = await allocatePort();
  stack = await startCallStack(
    { carol: 'carol-secret' },
    { ringTimeout: 10 },
    async (db, tenant) => {
      const prisma = db.db.prisma;
      await addCarrier(prisma, [{ name: 'gw', host: GATEWAY_IP, port: gatewayPort, priority: 1 }]);
      const profile = await prisma.billingProfile.create({
        data: { name: 'Retail', kind: 'sell', currency: 'EUR', timeZone: 'UTC' },
      });
      const deck = await prisma.rateDeck.create({
        data: { profileId: profile.id, version: 1, effectiveFrom: new Date(0), rowCount: 1 },
      });
      await prisma.rate.create({
        data: {
          deckId: deck.id,
          prefix: '49',
          zone: 'Germany',
          peakRate: '0.6',
          offPeakRate: '0.6',
          firstInterval: 1,
          nextInterval: 1,
        },
      });
      await prisma.customer.update({
        where: { id: tenant.customerId },
        data: { billingProfileId: profile.id },
      });
      await prisma.creditAccount.create({
        data: { customerId: tenant.customerId, prepaid: false, balance: '0', dailyLimit: '0.05' },
      });
      const today = new Date(new Date().toISOString().slice(0, 10));
      await prisma.spendTotal.create({
        data: { ownerId: tenant.customerId, period: 'day', starts: today, amount: '0.02' },
      });
    },
    // Two seconds at a time: the call asks for more once before the limit's room runs out.
    {
      credit: async (db) => {
        control = await startCreditControl(db.db, log, { reserveSeconds: 2 });
        return control;
      },
    },
  );
  rater = await startRater(stack.testDb.db, log, { poll: false });
}, 90_000);

afterAll(async () => {
  await rater?.stop();
  await closeCallStack(stack);
}, 30_000);

const prisma = () => stack.testDb.db.prisma;

async function carolCalls(scenario: string) {
  return runSipp({
    scenario,
    port: await allocatePort(),
    remote: stack.sipAddress,
    fields: callFields('carol', 'carol-secret', NUMBER),
    authUri: `${NUMBER}@example.test`,
    timeoutS: 30,
  });
}

/** Bounded wait (15 s) for the completed CDR newer than `since`, then the rater's pass over it. */
async function ratedSince(since: Date) {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const row = await prisma().cdr.findFirst({ where: { createdAt: { gt: since } } });
    if (row && row.sipReason !== IN_PROGRESS) break;
    if (Date.now() > deadline) throw new Error('no completed CDR');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  await rater.drain();
  return prisma().cdr.findFirstOrThrow({ where: { createdAt: { gt: since } } });
}

describeOnEngine(onEngine('the call that crosses a spend limit'), () => {
  it('is cut with a BYE to both sides when the daily limit is reached, and the next call gets 403', async () => {
    const since = new Date();
    const gateway = runSipp({
      scenario: 'uas-gateway-answer.xml',
      port: gatewayPort,
      localIp: GATEWAY_IP,
      timeoutS: 30,
    });
    await gateway.listening();
    const carol = await carolCalls('uac-call-wait-bye.xml');
    const [c, g] = await Promise.all([carol.done, gateway.done]);
    // Both end only when they received the platform's BYE.
    expectSippOk(c, 'carol');
    expectSippOk(g, 'gateway');
    const cdr = await ratedSince(since);
    expect(cdr).toMatchObject({
      disposition: 'answered',
      sipReason: 'spend-limit-reached',
      ratingStatus: 'rated',
    });
    expect(cdr.durationMs).toBeGreaterThan(2000);
    expect(cdr.durationMs).toBeLessThanOrEqual(3000);
    expect(cdr.customerPrice?.toFixed(6)).toBe('0.030000');
    const day = await prisma().spendTotal.findFirstOrThrow({
      where: { ownerId: stack.tenant.customerId, period: 'day' },
    });
    expect(day.amount.toFixed(6)).toBe('0.050000');
    expect(await prisma().creditReservation.count()).toBe(0);
    const account = await prisma().creditAccount.findUniqueOrThrow({
      where: { customerId: stack.tenant.customerId },
    });
    // Postpaid: the balance is not touched; the limit blocks the rest of the day.
    expect(account.balance.toFixed(6)).toBe('0.000000');
    expect(account.blockedUntil?.getTime()).toBeGreaterThan(Date.now());

    const next = new Date();
    const refused = await carolCalls('uac-call-credit-refused.xml');
    expectSippOk(await refused.done, 'carol refused');
    expect(await ratedSince(next)).toMatchObject({ sipCode: 403 });
  }, 60_000);

  it("cuts at a subscriber's own daily limit: the reservation counts its spend, not only the customer's", async () => {
    // The customer's limit and block lifted; carol may spend 0.02 a day herself.
    await prisma().creditAccount.update({
      where: { customerId: stack.tenant.customerId },
      data: { blockedUntil: null, dailyLimit: null },
    });
    const carol = stack.subscribers.get('carol') ?? '';
    await prisma().subscriberSpendLimit.create({ data: { subscriberId: carol, dailyLimit: '0.02' } });
    // The credit control follows the change feed: ask it (bounded) until it sees the new limits.
    const ask = { customerId: stack.tenant.customerId, subscriberId: carol, number: '4930555123' };
    let seen = false;
    for (let i = 0; i < 100 && !seen; i++) {
      const decision = await control.authorise({ ...ask, callId: `probe-${i}`, at: new Date() });
      seen = decision.kind === 'granted' && decision.seconds === 2;
      await prisma().creditReservation.deleteMany({ where: { callId: `probe-${i}` } });
      if (!seen) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(seen).toBe(true);
    const since = new Date();
    const gateway = runSipp({
      scenario: 'uas-gateway-answer.xml',
      port: gatewayPort,
      localIp: GATEWAY_IP,
      timeoutS: 30,
    });
    await gateway.listening();
    const phone = await carolCalls('uac-call-wait-bye.xml');
    const [c, g] = await Promise.all([phone.done, gateway.done]);
    expectSippOk(c, 'carol');
    expectSippOk(g, 'gateway');
    const cdr = await ratedSince(since);
    expect(cdr).toMatchObject({ sipReason: 'spend-limit-reached', callerSubscriberId: carol });
    expect(cdr.customerPrice?.toFixed(6)).toBe('0.020000');
    expect(await prisma().creditReservation.count()).toBe(0);
  }, 60_000);
});
