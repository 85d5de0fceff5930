import type { PrismaClient } from '@switchboard/db';
import type { Logger } from 'pino';
import type { Mailer } from '../../mail.ts';

/**
 * E-mails new invoices (docs/billing.md, "Postpaid and invoices"): each invoice of the last 40 days
 * not sent yet goes, with its PDF attached, to its customer's billing address (the credit account's
 * `notify_email`, the address the customer sets for its billing notices). An invoice is claimed by
 * setting `emailed_at` in one UPDATE that only an unsent invoice matches, so several nodes or runs
 * send it once; a failed send clears the claim and the next run tries again.
 */

const RECENT_MS = 40 * 86_400_000;
const PER_RUN = 100;

interface Unsent {
  id: string;
  number: string;
  email: string;
  total: string;
  currency: string;
  period_start: Date;
}

export async function deliverInvoices(
  prisma: PrismaClient,
  mailer: Mailer,
  logger: Logger,
  now: Date = new Date(),
): Promise<number> {
  const unsent = await prisma.$queryRawUnsafe<Unsent[]>(
    `SELECT i.id, i.number, a.notify_email AS email, i.total::text AS total, i.currency, i.period_start
       FROM invoices i JOIN credit_accounts a ON a.customer_id = i.customer_id
      WHERE i.emailed_at IS NULL AND a.notify_email IS NOT NULL AND i.created_at > $1
      ORDER BY i.created_at LIMIT $2`,
    new Date(now.getTime() - RECENT_MS),
    PER_RUN,
  );
  let sent = 0;
  for (const invoice of unsent) {
    const claimed = await prisma.invoice.updateMany({
      where: { id: invoice.id, emailedAt: null },
      data: { emailedAt: now },
    });
    if (claimed.count === 0) continue;
    const row = await prisma.invoice.findUniqueOrThrow({ where: { id: invoice.id }, select: { pdf: true } });
    const month = invoice.period_start.toISOString().slice(0, 7);
    try {
      await mailer.send({
        to: invoice.email,
        subject: `Invoice ${invoice.number} for ${month}`,
        text: `Your invoice ${invoice.number} for ${month} is attached: ${invoice.total} ${invoice.currency}.\n`,
        attachments: [
          { filename: `invoice-${invoice.number}.pdf`, contentType: 'application/pdf', content: row.pdf },
        ],
      });
      sent += 1;
    } catch (error) {
      logger.warn({ err: error, invoice: invoice.number }, 'invoice e-mail failed; tried again next run');
      await prisma.invoice.update({ where: { id: invoice.id }, data: { emailedAt: null } });
    }
  }
  return sent;
}
