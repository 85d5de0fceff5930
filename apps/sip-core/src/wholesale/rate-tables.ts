import { isPeak, LocalClock } from '@switchboard/api';
import type { PrismaClient } from '@switchboard/db';
import { PrefixRates } from '@switchboard/numbering';

/**
 * The per-minute peak and off-peak rates of a billing profile's deck in effect now, as margin
 * protection compares them, with the profile's peak periods in its time zone deciding which applies at
 * a call's start (the rater's rule, apps/api/src/billing/peak.ts). Decks never change once written, so
 * a loaded deck is kept until its profile moves on to a newer version; the peak times are read again
 * on every load (the change feed reloads on `billing_peak_times`).
 */
export class RateTables {
  private byDeck = new Map<string, PrefixRates>();

  constructor(private readonly prisma: PrismaClient) {}

  /** Profile id -> the rates of its deck in effect at `now`; profiles without a deck are left out. */
  async load(profileIds: ReadonlySet<string>, now: Date): Promise<Map<string, PrefixRates>> {
    const result = new Map<string, PrefixRates>();
    const kept = new Map<string, PrefixRates>();
    const profiles = await this.prisma.billingProfile.findMany({
      where: { id: { in: [...profileIds] } },
      select: {
        id: true,
        timeZone: true,
        peakTimes: { select: { weekday: true, startMinute: true, endMinute: true } },
      },
    });
    for (const profile of profiles) {
      const deck = await this.prisma.rateDeck.findFirst({
        where: { profileId: profile.id, effectiveFrom: { lte: now } },
        orderBy: [{ effectiveFrom: 'desc' }, { version: 'desc' }],
        select: { id: true },
      });
      if (!deck) continue;
      let rates = this.byDeck.get(deck.id);
      if (!rates) {
        rates = new PrefixRates();
        const rows = await this.prisma.rate.findMany({
          where: { deckId: deck.id },
          select: { prefix: true, peakRate: true, offPeakRate: true },
        });
        // NUMERIC(18,6) -> integer micros, exactly (toFixed of a Decimal does not round here).
        const micros = (d: { toFixed(n: number): string }) => Number(d.toFixed(6).replace('.', ''));
        for (const row of rows) rates.set(row.prefix, micros(row.peakRate), micros(row.offPeakRate));
      }
      const clock = new LocalClock(profile.timeZone);
      const periods = profile.peakTimes;
      rates.setPeakTimes((at) => isPeak(clock, periods, at));
      kept.set(deck.id, rates);
      result.set(profile.id, rates);
    }
    this.byDeck = kept;
    return result;
  }
}
