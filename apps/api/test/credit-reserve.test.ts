import { type Database, openDatabase } from '@switchboard/db';
import { createTestDatabase, type TestDatabase } from '@switchboard/db/testing';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { affordableSeconds } from '../src/billing/credit/allowance.ts';
import { type CreditControl, startCreditControl } from '../src/billing/credit/credit-control.ts';
import { decimalToMicros } from '../src/billing/money.ts';
import type { DeckRate } from '../src/billing/plan.ts';

/**
 * The prepaid reservation is one statement (`switchboard_credit_reserve`, docs/billing.md, "Prepaid"):
 * its closed-form longest duration (`switchboard_affordable_seconds`) is what `affordableSeconds`
 * computes for many rates, budgets and durations, and many calls of one customer
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

  it('computes in SQL the seconds affordableSeconds computes, for many rates, budgets and durations', async () => {
    const rates = [
      rate(0, 600_000, 1, 1),
      rate(100_000, 600_000, 60, 60),
      rate(0, 70_000, 30, 6),
      rate(12_345, 1_234_567, 60, 1),
      rate(0, 1, 1, 1),
      rate(0, 0, 60, 60),
      rate(50_000, 0, 1, 1),
    ];
    const budgets = [-1, 0, 1, 9_999, 50_000, 99_999, 100_000, 812_345, 5_000_000, 123_456_789];
    const cases = rates.flatMap((r) =>
      budgets.flatMap((budget) => [1, 3, 59, 60, 61, 600, 601, 1200].map((want) => ({ r, budget, want }))),
    );
    const rows = await nodes[0]!.prisma.$queryRawUnsafe<Array<{ seconds: number }>>(
      `SELECT switchboard_affordable_seconds(c.budget, c.setup, c.per_minute, c.first, c.next, c.want) AS seconds
         FROM unnest($1::numeric[], $2::bigint[], $3::bigint[], $4::int[], $5::int[], $6::int[])
           WITH ORDINALITY AS c(budget, setup, per_minute, first, next, want, n) ORDER BY c.n`,
      cases.map((c) => String(c.budget)),
      cases.map((c) => c.r.setupMicros),
      cases.map((c) => c.r.peakMicros),
      cases.map((c) => c.r.firstInterval),
      cases.map((c) => c.r.nextInterval),
      cases.map((c) => c.want),
    );
    expect(rows).toHaveLength(cases.length);
    cases.forEach((c, i) => {
      expect(rows[i]!.seconds, JSON.stringify(c)).toBe(affordableSeconds(c.r, true, c.budget, c.want));
    });
    // Not a tautology: the cases include every outcome (nothing, part, all of the wanted duration).
    const outcomes = new Set(
      cases.map((c, i) => Math.sign(rows[i]!.seconds) + (rows[i]!.seconds === c.want ? 1 : 0)),
    );
    expect(outcomes).toEqual(new Set([0, 1, 2]));
  });

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
    // Ten calls of 2 s each first (0.20 held) at 0.01/s by the second, then all extend to 600 s at once.
    const reserve = `SELECT seconds FROM switchboard_credit_reserve($1, $2::uuid, $3::uuid, 0, 600000, 1, 1, $4::int, $5::int, 3600)`;
    const small = await Promise.all(
      Array.from({ length: 10 }, async (_, i) => {
        const reserved = await prisma.$queryRawUnsafe<Array<{ seconds: number }>>(
          reserve,
          `ext-${i}`,
          customerId,
          subscriberId,
          0,
          2,
        );
        return reserved[0]!.seconds;
      }),
    );
    expect(small).toEqual(Array(10).fill(2));
    const extended = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        (i % 2 === 0 ? nodes[0]! : nodes[1]!).prisma.$queryRawUnsafe<Array<{ seconds: number }>>(
          reserve,
          `ext-${i}`,
          customerId,
          subscriberId,
          2,
          602,
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
