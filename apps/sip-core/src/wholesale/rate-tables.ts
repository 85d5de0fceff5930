import type { PrismaClient } from '@switchboard/db';
import { PrefixRates } from '@switchboard/numbering';

/**
 * The per-minute peak rates of a billing profile's deck in effect now, as margin protection compares
 * them. Decks never change once written, so a loaded deck is kept until its profile moves on to a
 * newer version.
 */
export class RateTables {
  private byDeck = new Map<string, PrefixRates>();

  constructor(private readonly prisma: PrismaClient) {}

  /** Profile id -> the rates of its deck in effect at `now`; profiles without a deck are left out. */
  async load(profileIds: ReadonlySet<string>, now: Date): Promise<Map<string, PrefixRates>> {
    const result = new Map<string, PrefixRates>();
    const kept = new Map<string, PrefixRates>();
    for (const profileId of profileIds) {
      const deck = await this.prisma.rateDeck.findFirst({
        where: { profileId, effectiveFrom: { lte: now } },
        orderBy: [{ effectiveFrom: 'desc' }, { version: 'desc' }],
        select: { id: true },
      });
      if (!deck) continue;
      let rates = this.byDeck.get(deck.id);
      if (!rates) {
        rates = new PrefixRates();
        const rows = await this.prisma.rate.findMany({
          where: { deckId: deck.id },
          select: { prefix: true, peakRate: true },
        });
        // NUMERIC(18,6) -> integer micros, exactly (toFixed of a Decimal does not round here).
        for (const row of rows) rates.set(row.prefix, Number(row.peakRate.toFixed(6).replace('.', '')));
      }
      kept.set(deck.id, rates);
      result.set(profileId, rates);
    }
    this.byDeck = kept;
    return result;
  }
}
