import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { type Database, openDatabase, type PrismaClient } from '@switchboard/db';
import { createTestDatabase, type TestDatabase } from '@switchboard/db/testing';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseDeck } from '../src/billing/deck-csv.ts';
import { storeDeck } from '../src/billing/deck-store.ts';
import { startRater } from '../src/billing/rater.ts';
import { markForRerating } from '../src/billing/rerate.ts';

/**
 * The rater against a real PostgreSQL: every CDR gets its three prices exactly once, also when a rater
 * process is killed in the middle of a batch, when two raters run at once, and after re-rating.
 */

const log = pino({ level: 'silent' });
let created: TestDatabase;
let db: Database;
let prisma: PrismaClient;
let customerId: string;
let gatewayId: string;
let sellProfileId: string;

const CALLS = 1000;
const START = Date.parse('2026-03-02T10:00:00Z');

/** Call i: every 10th to an unknown destination, every 7th unanswered, duration i % 300 seconds + 0.5. */
const callOf = (i: number) => ({
  unknown: i % 10 === 0,
  answered: i % 7 !== 0,
  seconds: (i % 300) + 1,
});

beforeAll(async () => {
  created = await createTestDatabase('billing_rater');
  db = await openDatabase({ databaseUrl: created.url, dataDir: '' });
  await db.migrate();
  prisma = db.prisma;
  const sell = await prisma.billingProfile.create({
    data: { name: 'Retail', kind: 'sell', currency: 'EUR' },
  });
  const wholesale = await prisma.billingProfile.create({
    data: { name: 'Wholesale', kind: 'sell', currency: 'EUR' },
  });
  const cost = await prisma.billingProfile.create({
    data: { name: 'Carrier', kind: 'cost', currency: 'EUR' },
  });
  sellProfileId = sell.id;
  const deck = (profileId: string, csv: string) =>
    storeDeck(prisma, {
      profileId,
      effectiveFrom: new Date('2026-01-01T00:00:00Z'),
      name: null,
      rates: parseDeck(csv).rates,
    });
  // 60/60 at 0.06/min: 0.06 per started minute. 1/1 at 0.012/min: 0.0002 per second.
  await deck(sell.id, 'prefix,zone,peak_rate,setup_fee\n43,Austria,0.06,0.01\n');
  await deck(wholesale.id, 'prefix,zone,peak_rate\n43,Austria,0.03\n');
  await deck(cost.id, 'prefix,zone,peak_rate,first_interval,next_interval\n43,Austria,0.012,1,1\n');
  const reseller = await prisma.reseller.create({ data: { name: 'R', billingProfileId: wholesale.id } });
  const customer = await prisma.customer.create({
    data: { name: 'C', resellerId: reseller.id, billingProfileId: sell.id },
  });
  customerId = customer.id;
  const group = await prisma.peeringGroup.create({ data: { name: 'Carrier A', costProfileId: cost.id } });
  const gateway = await prisma.peerGateway.create({
    data: { groupId: group.id, name: 'gw', host: '127.0.0.1' },
  });
  gatewayId = gateway.id;
});

afterAll(async () => {
  await db?.close();
  await created?.drop();
});

async function insertCalls(): Promise<void> {
  await prisma.cdr.deleteMany();
  const data = Array.from({ length: CALLS }, (_, i) => {
    const c = callOf(i);
    const startedAt = new Date(START + i * 1000);
    return {
      callId: `call-${i}`,
      direction: 'outbound' as const,
      callerDialled: '1001',
      calleeDialled: c.unknown ? '0015551234' : '01234567',
      calleeRouted: c.unknown ? '15551234' : '431234567',
      startedAt,
      answeredAt: c.answered ? startedAt : null,
      endedAt: new Date(startedAt.getTime() + c.seconds * 1000),
      durationMs: c.answered ? c.seconds * 1000 - 500 : 0,
      disposition: c.answered ? ('answered' as const) : ('no_answer' as const),
      callerCustomerId: customerId,
      peerGatewayId: gatewayId,
    };
  });
  await prisma.cdr.createMany({ data });
}

/** Totals computed here from the tariff, independently of the rating code. */
function expectedTotals() {
  let customer = 0;
  let reseller = 0;
  let carrier = 0;
  let unrateable = 0;
  for (let i = 0; i < CALLS; i++) {
    const c = callOf(i);
    if (!c.answered) continue;
    if (c.unknown) {
      unrateable++;
      continue;
    }
    const minutes = Math.ceil(c.seconds / 60);
    customer += 10_000 + minutes * 60_000;
    reseller += minutes * 30_000;
    carrier += c.seconds * 200;
  }
  const fmt = (micros: number) => (micros / 1e6).toFixed(6);
  return { customer: fmt(customer), reseller: fmt(reseller), carrier: fmt(carrier), unrateable };
}

async function totals() {
  const sums = await prisma.cdr.aggregate({
    _sum: { customerPrice: true, resellerPrice: true, carrierCost: true },
  });
  const byStatus = await prisma.cdr.groupBy({ by: ['ratingStatus'], _count: { _all: true } });
  const counts = await prisma.cdr.groupBy({ by: ['ratingCount'], _count: { _all: true } });
  return {
    customer: sums._sum.customerPrice?.toFixed(6),
    reseller: sums._sum.resellerPrice?.toFixed(6),
    carrier: sums._sum.carrierCost?.toFixed(6),
    status: Object.fromEntries(byStatus.map((s) => [s.ratingStatus, s._count._all])),
    ratingCounts: Object.fromEntries(counts.map((s) => [s.ratingCount, s._count._all])),
  };
}

function expectAllRatedOnce(t: Awaited<ReturnType<typeof totals>>, times = 1): void {
  const e = expectedTotals();
  expect(t.ratingCounts).toEqual({ [times]: CALLS });
  expect(t.status).toEqual({ rated: CALLS - e.unrateable, unrateable: e.unrateable });
  expect({ customer: t.customer, reseller: t.reseller, carrier: t.carrier }).toEqual({
    customer: e.customer,
    reseller: e.reseller,
    carrier: e.carrier,
  });
}

describe('rater', () => {
  it('rates every CDR once, flags the unrateable ones, and survives a process killed mid-batch', async () => {
    await insertCalls();
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', fileURLToPath(new URL('./support/rater-child.ts', import.meta.url))],
      {
        env: { ...process.env, DATABASE_URL: created.url, BATCH_SIZE: '100' },
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    await new Promise<void>((resolve, reject) => {
      child.on('exit', (code) => reject(new Error(`rater exited early (${code})`)));
      child.stdout.on('data', (chunk: Buffer) => {
        if (chunk.toString().includes('in-batch')) resolve();
      });
    });
    child.removeAllListeners('exit');
    const exited = new Promise((resolve) => child.on('exit', resolve));
    child.kill('SIGKILL');
    await exited;
    // The first batch committed; the killed one left nothing behind.
    const afterCrash = await totals();
    expect(afterCrash.status.unrated).toBe(CALLS - 100);
    expect(afterCrash.ratingCounts).toEqual({ 0: CALLS - 100, 1: 100 });

    const rater = await startRater(db, log, { poll: false, batchSize: 150 });
    expect(await rater.drain()).toBe(CALLS - 100);
    await rater.stop();
    expectAllRatedOnce(await totals());
    const flagged = await prisma.cdr.findFirst({ where: { callId: 'call-10' } });
    expect(flagged).toMatchObject({ ratingStatus: 'unrateable', customerPrice: null });
    expect(flagged?.ratingError).toContain('no zone of profile Retail matches 15551234');
  });

  it('rolls back a batch that fails before its write and rates it on the next run', async () => {
    await insertCalls();
    let batches = 0;
    const failing = await startRater(db, log, {
      poll: false,
      batchSize: 200,
      beforeWrite: () => {
        if (++batches === 3) throw new Error('stopped mid-batch');
      },
    });
    await expect(failing.drain()).rejects.toThrow('stopped mid-batch');
    await failing.stop();
    expect((await totals()).status.unrated).toBe(CALLS - 400);
    const rater = await startRater(db, log, { poll: false });
    await rater.drain();
    await rater.stop();
    expectAllRatedOnce(await totals());
  });

  it('shares the work between two raters without rating a CDR twice', async () => {
    await insertCalls();
    const a = await startRater(db, log, { poll: false, batchSize: 50 });
    const b = await startRater(db, log, { poll: false, batchSize: 50 });
    const [na, nb] = await Promise.all([a.drain(), b.drain()]);
    await Promise.all([a.stop(), b.stop()]);
    expect(na + nb).toBe(CALLS);
    expectAllRatedOnce(await totals());
  });

  it('re-rates a period with a new deck version', async () => {
    await insertCalls();
    const rater = await startRater(db, log, { poll: false });
    await rater.drain();
    // A cheaper deck from March on: the customer price halves, the others stay.
    await storeDeck(prisma, {
      profileId: sellProfileId,
      effectiveFrom: new Date('2026-03-01T00:00:00Z'),
      name: 'March',
      rates: parseDeck('prefix,zone,peak_rate,setup_fee\n43,Austria,0.03,0.005\n').rates,
    });
    const marked = await markForRerating(prisma, {
      from: new Date('2026-03-01T00:00:00Z'),
      to: new Date('2026-04-01T00:00:00Z'),
      customerId,
    });
    expect(marked).toBe(CALLS);
    // The change feed told the rater about the new deck.
    await expect
      .poll(async () => {
        await rater.drain();
        return (await totals()).ratingCounts;
      })
      .toEqual({ 2: CALLS });
    await rater.stop();
    const t = await totals();
    const e = expectedTotals();
    expect(t.customer).toBe((Number(e.customer) / 2).toFixed(6));
    expect(t.reseller).toBe(e.reseller);
  });
});

describe('deck import', () => {
  it('stores a generated 50,000-row deck', async () => {
    const lines = [
      'prefix,zone,setup_fee,peak_rate,off_peak_rate,first_interval,next_interval,effective_from',
    ];
    for (let i = 0; i < 50_000; i++)
      lines.push(`${4_900_000 + i},Zone ${i % 250},0,0.0${(i % 90) + 10},0.01,60,60,2026-01-01`);
    const parsed = parseDeck(lines.join('\n'));
    expect(parsed.errors).toEqual([]);
    const deck = await storeDeck(prisma, {
      profileId: sellProfileId,
      effectiveFrom: new Date('2026-12-01T00:00:00Z'),
      name: 'big',
      rates: parsed.rates,
    });
    expect(deck.rowCount).toBe(50_000);
    expect(await prisma.rate.count({ where: { deckId: deck.id } })).toBe(50_000);
    const one = await prisma.rate.findUnique({
      where: { deckId_prefix: { deckId: deck.id, prefix: '4912345' } },
    });
    expect(one?.peakRate.toFixed(6)).toBe(`0.0${(12345 % 90) + 10}0000`.slice(0, 8));
  }, 120_000);
});
