import { type Rater, startCreditControl, startRater } from '@switchboard/api';
import { pino } from 'pino';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { IN_PROGRESS } from '../../src/cdr/cdr-writer.ts';
import { describeOnEngine, onEngine } from '../support/engine.ts';
import { addCarrier } from './support/provision.ts';
import { allocatePort, expectSippOk, runSipp } from './support/sipp.ts';
import { type CallStack, callFields, closeCallStack, DOMAIN, startCallStack } from './support/stack.ts';

/**
 * A call forwarded to the PSTN is paid by the forwarding subscriber's customer (docs/billing.md,
 * "Forwarded calls"): alice (a postpaid customer without any credit account) calls bob, whose CFU goes
 * to +4930555123. Bob belongs to a prepaid customer with 0.05 at 0.01 per second (1/1 intervals), so
 * the forwarded leg is authorised against bob's balance, cut when it runs out, rated for bob's customer
 * and debited from its balance; with nothing left the forward is refused with 402. The gateway is a
 * sipp UAS on its own loopback address.
 */

const log = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
const GATEWAY_IP = '127.0.0.23';
let stack: CallStack;
let rater: Rater;
let gatewayPort: number;
let payerId: string;

beforeAll(async () => {
  gatewayPort = await allocatePort();
  stack = await startCallStack(
    { alice: 'alice-secret', bob: 'bob-secret' },
    { ringTimeout: 10 },
    async (db, _tenant, subscribers) => {
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
      const payer = await prisma.customer.create({
        data: { name: 'forwarding customer', billingProfileId: profile.id },
      });
      payerId = payer.id;
      const bob = subscribers.get('bob') ?? '';
      await prisma.subscriber.update({ where: { id: bob }, data: { customerId: payer.id } });
      await prisma.creditAccount.create({ data: { customerId: payer.id, prepaid: true, balance: '0.05' } });
      await prisma.callForward.create({
        data: {
          subscriberId: bob,
          type: 'cfu',
          destinations: { create: [{ kind: 'number', destination: '+4930555123', position: 0 }] },
        },
      });
    },
    { credit: (db) => startCreditControl(db.db, log, { reserveSeconds: 3 }) },
  );
  rater = await startRater(stack.testDb.db, log, { poll: false });
}, 90_000);

afterAll(async () => {
  await rater?.stop();
  await closeCallStack(stack);
}, 30_000);

const prisma = () => stack.testDb.db.prisma;

async function balance(): Promise<string> {
  const account = await prisma().creditAccount.findUniqueOrThrow({ where: { customerId: payerId } });
  return account.balance.toFixed(6);
}

async function aliceCallsBob(scenario: string) {
  return runSipp({
    scenario,
    port: await allocatePort(),
    remote: stack.sipAddress,
    fields: callFields('alice', 'alice-secret', 'bob'),
    authUri: `bob@${DOMAIN}`,
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

describeOnEngine(onEngine('prepaid call forwards to the PSTN'), () => {
  it("cuts the forwarded leg when the forwarding customer's balance runs out and bills that customer", async () => {
    const since = new Date();
    const gateway = runSipp({
      scenario: 'uas-gateway-answer.xml',
      port: gatewayPort,
      localIp: GATEWAY_IP,
      timeoutS: 30,
    });
    await gateway.listening();
    const alice = await aliceCallsBob('uac-call-wait-bye.xml');
    const [a, g] = await Promise.all([alice.done, gateway.done]);
    // Both end only when they received the platform's BYE.
    expectSippOk(a, 'alice');
    expectSippOk(g, 'gateway');
    const cdr = await ratedSince(since);
    expect(cdr).toMatchObject({
      disposition: 'answered',
      sipReason: 'balance-exhausted',
      forwardType: 'cfu',
      callerCustomerId: stack.tenant.customerId,
      calleeCustomerId: payerId,
      billedCustomerId: payerId,
      billedSubscriberId: stack.subscribers.get('bob'),
      ratingStatus: 'rated',
      customerZone: 'Germany',
    });
    expect(cdr.durationMs).toBeGreaterThan(4000);
    expect(cdr.durationMs).toBeLessThanOrEqual(5000);
    expect(cdr.customerPrice?.toFixed(6)).toBe('0.050000');
    expect(await balance()).toBe('0.000000');
    expect(await prisma().creditReservation.count()).toBe(0);
    expect(await prisma().creditDebit.findMany()).toMatchObject([{ cdrId: cdr.id, customerId: payerId }]);
  }, 60_000);

  it('refuses the forward with 402 when the balance pays for nothing; no gateway is called', async () => {
    const since = new Date();
    const alice = await aliceCallsBob('uac-call-credit-refused.xml');
    expectSippOk(await alice.done, 'alice');
    const cdr = await ratedSince(since);
    expect(cdr).toMatchObject({
      sipCode: 402,
      disposition: 'failed',
      forwardType: 'cfu',
      peerGatewayId: null,
    });
    expect(await prisma().creditReservation.count()).toBe(0);
  }, 60_000);

  it('lets the forward through again after a top-up: the reservation covers the call', async () => {
    await prisma().creditAccount.update({ where: { customerId: payerId }, data: { balance: '1' } });
    const since = new Date();
    const gateway = runSipp({
      scenario: 'uas-gateway-answer.xml',
      port: gatewayPort,
      localIp: GATEWAY_IP,
      timeoutS: 30,
    });
    await gateway.listening();
    const alice = await aliceCallsBob('uac-call-bye.xml');
    const [a, g] = await Promise.all([alice.done, gateway.done]);
    expectSippOk(a, 'alice');
    expectSippOk(g, 'gateway');
    const cdr = await ratedSince(since);
    expect(cdr).toMatchObject({ disposition: 'answered', billedCustomerId: payerId });
    expect(cdr.sipReason).not.toBe('balance-exhausted');
    const price = Number(cdr.customerPrice?.toFixed(6));
    expect(price).toBeGreaterThan(0);
    expect(Number(await balance())).toBeCloseTo(1 - price, 6);
  }, 60_000);
});
