import { CHANGES_CHANNEL, type Database, parseTableChange } from '@switchboard/db';
import type { Logger } from 'pino';
import { decimalToMicros, formatMicros } from '../money.ts';
import { isPeak } from '../peak.ts';
import type { DeckRate, RatingPlan } from '../plan.ts';
import { ensureDecks, loadPlan } from '../plan-loader.ts';
import { charge } from '../rate-cdr.ts';
import { affordableSeconds } from './allowance.ts';

/**
 * Call-time credit control for sip-core (its `CallCredit`, apps/sip-core/src/calls/credit.ts): the sell
 * rate of the destination from the same in-memory rating plan the rater uses (no database read per
 * call), then one short transaction that reserves credit from the customer's balance. The reservation
 * locks the customer's balance row, so concurrent calls of one customer (on any node) reserve one after
 * the other from what is left: their sum never exceeds the balance. A call gets at most
 * `reserveSeconds` at a time and asks for more (`extend`) when they run out.
 *
 * Which customers are prepaid and who is blocked by a spend limit is held in memory and follows the
 * change feed (`credit_accounts`, `subscriber_spend_limits`).
 */

export interface CreditRequest {
  callId: string;
  customerId: string;
  subscriberId: string;
  /** E.164 digits without `+`. */
  number: string;
  at: Date;
}

export type CreditDecision =
  /** Not limited by credit (a postpaid customer). */
  | { kind: 'unlimited' }
  | { kind: 'refused'; status: number; reason: string; warning?: string | undefined }
  | {
      kind: 'granted';
      /** Seconds of the answered call the reserved credit pays for. */
      seconds: number;
      /**
       * Reserves more credit when the granted seconds run out; resolves with the seconds added
       * (0: the balance is exhausted, the call is cut).
       */
      extend: () => Promise<number>;
    };

export interface CreditControl {
  authorise(request: CreditRequest): Promise<CreditDecision>;
  stop(): Promise<void>;
}

export interface CreditControlOptions {
  /** Seconds of a call reserved at a time. */
  reserveSeconds?: number;
  /** A reservation outlives its seconds by this long (ringing; a node lost mid-call frees it after). */
  holdSeconds?: number;
}

const PLAN_TABLES = new Set([
  'billing_profiles',
  'billing_peak_times',
  'rate_decks',
  'customers',
  'resellers',
]);
const CREDIT_TABLES = new Set(['credit_accounts', 'subscriber_spend_limits']);

interface AccountState {
  prepaid: boolean;
  blockedUntil: number | null;
}

const PAYMENT_REQUIRED = { kind: 'refused', status: 402, reason: 'Payment Required' } as const;

const validAt = (r: DeckRate, at: number): boolean =>
  (r.effectiveFrom === null || r.effectiveFrom <= at) && (r.effectiveTo === null || at < r.effectiveTo);

export async function startCreditControl(
  db: Database,
  logger: Logger,
  options: CreditControlOptions = {},
): Promise<CreditControl> {
  const reserveSeconds = options.reserveSeconds ?? 600;
  const holdSeconds = options.holdSeconds ?? 3600;
  const prisma = db.prisma;
  let plan: RatingPlan = await loadPlan(prisma);
  let planStale = false;
  let accounts = new Map<string, AccountState>();
  let subscriberBlocks = new Map<string, number>();

  async function loadCredit(): Promise<void> {
    const [rows, limits] = await Promise.all([
      prisma.creditAccount.findMany({ select: { customerId: true, prepaid: true, blockedUntil: true } }),
      prisma.subscriberSpendLimit.findMany({
        where: { blockedUntil: { not: null } },
        select: { subscriberId: true, blockedUntil: true },
      }),
    ]);
    accounts = new Map(
      rows.map((r) => [
        r.customerId,
        { prepaid: r.prepaid, blockedUntil: r.blockedUntil?.getTime() ?? null },
      ]),
    );
    subscriberBlocks = new Map(limits.map((l) => [l.subscriberId, l.blockedUntil?.getTime() ?? 0]));
  }
  await loadCredit();

  let creditReload: Promise<void> | undefined;
  const stopFeed = await db.onChange(CHANGES_CHANNEL, (payload) => {
    const change = parseTableChange(payload);
    if (!change) return;
    if (PLAN_TABLES.has(change.table)) planStale = true;
    if (CREDIT_TABLES.has(change.table))
      creditReload = (creditReload ?? Promise.resolve()).then(loadCredit).catch((error: unknown) => {
        logger.error({ err: error }, 'credit settings reload failed');
      });
  });

  async function currentPlan(): Promise<RatingPlan> {
    if (planStale) {
      planStale = false;
      const fresh = await loadPlan(prisma);
      for (const [id, trie] of plan.decks) fresh.decks.set(id, trie);
      plan = fresh;
    }
    return plan;
  }

  /** The customer's sell rate for the number at `at`, loading the deck on its first use. */
  async function rateFor(customerId: string, number: string, at: number) {
    const p = await currentPlan();
    const profileId = p.accounts.customers.get(customerId)?.profileId;
    const profile = profileId ? p.profiles.get(profileId) : undefined;
    const deck = profile ? p.deckAt(profile, at) : undefined;
    if (!profile || !deck) return undefined;
    if (!p.decks.has(deck.id)) await ensureDecks(prisma, p, new Set([deck.id]));
    const rate = p.decks.get(deck.id)?.longest(number, validAt, at);
    return rate ? { rate, peak: isPeak(profile.clock, profile.peak, at) } : undefined;
  }

  /**
   * Reserves credit for `wantSeconds` of the call (or what the balance pays for); returns the seconds
   * the call's reservation now covers. One transaction: the balance row's lock orders concurrent
   * reservations of the customer, and the sum read after it sees every committed one.
   */
  async function reserve(
    callId: string,
    customerId: string,
    rate: DeckRate,
    peak: boolean,
    /** Seconds the call's reservation covers already (it never shrinks). */
    haveSeconds: number,
    wantSeconds: number,
  ) {
    return prisma.$transaction(async (tx) => {
      const account = await tx.$queryRawUnsafe<Array<{ balance: string }>>(
        'SELECT balance::text AS balance FROM credit_accounts WHERE customer_id = $1::uuid AND prepaid FOR UPDATE',
        customerId,
      );
      if (account.length === 0) return { seconds: haveSeconds };
      const held = await tx.$queryRawUnsafe<Array<{ held: string }>>(
        `SELECT coalesce(sum(amount), 0)::numeric(18,6)::text AS held FROM credit_reservations
          WHERE customer_id = $1::uuid AND expires_at > now() AND call_id <> $2`,
        customerId,
        callId,
      );
      const available = decimalToMicros(account[0]!.balance) - decimalToMicros(held[0]!.held);
      const seconds = affordableSeconds(rate, peak, available, wantSeconds);
      if (seconds <= haveSeconds) return { seconds: haveSeconds };
      await tx.$executeRawUnsafe(
        `INSERT INTO credit_reservations (call_id, customer_id, amount, expires_at)
          VALUES ($1, $2::uuid, $3::numeric, now() + make_interval(secs => $4))
          ON CONFLICT (call_id) DO UPDATE SET amount = excluded.amount, expires_at = excluded.expires_at`,
        callId,
        customerId,
        formatMicros(charge(rate, seconds, peak)),
        seconds + holdSeconds,
      );
      return { seconds };
    });
  }

  function blocked(request: CreditRequest, now: number): boolean {
    const account = accounts.get(request.customerId);
    if (account?.blockedUntil != null && account.blockedUntil > now) return true;
    return (subscriberBlocks.get(request.subscriberId) ?? 0) > now;
  }

  return {
    async authorise(request) {
      const now = request.at.getTime();
      if (blocked(request, now))
        return {
          kind: 'refused',
          status: 403,
          reason: 'Forbidden',
          warning: '399 switchboard "Spend limit reached"',
        };
      if (accounts.get(request.customerId)?.prepaid !== true) return { kind: 'unlimited' };
      try {
        const found = await rateFor(request.customerId, request.number, now);
        if (!found)
          return {
            kind: 'refused',
            status: 403,
            reason: 'Forbidden',
            warning: '399 switchboard "No rate for the destination"',
          };
        const { rate, peak } = found;
        let granted = (await reserve(request.callId, request.customerId, rate, peak, 0, reserveSeconds))
          .seconds;
        if (granted <= 0) return PAYMENT_REQUIRED;
        return {
          kind: 'granted',
          seconds: granted,
          extend: async () => {
            const { seconds } = await reserve(
              request.callId,
              request.customerId,
              rate,
              peak,
              granted,
              granted + reserveSeconds,
            );
            const added = seconds - granted;
            granted += added;
            return added;
          },
        };
      } catch (error) {
        logger.error({ err: error, customerId: request.customerId }, 'credit reservation failed');
        return { kind: 'refused', status: 503, reason: 'Service Unavailable' };
      }
    },
    async stop() {
      await stopFeed();
      await creditReload;
    },
  };
}
