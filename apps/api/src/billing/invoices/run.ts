import type { PrismaClient } from '@switchboard/db';
import type { Tx } from '../../audit.ts';
import { formatMicros } from '../money.ts';
import { decimalToTaxRate, formatTaxRate } from '../tax.ts';
import { type Letterhead, renderInvoicePdf } from './document.ts';
import { DEFAULT_LINE_SOURCES, type InvoiceLine, type InvoiceLineSource, invoiceTotals } from './lines.ts';

/**
 * The invoice run: one invoice per customer with a sell billing profile and calendar month (UTC).
 * Idempotent: a customer that already has the period's invoice is skipped (the unique
 * `(customer_id, period_start)` also stops two runs racing), so the monthly job and the API can run
 * it again safely. Each invoice is one transaction: its number (gapless per year, the counter row
 * moves in the same transaction), its lines, its PDF.
 */

export interface MonthPeriod {
  /** `2026-11` */
  month: string;
  from: Date;
  to: Date;
}

const MONTH = /^(\d{4})-(0[1-9]|1[0-2])$/;

/** `2026-11` -> November 2026 in UTC; undefined when not a month. */
export function monthPeriod(month: string): MonthPeriod | undefined {
  const m = MONTH.exec(month);
  if (!m) return undefined;
  const year = Number(m[1]);
  const index = Number(m[2]) - 1;
  return { month, from: new Date(Date.UTC(year, index, 1)), to: new Date(Date.UTC(year, index + 1, 1)) };
}

/** The month before the one `now` falls in (what the monthly job bills). */
export function previousMonth(now: Date): MonthPeriod {
  const d = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - 1, 1));
  const month = `${d.getUTCFullYear()}-${String(d.getUTCMonth() + 1).padStart(2, '0')}`;
  return monthPeriod(month)!;
}

export interface InvoiceRunResult {
  created: string[];
  skipped: number;
}

export interface InvoiceRunOptions {
  customerId?: string;
  sources?: readonly InvoiceLineSource[];
  now?: () => Date;
}

const DEFAULT_LETTERHEAD: Letterhead = {
  companyName: 'Switchboard',
  address: null,
  footer: null,
  logo: null,
  taxId: null,
};

/** Who issues a customer's documents: the letterhead, and the issuer's default tax rate. */
export interface Issuer {
  letterhead: Letterhead;
  /** Hundredths of a percent; the reseller's template's, else the operator's, else 0. */
  defaultTaxRate: number;
}

/** The issuer of a customer's invoices and credit notes: its reseller (with a template), else the operator. */
export async function issuerFor(tx: Tx, resellerId: string | null): Promise<Issuer> {
  const own = resellerId ? await tx.invoiceTemplate.findUnique({ where: { resellerId } }) : null;
  const operator = await tx.invoiceTemplate.findFirst({ where: { resellerId: null } });
  const template = own ?? operator;
  const rate = own?.defaultTaxRate ?? operator?.defaultTaxRate ?? null;
  return {
    letterhead: template
      ? {
          companyName: template.companyName,
          address: template.address,
          footer: template.footer,
          logo: template.logo,
          taxId: template.taxId,
        }
      : DEFAULT_LETTERHEAD,
    defaultTaxRate: rate === null ? 0 : decimalToTaxRate(rate),
  };
}

/**
 * The next number of `year` in a document sequence (invoices, credit notes: separate counters), taken
 * inside the document's transaction: gapless, as a rolled back document returns its number.
 */
export async function nextNumber(
  tx: Tx,
  year: number,
  counter: 'invoice_counters' | 'credit_note_counters' = 'invoice_counters',
): Promise<number> {
  const rows = await tx.$queryRawUnsafe<{ last: number }[]>(
    `INSERT INTO ${counter} (year, last) VALUES ($1, 1)
       ON CONFLICT (year) DO UPDATE SET last = ${counter}.last + 1 RETURNING last`,
    year,
  );
  return rows[0]!.last;
}

/** `2026-000001` */
export const documentNumber = (year: number, sequence: number) =>
  `${year}-${String(sequence).padStart(6, '0')}`;

function isUniqueViolation(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: string }).code === 'P2002';
}

export async function runInvoices(
  prisma: PrismaClient,
  period: MonthPeriod,
  options: InvoiceRunOptions = {},
): Promise<InvoiceRunResult> {
  const sources = options.sources ?? DEFAULT_LINE_SOURCES;
  const now = options.now ?? (() => new Date());
  const customers = await prisma.customer.findMany({
    where: {
      billingProfileId: { not: null },
      ...(options.customerId ? { id: options.customerId } : {}),
      invoices: { none: { periodStart: period.from } },
    },
    select: {
      id: true,
      name: true,
      resellerId: true,
      billingProfile: { select: { currency: true } },
      billingSettings: { select: { taxRate: true, taxId: true } },
    },
    orderBy: { id: 'asc' },
  });
  const result: InvoiceRunResult = { created: [], skipped: 0 };
  for (const customer of customers) {
    const currency = customer.billingProfile!.currency;
    try {
      const id = await prisma.$transaction(
        async (tx) => {
          const lines: InvoiceLine[] = [];
          const scope = { customerId: customer.id, currency, from: period.from, to: period.to };
          for (const source of sources) lines.push(...(await source.lines(tx, scope)));
          const issuer = await issuerFor(tx, customer.resellerId);
          const ownRate = customer.billingSettings?.taxRate;
          const rate = ownRate ? decimalToTaxRate(ownRate) : issuer.defaultTaxRate;
          const totals = invoiceTotals(lines, rate);
          const customerTaxId = customer.billingSettings?.taxId ?? null;
          const issuedAt = now();
          const year = issuedAt.getUTCFullYear();
          const number = documentNumber(year, await nextNumber(tx, year));
          const pdf = await renderInvoicePdf({
            number,
            issuedAt,
            customerName: customer.name,
            customerTaxId,
            periodStart: period.from,
            periodEnd: period.to,
            currency,
            lines,
            totals,
            letterhead: issuer.letterhead,
          });
          const invoice = await tx.invoice.create({
            data: {
              number,
              customerId: customer.id,
              resellerId: customer.resellerId,
              periodStart: period.from,
              periodEnd: period.to,
              currency,
              total: formatMicros(totals.totalMicros),
              net: formatMicros(totals.netMicros),
              tax: formatMicros(totals.taxMicros),
              taxes: totals.taxes.map((t) => ({
                rate: formatTaxRate(t.rate),
                base: formatMicros(t.baseMicros),
                amount: formatMicros(t.taxMicros),
              })),
              customerTaxId,
              issuerTaxId: issuer.letterhead.taxId,
              lines: lines.map((l) => ({ ...l, amount: formatMicros(l.amountMicros) })),
              pdf: new Uint8Array(pdf),
              createdAt: issuedAt,
            },
            select: { id: true },
          });
          return invoice.id;
        },
        { timeout: 60_000, maxWait: 60_000 },
      );
      result.created.push(id);
    } catch (error) {
      // Another run created it first: the number it took is rolled back with this transaction.
      if (!isUniqueViolation(error)) throw error;
      result.skipped += 1;
    }
  }
  return result;
}
