import { CHANGES_CHANNEL, type Database, type PrismaClient, parseTableChange } from '@switchboard/db';
import {
  applyRoutingPlan,
  type GatewayData,
  PeerSourceTable,
  type PrefixRates,
  type RouteTarget,
  type RoutingPlan,
  type SkippedRoute,
} from '@switchboard/numbering';
import type { Logger } from 'pino';
import { CoalescedLoad } from '../coalesced-load.ts';
import { RateTables } from './rate-tables.ts';
import { MonthlySpend } from './spend.ts';

/**
 * Carrier customers and postpaid limits in memory (docs/billing.md): the customers' IP-authenticated
 * trunks (source address -> the subscriber its calls act as), each customer's routing plan and margin
 * protection with the sell and cost rates it compares, and the month's spending its credit limit is
 * checked against. Nothing here reads a table per call; the change feed reloads it.
 */

/** Tables whose changes reload the index. */
export const WHOLESALE_TABLES: readonly string[] = [
  'customer_billing_settings',
  'customer_trunks',
  'customers',
  'billing_profiles',
  'billing_peak_times',
  'rate_decks',
  'peering_groups',
];

interface CustomerPlan extends RoutingPlan {
  creditLimitMicros: number | null;
}

/** Decks take effect at their date without a change to announce it: look again this often. */
const RELOAD_MS = 3600_000;

export class WholesaleIndex {
  /** Trunk sources, reusing the peers' address table: the "gateway" is the trunk, its "group" the subscriber. */
  private sources = new PeerSourceTable([], []);
  private plans = new Map<string, CustomerPlan>();
  private costs = new Map<string, PrefixRates>();
  private readonly rates: RateTables;
  readonly spend: MonthlySpend;
  private readonly reload = new CoalescedLoad(() => this.load());
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly prisma: PrismaClient,
    private readonly log: Logger,
    private readonly now: () => Date = () => new Date(),
  ) {
    this.rates = new RateTables(prisma);
    this.spend = new MonthlySpend(prisma, log, now);
  }

  async load(): Promise<void> {
    const [settings, trunks, groups] = await Promise.all([
      this.prisma.customerBillingSettings.findMany({
        include: { customer: { select: { billingProfileId: true } } },
      }),
      this.prisma.customerTrunk.findMany({ where: { enabled: true } }),
      this.prisma.peeringGroup.findMany({ select: { id: true, costProfileId: true } }),
    ]);
    const protectedCustomers = settings.filter((s) => s.marginProtection ?? s.carrier);
    const profileIds = new Set<string>();
    for (const s of protectedCustomers)
      if (s.customer.billingProfileId) profileIds.add(s.customer.billingProfileId);
    if (protectedCustomers.length > 0)
      for (const g of groups) if (g.costProfileId) profileIds.add(g.costProfileId);
    const rates = await this.rates.load(profileIds, this.now());
    const plans = new Map<string, CustomerPlan>();
    for (const s of settings) {
      const marginProtection = s.marginProtection ?? s.carrier;
      const profile = s.customer.billingProfileId;
      plans.set(s.customerId, {
        groupIds: new Set(s.peeringGroupIds),
        marginProtection,
        sell: marginProtection && profile ? rates.get(profile) : undefined,
        creditLimitMicros: s.creditLimit === null ? null : Number(s.creditLimit.toFixed(6).replace('.', '')),
      });
    }
    const costs = new Map<string, PrefixRates>();
    for (const g of groups) {
      const r = g.costProfileId ? rates.get(g.costProfileId) : undefined;
      if (r) costs.set(g.id, r);
    }
    const asGateways: GatewayData[] = trunks.map((t) => ({
      id: t.id,
      groupId: t.subscriberId,
      name: t.name,
      host: '',
      port: 0,
      transport: 'udp',
      priority: 0,
      weight: 0,
      enabled: true,
      trustedSources: t.trustedSources,
    }));
    const subscribers = [...new Set(trunks.map((t) => t.subscriberId))].map((id) => ({
      id,
      name: id,
      priority: 0,
      enabled: true,
      rewriteRuleSetId: null,
    }));
    const sources = new PeerSourceTable(asGateways, subscribers);
    for (const bad of sources.rejected) this.log.warn(bad, 'customer trunk source left out: not an address');
    await this.spend.load([...plans].filter(([, p]) => p.creditLimitMicros !== null).map(([id]) => id));
    this.sources = sources;
    this.plans = plans;
    this.costs = costs;
    this.log.debug({ trunks: trunks.length, plans: plans.size, rated: rates.size }, 'wholesale index loaded');
  }

  /** Follows the change feed and the rater's spending notices; resolves once loaded. */
  async follow(db: Pick<Database, 'onChange'>, ratedChannel: string): Promise<() => Promise<void>> {
    const reload = () => {
      this.reload.run().catch((error: unknown) => this.log.error({ err: error }, 'wholesale reload failed'));
    };
    const stops = [
      await db.onChange(
        CHANGES_CHANNEL,
        (payload) => {
          const change = parseTableChange(payload);
          if (change && WHOLESALE_TABLES.includes(change.table)) reload();
        },
        { onReconnect: reload },
      ),
      await db.onChange(ratedChannel, (payload) => this.spend.onRated(payload), { onReconnect: reload }),
    ];
    await this.load();
    this.timer = setInterval(reload, RELOAD_MS);
    this.timer.unref();
    return async () => {
      clearInterval(this.timer);
      for (const stop of stops) await stop();
    };
  }

  /** The subscriber whose calls a request from `address` are (an IP-authenticated trunk), or null. */
  trunkSubscriberAt(address: string): string | null {
    return this.sources.lookup(address)?.groupId ?? null;
  }

  /**
   * LCR's routes for a call of `customerId` to `callee` starting now, as its routing plan and margin
   * protection allow (the sell and cost rates in effect at that time of day).
   */
  routesFor(customerId: string, callee: string, routes: RouteTarget[]): RouteTarget[] {
    const plan = this.plans.get(customerId);
    if (!plan) return routes;
    const skipped: SkippedRoute[] = [];
    const allowed = applyRoutingPlan(
      routes,
      plan,
      callee,
      (groupId) => this.costs.get(groupId),
      skipped,
      this.now().getTime(),
    );
    if (skipped.length > 0)
      this.log.info({ customer: customerId, callee, skipped }, 'routes skipped by the routing plan');
    return allowed;
  }

  /** The month's spending and limit when `customerId` has reached its credit limit; else null. */
  overCreditLimit(customerId: string): { spentMicros: number; limitMicros: number } | null {
    const limit = this.plans.get(customerId)?.creditLimitMicros ?? null;
    if (limit === null) return null;
    const spent = this.spend.of(customerId);
    return spent >= limit ? { spentMicros: spent, limitMicros: limit } : null;
  }
}
