import type { PrismaClient } from '@switchboard/db';
import type { Tx } from '../../audit.ts';
import { formatMicros } from '../money.ts';
import { type Letterhead, renderInvoicePdf } from './document.ts';
import { DEFAULT_LINE_SOURCES, type InvoiceLine, type InvoiceLineSource, totalOf } from './lines.ts';

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
};

async function letterheadFor(tx: Tx, resellerId: string | null): Promise<Letterhead> {
  const template =
    (resellerId ? await tx.invoiceTemplate.findUnique({ where: { resellerId } }) : null) ??
    (await tx.invoiceTemplate.findFirst({ where: { resellerId: null } }));
  if (!template) return DEFAULT_LETTERHEAD;
  return {
    companyName: template.companyName,
    address: template.address,
    footer: template.footer,
    logo: template.logo,
  };
}

/** The next invoice number of `year`, taken inside the invoice's transaction (gapless). */
async function nextNumber(tx: Tx, year: number): Promise<string> {
  const rows = await tx.$queryRawUnsafe<{ last: number }[]>(
    `INSERT INTO invoice_counters (year, last) VALUES ($1, 1)
       ON CONFLICT (year) DO UPDATE SET last = invoice_counters.last + 1 RETURNING last`,
    year,
  );
  return `${year}-${String(rows[0]!.last).padStart(6, '0')}`;
}

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
    select: { id: true, name: true, resellerId: true, billingProfile: { select: { currency: true } } },
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
          const total = totalOf(lines);
          const issuedAt = now();
          const number = await nextNumber(tx, issuedAt.getUTCFullYear());
          const pdf = await renderInvoicePdf({
            number,
            issuedAt,
            customerName: customer.name,
            periodStart: period.from,
            periodEnd: period.to,
            currency,
            lines,
            totalMicros: total,
            letterhead: await letterheadFor(tx, customer.resellerId),
          });
          const invoice = await tx.invoice.create({
            data: {
              number,
              customerId: customer.id,
              resellerId: customer.resellerId,
              periodStart: period.from,
              periodEnd: period.to,
              currency,
              total: formatMicros(total),
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
