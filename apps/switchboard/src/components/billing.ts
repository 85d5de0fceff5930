import { smtpMailer, startCreditNotifier, startInvoiceJob, startRater } from '@switchboard/api';
import type { Database } from '@switchboard/db';
import type { Logger } from 'pino';
import type { Component } from '../component.ts';

/**
 * The rater (docs/billing.md): prices every CDR with the customer's, the reseller's and the carrier's
 * billing profile within seconds of the call's end, debiting prepaid balances and keeping spend limits
 * in the same transaction; the delivery of credit and fraud events by webhook and e-mail (SMTP_URL);
 * and the monthly invoices. Safe to run on several nodes at once.
 */
export function billingComponent(
  logger: Logger,
  database: () => Database,
  mail: { smtpUrl?: string | undefined; mailFrom?: string | undefined } = {},
): Component {
  return {
    name: 'billing',
    async start() {
      const log = logger.child({ component: 'billing' });
      const rater = await startRater(database(), log);
      // The previous month's invoices, once the rater has priced all of it (docs/billing.md).
      const mailer = mail.smtpUrl ? smtpMailer(mail.smtpUrl, mail.mailFrom, log) : undefined;
      const invoices = startInvoiceJob(database().prisma, log, { mailer });
      const notifier = startCreditNotifier(database().prisma, log, { mailer });
      return {
        health: () => ({ status: 'up', detail: `${rater.rated} CDRs rated since start` }),
        async stop() {
          await invoices.stop();
          await notifier.stop();
          await rater.stop();
          mailer?.close();
        },
      };
    },
  };
}
