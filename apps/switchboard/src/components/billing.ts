import { startInvoiceJob, startRater } from '@switchboard/api';
import type { Database } from '@switchboard/db';
import type { Logger } from 'pino';
import type { Component } from '../component.ts';

/**
 * The rater (docs/billing.md): prices every CDR with the customer's, the reseller's and the carrier's
 * billing profile within seconds of the call's end, and the monthly invoices. Safe to run on several
 * nodes at once.
 */
export function billingComponent(logger: Logger, database: () => Database): Component {
  return {
    name: 'billing',
    async start() {
      const log = logger.child({ component: 'billing' });
      const rater = await startRater(database(), log);
      // The previous month's invoices, once the rater has priced all of it (docs/billing.md).
      const invoices = startInvoiceJob(database().prisma, log);
      return {
        health: () => ({ status: 'up', detail: `${rater.rated} CDRs rated since start` }),
        stop: async () => {
          await invoices.stop();
          await rater.stop();
        },
      };
    },
  };
}
