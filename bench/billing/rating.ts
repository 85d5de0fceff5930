// Rating benchmark (docs/billing.md, docs/performance.md).
//  1. Pure rating: 1,000,000 generated CDRs against three profiles (customer, reseller, carrier) whose
//     decks hold 50,000 prefixes each, on one core, no I/O: rateCdr on the in-memory plan.
//  2. Deck import: a generated 50,000-row CSV parsed and stored (PostgreSQL).
//  3. End to end: CDRs in PostgreSQL rated by the rater (select, rate, write in batches).
//  4. Prepaid call authorisation: the sell rate and the affordable seconds in memory, then the credit
//     reservation in PostgreSQL, one call after the other and 16 at once; and that concurrent calls of
//     one customer never reserve more than its balance.
// The third argument picks the parts: rating,authorise (default both); rating-pure is part 1 alone,
// authorise-pure the in-memory part of 4 alone.
// Bounded: fixed counts, every loop ends. Loopback PostgreSQL only (TEST_DATABASE_URL or the default
// test role); part 2 and 3 are skipped when it is not reachable.
// Usage: rating.ts [CDRs for part 1 and 4, default 1,000,000] [CDRs for part 3, default 100,000] [parts]
import { createRequire } from 'node:module';
import { availableParallelism, loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import type { Logger } from 'pino';
import { affordableSeconds } from '../../apps/api/src/billing/credit/allowance.ts';
import { startCreditControl } from '../../apps/api/src/billing/credit/credit-control.ts';
import { parseDeck } from '../../apps/api/src/billing/deck-csv.ts';
import { storeDeck } from '../../apps/api/src/billing/deck-store.ts';
import { isPeak } from '../../apps/api/src/billing/peak.ts';
import { type DeckRate, RatingPlan } from '../../apps/api/src/billing/plan.ts';
import { type CdrToRate, rateCdr } from '../../apps/api/src/billing/rate-cdr.ts';
import { startRater } from '../../apps/api/src/billing/rater.ts';
import { openDatabase } from '../../packages/db/src/index.ts';
import { createTestDatabase } from '../../packages/db/src/testing.ts';

const PURE_CDRS = Math.min(Number(process.argv[2] ?? 1_000_000), 5_000_000);
const DB_CDRS = Math.min(Number(process.argv[3] ?? 100_000), 1_000_000);
const PREFIXES = 50_000;

// pino is a dependency of the api package, not of this folder: resolve it from there.
const pino = createRequire(new URL('../../apps/api/package.json', import.meta.url))('pino') as (options: {
  level: string;
}) => Logger;

/** A deterministic pseudo-random sequence, so every run rates the same data. */
function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1_664_525 + 1_013_904_223) >>> 0;
    return s / 2 ** 32;
  };
}

/** 50,000 distinct prefixes of 2-7 digits, like a wholesale A-Z deck. */
function prefixes(): string[] {
  const next = random(7);
  const set = new Set<string>();
  while (set.size < PREFIXES) {
    const length = 2 + Math.floor(next() * 6);
    let p = String(1 + Math.floor(next() * 9));
    while (p.length < length) p += String(Math.floor(next() * 10));
    set.add(p);
  }
  return [...set];
}

function deckCsv(list: readonly string[], scale: number): string {
  const lines = ['prefix,zone,setup_fee,peak_rate,off_peak_rate,first_interval,next_interval'];
  list.forEach((p, i) => {
    const rate = ((i % 500) + 1) * scale;
    lines.push(
      `${p},Zone ${p.slice(0, 2)},0.01,${(rate / 1e4).toFixed(4)},${(rate / 2e4).toFixed(5)},${i % 2 ? 60 : 1},${i % 2 ? 60 : 1}`,
    );
  });
  return lines.join('\n');
}

function destinations(list: readonly string[], count: number): string[] {
  const next = random(11);
  return Array.from({ length: count }, () => {
    const p = list[Math.floor(next() * list.length)]!;
    let n = p;
    while (n.length < 11) n += String(Math.floor(next() * 10));
    return n;
  });
}

function purePart(list: readonly string[]): void {
  const plan = new RatingPlan();
  const jan = Date.parse('2026-01-01T00:00:00Z');
  const weekdays = [1, 2, 3, 4, 5].map((weekday) => ({ weekday, startMinute: 480, endMinute: 1080 }));
  plan.addProfile({ id: 'sell', name: 'Retail', currency: 'EUR', timeZone: 'Europe/Vienna', peak: weekdays });
  plan.addProfile({
    id: 'wholesale',
    name: 'Wholesale',
    currency: 'EUR',
    timeZone: 'Europe/Vienna',
    peak: weekdays,
  });
  plan.addProfile({ id: 'carrier', name: 'Carrier', currency: 'USD', timeZone: 'UTC', peak: [] });
  const t0 = performance.now();
  for (const [id, scale] of [
    ['sell', 3],
    ['wholesale', 2],
    ['carrier', 1],
  ] as const) {
    plan.addDeckVersion(id, { id, version: 1, effectiveFrom: jan });
    plan.setDeckRates(id, parseDeck(deckCsv(list, scale)).rates as DeckRate[]);
  }
  const buildMs = performance.now() - t0;
  plan.accounts.customers.set('c', { profileId: 'sell', resellerId: 'r' });
  plan.accounts.resellers.set('r', 'wholesale');
  plan.accounts.gateways.set('gw', 'carrier');
  const numbers = destinations(list, PURE_CDRS);
  const start = Date.parse('2026-03-02T00:00:00Z');
  const cdrs: CdrToRate[] = numbers.map((n, i) => ({
    id: String(i),
    direction: 'outbound',
    answered: i % 5 !== 0,
    startedAt: start + i * 997,
    durationMs: (i * 7919) % 600_000,
    calleeDialled: n,
    calleeRouted: `+${n}`,
    callerCustomerId: 'c',
    peerGatewayId: 'gw',
  }));
  let total = 0;
  let unrateable = 0;
  const t1 = performance.now();
  for (const cdr of cdrs) {
    const r = rateCdr(plan, cdr);
    if (r.status !== 'rated') unrateable++;
    total += r.customer?.micros ?? 0;
  }
  const seconds = (performance.now() - t1) / 1000;
  console.log(
    `pure rating: ${PURE_CDRS} CDRs x 3 sides, ${PREFIXES} prefixes per deck: ${seconds.toFixed(2)} s, ` +
      `${Math.round(PURE_CDRS / seconds)} CDRs/s (3 decks built from CSV in ${Math.round(buildMs)} ms; ` +
      `${unrateable} unrateable, customer total ${(total / 1e6).toFixed(2)} EUR)`,
  );
}

async function dbPart(list: readonly string[]): Promise<void> {
  let created: Awaited<ReturnType<typeof createTestDatabase>>;
  try {
    created = await createTestDatabase('bench_rating');
  } catch (error) {
    console.log(`PostgreSQL not reachable (${(error as Error).message}): deck import and end-to-end skipped`);
    return;
  }
  const db = await openDatabase({ databaseUrl: created.url, dataDir: '' });
  try {
    await db.migrate();
    const prisma = db.prisma;
    const profile = (name: string, kind: 'sell' | 'cost') =>
      prisma.billingProfile.create({ data: { name, kind, currency: 'EUR', timeZone: 'Europe/Vienna' } });
    const [sell, wholesale, cost] = [
      await profile('Retail', 'sell'),
      await profile('Wholesale', 'sell'),
      await profile('Carrier', 'cost'),
    ];
    const csv = deckCsv(list, 3);
    const t0 = performance.now();
    const parsed = parseDeck(csv);
    await storeDeck(prisma, {
      profileId: sell.id,
      effectiveFrom: new Date('2026-01-01T00:00:00Z'),
      name: null,
      rates: parsed.rates,
    });
    const importMs = performance.now() - t0;
    console.log(
      `deck import: ${parsed.rates.length} rows (${(csv.length / 1e6).toFixed(1)} MB CSV) parsed and stored in ${Math.round(importMs)} ms`,
    );
    for (const p of [wholesale, cost])
      await storeDeck(prisma, {
        profileId: p.id,
        effectiveFrom: new Date('2026-01-01T00:00:00Z'),
        name: null,
        rates: parsed.rates,
      });
    const reseller = await prisma.reseller.create({ data: { name: 'R', billingProfileId: wholesale.id } });
    const customer = await prisma.customer.create({
      data: { name: 'C', resellerId: reseller.id, billingProfileId: sell.id },
    });
    const group = await prisma.peeringGroup.create({ data: { name: 'G', costProfileId: cost.id } });
    const gw = await prisma.peerGateway.create({
      data: { groupId: group.id, name: 'gw', host: '127.0.0.1' },
    });
    const numbers = destinations(list, DB_CDRS);
    const start = Date.parse('2026-03-02T00:00:00Z');
    for (let i = 0; i < DB_CDRS; i += 5000) {
      await prisma.cdr.createMany({
        data: numbers.slice(i, i + 5000).map((n, j) => {
          const k = i + j;
          const startedAt = new Date(start + k * 997);
          return {
            callId: `bench-${k}`,
            direction: 'outbound' as const,
            callerDialled: '1001',
            calleeDialled: n,
            calleeRouted: n,
            startedAt,
            answeredAt: startedAt,
            endedAt: new Date(startedAt.getTime() + 60_000),
            durationMs: (k * 7919) % 600_000,
            disposition: 'answered' as const,
            callerCustomerId: customer.id,
            peerGatewayId: gw.id,
          };
        }),
      });
    }
    const rater = await startRater(db, pino({ level: 'silent' }), { poll: false, batchSize: 1000 });
    const t1 = performance.now();
    const rated = await rater.drain();
    const seconds = (performance.now() - t1) / 1000;
    await rater.stop();
    console.log(
      `end to end (PostgreSQL, batches of 1000, one rater): ${rated} CDRs in ${seconds.toFixed(2)} s, ${Math.round(rated / seconds)} CDRs/s (includes loading 3 decks)`,
    );
  } finally {
    await db.close();
    await created.drop();
  }
}

/**
 * Part 4, in memory: what the credit control does per call before its one statement (the rate, whose
 * setup fee, price and intervals go with it), and the closed-form longest duration a balance of 1.00 pays
 * for up to the 600 s it reserves (what the statement computes with the same arithmetic).
 */
function authorisePure(list: readonly string[]): void {
  const plan = new RatingPlan();
  plan.addProfile({ id: 'sell', name: 'Retail', currency: 'EUR', timeZone: 'Europe/Vienna', peak: [] });
  plan.addDeckVersion('sell', { id: 'sell', version: 1, effectiveFrom: 0 });
  plan.setDeckRates('sell', parseDeck(deckCsv(list, 3)).rates as DeckRate[]);
  plan.accounts.customers.set('c', { profileId: 'sell', resellerId: null });
  const numbers = destinations(list, PURE_CDRS);
  const now = Date.parse('2026-03-02T10:00:00Z');
  let seconds = 0;
  const t = performance.now();
  for (const number of numbers) {
    const profile = plan.profiles.get(plan.accounts.customers.get('c')!.profileId!)!;
    const deck = plan.deckAt(profile, now)!;
    const rate = plan.decks.get(deck.id)!.longest(number);
    if (rate) seconds += affordableSeconds(rate, isPeak(profile.clock, profile.peak, now), 1_000_000, 600);
  }
  const elapsed = (performance.now() - t) / 1000;
  console.log(
    `authorisation in memory (rate lookup in ${PREFIXES} prefixes + affordable seconds up to 600 s): ${PURE_CDRS} calls in ` +
      `${elapsed.toFixed(2)} s, ${Math.round(PURE_CDRS / elapsed)} per second (${Math.round((elapsed / PURE_CDRS) * 1e9)} ns each; ${seconds} seconds granted)`,
  );
}

const percentile = (sorted: readonly number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!;

/** Part 4, with PostgreSQL: whole authorisations including the one-statement reservation. */
async function authoriseDb(list: readonly string[]): Promise<void> {
  let created: Awaited<ReturnType<typeof createTestDatabase>>;
  try {
    created = await createTestDatabase('bench_credit');
  } catch (error) {
    console.log(
      `PostgreSQL not reachable (${(error as Error).message}): authorisation with reservations skipped`,
    );
    return;
  }
  const db = await openDatabase({ databaseUrl: created.url, dataDir: '' });
  try {
    await db.migrate();
    const prisma = db.prisma;
    const sell = await prisma.billingProfile.create({
      data: { name: 'Retail', kind: 'sell', currency: 'EUR', timeZone: 'Europe/Vienna' },
    });
    await storeDeck(prisma, {
      profileId: sell.id,
      effectiveFrom: new Date('2026-01-01T00:00:00Z'),
      name: null,
      rates: parseDeck(deckCsv(list, 3)).rates,
    });
    const customers = [];
    for (let i = 0; i < 16; i++) {
      const c = await prisma.customer.create({ data: { name: `C${i}`, billingProfileId: sell.id } });
      await prisma.creditAccount.create({ data: { customerId: c.id, prepaid: true, balance: '1000000' } });
      customers.push(c.id);
    }
    const control = await startCreditControl(db, pino({ level: 'silent' }));
    const numbers = destinations(list, 4000);
    let call = 0;
    const authorise = async (customerId: string) => {
      const number = numbers[call % numbers.length]!;
      const t = performance.now();
      const decision = await control.authorise({
        callId: `bench-${call++}`,
        customerId,
        subscriberId: customerId,
        number,
        at: new Date(),
      });
      return { ms: performance.now() - t, decision };
    };
    await authorise(customers[0]!); // loads the deck
    for (const [label, inFlight, count] of [
      ['one at a time', 1, 2000],
      ['16 at once, 16 customers', 16, 4000],
      ['16 at once, one customer', 16, 2000],
    ] as const) {
      const latencies: number[] = [];
      const t = performance.now();
      let next = 0;
      await Promise.all(
        Array.from({ length: inFlight }, async (_, worker) => {
          while (next < count) {
            next++;
            const customerId = label.endsWith('one customer') ? customers[1]! : customers[worker % 16]!;
            latencies.push((await authorise(customerId)).ms);
          }
        }),
      );
      const seconds = (performance.now() - t) / 1000;
      latencies.sort((a, b) => a - b);
      console.log(
        `authorisation with reservation (PostgreSQL), ${label}: ${count} calls in ${seconds.toFixed(2)} s, ` +
          `${Math.round(count / seconds)} per second, p50 ${percentile(latencies, 0.5).toFixed(2)} ms, ` +
          `p99 ${percentile(latencies, 0.99).toFixed(2)} ms`,
      );
    }
    // Exactness: 200 calls at once on a balance of 1.00 reserve at most 1.00 together.
    await prisma.creditReservation.deleteMany({ where: { customerId: customers[2]! } });
    await prisma.creditAccount.update({ where: { customerId: customers[2]! }, data: { balance: '1' } });
    const decisions = await Promise.all(Array.from({ length: 200 }, () => authorise(customers[2]!)));
    const held = await prisma.creditReservation.aggregate({
      where: { customerId: customers[2]! },
      _sum: { amount: true },
    });
    const granted = decisions.filter((d) => d.decision.kind === 'granted').length;
    console.log(
      `200 calls at once on a balance of 1.00: ${granted} granted, reserved together ${held._sum.amount?.toFixed(6) ?? '0'}`,
    );
    await control.stop();
  } finally {
    await db.close();
    await created.drop();
  }
}

/** The floor on this machine right now: a Map.get with a freshly built key, per second. */
function calibrate(): void {
  const map = new Map<string, number>();
  for (let i = 0; i < 50_000; i++) map.set(`k${i}`, i);
  let hits = 0;
  const n = 1_000_000;
  const t = performance.now();
  for (let i = 0; i < n; i++) hits += map.get(`k${i % 60_000}`) === undefined ? 0 : 1;
  const seconds = (performance.now() - t) / 1000;
  console.log(`calibration: Map.get with a built key: ${Math.round(n / seconds)} per second (${hits} hits)`);
}

console.log(
  `load average before: ${loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')} (${availableParallelism()} cores)`,
);
calibrate();
const list = prefixes();
const parts = new Set((process.argv[4] ?? 'rating,authorise').split(','));
// `rating-pure`: part 1 alone (no PostgreSQL).
if (parts.has('rating') || parts.has('rating-pure')) purePart(list);
if (parts.has('rating')) await dbPart(list);
// `authorise-pure`: the in-memory part of the authorisation alone (no PostgreSQL).
if (parts.has('authorise') || parts.has('authorise-pure')) authorisePure(list);
if (parts.has('authorise')) await authoriseDb(list);
console.log(
  `load average after: ${loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}`,
);
