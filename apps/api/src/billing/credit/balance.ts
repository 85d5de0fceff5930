import type { Tx } from '../../audit.ts';
import { formatMicros } from '../money.ts';

/** How credit came to a balance: a provider's top-up, a voucher, or a credit note credited back. */
export type TopUpKind = 'operator' | 'reseller' | 'voucher' | 'credit_note';

/**
 * Adds `micros` to a customer's balance with its history row, in the caller's transaction; the account
 * is created on the first top-up. A balance lifted to its low-balance threshold may warn again.
 */
export async function creditBalance(
  tx: Tx,
  top: { customerId: string; micros: number; kind: TopUpKind; userId: string },
  extra: { voucherId?: string; note?: string | null } = {},
) {
  await tx.$executeRawUnsafe(
    'INSERT INTO credit_accounts (customer_id, updated_at) VALUES ($1::uuid, now()) ON CONFLICT DO NOTHING',
    top.customerId,
  );
  const [row] = await tx.$queryRawUnsafe<Array<{ balance: string }>>(
    `UPDATE credit_accounts SET balance = balance + $2::numeric, updated_at = now(),
        low_balance_warned = low_balance_warned AND balance + $2::numeric < coalesce(low_balance_threshold, 0)
      WHERE customer_id = $1::uuid RETURNING balance::text AS balance`,
    top.customerId,
    formatMicros(top.micros),
  );
  return tx.creditTopUp.create({
    data: {
      customerId: top.customerId,
      kind: top.kind,
      amount: formatMicros(top.micros),
      balanceAfter: row!.balance,
      userId: top.userId,
      voucherId: extra.voucherId ?? null,
      note: extra.note ?? null,
    },
  });
}
