import { openTestDatabase } from '@switchboard/db/testing';
import { pino } from 'pino';
import { expect, it } from 'vitest';
import { parseDeck } from '../src/billing/deck-csv.ts';
import { storeDeck } from '../src/billing/deck-store.ts';
import { startRater } from '../src/billing/rater.ts';

/** The deck import and the rater on the embedded database (PGlite), the default deployment. */
it('stores a deck and rates CDRs on the embedded database', async () => {
  const db = await openTestDatabase('pglite', 'billing_embedded');
  try {
    const prisma = db.prisma;
    const sell = await prisma.billingProfile.create({
      data: { name: 'Retail', kind: 'sell', currency: 'EUR' },
    });
    const deck = await storeDeck(prisma, {
      profileId: sell.id,
      effectiveFrom: new Date('2026-01-01T00:00:00Z'),
      name: null,
      rates: parseDeck(
        'prefix,zone,peak_rate,setup_fee,effective_to\n43,Austria,0.06,0.01,\n44,UK,0.5,,2026-02-01',
      ).rates,
    });
    expect(await prisma.rate.count({ where: { deckId: deck.id } })).toBe(2);
    const customer = await prisma.customer.create({ data: { name: 'C', billingProfileId: sell.id } });
    const call = (callId: string, calleeRouted: string) => ({
      callId,
      direction: 'outbound' as const,
      callerDialled: '1001',
      calleeDialled: calleeRouted,
      calleeRouted,
      startedAt: new Date('2026-03-02T10:00:00Z'),
      answeredAt: new Date('2026-03-02T10:00:00Z'),
      endedAt: new Date('2026-03-02T10:01:30Z'),
      durationMs: 90_000,
      disposition: 'answered' as const,
      callerCustomerId: customer.id,
    });
    await prisma.cdr.createMany({ data: [call('a', '431234'), call('b', '441234')] });
    const rater = await startRater(db, pino({ level: 'silent' }), { poll: false });
    expect(await rater.drain()).toBe(2);
    await rater.stop();
    const a = await prisma.cdr.findFirstOrThrow({ where: { callId: 'a' } });
    expect(a).toMatchObject({
      ratingStatus: 'rated',
      ratingCount: 1,
      customerZone: 'Austria',
      customerCurrency: 'EUR',
    });
    expect(a.customerPrice?.toFixed(6)).toBe('0.130000');
    // The UK rate ended on 2026-02-01: no zone is left for the call.
    const b = await prisma.cdr.findFirstOrThrow({ where: { callId: 'b' } });
    expect(b).toMatchObject({ ratingStatus: 'unrateable', customerPrice: null });
  } finally {
    await db.close();
  }
}, 120_000);
