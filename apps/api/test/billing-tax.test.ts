import { describe, expect, it } from 'vitest';
import { formatTaxRate, parseTaxRate, taxInGross, taxOnNet } from '../src/billing/tax.ts';

/** Tax rates and amounts (docs/billing.md, "Taxes"): exact, rounded half up to a millionth once. */

describe('tax', () => {
  it('reads a percent from 0 to 100 with at most two decimals', () => {
    expect(parseTaxRate('20')).toBe(2000);
    expect(parseTaxRate('20.00')).toBe(2000);
    expect(parseTaxRate('7.7')).toBe(770);
    expect(parseTaxRate('0')).toBe(0);
    expect(parseTaxRate('100')).toBe(10_000);
    for (const bad of ['100.01', '7.125', '-1', '', 'abc', '1e2', '20,00'])
      expect(parseTaxRate(bad), bad).toBeUndefined();
    expect(formatTaxRate(770)).toBe('7.70');
    expect(formatTaxRate(5)).toBe('0.05');
  });

  it('rounds the tax on a net amount half up (away from zero for a credit)', () => {
    // 0.000005 at 10 % is 0.0000005: half a millionth rounds up.
    expect(taxOnNet(5, 1000)).toBe(1);
    expect(taxOnNet(4, 1000)).toBe(0);
    expect(taxOnNet(-5, 1000)).toBe(-1);
    expect(taxOnNet(1_234_567, 2000)).toBe(246_913); // 246,913.4
    expect(taxOnNet(1_234_568, 2000)).toBe(246_914); // 246,913.6
    // No float product: 9 billion units at 19.99 %.
    expect(taxOnNet(9_000_000_000_000_000, 1999)).toBe(1_799_100_000_000_000);
  });

  it('finds the tax included in a gross amount', () => {
    expect(taxInGross(120_000_000, 2000)).toBe(20_000_000);
    expect(taxInGross(100, 2000)).toBe(17); // 16.67
    expect(taxInGross(5, 0)).toBe(0);
    // Net plus the tax on it, taken apart again, gives the same tax.
    for (const net of [1, 999, 123_456, 10_000_000])
      expect(taxInGross(net + taxOnNet(net, 2000), 2000)).toBe(taxOnNet(net, 2000));
  });
});
