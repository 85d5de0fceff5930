import type { Prisma } from '@switchboard/db';
import type { Tx } from '../../audit.ts';
import { decimalToMicros, formatMicros } from '../money.ts';
import type { Rating } from '../rate-cdr.ts';
import { type SpendLimits, spendEvents } from './spend.ts';

/**
 * The credit side of rating, in the rater's batch transaction (so it happens exactly once per rating,
 * or not at all when the batch rolls back):
 *
 * - each CDR's customer price is entered in `credit_debits` (one row per CDR); a prepaid customer's
 *   balance is debited by the difference to what was entered before (0 the first time; a re-rated CDR
 *   moves the balance only by its change);
 * - the calls' credit reservations are removed (the debit replaces them);
 * - a balance that falls below its customer's threshold raises `low-balance`, once per crossing;
 * - the day's and month's spend of the customer and the calling subscriber grow by the same
 *   difference: a warning at the limit's percentage, and at the limit a block of outgoing PSTN calls
 *   until the period ends (spend.ts);
 * - the first call to a zone the customer never called, and a call to a high-risk prefix, raise an
 *   unusual-destination event.
 *
 * Only customers with a credit account (and subscribers with a spend limit) take part.
 */

interface CreditRow {
  id: string;
  call_id: string;
  customer_id: string;
  subscriber_id: string | null;
  started_at: Date;
  has_account: boolean;
  prepaid: boolean | null;
  daily_limit: string | null;
  monthly_limit: string | null;
  warn_percent: number | null;
  sub_daily_limit: string | null;
  sub_monthly_limit: string | null;
  sub_warn_percent: number | null;
  debited: string | null;
}

/** The payer: the forwarding subscriber of a call forwarded to the phone network, else the caller. */
const CREDIT_ROWS = `SELECT c.id, c.call_id, c.customer_id, c.subscriber_id,
    c.started_at, a.customer_id IS NOT NULL AS has_account, a.prepaid,
    a.daily_limit::text, a.monthly_limit::text, a.limit_warn_percent AS warn_percent,
    l.daily_limit::text AS sub_daily_limit, l.monthly_limit::text AS sub_monthly_limit,
    l.limit_warn_percent AS sub_warn_percent, d.amount::text AS debited
  FROM (SELECT id, call_id, started_at,
          coalesce(billed_customer_id, caller_customer_id) AS customer_id,
          CASE WHEN billed_customer_id IS NULL THEN caller_subscriber_id ELSE billed_subscriber_id END
            AS subscriber_id
        FROM cdrs WHERE id = ANY($1::uuid[])) c
  LEFT JOIN credit_accounts a ON a.customer_id = c.customer_id
  LEFT JOIN subscriber_spend_limits l ON l.subscriber_id = c.subscriber_id
  LEFT JOIN credit_debits d ON d.cdr_id = c.id
  WHERE c.customer_id IS NOT NULL
    AND (a.customer_id IS NOT NULL OR l.subscriber_id IS NOT NULL)`;

const UPSERT_DEBITS = `INSERT INTO credit_debits (cdr_id, customer_id, amount, updated_at)
  SELECT v.cdr_id, v.customer_id, v.amount, now()
    FROM unnest($1::uuid[], $2::uuid[], $3::numeric[]) AS v(cdr_id, customer_id, amount)
  ON CONFLICT (cdr_id) DO UPDATE SET amount = excluded.amount, updated_at = now()`;

/**
 * Debits the balances. The rows stay locked until the batch commits, so the low-balance flag read here
 * is the one to compare with (a concurrent batch waits).
 */
const DEBIT_BALANCES = `UPDATE credit_accounts a SET balance = a.balance - v.delta, updated_at = now()
    FROM unnest($1::uuid[], $2::numeric[]) AS v(customer_id, delta)
    WHERE a.customer_id = v.customer_id AND a.prepaid
    RETURNING a.customer_id, a.balance::text AS balance, a.low_balance_threshold::text AS threshold,
      a.low_balance_warned AS warned`;

const MARK_WARNED =
  'UPDATE credit_accounts SET low_balance_warned = true WHERE customer_id = ANY($1::uuid[])';

const RELEASE_RESERVATIONS = 'DELETE FROM credit_reservations WHERE call_id = ANY($1::text[])';

const NEW_ZONES = `INSERT INTO customer_zones (customer_id, zone)
  SELECT * FROM unnest($1::uuid[], $2::text[]) ON CONFLICT DO NOTHING RETURNING customer_id, zone`;

export interface NewCreditEvent {
  customerId: string;
  kind: string;
  detail: Record<string, unknown>;
}

export async function settleCredit(
  tx: Tx,
  ids: readonly string[],
  ratings: readonly Rating[],
): Promise<NewCreditEvent[]> {
  const priceOf = new Map<string, Rating>();
  ids.forEach((id, i) => {
    if (ratings[i]?.customer) priceOf.set(id, ratings[i]!);
  });
  // One query for the whole batch; a batch without credit customers costs only this.
  const all = await tx.$queryRawUnsafe<CreditRow[]>(CREDIT_ROWS, [...ids]);
  if (all.length === 0) return [];
  // Every call of the batch has ended: whatever credit it held is replaced by its debit. Only
  // customers with a credit account (prepaid or spend-limited) hold reservations.
  const held = all.filter((r) => r.has_account).map((r) => r.call_id);
  if (held.length > 0) await tx.$executeRawUnsafe(RELEASE_RESERVATIONS, held);
  const rows = all.filter((r) => priceOf.has(r.id));
  if (rows.length === 0) return [];
  const events: NewCreditEvent[] = [];
  const deltas = new Map<string, number>();
  const debits: [string[], string[], string[]] = [[], [], []];
  const spend: SpendLimits[] = [];
  const zones: [string[], string[]] = [[], []];
  const firstSettled: Array<{ row: CreditRow; rating: Rating }> = [];
  for (const row of rows) {
    const rating = priceOf.get(row.id)!;
    const price = rating.customer!.micros;
    const delta = price - (row.debited === null ? 0 : decimalToMicros(row.debited));
    debits[0].push(row.id);
    debits[1].push(row.customer_id);
    debits[2].push(formatMicros(price));
    if (row.prepaid) deltas.set(row.customer_id, (deltas.get(row.customer_id) ?? 0) + delta);
    if (delta !== 0) spend.push(...spendOwners(row, delta));
    if (row.has_account && rating.customer!.zone !== null && price > 0) {
      zones[0].push(row.customer_id);
      zones[1].push(rating.customer!.zone);
    }
    if (row.debited === null && row.has_account) firstSettled.push({ row, rating });
  }
  await tx.$executeRawUnsafe(UPSERT_DEBITS, ...debits);
  if (deltas.size > 0) {
    const debited = await tx.$queryRawUnsafe<
      Array<{ customer_id: string; balance: string; threshold: string | null; warned: boolean }>
    >(DEBIT_BALANCES, [...deltas.keys()], [...deltas.values()].map(formatMicros));
    // Once per crossing: the flag is cleared when a top-up lifts the balance to the threshold again.
    const crossed = debited.filter(
      (d) => d.threshold !== null && !d.warned && decimalToMicros(d.balance) < decimalToMicros(d.threshold),
    );
    if (crossed.length > 0)
      await tx.$executeRawUnsafe(
        MARK_WARNED,
        crossed.map((c) => c.customer_id),
      );
    for (const c of crossed)
      events.push({
        customerId: c.customer_id,
        kind: 'low-balance',
        detail: { balance: c.balance, threshold: c.threshold },
      });
  }
  events.push(...(await spendEvents(tx, spend)));
  if (zones[0].length > 0) {
    const fresh = await tx.$queryRawUnsafe<Array<{ customer_id: string; zone: string }>>(NEW_ZONES, ...zones);
    for (const z of fresh)
      events.push({ customerId: z.customer_id, kind: 'new-zone', detail: { zone: z.zone } });
  }
  events.push(...(await highRiskEvents(tx, firstSettled)));
  if (events.length > 0)
    await tx.creditEvent.createMany({
      data: events.map((e) => ({ ...e, detail: e.detail as Prisma.InputJsonValue })),
    });
  return events;
}

/** The spend counters one CDR's price change goes to: its customer's and its subscriber's. */
function spendOwners(row: CreditRow, delta: number): SpendLimits[] {
  const owners: SpendLimits[] = [];
  const at = new Date(row.started_at);
  if (row.has_account)
    owners.push({
      scope: 'customer',
      ownerId: row.customer_id,
      customerId: row.customer_id,
      at,
      delta,
      daily: row.daily_limit,
      monthly: row.monthly_limit,
      warnPercent: row.warn_percent ?? 80,
    });
  if (row.subscriber_id !== null && (row.sub_daily_limit !== null || row.sub_monthly_limit !== null))
    owners.push({
      scope: 'subscriber',
      ownerId: row.subscriber_id,
      customerId: row.customer_id,
      at,
      delta,
      daily: row.sub_daily_limit,
      monthly: row.sub_monthly_limit,
      warnPercent: row.sub_warn_percent ?? 80,
    });
  return owners;
}

async function highRiskEvents(
  tx: Tx,
  settled: ReadonlyArray<{ row: CreditRow; rating: Rating }>,
): Promise<NewCreditEvent[]> {
  if (settled.length === 0) return [];
  const prefixes = (await tx.highRiskPrefix.findMany({ select: { prefix: true } })).map((p) => p.prefix);
  if (prefixes.length === 0) return [];
  const events: NewCreditEvent[] = [];
  for (const { row, rating } of settled) {
    const number = rating.number;
    const prefix = number === null ? undefined : prefixes.find((p) => number.startsWith(p));
    if (prefix !== undefined)
      events.push({
        customerId: row.customer_id,
        kind: 'high-risk-destination',
        detail: { number, prefix, cdrId: row.id, subscriberId: row.subscriber_id },
      });
  }
  return events;
}
