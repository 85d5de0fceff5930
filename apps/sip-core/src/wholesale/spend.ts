import type { PrismaClient } from '@switchboard/db';
import type { Logger } from 'pino';

/**
 * Each customer's rated spending of the current month (UTC), in micros: summed from the CDRs once at
 * load, then kept current by the rater's notices (`RATED_CHANNEL`, what each rating batch added), so
 * a credit check is a Map lookup. A new month starts from zero.
 */
export class MonthlySpend {
  private month = '';
  private byCustomer = new Map<string, number>();

  constructor(
    private readonly prisma: PrismaClient,
    private readonly log: Logger,
    private readonly now: () => Date,
  ) {}

  private currentMonth(): string {
    return this.now().toISOString().slice(0, 7);
  }

  /** Sums this month's rated customer prices of `customerIds` (those with a credit limit). */
  async load(customerIds: readonly string[]): Promise<void> {
    const month = this.currentMonth();
    const from = new Date(`${month}-01T00:00:00Z`);
    const sums = new Map<string, number>();
    if (customerIds.length > 0) {
      const rows = await this.prisma.$queryRawUnsafe<{ customer: string; micros: string }[]>(
        // The payer: a call forwarded to the phone network is its forwarding customer's (billed_customer_id).
        `SELECT customer, (sum(customer_price) * 1000000)::bigint::text AS micros FROM (
            SELECT coalesce(billed_customer_id, caller_customer_id) AS customer, customer_price FROM cdrs
              WHERE ((caller_customer_id = ANY($1::uuid[]) AND billed_customer_id IS NULL)
                  OR billed_customer_id = ANY($1::uuid[]))
                AND started_at >= $2 AND customer_price IS NOT NULL) paid
          GROUP BY customer`,
        customerIds,
        from,
      );
      for (const row of rows) sums.set(row.customer, Number(row.micros));
    }
    this.month = month;
    this.byCustomer = sums;
  }

  /** Applies one rater notice: `[{ c, m, d }]` (customer, month, micros added). */
  onRated(payload: string): void {
    let changes: unknown;
    try {
      changes = JSON.parse(payload);
    } catch {
      return;
    }
    if (!Array.isArray(changes)) return;
    if (this.month !== this.currentMonth()) {
      this.month = this.currentMonth();
      this.byCustomer = new Map();
    }
    for (const change of changes as { c?: unknown; m?: unknown; d?: unknown }[]) {
      if (typeof change.c !== 'string' || change.m !== this.month || typeof change.d !== 'number') continue;
      this.byCustomer.set(change.c, (this.byCustomer.get(change.c) ?? 0) + change.d);
    }
    this.log.debug({ changes: changes.length }, 'spending updated');
  }

  /** Micros `customerId` spent this month (0 in a new month until its calls are rated). */
  of(customerId: string): number {
    if (this.month !== this.currentMonth()) return 0;
    return this.byCustomer.get(customerId) ?? 0;
  }
}
