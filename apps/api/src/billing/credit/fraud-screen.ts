import { CHANGES_CHANNEL, type Database, type Prisma, parseTableChange } from '@switchboard/db';
import type { Logger } from 'pino';
import { BurstWindows } from './burst.ts';

/**
 * Fraud screening of a subscriber's call to the PSTN at call start (docs/billing.md, "Fraud limits"),
 * entirely in memory: the operator's high-risk prefixes and each customer's screening settings are
 * loaded once and reloaded when the change feed announces `high_risk_prefixes` or `credit_accounts`.
 * The only database work per call is writing an alert, a `credit_events` row that the credit
 * notifier (notify.ts) delivers to the customer's webhook and e-mail like every other credit event.
 *
 * - A destination under a high-risk prefix raises `high-risk-call`; the call goes on, or is refused
 *   when the customer's `highRiskAction` is `block`.
 * - More than `burstCalls` calls started by one customer within `burstSeconds` raise one `call-burst`
 *   per window (burst.ts), counted per node.
 */

export interface ScreenRequest {
  callId: string;
  customerId: string;
  subscriberId: string;
  /** E.164 digits without `+`. */
  number: string;
  at: Date;
}

export type ScreenDecision =
  | { kind: 'pass' }
  | { kind: 'refused'; status: number; reason: string; warning: string };

export interface FraudScreen {
  screen(request: ScreenRequest): ScreenDecision;
  stop(): Promise<void>;
}

interface Settings {
  block: boolean;
  burstCalls: number | null;
  burstSeconds: number | null;
}

/** E.164 numbers have at most 15 digits (ITU-T E.164 §6.1), so no prefix is longer. */
const MAX_PREFIX = 15;

const HIGH_RISK_REFUSED = {
  kind: 'refused',
  status: 403,
  reason: 'Forbidden',
  warning: '399 switchboard "High-risk destination"',
} as const;

const TABLES = new Set(['high_risk_prefixes', 'credit_accounts']);

/** The longest prefix of `number` in the set, if any: at most 15 look-ups. */
export function longestPrefix(prefixes: ReadonlySet<string>, number: string): string | undefined {
  for (let n = Math.min(number.length, MAX_PREFIX); n > 0; n--) {
    const candidate = number.slice(0, n);
    if (prefixes.has(candidate)) return candidate;
  }
  return undefined;
}

export async function startFraudScreen(db: Database, logger: Logger): Promise<FraudScreen> {
  const prisma = db.prisma;
  let prefixes = new Set<string>();
  let settings = new Map<string, Settings>();
  const bursts = new BurstWindows();

  async function load(): Promise<void> {
    const [rows, accounts] = await Promise.all([
      prisma.highRiskPrefix.findMany({ select: { prefix: true } }),
      prisma.creditAccount.findMany({
        select: { customerId: true, highRiskAction: true, burstCalls: true, burstSeconds: true },
      }),
    ]);
    prefixes = new Set(rows.map((r) => r.prefix));
    settings = new Map(
      accounts.map((a) => [
        a.customerId,
        { block: a.highRiskAction === 'block', burstCalls: a.burstCalls, burstSeconds: a.burstSeconds },
      ]),
    );
    bursts.retain((customerId) => {
      const s = settings.get(customerId);
      return s?.burstCalls != null && s.burstSeconds != null;
    });
  }
  await load();

  let reload: Promise<void> | undefined;
  const stopFeed = await db.onChange(CHANGES_CHANNEL, (payload) => {
    const change = parseTableChange(payload);
    if (!change || !TABLES.has(change.table)) return;
    reload = (reload ?? Promise.resolve()).then(load).catch((error: unknown) => {
      logger.error({ err: error }, 'fraud screening reload failed');
    });
  });

  /** Writes an alert without holding up the call; a failed write is logged, the call is not failed. */
  function alert(customerId: string, kind: string, detail: Prisma.InputJsonObject): void {
    prisma.creditEvent
      .create({ data: { customerId, kind, detail } })
      .catch((error: unknown) => logger.error({ err: error, customerId, kind }, 'fraud alert not written'));
  }

  return {
    screen(request) {
      const s = settings.get(request.customerId);
      const now = request.at.getTime();
      if (s?.burstCalls != null && s.burstSeconds != null) {
        const burst = bursts.record(request.customerId, now, s.burstCalls, s.burstSeconds * 1000);
        if (burst) {
          logger.warn({ customer: request.customerId, calls: burst.calls }, 'call burst');
          alert(request.customerId, 'call-burst', {
            calls: burst.calls,
            withinSeconds: s.burstSeconds,
            threshold: s.burstCalls,
            since: new Date(burst.since).toISOString(),
            subscriberId: request.subscriberId,
            callId: request.callId,
          });
        }
      }
      const prefix = prefixes.size > 0 ? longestPrefix(prefixes, request.number) : undefined;
      if (prefix === undefined) return { kind: 'pass' };
      const block = s?.block === true;
      logger.warn(
        { customer: request.customerId, subscriber: request.subscriberId, prefix, blocked: block },
        'call to a high-risk destination',
      );
      alert(request.customerId, 'high-risk-call', {
        number: request.number,
        prefix,
        subscriberId: request.subscriberId,
        callId: request.callId,
        action: block ? 'blocked' : 'alerted',
      });
      return block ? HIGH_RISK_REFUSED : { kind: 'pass' };
    },
    async stop() {
      await stopFeed();
      await reload;
    },
  };
}
