import type { Tx } from '../../audit.ts';
import { creditBalance } from '../credit/balance.ts';
import { decimalToMicros, formatMicros } from '../money.ts';
import { formatTaxRate, parseTaxRate, taxInGross } from '../tax.ts';
import { renderCreditNotePdf } from './document.ts';
import { documentNumber, issuerFor, nextNumber } from './run.ts';

/**
 * Credit notes (docs/billing.md, "Credit notes"): an amount credited back against an invoice's
 * charges (its gross: the taxed lines plus their tax; prepaid top-ups on an invoice are bought credit
 * and are not credited by a note). A note of an amount is a gross amount: the tax it includes is taken
 * out at the invoice's rate, rounded half up. A note for the rest (`full`) reverses exactly what is left
 * of the invoice's net and tax, so notes that credit a whole invoice add up to its net and tax to the
 * millionth. The invoice row is locked while a note is issued, so concurrent notes never credit more
 * than the invoice together.
 */

export interface CreditNoteRequest {
  invoiceId: string;
  /** Micros, tax included; undefined: the rest of the invoice. */
  amountMicros: number | undefined;
  reason: string;
  /** Credit the customer's prepaid balance with the note's total. */
  creditBalance: boolean;
  userId: string;
  now?: Date;
}

/** Why a note cannot be issued, with the body field to name. */
export class CreditNoteRefused extends Error {
  constructor(
    readonly field: '/body/amount' | '/body/creditBalance',
    message: string,
  ) {
    super(message);
  }
}

interface LockedInvoice {
  number: string;
  customer_id: string;
  reseller_id: string | null;
  currency: string;
  total: string;
  net: string | null;
  tax: string | null;
  taxes: { rate: string }[] | null;
  customer_tax_id: string | null;
}

export async function issueCreditNote(tx: Tx, request: CreditNoteRequest): Promise<{ id: string }> {
  const [invoice] = await tx.$queryRawUnsafe<LockedInvoice[]>(
    `SELECT number, customer_id::text, reseller_id::text, currency, total::text, net::text, tax::text, taxes,
        customer_tax_id FROM invoices WHERE id = $1::uuid FOR UPDATE`,
    request.invoiceId,
  );
  if (!invoice) throw new Error(`invoice ${request.invoiceId} not found`);
  // An invoice from before taxes: its whole total was charges, without tax.
  const net = invoice.net === null ? decimalToMicros(invoice.total) : decimalToMicros(invoice.net);
  const tax = invoice.tax === null ? 0 : decimalToMicros(invoice.tax);
  const rate = parseTaxRate(invoice.taxes?.[0]?.rate ?? '0') ?? 0;
  const earlier = await tx.creditNote.findMany({
    where: { invoiceId: request.invoiceId },
    select: { net: true, tax: true },
  });
  const netLeft = net - earlier.reduce((sum, n) => sum + decimalToMicros(n.net), 0);
  const taxLeft = tax - earlier.reduce((sum, n) => sum + decimalToMicros(n.tax), 0);
  const left = netLeft + taxLeft;
  let noteNet: number;
  let noteTax: number;
  if (request.amountMicros === undefined) {
    if (left <= 0) throw new CreditNoteRefused('/body/amount', 'the invoice is credited in full already');
    noteNet = netLeft;
    noteTax = taxLeft;
  } else {
    if (request.amountMicros > left)
      throw new CreditNoteRefused(
        '/body/amount',
        `more than the invoice has left to credit (${formatMicros(Math.max(left, 0))})`,
      );
    noteTax = taxInGross(request.amountMicros, rate);
    noteNet = request.amountMicros - noteTax;
  }
  const total = noteNet + noteTax;
  const customer = await tx.customer.findUniqueOrThrow({
    where: { id: invoice.customer_id },
    select: { name: true, creditAccount: { select: { prepaid: true } } },
  });
  if (request.creditBalance && !customer.creditAccount?.prepaid)
    throw new CreditNoteRefused('/body/creditBalance', 'the customer is not prepaid');
  const issuedAt = request.now ?? new Date();
  const year = issuedAt.getUTCFullYear();
  const number = `CN-${documentNumber(year, await nextNumber(tx, year, 'credit_note_counters'))}`;
  const issuer = await issuerFor(tx, invoice.reseller_id);
  const pdf = await renderCreditNotePdf({
    number,
    issuedAt,
    customerName: customer.name,
    customerTaxId: invoice.customer_tax_id,
    invoiceNumber: invoice.number,
    currency: invoice.currency,
    reason: request.reason,
    taxRate: rate,
    netMicros: noteNet,
    taxMicros: noteTax,
    totalMicros: total,
    letterhead: issuer.letterhead,
  });
  if (request.creditBalance)
    await creditBalance(
      tx,
      { customerId: invoice.customer_id, micros: total, kind: 'credit_note', userId: request.userId },
      { note: `Credit note ${number}` },
    );
  return tx.creditNote.create({
    data: {
      number,
      invoiceId: request.invoiceId,
      customerId: invoice.customer_id,
      resellerId: invoice.reseller_id,
      currency: invoice.currency,
      total: formatMicros(total),
      net: formatMicros(noteNet),
      tax: formatMicros(noteTax),
      taxRate: formatTaxRate(rate),
      reason: request.reason,
      balanceCredited: request.creditBalance,
      pdf: new Uint8Array(pdf),
      userId: request.userId,
      createdAt: issuedAt,
    },
    select: { id: true },
  });
}
