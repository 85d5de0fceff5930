import PDFDocument from 'pdfkit';
import { formatMicros } from '../money.ts';
import { formatTaxRate } from '../tax.ts';
import type { InvoiceLine, InvoiceTotals } from './lines.ts';

/**
 * Invoices and credit notes as PDF (pdfkit, standard fonts, A4): the reseller's (or operator's)
 * letterhead with its logo and tax id, the document's number and facts, then its rows. An invoice
 * lists the taxed lines (calls), net, the tax per rate and gross, then the lines that include their
 * tax already (prepaid top-ups) and the total.
 */

export interface Letterhead {
  companyName: string;
  address: string | null;
  footer: string | null;
  /** PNG or JPEG bytes. */
  logo: Uint8Array | null;
  /** The issuer's tax id (VAT number). */
  taxId: string | null;
}

export interface InvoiceDocument {
  number: string;
  issuedAt: Date;
  customerName: string;
  customerTaxId: string | null;
  periodStart: Date;
  periodEnd: Date;
  currency: string;
  lines: readonly InvoiceLine[];
  totals: InvoiceTotals;
  letterhead: Letterhead;
}

export interface CreditNoteDocument {
  number: string;
  issuedAt: Date;
  customerName: string;
  customerTaxId: string | null;
  invoiceNumber: string;
  currency: string;
  reason: string;
  /** Hundredths of a percent: the invoice's rate. */
  taxRate: number;
  netMicros: number;
  taxMicros: number;
  totalMicros: number;
  letterhead: Letterhead;
}

const day = (d: Date) => d.toISOString().slice(0, 10);

/** Amounts print with two decimals when exact to the cent, else all six (never rounded on paper). */
export function printAmount(micros: number): string {
  const text = formatMicros(micros);
  return text.endsWith('0000') ? text.slice(0, -4) : text;
}

function minutes(seconds: number): string {
  return (seconds / 60).toFixed(2);
}

type Row = (cells: string[], bold?: boolean) => void;

/** A page with the letterhead, the title and the facts under it; `body` writes the rows. */
function render(
  title: string,
  head: Letterhead,
  facts: readonly string[],
  body: (row: Row, gap: () => void) => void,
): Promise<Buffer> {
  const pdf = new PDFDocument({ size: 'A4', margin: 50, info: { Title: title } });
  const chunks: Buffer[] = [];
  const done = new Promise<Buffer>((resolve, reject) => {
    pdf.on('data', (chunk: Buffer) => chunks.push(chunk));
    pdf.on('end', () => resolve(Buffer.concat(chunks)));
    pdf.on('error', reject);
  });
  if (head.logo && head.logo.length > 0) {
    try {
      pdf.image(Buffer.from(head.logo), 50, 45, { fit: [120, 60] });
    } catch {
      // A logo pdfkit cannot read leaves the letterhead without it rather than failing the document.
    }
  }
  pdf.font('Helvetica-Bold').fontSize(14).text(head.companyName, 300, 50, { width: 245, align: 'right' });
  if (head.address) pdf.font('Helvetica').fontSize(9).text(head.address, { width: 245, align: 'right' });
  if (head.taxId)
    pdf.font('Helvetica').fontSize(9).text(`VAT ID: ${head.taxId}`, { width: 245, align: 'right' });
  pdf.font('Helvetica-Bold').fontSize(18).text(title, 50, 140);
  pdf.font('Helvetica').fontSize(10);
  for (const fact of facts) pdf.text(fact, { width: 495 });
  // Below the facts, however many lines a long reason took.
  let y = Math.max(260, pdf.y + 24);
  const row: Row = (cells, bold = false) => {
    pdf.font(bold ? 'Helvetica-Bold' : 'Helvetica').fontSize(10);
    pdf.text(cells[0] ?? '', 50, y, { width: 220 });
    pdf.text(cells[1] ?? '', 270, y, { width: 70, align: 'right' });
    pdf.text(cells[2] ?? '', 340, y, { width: 80, align: 'right' });
    pdf.text(cells[3] ?? '', 420, y, { width: 125, align: 'right' });
    y += 18;
    if (y > 760) {
      pdf.addPage();
      y = 50;
    }
  };
  body(row, () => {
    y += 6;
  });
  if (head.footer)
    pdf.font('Helvetica').fontSize(8).text(head.footer, 50, 780, { width: 495, align: 'center' });
  pdf.end();
  return done;
}

const customerFacts = (name: string, taxId: string | null) => [
  `Customer: ${name}`,
  ...(taxId ? [`Customer VAT ID: ${taxId}`] : []),
];

export function renderInvoicePdf(doc: InvoiceDocument): Promise<Buffer> {
  const facts = [
    ...customerFacts(doc.customerName, doc.customerTaxId),
    `Period: ${day(doc.periodStart)} to ${day(new Date(doc.periodEnd.getTime() - 1))}`,
    `Issued: ${day(doc.issuedAt)}`,
    `Currency: ${doc.currency}`,
  ];
  return render(`Invoice ${doc.number}`, doc.letterhead, facts, (row, gap) => {
    const line = (l: InvoiceLine) =>
      row([
        l.description,
        String(l.quantity),
        l.kind === 'calls' ? minutes(l.seconds) : '',
        printAmount(l.amountMicros),
      ]);
    const { totals } = doc;
    row(['Description', 'Quantity', 'Minutes', `Amount ${doc.currency}`], true);
    const taxed = doc.lines.filter((l) => l.taxed);
    for (const l of taxed) line(l);
    if (taxed.length === 0) row(['No charges in this period', '', '', printAmount(0)]);
    gap();
    row(['Net', '', '', printAmount(totals.netMicros)], true);
    for (const t of totals.taxes)
      row([
        `Tax ${formatTaxRate(t.rate)}% on ${printAmount(t.baseMicros)}`,
        '',
        '',
        printAmount(t.taxMicros),
      ]);
    row(['Gross', '', '', printAmount(totals.grossMicros)], true);
    const included = doc.lines.filter((l) => !l.taxed);
    if (included.length > 0) {
      gap();
      row(['Prepaid credit bought (tax included)', '', '', ''], true);
      for (const l of included) line(l);
    }
    gap();
    row(['Total', '', '', `${printAmount(totals.totalMicros)} ${doc.currency}`], true);
  });
}

export function renderCreditNotePdf(doc: CreditNoteDocument): Promise<Buffer> {
  const facts = [
    ...customerFacts(doc.customerName, doc.customerTaxId),
    `Credits invoice: ${doc.invoiceNumber}`,
    `Reason: ${doc.reason}`,
    `Issued: ${day(doc.issuedAt)}`,
    `Currency: ${doc.currency}`,
  ];
  return render(`Credit note ${doc.number}`, doc.letterhead, facts, (row, gap) => {
    row(['Description', '', '', `Amount ${doc.currency}`], true);
    row([`Credit on invoice ${doc.invoiceNumber}`, '', '', printAmount(-doc.netMicros)]);
    gap();
    row(['Net', '', '', printAmount(-doc.netMicros)], true);
    row([`Tax ${formatTaxRate(doc.taxRate)}%`, '', '', printAmount(-doc.taxMicros)]);
    gap();
    row(['Total credited', '', '', `${printAmount(-doc.totalMicros)} ${doc.currency}`], true);
  });
}
