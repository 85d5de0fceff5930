import type { PrismaClient, RateDeck } from '@switchboard/db';
import type { Tx } from '../audit.ts';
import { decimalToMicros, formatMicros } from './money.ts';
import type { DeckRate } from './plan.ts';

/**
 * Decks in the database. A deck and all its rates are written in one transaction, the rates with one
 * INSERT ... SELECT FROM unnest(arrays) per `INSERT_BATCH` rows, so a 50,000-row deck is 5 statements.
 */

const INSERT_BATCH = 10_000;
const WRITE_TIMEOUT_MS = 120_000;
const READ_BATCH = 20_000;

export interface NewDeck {
  profileId: string;
  effectiveFrom: Date;
  name: string | null;
  rates: readonly DeckRate[];
}

const dateOrNull = (t: number | null) => (t === null ? null : new Date(t).toISOString());

/** One statement per batch, the columns as parallel arrays: far fewer bind parameters than a multi-row VALUES. */
const INSERT_RATES = `INSERT INTO rates (deck_id, prefix, zone, setup_fee, peak_rate, off_peak_rate, first_interval,
    next_interval, effective_from, effective_to)
  SELECT $1::uuid, v.* FROM unnest($2::text[], $3::text[], $4::numeric[], $5::numeric[], $6::numeric[],
    $7::int[], $8::int[], $9::timestamptz[], $10::timestamptz[]) AS v`;

/** Writes a new version of a profile's deck; returns it. */
export async function storeDeck(
  prisma: PrismaClient,
  deck: NewDeck,
  /** Runs in the deck's transaction (the audit entry). */
  onStored?: (tx: Tx, stored: RateDeck) => Promise<void>,
): Promise<RateDeck> {
  return prisma.$transaction(
    async (tx) => {
      // The unique (profile_id, version) makes two concurrent imports of one profile fail rather than share a version.
      const last = await tx.rateDeck.findFirst({
        where: { profileId: deck.profileId },
        orderBy: { version: 'desc' },
        select: { version: true },
      });
      const created = await tx.rateDeck.create({
        data: {
          profileId: deck.profileId,
          version: (last?.version ?? 0) + 1,
          effectiveFrom: deck.effectiveFrom,
          name: deck.name,
          rowCount: deck.rates.length,
        },
      });
      for (let i = 0; i < deck.rates.length; i += INSERT_BATCH) {
        const batch = deck.rates.slice(i, i + INSERT_BATCH);
        await tx.$executeRawUnsafe(
          INSERT_RATES,
          created.id,
          batch.map((r) => r.prefix),
          batch.map((r) => r.zone),
          batch.map((r) => formatMicros(r.setupMicros)),
          batch.map((r) => formatMicros(r.peakMicros)),
          batch.map((r) => formatMicros(r.offPeakMicros)),
          batch.map((r) => r.firstInterval),
          batch.map((r) => r.nextInterval),
          batch.map((r) => dateOrNull(r.effectiveFrom)),
          batch.map((r) => dateOrNull(r.effectiveTo)),
        );
      }
      await onStored?.(tx, created);
      return created;
    },
    { timeout: WRITE_TIMEOUT_MS, maxWait: WRITE_TIMEOUT_MS },
  );
}

/** Every rate of a deck, by prefix, read in bounded pages. */
export async function loadDeckRates(prisma: Tx, deckId: string): Promise<DeckRate[]> {
  const rates: DeckRate[] = [];
  let after: string | undefined;
  for (;;) {
    const page = await prisma.rate.findMany({
      where: { deckId, ...(after === undefined ? {} : { prefix: { gt: after } }) },
      orderBy: { prefix: 'asc' },
      take: READ_BATCH,
    });
    for (const r of page)
      rates.push({
        prefix: r.prefix,
        zone: r.zone,
        setupMicros: decimalToMicros(r.setupFee),
        peakMicros: decimalToMicros(r.peakRate),
        offPeakMicros: decimalToMicros(r.offPeakRate),
        firstInterval: r.firstInterval,
        nextInterval: r.nextInterval,
        effectiveFrom: r.effectiveFrom?.getTime() ?? null,
        effectiveTo: r.effectiveTo?.getTime() ?? null,
      });
    if (page.length < READ_BATCH) return rates;
    after = page[page.length - 1]!.prefix;
  }
}
