import { type Database, openDatabase } from '@switchboard/db';
import { createTestDatabase, type TestDatabase } from '@switchboard/db/testing';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { affordableSeconds } from '../src/billing/credit/allowance.ts';
import { type CreditControl, chargeSteps, startCreditControl } from '../src/billing/credit/credit-control.ts';
import { decimalToMicros } from '../src/billing/money.ts';
import type { DeckRate } from '../src/billing/plan.ts';

/**
 * The prepaid reservation is one statement (`switchboard_credit_reserve`, docs/billing.md, "Prepaid"):
 * the charge steps sent with it pick what `affordableSeconds` picks, and many calls of one customer
 * authorised at once from two nodes (two credit controls, each with its own connection pool) on real
 * PostgreSQL never hold more than the balance together, nor less than it when it is exactly divisible.
 */

const log = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });

const rate = (setup: number, perMinute: number, first: number, next: number): DeckRate => ({
  prefix: '49',
  zone: 'Germany',
  setupMicros: setup,
  peakMicros: perMinute,
  offPeakMicros: perMinute,
  firstInterval: first,
  nextInterval: next,
  effectiveFrom: null,
  effectiveTo: null,
});

/** The longest step whose charge fits the budget, as the SQL function picks it. */
function picked(r: DeckRate, budget: number, have: number, want: number): number {
  const steps = chargeSteps(r, true, have, want);
  let best = have;
  steps.seconds.forEach((s, i) => {
    if (budget > 0 && steps.micros[i]! <= budget && s > best) best = s;
  });
  return best;
}

describe('chargeSteps', () => {
  it('offers the steps whose best fit is what affordableSeconds computes, for many rates and budgets', () => {
    const rates = [
      rate(0, 600_000, 1, 1),
      rate(100_000, 600_000, 60, 60),
      rate(0, 70_000, 30, 6),
      rate(12_345, 1_234_567, 60, 1),
      rate(0, 1, 1, 1),
    ];
    for (const r of rates)
      for (const budget of [0, 1, 9_999, 50_000, 99_999, 100_000, 812_345, 5_000_000, 123_456_789])
        for (const want of [1, 3, 59, 60, 61, 600]) {
          const expected = affordableSeconds(r, true, budget, want);
          expect(picked(r, budget, 0, want), `${JSON.stringify(r)} ${budget} ${want}`).toBe(expected);
        }
  });

  it('continues after the seconds a call holds already, ending at the wanted total', () => {
    const steps = chargeSteps(rate(0, 600_000, 30, 6), true, 42, 60);
    expect(steps.seconds).toEqual([48, 54, 60]);
    expect(steps.micros).toEqual([480_000, 540_000, 600_000]);
    expect(chargeSteps(rate(0, 600_000, 1, 1), true, 5, 5).seconds).toEqual([]);
  });
});

describe('switchboard_credit_reserve on PostgreSQL', () => {
  let created: TestDatabase;
  const nodes: Database[] = [];
  const controls: CreditControl[] = [];
  let customerId: string;
  let subscriberId: string;

  beforeAll(async () => {
    created = await createTestDatabase('credit_reserve');
    for (let i = 0; i < 2; i++) {
      const db = await openDatabase({ databaseUrl: created.url, dataDir: '' });
      if (i === 0) await db.migrate();
      nodes.push(db);
    }
    const prisma = nodes[0]!.prisma;
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
    const customer = await prisma.customer.create({ data: { name: 'c', billingProfileId: profile.id } });
    customerId = customer.id;
    const domain = await prisma.domain.create({ data: { name: 'reserve.test' } });
    const subscriber = await prisma.subscriber.create({
      data: { customerId, domainId: domain.id, username: 'u', ha1Md5: 'x', ha1Sha256: 'y' },
    });
    subscriberId = subscriber.id;
    await prisma.creditAccount.create({ data: { customerId, prepaid: true, balance: '0.5' } });
    for (const db of nodes) controls.push(await startCreditControl(db, log, { reserveSeconds: 600 }));
  }, 60_000);

  afterAll(async () => {
    for (const control of controls) await control.stop();
    for (const db of nodes) await db.close();
    await created?.drop();
  }, 30_000);

  it('40 calls at once from two nodes reserve exactly the balance of 0.50 at 0.01/s, never more', async () => {
    const decisions = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        controls[i % 2]!.authorise({
          callId: `call-${i}`,
          customerId,
          subscriberId,
          number: '4930555123',
          at: new Date(),
        }),
      ),
    );
    const granted = decisions.flatMap((d) => (d.kind === 'granted' ? [d.seconds] : []));
    expect(granted.reduce((a, b) => a + b, 0)).toBe(50);
    // The first to lock the balance takes all of it; the others find nothing left.
    expect(decisions.filter((d) => d.kind === 'refused' && d.status === 402)).toHaveLength(
      40 - granted.length,
    );
    const rows = await nodes[0]!.prisma.creditReservation.findMany();
    const held = rows.reduce((sum, r) => sum + decimalToMicros(r.amount.toFixed(6)), 0);
    expect(held).toBe(500_000);
    expect(rows.every((r) => r.subscriberId === subscriberId)).toBe(true);
  });

  it('shares a topped-up balance between calls that extend at once, still exactly', async () => {
    const prisma = nodes[0]!.prisma;
    await prisma.creditReservation.deleteMany();
    await prisma.creditAccount.update({ where: { customerId }, data: { balance: '0.3' } });
    // Ten calls of 2 s each first (0.20 held), then all extend by up to 600 s at once.
    const small = await Promise.all(
      Array.from({ length: 10 }, async (_, i) => {
        const reserved = await prisma.$queryRawUnsafe<Array<{ seconds: number }>>(
          `SELECT seconds FROM switchboard_credit_reserve($1, $2::uuid, $3::uuid, $4::int[], $5::bigint[], 0, 3600)`,
          `ext-${i}`,
          customerId,
          subscriberId,
          [1, 2],
          [10_000, 20_000],
        );
        return reserved[0]!.seconds;
      }),
    );
    expect(small).toEqual(Array(10).fill(2));
    const extended = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        (i % 2 === 0 ? nodes[0]! : nodes[1]!).prisma.$queryRawUnsafe<Array<{ seconds: number }>>(
          `SELECT seconds FROM switchboard_credit_reserve($1, $2::uuid, $3::uuid, $4::int[], $5::bigint[], 2, 3600)`,
          `ext-${i}`,
          customerId,
          subscriberId,
          Array.from({ length: 598 }, (_, k) => k + 3),
          Array.from({ length: 598 }, (_, k) => (k + 3) * 10_000),
        ),
      ),
    );
    const seconds = extended.map((rows) => rows[0]!.seconds);
    // 0.10 more was there: ten seconds more in all, none lost.
    expect(seconds.reduce((a, b) => a + b, 0)).toBe(30);
    const rows = await prisma.creditReservation.findMany();
    expect(rows.reduce((sum, r) => sum + decimalToMicros(r.amount.toFixed(6)), 0)).toBe(300_000);
  });
});
