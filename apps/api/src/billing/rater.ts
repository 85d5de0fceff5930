import { CHANGES_CHANNEL, type Database, parseTableChange } from '@switchboard/db';
import type { Logger } from 'pino';
import { settleCredit } from './credit/settle.ts';
import { formatMicros } from './money.ts';
import type { RatingPlan } from './plan.ts';
import { ensureDecks, loadPlan } from './plan-loader.ts';
import { type CdrToRate, destinationOf, type Rating, rateCdr } from './rate-cdr.ts';
import { announceSpend, spendChanges } from './spend-notice.ts';

/**
 * The rater: prices every CDR soon after the call ends. It polls for CDRs still `unrated` (a partial
 * index holds exactly those) in bounded batches; each batch is one transaction that locks its rows
 * (FOR UPDATE SKIP LOCKED, so several raters share the work), rates them in memory and writes every
 * price together with the new status. A crash or stop mid-batch rolls the batch back, so a CDR is
 * rated exactly once, and a restart continues with whatever is still unrated. Re-rating a period sets
 * its CDRs back to `unrated` (rerate.ts).
 *
 * The plan (profiles, decks, links) is reloaded when the change feed announces a billing or account
 * change; deck rates are loaded on first use.
 */

export interface RaterOptions {
  /** CDRs per transaction. */
  batchSize?: number;
  /** Pause when nothing was left to rate. */
  idleMs?: number;
  /** Called inside the batch's transaction after rating, before the write (tests stop here). */
  beforeWrite?: (ids: readonly string[]) => Promise<void> | void;
  /** false: no background loop, only `drain()` rates (tests, one-off runs). Default true. */
  poll?: boolean;
}

export interface Rater {
  /** Rates until nothing is unrated; resolves with the number of CDRs rated. */
  drain(): Promise<number>;
  /** Stops the loop after the running batch (a batch cut short rolls back). */
  stop(): Promise<void>;
  readonly rated: number;
}

const WATCHED = new Set([
  'billing_profiles',
  'billing_peak_times',
  'rate_decks',
  'customers',
  'resellers',
  'peering_groups',
  'peer_gateways',
]);
const BATCH_TIMEOUT_MS = 60_000;

interface CdrRow {
  id: string;
  direction: CdrToRate['direction'];
  disposition: string;
  started_at: Date;
  duration_ms: number;
  callee_dialled: string;
  callee_routed: string | null;
  caller_customer_id: string | null;
  peer_gateway_id: string | null;
  old_price: string | null;
}

/**
 * A call a call forward sent to the phone network (`billed_customer_id`, docs/billing.md, "Forwarded
 * calls") is priced as the forwarding customer's outbound call: that customer is the one charged.
 */
const SELECT_UNRATED = `SELECT id,
    CASE WHEN billed_customer_id IS NOT NULL THEN 'outbound'::call_direction ELSE direction END AS direction,
    disposition, started_at, duration_ms, callee_dialled, callee_routed,
    coalesce(billed_customer_id, caller_customer_id) AS caller_customer_id, peer_gateway_id,
    customer_price::text AS old_price
  FROM cdrs WHERE rating_status = 'unrated' AND sip_reason IS DISTINCT FROM 'in progress'
  LIMIT $1 FOR UPDATE SKIP LOCKED`;

/** One statement for the whole batch: the prices come in as parallel arrays. */
const WRITE_RATINGS = `UPDATE cdrs AS c SET
    rating_status = v.status::rating_status, rating_error = v.error, rated_at = now(),
    rating_count = c.rating_count + 1, rated_number = v.number,
    customer_price = v.cp::numeric, customer_currency = v.cc, customer_zone = v.cz,
    reseller_price = v.rp::numeric, reseller_currency = v.rc, reseller_zone = v.rz,
    carrier_cost = v.kp::numeric, carrier_currency = v.kc, carrier_zone = v.kz
  FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[],
    $8::text[], $9::text[], $10::text[], $11::text[], $12::text[], $13::text[])
    AS v(id, status, error, number, cp, cc, cz, rp, rc, rz, kp, kc, kz)
  WHERE c.id = v.id`;

/**
 * The batch's rows are locked by its SELECT, so the UPDATE joins them by primary key. Without fresh
 * statistics the planner takes the unnest for a few rows and hashes the whole backlog instead, once
 * per batch; these settings (for this transaction only) keep it on the primary key.
 */
const BY_PRIMARY_KEY = ['SET LOCAL enable_hashjoin = off', 'SET LOCAL enable_mergejoin = off'];

function toRate(row: CdrRow): CdrToRate {
  return {
    id: row.id,
    direction: row.direction,
    answered: row.disposition === 'answered',
    startedAt: new Date(row.started_at).getTime(),
    durationMs: row.duration_ms,
    calleeDialled: row.callee_dialled,
    calleeRouted: row.callee_routed,
    callerCustomerId: row.caller_customer_id,
    peerGatewayId: row.peer_gateway_id,
  };
}

/** The decks a batch needs, so they are loaded before the synchronous rating. */
function decksNeeded(plan: RatingPlan, cdrs: readonly CdrToRate[]): Set<string> {
  const needed = new Set<string>();
  const add = (profileId: string | null | undefined, at: number) => {
    const profile = profileId ? plan.profiles.get(profileId) : undefined;
    const deck = profile ? plan.deckAt(profile, at) : undefined;
    if (deck) needed.add(deck.id);
  };
  for (const cdr of cdrs) {
    if (cdr.direction === 'internal' || destinationOf(cdr) === null) continue;
    const customer = cdr.callerCustomerId ? plan.accounts.customers.get(cdr.callerCustomerId) : undefined;
    add(customer?.profileId, cdr.startedAt);
    if (customer?.resellerId) add(plan.accounts.resellers.get(customer.resellerId), cdr.startedAt);
    if (cdr.peerGatewayId && cdr.direction === 'outbound')
      add(plan.accounts.gateways.get(cdr.peerGatewayId), cdr.startedAt);
  }
  return needed;
}

function columns(ids: readonly string[], ratings: readonly Rating[]): unknown[] {
  const side = (pick: (r: Rating) => Rating['customer']) => [
    ratings.map((r) => (pick(r) ? formatMicros(pick(r)!.micros) : null)),
    ratings.map((r) => pick(r)?.currency ?? null),
    ratings.map((r) => pick(r)?.zone ?? null),
  ];
  return [
    ids,
    ratings.map((r) => r.status),
    ratings.map((r) => r.error),
    ratings.map((r) => r.number),
    ...side((r) => r.customer),
    ...side((r) => r.reseller),
    ...side((r) => r.carrier),
  ];
}

export async function startRater(db: Database, logger: Logger, options: RaterOptions = {}): Promise<Rater> {
  const batchSize = options.batchSize ?? 500;
  const idleMs = options.idleMs ?? 1000;
  const prisma = db.prisma;
  let plan: RatingPlan | undefined;
  let stale = true;
  let stopped = false;
  let rated = 0;
  let wake: (() => void) | undefined;

  const stopFeed = await db.onChange(CHANGES_CHANNEL, (payload) => {
    const change = parseTableChange(payload);
    if (change && WATCHED.has(change.table)) stale = true;
  });

  async function currentPlan(): Promise<RatingPlan> {
    if (stale || plan === undefined) {
      stale = false;
      const fresh = await loadPlan(prisma);
      // Deck rates never change once written: keep the tries already loaded.
      if (plan) for (const [id, trie] of plan.decks) fresh.decks.set(id, trie);
      plan = fresh;
    }
    return plan;
  }

  /** One batch; returns how many CDRs it rated. */
  async function batch(): Promise<number> {
    const p = await currentPlan();
    return prisma.$transaction(
      async (tx) => {
        // No ORDER BY: the order of rating does not matter, and sorting would read the whole backlog.
        const rows = await tx.$queryRawUnsafe<CdrRow[]>(SELECT_UNRATED, batchSize);
        if (rows.length === 0) return 0;
        const cdrs = rows.map(toRate);
        await ensureDecks(tx, p, decksNeeded(p, cdrs));
        const ratings = cdrs.map((cdr) => rateCdr(p, cdr));
        const ids = cdrs.map((c) => c.id);
        await options.beforeWrite?.(ids);
        for (const setting of BY_PRIMARY_KEY) await tx.$executeRawUnsafe(setting);
        await tx.$executeRawUnsafe(WRITE_RATINGS, ...columns(ids, ratings));
        // Credit limits (sip-core) follow the spending this batch adds, on commit.
        await announceSpend(tx, spendChanges(rows, ratings));
        // Prepaid debits, spend limits and destination alerts (credit/settle.ts): in this transaction.
        await settleCredit(tx, ids, ratings);
        return rows.length;
      },
      { timeout: BATCH_TIMEOUT_MS, maxWait: BATCH_TIMEOUT_MS },
    );
  }

  async function drain(): Promise<number> {
    let total = 0;
    while (!stopped) {
      const n = await batch();
      total += n;
      rated += n;
      if (n < batchSize) break;
    }
    return total;
  }

  const loop = (async () => {
    while (!stopped && options.poll !== false) {
      try {
        const n = await drain();
        if (n > 0) logger.debug({ rated: n }, 'CDRs rated');
      } catch (error) {
        logger.error({ err: error }, 'rating batch failed; retrying');
      }
      if (stopped) break;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, idleMs);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  })();

  return {
    drain,
    get rated() {
      return rated;
    },
    async stop() {
      stopped = true;
      wake?.();
      await loop;
      await stopFeed();
    },
  };
}
