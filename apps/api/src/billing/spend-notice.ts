import { RATED_CHANNEL } from '@switchboard/db';
import type { Tx } from '../audit.ts';
import { decimalToMicros } from './money.ts';
import type { Rating } from './rate-cdr.ts';

/**
 * What a rating batch adds to each customer's spending in each month, announced on `RATED_CHANNEL`
 * in the batch's own transaction (so only a committed batch is announced, once). A re-rated CDR
 * counts the difference to its previous price. sip-core's credit limits sum these in memory.
 */

export interface SpendChange {
  /** Customer id. */
  c: string;
  /** UTC month of the calls' start, `2026-11`. */
  m: string;
  /** Micros added (negative when a re-rating lowered a price). */
  d: number;
}

export interface RatedRow {
  caller_customer_id: string | null;
  started_at: Date;
  /** The customer price before this rating (a re-rated CDR), as text. */
  old_price: string | null;
}

/** NOTIFY payloads stay under PostgreSQL's 8,000 bytes: at most this many changes per message. */
const PER_NOTICE = 80;

export function monthOf(date: Date): string {
  return date.toISOString().slice(0, 7);
}

export function spendChanges(rows: readonly RatedRow[], ratings: readonly Rating[]): SpendChange[] {
  const sums = new Map<string, SpendChange>();
  rows.forEach((row, i) => {
    const customer = row.caller_customer_id;
    if (customer === null) return;
    const now = ratings[i]?.customer?.micros ?? 0;
    const before = row.old_price === null ? 0 : decimalToMicros(row.old_price);
    if (now === before) return;
    const month = monthOf(new Date(row.started_at));
    const key = `${customer} ${month}`;
    const entry = sums.get(key) ?? { c: customer, m: month, d: 0 };
    entry.d += now - before;
    sums.set(key, entry);
  });
  return [...sums.values()].filter((e) => e.d !== 0);
}

export async function announceSpend(tx: Tx, changes: readonly SpendChange[]): Promise<void> {
  for (let i = 0; i < changes.length; i += PER_NOTICE)
    await tx.$executeRawUnsafe(
      'SELECT pg_notify($1, $2)',
      RATED_CHANNEL,
      JSON.stringify(changes.slice(i, i + PER_NOTICE)),
    );
}
