import type { DeckRate } from '../plan.ts';
import { charge } from '../rate-cdr.ts';

/**
 * How long a call a budget pays for, with the rater's own charging (rate-cdr.ts): the longest
 * billable duration `first + k x next` whose charge (setup fee included, rounded as the rater rounds)
 * is within the budget, or `capSeconds` itself when the duration billed for it fits. 0 when not even
 * the setup fee and the first interval fit.
 *
 * Closed form, no search over the intervals: the charge is `setup + floor((billed x perMinute + 30) /
 * 60)`, which is within the budget B exactly when `billed x perMinute <= 60 (B - setup) + 29`. So the
 * cost does not grow with the number of intervals (a 1/1 rate reserving 600 s used to price 600
 * steps). The SQL function `switchboard_affordable_seconds` (migration `credit_reserve_by_rate`) does
 * the same arithmetic for the reservation; apps/api/test/credit-reserve.test.ts checks they agree.
 */
export function affordableSeconds(
  rate: DeckRate,
  peak: boolean,
  budgetMicros: number,
  capSeconds: number,
): number {
  if (budgetMicros <= 0 || capSeconds <= 0) return 0;
  // The whole capped duration fits; this also bounds every product below by the one `charge` makes.
  if (charge(rate, capSeconds, peak) <= budgetMicros) return capSeconds;
  const perMinute = peak ? rate.peakMicros : rate.offPeakMicros;
  const room = budgetMicros - rate.setupMicros;
  if (room < 0 || perMinute <= 0) return 0;
  const longest = Math.floor((60 * room + 29) / perMinute);
  if (longest < rate.firstInterval) return 0;
  // Below the capped duration's billed seconds, so below the cap: a whole number of next intervals.
  return (
    rate.firstInterval + Math.floor((longest - rate.firstInterval) / rate.nextInterval) * rate.nextInterval
  );
}
