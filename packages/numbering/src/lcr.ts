import type { RE2JS } from 're2js';
import { NumberingError } from './errors.ts';
import { checkPattern } from './regex.ts';
import type {
  GatewayData,
  NumberingData,
  PeeringGroupData,
  PeeringRuleData,
  SubscriberData,
} from './types.ts';

/**
 * Failover list length: each failed attempt costs the caller seconds, so trying more gateways than this
 * only delays the final error.
 */
export const DEFAULT_MAX_GATEWAYS = 16;

/** A random source in [0, 1); injectable so tests get a fixed failover order. */
export type Rng = () => number;

/** One gateway to try, in failover order. */
export interface RouteTarget {
  gatewayId: string;
  gatewayName: string;
  groupId: string;
  groupName: string;
  host: string;
  port: number;
  transport: GatewayData['transport'];
  /** The peering rule that selected this gateway's group. */
  ruleId: string;
  calleePrefix: string;
}

interface RuleEntry {
  rule: PeeringRuleData;
  group: PeeringGroupData;
  caller: RE2JS | null;
}

/**
 * Peering rules indexed by callee prefix. A lookup probes the prefixes of the callee from longest to
 * shortest (at most 16 hash probes for an E.164 number), which is a prefix trie flattened into one Map:
 * same longest-prefix semantics, far less memory per rule than a node per digit.
 */
export interface LcrTable {
  byPrefix: Map<string, RuleEntry[]>;
  longestPrefix: number;
  /** Per group: enabled gateways in priority tiers, lowest priority value first. */
  gatewaysByGroup: Map<string, GatewayData[][]>;
  /** Rules left out because their caller pattern failed the safety check (logged by the index). */
  rejected: { ruleId: string; reason: string }[];
}

export function buildLcrTable(
  data: Pick<NumberingData, 'peeringGroups' | 'gateways' | 'peeringRules'>,
): LcrTable {
  const groups = new Map(data.peeringGroups.map((group) => [group.id, group]));
  const byPrefix = new Map<string, RuleEntry[]>();
  const rejected: LcrTable['rejected'] = [];
  const callerPatterns = new Map<string, RE2JS>();
  let longestPrefix = 0;
  for (const rule of data.peeringRules) {
    const group = groups.get(rule.groupId);
    if (!rule.enabled || !group?.enabled) continue;
    const prefix = rule.calleePrefix.replace(/^\+/, '');
    if (!/^\d*$/.test(prefix)) {
      rejected.push({ ruleId: rule.id, reason: `callee prefix "${rule.calleePrefix}" is not digits` });
      continue;
    }
    let caller: RE2JS | null = null;
    if (rule.callerPattern) {
      caller = callerPatterns.get(rule.callerPattern) ?? null;
      if (!caller) {
        try {
          caller = checkPattern(rule.callerPattern).regex;
        } catch (error) {
          rejected.push({ ruleId: rule.id, reason: error instanceof Error ? error.message : String(error) });
          continue;
        }
        callerPatterns.set(rule.callerPattern, caller);
      }
    }
    const list = byPrefix.get(prefix);
    if (list) list.push({ rule, group, caller });
    else byPrefix.set(prefix, [{ rule, group, caller }]);
    longestPrefix = Math.max(longestPrefix, prefix.length);
  }
  // Within one prefix: lower rule priority, then lower group priority; ties by id so the order never
  // depends on load order.
  for (const [prefix, list] of byPrefix) {
    if (list.length > 1) {
      list.sort(
        (a, b) =>
          a.rule.priority - b.rule.priority ||
          a.group.priority - b.group.priority ||
          compare(a.group.id, b.group.id) ||
          compare(a.rule.id, b.rule.id),
      );
      // After a group's unconditional rule, its later rules at this prefix can never add anything.
      const unconditional = new Set<string>();
      const useful = list.filter((entry) => {
        if (unconditional.has(entry.group.id)) return false;
        if (!entry.caller) unconditional.add(entry.group.id);
        return true;
      });
      if (useful.length !== list.length) byPrefix.set(prefix, useful);
    }
  }
  const gatewaysByGroup = new Map<string, GatewayData[][]>();
  for (const gateway of data.gateways) {
    if (!gateway.enabled) continue;
    const tiers = gatewaysByGroup.get(gateway.groupId) ?? [];
    tiers.push([gateway]);
    gatewaysByGroup.set(gateway.groupId, tiers);
  }
  // Group each group's gateways into priority tiers (ascending); weights share load within a tier.
  for (const [groupId, singles] of gatewaysByGroup) {
    const byPriority = new Map<number, GatewayData[]>();
    for (const [gateway] of singles) {
      const tier = byPriority.get(gateway!.priority) ?? [];
      tier.push(gateway!);
      byPriority.set(gateway!.priority, tier);
    }
    const tiers = [...byPriority.entries()]
      .sort((a, b) => a[0] - b[0])
      .map(([, tier]) => tier.sort((a, b) => compare(a.id, b.id)));
    gatewaysByGroup.set(groupId, tiers);
  }
  return { byPrefix, longestPrefix, gatewaysByGroup, rejected };
}

const compare = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/**
 * Least-cost routing: the gateways to try for a call to `callee` (E.164 digits), in failover order.
 * 1. Peering rules whose callee prefix matches, longest prefix first (shorter matches follow as fallback);
 *    a rule with a caller pattern only counts when the caller's E.164 digits match it.
 * 2. For the same prefix length, lower rule priority first, then lower group priority.
 * 3. Within a group, gateways by ascending priority; equal priorities in weighted random order (weight 0
 *    last). Disabled gateways and groups never appear.
 * A group reached through several rules appears once, at its best position. The list stops at
 * `maxGateways` entries.
 */
export function selectRoutes(
  table: LcrTable,
  callee: string,
  caller: string | null,
  rng: Rng = Math.random,
  maxGateways = DEFAULT_MAX_GATEWAYS,
): RouteTarget[] {
  const routes: RouteTarget[] = [];
  const seenGroups = new Set<string>();
  for (let length = Math.min(callee.length, table.longestPrefix); length >= 0; length--) {
    const entries = table.byPrefix.get(callee.slice(0, length));
    if (!entries) continue;
    for (const entry of entries) {
      const group = entry.group;
      if (seenGroups.has(group.id)) continue;
      if (entry.caller && (caller === null || !entry.caller.matcher(caller).find())) continue;
      seenGroups.add(group.id);
      for (const tier of table.gatewaysByGroup.get(group.id) ?? []) {
        for (const gateway of weightedOrder(tier, rng)) {
          routes.push({
            gatewayId: gateway.id,
            gatewayName: gateway.name,
            groupId: group.id,
            groupName: group.name,
            host: gateway.host,
            port: gateway.port,
            transport: gateway.transport,
            ruleId: entry.rule.id,
            calleePrefix: entry.rule.calleePrefix,
          });
          if (routes.length >= maxGateways) return routes;
        }
      }
    }
  }
  return routes;
}

/**
 * Weighted random order without replacement: each pick takes a gateway with probability
 * weight / remaining total weight. Zero-weight gateways follow, in their given order.
 */
export function weightedOrder<T extends { weight: number }>(items: readonly T[], rng: Rng): readonly T[] {
  if (items.length <= 1) return items;
  const pool: T[] = [];
  const zero: T[] = [];
  let total = 0;
  for (const item of items) {
    if (item.weight > 0) {
      pool.push(item);
      total += item.weight;
    } else {
      zero.push(item);
    }
  }
  const order: T[] = [];
  while (pool.length > 0) {
    let pick = rng() * total;
    let index = 0;
    while (index < pool.length - 1 && pick >= pool[index]!.weight) {
      pick -= pool[index]!.weight;
      index += 1;
    }
    const chosen = pool[index]!;
    pool.splice(index, 1);
    order.push(chosen);
    total -= chosen.weight;
  }
  for (const item of zero) order.push(item);
  return order;
}

/**
 * Per-subscriber call barring on the callee's E.164 digits, as the schema documents it: any matching
 * blocked prefix bars the call; otherwise, when an allow list exists, the callee must match one of it.
 */
export function isCalleeAllowed(
  subscriber: Pick<SubscriberData, 'allowedCalleePrefixes' | 'blockedCalleePrefixes'>,
  callee: string,
): boolean {
  if (subscriber.blockedCalleePrefixes.some((prefix) => callee.startsWith(prefix))) return false;
  if (subscriber.allowedCalleePrefixes.length === 0) return true;
  return subscriber.allowedCalleePrefixes.some((prefix) => callee.startsWith(prefix));
}

/** Checks a peering rule at provisioning time (the API calls this before saving). */
export function validatePeeringRule(rule: Pick<PeeringRuleData, 'calleePrefix' | 'callerPattern'>): void {
  if (typeof rule.calleePrefix !== 'string' || !/^\+?\d{0,15}$/.test(rule.calleePrefix)) {
    throw new NumberingError(
      'invalid-rule',
      'callee prefix must be up to 15 E.164 digits (optional leading +)',
    );
  }
  if (rule.callerPattern !== null && rule.callerPattern !== undefined && rule.callerPattern !== '') {
    checkPattern(rule.callerPattern);
  }
}
