import type { PrismaClient } from '@switchboard/db';
import type { Logger } from 'pino';
import type { Mailer } from '../../mail.ts';
import { deliverInvoices } from './deliver.ts';
import { previousMonth, runInvoices } from './run.ts';

/**
 * The monthly invoice job (the launcher's `billing` component): at start and then every hour it runs
 * the previous month's invoices. The run skips customers that already have theirs, so the hourly
 * repeats, restarts and several nodes create each invoice once. CDRs still unrated wait: a month is
 * billed only once the rater has nothing left of it. With a mailer (`SMTP_URL`) each pass also e-mails
 * the invoices not sent yet (deliver.ts).
 */
export interface InvoiceJob {
  stop(): Promise<void>;
  /** One pass now (tests); resolves with the invoices created. */
  runOnce(): Promise<number>;
}

const HOUR_MS = 3600_000;

export function startInvoiceJob(
  prisma: PrismaClient,
  logger: Logger,
  options: { intervalMs?: number; now?: () => Date; mailer?: Mailer | undefined } = {},
): InvoiceJob {
  const now = options.now ?? (() => new Date());
  let running: Promise<number> | undefined;
  async function pass(): Promise<number> {
    const created = await create();
    if (options.mailer) {
      const sent = await deliverInvoices(prisma, options.mailer, logger, now());
      if (sent > 0) logger.info({ sent }, 'invoices e-mailed');
    }
    return created;
  }
  async function create(): Promise<number> {
    const period = previousMonth(now());
    const pending = await prisma.cdr.count({
      where: { ratingStatus: 'unrated', startedAt: { gte: period.from, lt: period.to } },
    });
    if (pending > 0) {
      logger.info({ month: period.month, pending }, 'invoices wait for the rater');
      return 0;
    }
    const result = await runInvoices(prisma, period, { now });
    if (result.created.length > 0)
      logger.info({ month: period.month, created: result.created.length }, 'invoices created');
    return result.created.length;
  }
  const runOnce = (): Promise<number> => {
    running ??= pass().finally(() => {
      running = undefined;
    });
    return running;
  };
  const tick = () => {
    runOnce().catch((error: unknown) => logger.error({ err: error }, 'invoice run failed'));
  };
  const first = setTimeout(tick, 5_000);
  const timer = setInterval(tick, options.intervalMs ?? HOUR_MS);
  return {
    runOnce,
    async stop() {
      clearTimeout(first);
      clearInterval(timer);
      await running?.catch(() => {});
    },
  };
}
