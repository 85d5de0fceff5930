import type { Tx } from '../../audit.ts';
import { decimalToMicros } from '../money.ts';
import { type TaxAmount, taxOnNet } from '../tax.ts';

/**
 * What an invoice bills, line by line. The calls of the period (rated CDRs summed per zone) are one
 * source of lines; other kinds (top-ups and credits of a prepaid balance, fees, adjustments) plug in
 * as further `InvoiceLineSource`s without touching the invoice run or the document.
 */

export interface InvoiceLine {
  /** `calls` for rated CDRs; other sources name their own kind (e.g. `top_up`, `credit`). */
  kind: string;
  description: string;
  /** How many items the line sums (calls, top-ups). */
  quantity: number;
  /** Billed seconds of a `calls` line; 0 for other kinds. */
  seconds: number;
  /** Signed amount in micros of the invoice's currency (a credit is negative). */
  amountMicros: number;
  /**
   * A net amount that the invoice's tax is added to (calls); false: an amount that includes its tax
   * already and is not taxed again (prepaid top-ups, which are gross amounts: docs/billing.md, "Taxes").
   */
  taxed: boolean;
}

export interface InvoicePeriod {
  customerId: string;
  currency: string;
  /** Calls started at or after. */
  from: Date;
  /** Calls started before. */
  to: Date;
}

/** A kind of invoice line: reads its items of one customer's period inside the invoice's transaction. */
export interface InvoiceLineSource {
  kind: string;
  lines(tx: Tx, period: InvoicePeriod): Promise<InvoiceLine[]>;
}

interface ZoneSum {
  zone: string | null;
  calls: bigint | number;
  seconds: bigint | number | null;
  amount: string;
}

/**
 * The customer's calls of the period that the rater priced in the invoice's currency, one line per
 * zone (unanswered calls cost 0 and are left out). `unrateable` CDRs keep the prices of the sides that
 * could be priced, so their customer price counts as well; an `unrated` CDR is not billed yet.
 */
export const ratedCallLines: InvoiceLineSource = {
  kind: 'calls',
  async lines(tx, period) {
    const rows = await tx.$queryRawUnsafe<ZoneSum[]>(
      `SELECT customer_zone AS zone, count(*) AS calls, sum(ceil(duration_ms / 1000.0))::bigint AS seconds,
          sum(customer_price)::text AS amount
        FROM cdrs
        WHERE ((caller_customer_id = $1::uuid AND billed_customer_id IS NULL) OR billed_customer_id = $1::uuid)
          AND started_at >= $2 AND started_at < $3
          AND rating_status <> 'unrated' AND customer_price IS NOT NULL AND customer_currency = $4
          AND duration_ms > 0
        GROUP BY customer_zone ORDER BY customer_zone NULLS LAST`,
      period.customerId,
      period.from,
      period.to,
      period.currency,
    );
    return rows.map((row) => ({
      kind: 'calls',
      description: row.zone ?? 'Calls',
      quantity: Number(row.calls),
      seconds: Number(row.seconds ?? 0),
      amountMicros: decimalToMicros(row.amount),
      taxed: true,
    }));
  },
};

/**
 * The prepaid credit the customer bought in the period (operator and reseller top-ups, redeemed
 * vouchers), one line per kind. Top-ups are kept in the sell profile's currency, the invoice's. They are
 * gross amounts (what the customer paid, tax included), so they are not taxed again. A credit note
 * credited back to the balance was not bought and is not a line.
 */
export const topUpLines: InvoiceLineSource = {
  kind: 'top_up',
  async lines(tx, period) {
    const rows = await tx.$queryRawUnsafe<{ kind: string; count: bigint | number; amount: string }[]>(
      `SELECT kind::text AS kind, count(*) AS count, sum(amount)::text AS amount
        FROM credit_top_ups
        WHERE customer_id = $1::uuid AND created_at >= $2 AND created_at < $3 AND kind <> 'credit_note'
        GROUP BY kind ORDER BY kind`,
      period.customerId,
      period.from,
      period.to,
    );
    return rows.map((row) => ({
      kind: 'top_up',
      description: `Credit top-ups (${row.kind})`,
      quantity: Number(row.count),
      seconds: 0,
      amountMicros: decimalToMicros(row.amount),
      taxed: false,
    }));
  },
};

/** The sources an invoice run asks, in the order their lines appear. */
export const DEFAULT_LINE_SOURCES: readonly InvoiceLineSource[] = [ratedCallLines, topUpLines];

export function totalOf(lines: readonly InvoiceLine[]): number {
  return lines.reduce((sum, line) => sum + line.amountMicros, 0);
}

export interface InvoiceTotals {
  /** Sum of the taxed lines. */
  netMicros: number;
  /** One entry per rate (one rate per customer today), each rounded half up once per invoice. */
  taxes: TaxAmount[];
  taxMicros: number;
  /** Net plus tax. */
  grossMicros: number;
  /** Sum of the lines that include their tax already (top-ups). */
  taxIncludedMicros: number;
  /** What the invoice totals: gross plus the tax-included lines. */
  totalMicros: number;
}

/** Net, tax per rate and gross of an invoice's lines at the customer's rate (hundredths of a percent). */
export function invoiceTotals(lines: readonly InvoiceLine[], rate: number): InvoiceTotals {
  const netMicros = totalOf(lines.filter((l) => l.taxed));
  const taxIncludedMicros = totalOf(lines.filter((l) => !l.taxed));
  const taxes = [{ rate, baseMicros: netMicros, taxMicros: taxOnNet(netMicros, rate) }];
  const taxMicros = taxes.reduce((sum, t) => sum + t.taxMicros, 0);
  const grossMicros = netMicros + taxMicros;
  return {
    netMicros,
    taxes,
    taxMicros,
    grossMicros,
    taxIncludedMicros,
    totalMicros: grossMicros + taxIncludedMicros,
  };
}
