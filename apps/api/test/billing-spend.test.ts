import { describe, expect, it } from 'vitest';
import type { Rating } from '../src/billing/rate-cdr.ts';
import { spendChanges } from '../src/billing/spend-notice.ts';

/** What a rating batch announces to the credit limits: the change per customer and month. */

const rating = (micros: number | null): Rating => ({
  status: 'rated',
  error: null,
  number: '431',
  customer: micros === null ? null : { micros, currency: 'EUR', zone: 'Austria' },
  reseller: null,
  carrier: null,
});

describe('spend notices', () => {
  it('sums per customer and month; a re-rated CDR counts the difference; unchanged prices are left out', () => {
    const rows = [
      { caller_customer_id: 'a', started_at: new Date('2026-11-30T23:00:00Z'), old_price: null },
      { caller_customer_id: 'a', started_at: new Date('2026-11-02T10:00:00Z'), old_price: null },
      { caller_customer_id: 'a', started_at: new Date('2026-12-01T00:00:00Z'), old_price: null },
      { caller_customer_id: 'b', started_at: new Date('2026-11-05T10:00:00Z'), old_price: '0.500000' },
      { caller_customer_id: 'c', started_at: new Date('2026-11-05T10:00:00Z'), old_price: '0.100000' },
      { caller_customer_id: null, started_at: new Date('2026-11-05T10:00:00Z'), old_price: null },
    ];
    const ratings = [rating(1_000), rating(2_500), rating(7), rating(200_000), rating(100_000), rating(9)];
    expect(spendChanges(rows, ratings)).toEqual([
      { c: 'a', m: '2026-11', d: 3_500 },
      { c: 'a', m: '2026-12', d: 7 },
      { c: 'b', m: '2026-11', d: -300_000 },
    ]);
  });

  it('a side that lost its price counts as zero', () => {
    const rows = [
      { caller_customer_id: 'a', started_at: new Date('2026-11-02T10:00:00Z'), old_price: '0.250000' },
    ];
    expect(spendChanges(rows, [rating(null)])).toEqual([{ c: 'a', m: '2026-11', d: -250_000 }]);
  });
});
