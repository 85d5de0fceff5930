import type { PrismaClient } from '@switchboard/db';
import type { Logger } from 'pino';
import type { Mailer } from '../../mail.ts';

/**
 * Delivers credit and fraud events (low balance, spend warning and block, unusual destination) to the
 * customer's webhook (POST of the event as JSON) and notification e-mail. Each batch first claims its
 * events by counting an attempt (SKIP LOCKED: several nodes share the work), then delivers; an event is
 * tried up to `MAX_ATTEMPTS` times, each later try waiting longer.
 */

const MAX_ATTEMPTS = 5;
const BATCH = 50;
const WEBHOOK_TIMEOUT_MS = 5000;

interface Claimed {
  id: string;
  customer_id: string;
  kind: string;
  detail: unknown;
  created_at: Date;
  webhook_url: string | null;
  notify_email: string | null;
}

const CLAIM = `UPDATE credit_events e SET attempts = e.attempts + 1
  FROM (SELECT id FROM credit_events
          WHERE delivered_at IS NULL AND attempts < ${MAX_ATTEMPTS}
            AND created_at <= now() - make_interval(secs => attempts * attempts * 30)
          ORDER BY created_at LIMIT ${BATCH} FOR UPDATE SKIP LOCKED) AS c
  WHERE e.id = c.id
  RETURNING e.id, e.customer_id, e.kind, e.detail, e.created_at,
    (SELECT webhook_url FROM credit_accounts a WHERE a.customer_id = e.customer_id) AS webhook_url,
    (SELECT notify_email FROM credit_accounts a WHERE a.customer_id = e.customer_id) AS notify_email`;

export interface CreditNotifier {
  /** Delivers what is due now; resolves with the number delivered. */
  deliver(): Promise<number>;
  stop(): Promise<void>;
}

const SUBJECTS: Record<string, string> = {
  'low-balance': 'Your prepaid balance is low',
  'spend-warning': 'Spending is nearing its limit',
  'spend-blocked': 'Calls to the phone network are blocked: spend limit reached',
  'new-zone': 'First call to a new destination',
  'high-risk-destination': 'Call to a high-risk destination',
  'high-risk-call': 'A call to a high-risk destination was started',
  'call-burst': 'Unusually many calls to the phone network',
};

export function startCreditNotifier(
  prisma: PrismaClient,
  logger: Logger,
  options: { mailer?: Mailer | undefined; intervalMs?: number; poll?: boolean } = {},
): CreditNotifier {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<number> | undefined;

  async function send(event: Claimed): Promise<void> {
    const body = {
      id: event.id,
      customerId: event.customer_id,
      kind: event.kind,
      detail: event.detail,
      createdAt: new Date(event.created_at).toISOString(),
    };
    if (event.webhook_url) {
      const res = await fetch(event.webhook_url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'user-agent': 'Switchboard credit events' },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(WEBHOOK_TIMEOUT_MS),
        redirect: 'error',
      });
      if (!res.ok) throw new Error(`webhook answered ${res.status}`);
    }
    if (event.notify_email && options.mailer)
      await options.mailer.send({
        to: event.notify_email,
        subject: SUBJECTS[event.kind] ?? `Credit event: ${event.kind}`,
        text: `${SUBJECTS[event.kind] ?? event.kind}\n\n${JSON.stringify(event.detail, null, 2)}\n`,
      });
  }

  async function deliver(): Promise<number> {
    const claimed = await prisma.$queryRawUnsafe<Claimed[]>(CLAIM);
    const delivered: string[] = [];
    for (const event of claimed) {
      try {
        await send(event);
        delivered.push(event.id);
      } catch (error) {
        logger.warn(
          { err: error, event: event.id, kind: event.kind },
          'credit event not delivered; will retry',
        );
      }
    }
    if (delivered.length > 0)
      await prisma.creditEvent.updateMany({
        where: { id: { in: delivered } },
        data: { deliveredAt: new Date() },
      });
    return delivered.length;
  }

  const tick = (): void => {
    if (stopped) return;
    running = deliver()
      .catch((error: unknown) => {
        logger.error({ err: error }, 'delivering credit events failed');
        return 0;
      })
      .finally(() => {
        if (!stopped) timer = setTimeout(tick, options.intervalMs ?? 2000);
      });
  };
  if (options.poll !== false) tick();

  return {
    deliver,
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}
