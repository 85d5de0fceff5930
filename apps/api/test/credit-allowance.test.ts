import { describe, expect, it } from 'vitest';
import { affordableSeconds } from '../src/billing/credit/allowance.ts';
import type { DeckRate } from '../src/billing/plan.ts';
import { charge } from '../src/billing/rate-cdr.ts';

/** The seconds a budget pays for, checked against the rater's own charge (rate-cdr.ts). */

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

describe('affordableSeconds', () => {
  it('pays 5 s of 0.01/s (1/1) from 0.05, and nothing when the first interval does not fit', () => {
    const perSecond = rate(0, 600_000, 1, 1);
    expect(affordableSeconds(perSecond, true, 50_000, 600)).toBe(5);
    expect(affordableSeconds(perSecond, true, 9_999, 600)).toBe(0);
    expect(affordableSeconds(perSecond, true, 50_000, 3)).toBe(3);
    // A setup fee comes first; 60/60 buys whole minutes.
    expect(affordableSeconds(rate(100_000, 600_000, 60, 60), true, 800_000, 3600)).toBe(60);
    expect(affordableSeconds(rate(100_000, 600_000, 60, 60), true, 99_999, 3600)).toBe(0);
  });

  it('is the longest billed duration whose charge fits, for many rates and budgets', () => {
    let seed = 42;
    const next = () => {
      seed = (seed * 1_664_525 + 1_013_904_223) >>> 0;
      return seed / 2 ** 32;
    };
    for (let i = 0; i < 2000; i++) {
      const r = rate(
        Math.floor(next() * 50_000),
        1 + Math.floor(next() * 2_000_000),
        [1, 30, 60][Math.floor(next() * 3)]!,
        [1, 6, 60][Math.floor(next() * 3)]!,
      );
      const budget = Math.floor(next() * 5_000_000);
      const cap = 1 + Math.floor(next() * 7200);
      const seconds = affordableSeconds(r, true, budget, cap);
      expect(seconds).toBeLessThanOrEqual(cap);
      if (seconds === 0) {
        expect(charge(r, r.firstInterval, true)).toBeGreaterThan(budget);
        continue;
      }
      expect(charge(r, seconds, true)).toBeLessThanOrEqual(budget);
      // One more billed interval would not fit (or the cap was reached).
      if (seconds < cap) expect(charge(r, seconds + 1, true)).toBeGreaterThan(budget);
    }
  });
});
