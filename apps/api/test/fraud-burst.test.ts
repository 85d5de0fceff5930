import { describe, expect, it } from 'vitest';
import { BurstWindows } from '../src/billing/credit/burst.ts';
import { longestPrefix } from '../src/billing/credit/fraud-screen.ts';

/** The in-memory pieces of fraud screening (docs/billing.md, "Fraud limits"), with explicit clocks. */

describe('burst windows', () => {
  it('reports more than N calls within M seconds once per window, per customer', () => {
    const w = new BurstWindows();
    // 3 calls allowed within 10 s.
    const at = (customer: string, s: number) => w.record(customer, s * 1000, 3, 10_000);
    expect([at('a', 0), at('a', 1), at('a', 2)]).toEqual([undefined, undefined, undefined]);
    expect(at('a', 3)).toEqual({ calls: 4, since: 0 });
    // Still bursting, but within the window of the report: no second report.
    expect([at('a', 4), at('a', 5), at('a', 12)]).toEqual([undefined, undefined, undefined]);
    // Another customer has its own window.
    expect(at('b', 5)).toBeUndefined();
    // After the window, a new burst is reported again.
    expect(at('a', 13)).toEqual({ calls: 4, since: 4000 });
  });

  it('does not report calls spread wider than the window', () => {
    const w = new BurstWindows();
    // Any three of these span 12 s or more.
    const seen = [0, 6, 12, 18, 24].map((s) => w.record('a', s * 1000, 2, 10_000));
    expect(seen).toEqual(Array(5).fill(undefined));
    // 3 calls within 10 s: 18, 24 and 25.
    expect(w.record('a', 25_000, 2, 10_000)).toEqual({ calls: 3, since: 18_000 });
  });

  it('forgets customers that are no longer watched', () => {
    const w = new BurstWindows();
    w.record('a', 0, 1, 10_000);
    w.retain(() => false);
    expect(w.record('a', 1000, 1, 10_000)).toBeUndefined();
  });
});

describe('high-risk prefix match', () => {
  it('finds the longest listed prefix of a number, up to 15 digits', () => {
    const list = new Set(['882', '8821', '53']);
    expect(longestPrefix(list, '882165550123')).toBe('8821');
    expect(longestPrefix(list, '882265550123')).toBe('882');
    expect(longestPrefix(list, '4930555123')).toBeUndefined();
    expect(longestPrefix(new Set(['123456789012345']), '1234567890123456')).toBe('123456789012345');
  });
});
