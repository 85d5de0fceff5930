import type { Tx } from '../../audit.ts';
import { decimalToMicros, formatMicros } from '../money.ts';

/**
 * Spend limits (docs/billing.md, "Fraud limits"): what a customer or a subscriber spent in the UTC day
 * and month of each call's start, added up in `spend_totals` by the rater. Crossing the warning
 * percentage raises `spend-warning` once per period; reaching the limit blocks the owner's outgoing PSTN
 * calls until the period ends (`blocked_until`, which sip-core follows on the change feed) and raises
 * `spend-blocked`.
 */

export interface SpendLimits {
  scope: 'customer' | 'subscriber';
  ownerId: string;
  /** Who is told (a subscriber's customer). */
  customerId: string;
  at: Date;
  delta: number;
  daily: string | null;
  monthly: string | null;
  warnPercent: number;
}

interface Period {
  name: 'day' | 'month';
  starts: Date;
  ends: Date;
}

export function periodsOf(at: Date): Period[] {
  const day = new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth(), at.getUTCDate()));
  const month = new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth(), 1));
  return [
    { name: 'day', starts: day, ends: new Date(day.getTime() + 86_400_000) },
    { name: 'month', starts: month, ends: new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth() + 1, 1)) },
  ];
}

const ADD_SPEND = `INSERT INTO spend_totals (owner_id, period, starts, amount) VALUES ($1::uuid, $2, $3::date, $4::numeric)
  ON CONFLICT (owner_id, period, starts) DO UPDATE SET amount = spend_totals.amount + excluded.amount
  RETURNING amount::text, warned`;

const BLOCK = {
  customer: `UPDATE credit_accounts SET blocked_until = $2 WHERE customer_id = $1::uuid
      AND (blocked_until IS NULL OR blocked_until < $2) RETURNING customer_id`,
  subscriber: `UPDATE subscriber_spend_limits SET blocked_until = $2 WHERE subscriber_id = $1::uuid
      AND (blocked_until IS NULL OR blocked_until < $2) RETURNING subscriber_id`,
} as const;

export async function spendEvents(
  tx: Tx,
  owners: readonly SpendLimits[],
): Promise<Array<{ customerId: string; kind: string; detail: Record<string, unknown> }>> {
  const events: Array<{ customerId: string; kind: string; detail: Record<string, unknown> }> = [];
  for (const owner of owners)
    for (const period of periodsOf(owner.at)) {
      const [total] = await tx.$queryRawUnsafe<Array<{ amount: string; warned: boolean }>>(
        ADD_SPEND,
        owner.ownerId,
        period.name,
        period.starts.toISOString().slice(0, 10),
        formatMicros(owner.delta),
      );
      const limitText = period.name === 'day' ? owner.daily : owner.monthly;
      if (!total || limitText === null) continue;
      const spent = decimalToMicros(total.amount);
      const limit = decimalToMicros(limitText);
      const detail = {
        scope: owner.scope,
        id: owner.ownerId,
        period: period.name,
        spent: total.amount,
        limit: formatMicros(limit),
      };
      // Integer comparison of spent/limit against the percentage: spent * 100 >= limit * percent.
      if (!total.warned && spent * 100 >= limit * owner.warnPercent) {
        await tx.$executeRawUnsafe(
          'UPDATE spend_totals SET warned = true WHERE owner_id = $1::uuid AND period = $2 AND starts = $3::date',
          owner.ownerId,
          period.name,
          period.starts.toISOString().slice(0, 10),
        );
        events.push({ customerId: owner.customerId, kind: 'spend-warning', detail });
      }
      if (spent >= limit) {
        const blocked = await tx.$queryRawUnsafe<unknown[]>(BLOCK[owner.scope], owner.ownerId, period.ends);
        if (blocked.length > 0)
          events.push({
            customerId: owner.customerId,
            kind: 'spend-blocked',
            detail: { ...detail, until: period.ends.toISOString() },
          });
      }
    }
  return events;
}
