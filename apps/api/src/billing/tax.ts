/**
 * Tax (VAT) on invoices and credit notes (docs/billing.md, "Taxes"). A rate is a percent with at most
 * two decimals (`"20.00"`), NUMERIC(5,2) in the database and integer hundredths of a percent in
 * memory (20.00 % = 2000), so a tax amount is one integer product and one division: exact, rounded
 * half up (half away from zero for a negative amount) to a millionth, once per rate and document.
 */

/** Hundredths of a percent in 100 %. */
const WHOLE = 10_000n;
const RATE = /^(\d{1,3})(?:\.(\d{1,2}))?$/;

/** `"20.00"` -> 2000; undefined when not a percent from 0 to 100 with at most two decimals. */
export function parseTaxRate(text: string): number | undefined {
  const m = RATE.exec(text.trim());
  if (m === null) return undefined;
  const hundredths = Number(m[1]) * 100 + Number((m[2] ?? '').padEnd(2, '0'));
  return hundredths <= 10_000 ? hundredths : undefined;
}

/** 2000 -> `"20.00"`, as PostgreSQL prints NUMERIC(5,2). */
export function formatTaxRate(hundredths: number): string {
  return `${Math.floor(hundredths / 100)}.${String(hundredths % 100).padStart(2, '0')}`;
}

/** A NUMERIC(5,2) as Prisma returns it (a Decimal) in hundredths of a percent. */
export function decimalToTaxRate(value: { toFixed(digits: number): string }): number {
  const rate = parseTaxRate(value.toFixed(2));
  if (rate === undefined) throw new Error(`not a tax rate: ${value.toFixed(2)}`);
  return rate;
}

/** `numerator / denominator` rounded half away from zero, in BigInt so no product loses a digit. */
function divideRounded(numerator: bigint, denominator: bigint): number {
  const negative = numerator < 0n;
  const abs = negative ? -numerator : numerator;
  const rounded = (2n * abs + denominator) / (2n * denominator);
  return Number(negative ? -rounded : rounded);
}

/** The tax on a net amount (micros) at a rate: net x rate / 100, rounded half up. */
export function taxOnNet(netMicros: number, rate: number): number {
  return divideRounded(BigInt(netMicros) * BigInt(rate), WHOLE);
}

/** The tax included in a gross amount (micros): gross x rate / (100 + rate), rounded half up. */
export function taxInGross(grossMicros: number, rate: number): number {
  return divideRounded(BigInt(grossMicros) * BigInt(rate), WHOLE + BigInt(rate));
}

/** The tax of one rate on a document: the taxed base and the tax on it. */
export interface TaxAmount {
  /** Hundredths of a percent. */
  rate: number;
  baseMicros: number;
  taxMicros: number;
}
