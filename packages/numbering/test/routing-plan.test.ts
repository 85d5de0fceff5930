import { describe, expect, it } from 'vitest';
import { buildLcrTable, selectRoutes } from '../src/lcr.ts';
import { applyRoutingPlan, PrefixRates, type SkippedRoute } from '../src/routing-plan.ts';
import type { GatewayData, PeeringGroupData } from '../src/types.ts';

/**
 * A carrier customer's routing plan over LCR: two peering groups route 49; "cheap" is tried first
 * (lower priority) but costs 0.0300/min to German mobiles (4915), above the customer's sell price
 * of 0.0200/min there; "premium" costs 0.0150/min. Margin protection skips "cheap" for 4915 and keeps
 * it where it is cheaper than the sell price (4930); without protection LCR's order stands.
 */

const group = (id: string, priority: number): PeeringGroupData => ({
  id,
  name: id,
  priority,
  enabled: true,
  rewriteRuleSetId: null,
});
const gateway = (id: string, groupId: string): GatewayData => ({
  id,
  groupId,
  name: id,
  host: `${id}.invalid`,
  port: 5060,
  transport: 'udp',
  priority: 1,
  weight: 1,
  enabled: true,
});

const table = buildLcrTable({
  peeringGroups: [group('cheap', 1), group('premium', 2)],
  gateways: [gateway('gw-cheap', 'cheap'), gateway('gw-premium', 'premium')],
  peeringRules: [
    { id: 'r1', groupId: 'cheap', calleePrefix: '49', callerPattern: null, priority: 1, enabled: true },
    { id: 'r2', groupId: 'premium', calleePrefix: '49', callerPattern: null, priority: 1, enabled: true },
  ],
});

const rates = (entries: Record<string, number>) => {
  const r = new PrefixRates();
  for (const [prefix, micros] of Object.entries(entries)) r.set(prefix, micros);
  return r;
};
const sell = rates({ '49': 25_000, '4915': 20_000 });
const costs = new Map([
  ['cheap', rates({ '49': 10_000, '4915': 30_000 })],
  ['premium', rates({ '49': 15_000 })],
]);
const costOf = (groupId: string) => costs.get(groupId);
const ids = (routes: { gatewayId: string }[]) => routes.map((r) => r.gatewayId);

describe('routing plan and margin protection', () => {
  it('longest prefix wins in a rate table', () => {
    expect(sell.rateOf('4915112345')).toBe(20_000);
    expect(sell.rateOf('4930123')).toBe(25_000);
    expect(sell.rateOf('331234')).toBeUndefined();
  });

  it('compares the rates that apply at the call time, each by its own profile peak times', () => {
    // Sell 0.020 peak / 0.008 off-peak, peak 08:00-18:00 UTC; the cheap carrier charges 0.010 all day.
    const daySell = new PrefixRates();
    daySell.set('4915', 20_000, 8_000);
    daySell.setPeakTimes((at) => {
      const hour = new Date(at).getUTCHours();
      return hour >= 8 && hour < 18;
    });
    const flat = new PrefixRates();
    flat.set('49', 10_000);
    const lcr = selectRoutes(table, '4915112345678', null, () => 0);
    const plan = { groupIds: new Set<string>(), marginProtection: true, sell: daySell };
    const cost = (groupId: string) => (groupId === 'cheap' ? flat : undefined);
    const noon = Date.parse('2026-12-07T12:00:00Z');
    const night = Date.parse('2026-12-07T22:00:00Z');
    expect(daySell.rateOf('4915112345678', noon)).toBe(20_000);
    expect(daySell.rateOf('4915112345678', night)).toBe(8_000);
    expect(ids(applyRoutingPlan(lcr, plan, '+4915112345678', cost, [], noon))).toEqual([
      'gw-cheap',
      'gw-premium',
    ]);
    const skipped: SkippedRoute[] = [];
    expect(ids(applyRoutingPlan(lcr, plan, '+4915112345678', cost, skipped, night))).toEqual(['gw-premium']);
    expect(skipped).toEqual([
      { gatewayId: 'gw-cheap', reason: 'cost above sell price', costMicros: 10_000, sellMicros: 8_000 },
    ]);
  });

  it('skips a gateway whose cost for the dialled prefix is above the sell price', () => {
    const lcr = selectRoutes(table, '4915112345678', null, () => 0);
    expect(ids(lcr)).toEqual(['gw-cheap', 'gw-premium']);
    const skipped: SkippedRoute[] = [];
    const routes = applyRoutingPlan(
      lcr,
      { groupIds: new Set(), marginProtection: true, sell },
      '+4915112345678',
      costOf,
      skipped,
    );
    expect(ids(routes)).toEqual(['gw-premium']);
    expect(skipped).toEqual([
      { gatewayId: 'gw-cheap', reason: 'cost above sell price', costMicros: 30_000, sellMicros: 20_000 },
    ]);
  });

  it('uses that gateway when protection is off, and where its cost is below the sell price', () => {
    const lcr = selectRoutes(table, '4915112345678', null, () => 0);
    expect(
      ids(
        applyRoutingPlan(
          lcr,
          { groupIds: new Set(), marginProtection: false, sell },
          '4915112345678',
          costOf,
        ),
      ),
    ).toEqual(['gw-cheap', 'gw-premium']);
    const landline = selectRoutes(table, '4930123456', null, () => 0);
    expect(
      ids(
        applyRoutingPlan(
          landline,
          { groupIds: new Set(), marginProtection: true, sell },
          '4930123456',
          costOf,
        ),
      ),
    ).toEqual(['gw-cheap', 'gw-premium']);
  });

  it("keeps only the plan's peering groups; no sell rate or no cost rate: nothing to compare", () => {
    const lcr = selectRoutes(table, '4915112345678', null, () => 0);
    expect(
      ids(
        applyRoutingPlan(
          lcr,
          { groupIds: new Set(['premium']), marginProtection: false },
          '4915112345678',
          costOf,
        ),
      ),
    ).toEqual(['gw-premium']);
    expect(
      ids(applyRoutingPlan(lcr, { groupIds: new Set(), marginProtection: true }, '4915112345678', costOf)),
    ).toEqual(['gw-cheap', 'gw-premium']);
    expect(
      ids(
        applyRoutingPlan(
          lcr,
          { groupIds: new Set(), marginProtection: true, sell },
          '4915112345678',
          () => undefined,
        ),
      ),
    ).toEqual(['gw-cheap', 'gw-premium']);
  });
});
