import type { DeckRate } from '../plan.ts';
import { charge } from '../rate-cdr.ts';

/**
 * How long a call a budget pays for, with the rater's own charging (rate-cdr.ts): the longest
 * billable duration `first + k x next` whose charge (setup fee included, rounded as the rater rounds)
 * is within the budget. Exact integer arithmetic on micros; 0 when not even the setup fee and the first
 * interval fit.
 */
export function affordableSeconds(
  rate: DeckRate,
  peak: boolean,
  budgetMicros: number,
  capSeconds: number,
): number {
  if (budgetMicros <= 0 || capSeconds <= 0) return 0;
  if (charge(rate, rate.firstInterval, peak) > budgetMicros) return 0;
  if (rate.firstInterval >= capSeconds) return capSeconds;
  // The charge grows with k: binary search the largest k that fits, bounded by the cap.
  let low = 0;
  let high = Math.ceil((capSeconds - rate.firstInterval) / rate.nextInterval);
  while (low < high) {
    const mid = Math.ceil((low + high) / 2);
    if (charge(rate, rate.firstInterval + mid * rate.nextInterval, peak) <= budgetMicros) low = mid;
    else high = mid - 1;
  }
  return Math.min(capSeconds, rate.firstInterval + low * rate.nextInterval);
}
