import { createServer } from 'node:http';
import { type Rater, startCreditControl, startCreditNotifier, startRater } from '@switchboard/api';
import { allocatePort as allocateTcpPort } from '@switchboard/testkit';
import { pino } from 'pino';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { IN_PROGRESS } from '../../src/cdr/cdr-writer.ts';
import { describeOnEngine, onEngine } from '../support/engine.ts';
import { addCarrier } from './support/provision.ts';
import { allocatePort, expectSippOk, runSipp } from './support/sipp.ts';
import { type CallStack, callFields, closeCallStack, startCallStack } from './support/stack.ts';

/**
 * Prepaid calls to the PSTN through the whole platform (docs/billing.md, "Prepaid"): alice's customer
 * is prepaid with a balance of 0.05 and a sell rate of 0.01 per second (0.60 per minute, 1/1 intervals)
 * to 49. The credit control reserves 3 seconds at a time, so a call also asks for more credit
 * mid-call. The gateway is a sipp UAS on its own loopback address; the rater runs on demand.
 */

const log = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
const NUMBER = '+4930555123';
let stack: CallStack;
let rater: Rater;
let gatewayPort: number;

beforeAll(async () => {
  gatewayPort = await allocatePort();
  stack = await startCallStack(
    { alice: 'alice-secret' },
    { ringTimeout: 10 },
    async (db, tenant) => {
      const prisma = db.db.prisma;
      await addCarrier(prisma, [{ name: 'gw', host: '127.0.0.7', port: gatewayPort, priority: 1 }]);
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
          setupFee: '0',
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
        data: {
          customerId: tenant.customerId,
          prepaid: true,
          balance: '0.05',
          lowBalanceThreshold: '0.02',
          // Two calls of 0.05 reach it (the reservation leaves them the room; docs: "Fraud limits");
          // the warning comes at half.
          dailyLimit: '0.1',
          limitWarnPercent: 50,
        },
      });
      await prisma.highRiskPrefix.create({ data: { prefix: '4930', note: 'test' } });
    },
    {
      credit: (db) => startCreditControl(db.db, log, { reserveSeconds: 3 }),
    },
  );
  rater = await startRater(stack.testDb.db, log, { poll: false });
}, 60_000);

afterAll(async () => {
  await rater?.stop();
  await closeCallStack(stack);
}, 30_000);

const prisma = () => stack.testDb.db.prisma;
const customerId = () => stack.tenant.customerId;

async function balance(): Promise<string> {
  const account = await prisma().creditAccount.findUniqueOrThrow({ where: { customerId: customerId() } });
  return account.balance.toFixed(6);
}

async function caller(scenario: string) {
  return runSipp({
    scenario,
    port: await allocatePort(),
    remote: stack.sipAddress,
    fields: callFields('alice', 'alice-secret', NUMBER),
    authUri: `${NUMBER}@example.test`,
    timeoutS: 30,
  });
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

async function rated(since: Date, count: number) {
  await completedSince(since, count);
  await rater.drain();
  return prisma().cdr.findMany({ where: { createdAt: { gt: since } }, orderBy: { createdAt: 'asc' } });
}

describeOnEngine(onEngine('prepaid calls'), () => {
  it('cuts a call with a BYE to both sides when the balance of 0.05 at 0.01/s runs out after 5 s', async () => {
    const since = new Date();
    const gateway = runSipp({
      scenario: 'uas-gateway-answer.xml',
      port: gatewayPort,
      localIp: '127.0.0.7',
      timeoutS: 30,
    });
    await gateway.listening();
    const phone = await caller('uac-call-wait-bye.xml');
    const [a, g] = await Promise.all([phone.done, gateway.done]);
    // Both scenarios end only when they received the platform's BYE.
    expectSippOk(a, 'caller');
    expectSippOk(g, 'gateway');
    const [cdr] = await rated(since, 1);
    expect(cdr).toMatchObject({
      disposition: 'answered',
      sipReason: 'balance-exhausted',
      ratingStatus: 'rated',
      customerZone: 'Germany',
    });
    expect(cdr!.durationMs).toBeGreaterThan(4000);
    expect(cdr!.durationMs).toBeLessThanOrEqual(5000);
    expect(cdr!.customerPrice?.toFixed(6)).toBe('0.050000');
    expect(await balance()).toBe('0.000000');
    expect(await prisma().creditReservation.count()).toBe(0);
    expect(await prisma().creditDebit.findMany()).toMatchObject([{ cdrId: cdr!.id }]);
  }, 60_000);

  it('refuses a call with 402 Payment Required when the balance pays for nothing', async () => {
    const since = new Date();
    const phone = await caller('uac-call-credit-refused.xml');
    expectSippOk(await phone.done, 'caller');
    const [cdr] = await completedSince(since, 1);
    expect(cdr).toMatchObject({ sipCode: 402, disposition: 'failed' });
    expect(await prisma().creditReservation.count()).toBe(0);
  }, 60_000);

  it('two calls at once share one balance: both are cut and together cost exactly the 0.05', async () => {
    await prisma().creditAccount.update({ where: { customerId: customerId() }, data: { balance: '0.05' } });
    const since = new Date();
    const gateway = runSipp({
      scenario: 'uas-gateway-answer.xml',
      port: gatewayPort,
      localIp: '127.0.0.7',
      timeoutS: 30,
      calls: 2,
    });
    await gateway.listening();
    const phones = [await caller('uac-call-wait-bye.xml'), await caller('uac-call-wait-bye.xml')];
    const [a, b, g] = await Promise.all([phones[0]!.done, phones[1]!.done, gateway.done]);
    expectSippOk(a, 'first caller');
    expectSippOk(b, 'second caller');
    expectSippOk(g, 'gateway');
    const cdrs = await rated(since, 2);
    expect(cdrs.map((c) => c.sipReason)).toEqual(['balance-exhausted', 'balance-exhausted']);
    const micros = cdrs.map((c) => Math.round(Number(c.customerPrice?.toFixed(6)) * 1e6));
    // The first reserved 3 s (0.03), the second what was left (0.02); neither got more.
    expect(micros.reduce((x, y) => x + y, 0)).toBe(50_000);
    expect(micros.every((m) => m > 0)).toBe(true);
    expect(await balance()).toBe('0.000000');
  }, 60_000);

  it('raises the credit and fraud events once and blocks PSTN calls at the daily spend limit with 403', async () => {
    const events = await prisma().creditEvent.findMany({ orderBy: { createdAt: 'asc' } });
    const kinds = events.map((e) => e.kind);
    expect(kinds.filter((k) => k === 'new-zone')).toHaveLength(1);
    // Every attempt to 4930 is reported, the refused one too; each once although rated in several batches.
    expect(kinds.filter((k) => k === 'high-risk-destination')).toHaveLength(4);
    expect(kinds.filter((k) => k === 'low-balance')).toHaveLength(1);
    // 0.05 of 0.10 reaches the 50 % warning of the day (no monthly limit: no warning).
    expect(events.filter((e) => e.kind === 'spend-warning').map((e) => e.detail)).toMatchObject([
      { scope: 'customer', period: 'day', spent: '0.050000', limit: '0.100000' },
    ]);
    expect(events.filter((e) => e.kind === 'spend-blocked').map((e) => e.detail)).toMatchObject([
      { scope: 'customer', period: 'day', limit: '0.100000' },
    ]);
    const account = await prisma().creditAccount.findUniqueOrThrow({ where: { customerId: customerId() } });
    expect(account.blockedUntil?.getTime()).toBeGreaterThan(Date.now());
    // Credit is there again, but the block holds.
    await prisma().creditAccount.update({ where: { customerId: customerId() }, data: { balance: '10' } });
    const since = new Date();
    const phone = await caller('uac-call-credit-refused.xml');
    expectSippOk(await phone.done, 'caller');
    const [cdr] = await completedSince(since, 1);
    expect(cdr).toMatchObject({ sipCode: 403 });
  }, 60_000);

  it("delivers the events to the customer's webhook, each once", async () => {
    const received: Array<{ kind: string; customerId: string }> = [];
    const server = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk) => {
        body += chunk;
      });
      req.on('end', () => {
        received.push(JSON.parse(body));
        res.writeHead(204).end();
      });
    });
    const port = await allocateTcpPort();
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    try {
      await prisma().creditAccount.update({
        where: { customerId: customerId() },
        data: { webhookUrl: `http://127.0.0.1:${port}/credit` },
      });
      const notifier = startCreditNotifier(prisma(), log, { poll: false });
      const stored = await prisma().creditEvent.count();
      expect(await notifier.deliver()).toBe(stored);
      expect(await notifier.deliver()).toBe(0);
      await notifier.stop();
      expect(received).toHaveLength(stored);
      expect(new Set(received.map((e) => e.customerId))).toEqual(new Set([customerId()]));
      expect(received.map((e) => e.kind)).toContain('spend-blocked');
      expect(await prisma().creditEvent.count({ where: { deliveredAt: null } })).toBe(0);
    } finally {
      server.close();
    }
  }, 30_000);
});
