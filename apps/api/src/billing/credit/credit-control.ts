import { CHANGES_CHANNEL, type Database, parseTableChange } from '@switchboard/db';
import type { Logger } from 'pino';
import { isPeak } from '../peak.ts';
import type { DeckRate, RatingPlan } from '../plan.ts';
import { ensureDecks, loadPlan } from '../plan-loader.ts';
import { type ScreenDecision, type ScreenRequest, startFraudScreen } from './fraud-screen.ts';

/**
 * Call-time credit control for sip-core (its `CallCredit`, apps/sip-core/src/calls/credit.ts): the sell
 * rate of the destination from the same in-memory rating plan the rater uses (no database read per
 * call), then one short transaction that reserves credit from the customer's balance. The reservation
 * locks the customer's balance row, so concurrent calls of one customer (on any node) reserve one after
 * the other from what is left: their sum never exceeds the balance. A call gets at most
 * `reserveSeconds` at a time and asks for more (`extend`) when they run out.
 *
 * Spend limits take part the same way: a customer with a credit account and a daily or monthly limit
 * (or a subscriber of it with its own) reserves from the limit's room, what is left of the limit after
 * the period's rated spend and the other calls' reservations; the call that would cross the limit is
 * cut when its share runs out (`spend-limit-reached`).
 *
 * The reservation is one statement, one round trip: the `switchboard_credit_reserve` function
 * (migrations `credit_reserve_function`, `credit_reserve_by_rate`) gets the rate (setup fee, price per
 * minute, intervals) and computes the longest duration that fits in closed form, with the arithmetic
 * of `affordableSeconds` (allowance.ts), so the work per call does not grow with the intervals.
 *
 * Which customers are prepaid or limited and who is blocked by a spend limit is held in memory and
 * follows the change feed (`credit_accounts`, `subscriber_spend_limits`).
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
      /** Why the call is cut when `extend` found nothing more: the CDR's `sip_reason`. */
      cutReason: () => CutReason;
    };

/** `sip_reason` of a call cut by its credit: the prepaid balance or a spend limit ran out. */
export type CutReason = 'balance-exhausted' | 'spend-limit-reached';

export interface CreditControl {
  authorise(request: CreditRequest): Promise<CreditDecision>;
  /** Fraud screening at call start, in memory (fraud-screen.ts): high-risk prefixes and bursts. */
  screen(request: ScreenRequest): ScreenDecision;
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
  /** A daily or monthly spend limit of the customer. */
  limited: boolean;
  blockedUntil: number | null;
}

/** What `switchboard_credit_reserve` answers: seconds covered (-1: nothing limits) and the bound. */
interface Reserved {
  seconds: number;
  bound: 'balance' | 'spend-limit' | null;
}

const RESERVE =
  'SELECT seconds, bound FROM switchboard_credit_reserve($1, $2::uuid, $3::uuid, $4::bigint, $5::bigint, $6::int, $7::int, $8::int, $9::int, $10::int)';

const PAYMENT_REQUIRED = { kind: 'refused', status: 402, reason: 'Payment Required' } as const;
const SPEND_LIMIT_REACHED = {
  kind: 'refused',
  status: 403,
  reason: 'Forbidden',
  warning: '399 switchboard "Spend limit reached"',
} as const;

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
  let limitedSubscribers = new Set<string>();
  const fraud = await startFraudScreen(db, logger);

  async function loadCredit(): Promise<void> {
    const [rows, limits] = await Promise.all([
      prisma.creditAccount.findMany({
        select: { customerId: true, prepaid: true, blockedUntil: true, dailyLimit: true, monthlyLimit: true },
      }),
      prisma.subscriberSpendLimit.findMany({
        select: { subscriberId: true, blockedUntil: true, dailyLimit: true, monthlyLimit: true },
      }),
    ]);
    accounts = new Map(
      rows.map((r) => [
        r.customerId,
        {
          prepaid: r.prepaid,
          limited: r.dailyLimit !== null || r.monthlyLimit !== null,
          blockedUntil: r.blockedUntil?.getTime() ?? null,
        },
      ]),
    );
    subscriberBlocks = new Map(
      limits.filter((l) => l.blockedUntil !== null).map((l) => [l.subscriberId, l.blockedUntil!.getTime()]),
    );
    limitedSubscribers = new Set(
      limits.filter((l) => l.dailyLimit !== null || l.monthlyLimit !== null).map((l) => l.subscriberId),
    );
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
   * Reserves credit for `wantSeconds` of the call (or what the balance and limits pay for): one
   * statement, see `switchboard_credit_reserve`. The seconds the call's reservation now covers.
   */
  async function reserve(
    request: CreditRequest,
    rate: DeckRate,
    peak: boolean,
    /** Seconds the call's reservation covers already (it never shrinks). */
    haveSeconds: number,
    wantSeconds: number,
  ): Promise<Reserved> {
    const rows = await prisma.$queryRawUnsafe<Reserved[]>(
      RESERVE,
      request.callId,
      request.customerId,
      request.subscriberId,
      rate.setupMicros,
      peak ? rate.peakMicros : rate.offPeakMicros,
      rate.firstInterval,
      rate.nextInterval,
      haveSeconds,
      wantSeconds,
      holdSeconds,
    );
    return rows[0] ?? { seconds: -1, bound: null };
  }

  function blocked(request: CreditRequest, now: number): boolean {
    const account = accounts.get(request.customerId);
    if (account?.blockedUntil != null && account.blockedUntil > now) return true;
    return (subscriberBlocks.get(request.subscriberId) ?? 0) > now;
  }

  return {
    async authorise(request) {
      const now = request.at.getTime();
      if (blocked(request, now)) return SPEND_LIMIT_REACHED;
      const account = accounts.get(request.customerId);
      // Nothing limits a customer without a credit account, or one neither prepaid nor limited.
      if (!account || !(account.prepaid || account.limited || limitedSubscribers.has(request.subscriberId)))
        return { kind: 'unlimited' };
      try {
        const found = await rateFor(request.customerId, request.number, now);
        if (!found)
          // A destination without a price costs nothing that a spend limit would count.
          return account.prepaid
            ? {
                kind: 'refused',
                status: 403,
                reason: 'Forbidden',
                warning: '399 switchboard "No rate for the destination"',
              }
            : { kind: 'unlimited' };
        const { rate, peak } = found;
        const first = await reserve(request, rate, peak, 0, reserveSeconds);
        if (first.seconds < 0) return { kind: 'unlimited' };
        if (first.seconds === 0)
          return first.bound === 'spend-limit' ? SPEND_LIMIT_REACHED : PAYMENT_REQUIRED;
        let granted = first.seconds;
        let bound = first.bound;
        return {
          kind: 'granted',
          seconds: granted,
          extend: async () => {
            const more = await reserve(request, rate, peak, granted, granted + reserveSeconds);
            // Limits lifted meanwhile: the reservation stays, the call is not cut for them.
            if (more.seconds < 0) return reserveSeconds;
            bound = more.bound;
            const added = more.seconds - granted;
            granted += added;
            return added;
          },
          cutReason: () => (bound === 'spend-limit' ? 'spend-limit-reached' : 'balance-exhausted'),
        };
      } catch (error) {
        logger.error({ err: error, customerId: request.customerId }, 'credit reservation failed');
        return { kind: 'refused', status: 503, reason: 'Service Unavailable' };
      }
    },
    screen: (request) => fraud.screen(request),
    async stop() {
      await stopFeed();
      await creditReload;
      await fraud.stop();
    },
  };
}
