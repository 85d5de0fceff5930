import PDFDocument from 'pdfkit';
import { formatMicros } from '../money.ts';
import type { InvoiceLine } from './lines.ts';

/**
 * The invoice as a PDF (pdfkit, standard fonts, A4): the reseller's (or operator's) letterhead with
 * its logo, the invoice number and period, one row per line and the total.
 */

export interface Letterhead {
  companyName: string;
  address: string | null;
  footer: string | null;
  /** PNG or JPEG bytes. */
  logo: Uint8Array | null;
}

export interface InvoiceDocument {
  number: string;
  issuedAt: Date;
  customerName: string;
  periodStart: Date;
  periodEnd: Date;
  currency: string;
  lines: readonly InvoiceLine[];
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

export function renderInvoicePdf(doc: InvoiceDocument): Promise<Buffer> {
  const pdf = new PDFDocument({ size: 'A4', margin: 50, info: { Title: `Invoice ${doc.number}` } });
  const chunks: Buffer[] = [];
  const done = new Promise<Buffer>((resolve, reject) => {
    pdf.on('data', (chunk: Buffer) => chunks.push(chunk));
    pdf.on('end', () => resolve(Buffer.concat(chunks)));
    pdf.on('error', reject);
  });
  const head = doc.letterhead;
  if (head.logo && head.logo.length > 0) {
    try {
      pdf.image(Buffer.from(head.logo), 50, 45, { fit: [120, 60] });
    } catch {
      // A logo pdfkit cannot read leaves the letterhead without it rather than failing the invoice.
    }
  }
  pdf.font('Helvetica-Bold').fontSize(14).text(head.companyName, 300, 50, { width: 245, align: 'right' });
  if (head.address) pdf.font('Helvetica').fontSize(9).text(head.address, { width: 245, align: 'right' });
  pdf.font('Helvetica-Bold').fontSize(18).text(`Invoice ${doc.number}`, 50, 140);
  pdf.font('Helvetica').fontSize(10);
  pdf.text(`Customer: ${doc.customerName}`);
  pdf.text(`Period: ${day(doc.periodStart)} to ${day(new Date(doc.periodEnd.getTime() - 1))}`);
  pdf.text(`Issued: ${day(doc.issuedAt)}`);
  pdf.text(`Currency: ${doc.currency}`);
  let y = 240;
  const row = (cells: string[], bold = false) => {
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
  row(['Description', 'Quantity', 'Minutes', `Amount ${doc.currency}`], true);
  for (const line of doc.lines)
    row([
      line.description,
      String(line.quantity),
      line.kind === 'calls' ? minutes(line.seconds) : '',
      printAmount(line.amountMicros),
    ]);
  if (doc.lines.length === 0) row(['No charges in this period', '', '', printAmount(0)]);
  y += 6;
  row(['Total', '', '', `${printAmount(doc.totalMicros)} ${doc.currency}`], true);
  if (head.footer)
    pdf.font('Helvetica').fontSize(8).text(head.footer, 50, 780, { width: 495, align: 'center' });
  pdf.end();
  return done;
}
