/**
 * Exact money. Amounts are decimal strings in the API and NUMERIC(18,6) in the database; in memory
 * they are integer millionths of the currency unit ("micros"), so every sum and product the rater
 * makes is integer arithmetic (exact below 2^53 micros, about 9 billion units).
 */

export const MICROS_PER_UNIT = 1_000_000;
/** Largest amount a NUMERIC(18,6) column holds, in micros. */
export const MAX_MICROS = 999_999_999_999 * MICROS_PER_UNIT;

const DECIMAL = /^(-?)(\d{1,12})(?:\.(\d{1,6}))?$/;

/** `"0.0123"` -> 12300; undefined when not a decimal with at most 12 integer and 6 fraction digits. */
export function parseMicros(text: string): number | undefined {
  const m = DECIMAL.exec(text.trim());
  if (m === null) return undefined;
  const units = Number(m[2]);
  const fraction = Number((m[3] ?? '').padEnd(6, '0'));
  const micros = units * MICROS_PER_UNIT + fraction;
  return m[1] === '-' ? -micros : micros;
}

/** 12300 -> `"0.012300"`: always six fraction digits, as PostgreSQL prints NUMERIC(18,6). */
export function formatMicros(micros: number): string {
  const sign = micros < 0 ? '-' : '';
  const abs = Math.abs(micros);
  const units = Math.floor(abs / MICROS_PER_UNIT);
  const fraction = String(abs % MICROS_PER_UNIT).padStart(6, '0');
  return `${sign}${units}.${fraction}`;
}

/** A database NUMERIC as Prisma returns it (a Decimal, whose toFixed is exact) in micros. */
export function decimalToMicros(value: { toFixed(digits: number): string } | string): number {
  const text = typeof value === 'string' ? value : value.toFixed(6);
  const micros = parseMicros(text);
  if (micros === undefined) throw new Error(`not a NUMERIC(18,6) amount: ${text}`);
  return micros;
}
