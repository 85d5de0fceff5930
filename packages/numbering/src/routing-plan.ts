import type { RouteTarget } from './lcr.ts';

/**
 * A customer's own routing plan on top of LCR (docs/billing.md, "Carrier customers"): the peering
 * groups its calls may use, and margin protection, which skips a route whose cost for the dialled
 * number (the per-minute rate of its peering group's cost profile at the call's time) is above what
 * the customer pays for it then (the per-minute rate of its sell profile). Rates are integer micros
 * per minute.
 */

/**
 * Per-minute rates by destination prefix; the longest prefix of a number wins (as the rater's zones).
 * Each prefix has a peak and an off-peak rate; which applies at a moment is the profile's to say
 * (its peak periods in its time zone, `peakAt`), by default always peak.
 */
export class PrefixRates {
  private readonly byPrefix = new Map<string, { peak: number; offPeak: number }>();
  private longest = 0;
  private peakAt: (epochMs: number) => boolean = () => true;

  set(prefix: string, peakMicros: number, offPeakMicros = peakMicros): void {
    this.byPrefix.set(prefix, { peak: peakMicros, offPeak: offPeakMicros });
    this.longest = Math.max(this.longest, prefix.length);
  }

  /** Whether a call starting at a moment pays the peak rate (the profile's peak periods). */
  setPeakTimes(peakAt: (epochMs: number) => boolean): void {
    this.peakAt = peakAt;
  }

  get size(): number {
    return this.byPrefix.size;
  }

  /** The rate at `atMs` of the longest prefix of `digits`, or undefined when none matches. */
  rateOf(digits: string, atMs: number = Date.now()): number | undefined {
    for (let length = Math.min(digits.length, this.longest); length >= 0; length--) {
      const rate = this.byPrefix.get(digits.slice(0, length));
      if (rate !== undefined) return this.peakAt(atMs) ? rate.peak : rate.offPeak;
    }
    return undefined;
  }
}

export interface RoutingPlan {
  /** Peering groups the customer's calls may use; empty: every group LCR offers. */
  groupIds: ReadonlySet<string>;
  /** Skip routes that cost more than the customer's sell price. */
  marginProtection: boolean;
  /** The customer's sell rates; undefined: no sell profile or deck, so no margin to protect. */
  sell?: PrefixRates | undefined;
}

/** Why a route was left out (logged by the caller). */
export interface SkippedRoute {
  gatewayId: string;
  reason: 'not in routing plan' | 'cost above sell price';
  costMicros?: number;
  sellMicros?: number;
}

/**
 * The LCR routes the plan allows, in LCR's order. A route whose group has no cost rate for the number
 * is kept (nothing to compare), as are all routes when the customer has no sell rate for it. Sell and
 * cost are the rates that apply at `atMs` (the call's start), each by its own profile's peak times.
 */
export function applyRoutingPlan(
  routes: readonly RouteTarget[],
  plan: RoutingPlan,
  callee: string,
  costOf: (groupId: string) => PrefixRates | undefined,
  skipped: SkippedRoute[] = [],
  atMs: number = Date.now(),
): RouteTarget[] {
  const digits = callee.startsWith('+') ? callee.slice(1) : callee;
  const sell = plan.marginProtection ? plan.sell?.rateOf(digits, atMs) : undefined;
  return routes.filter((route) => {
    if (plan.groupIds.size > 0 && !plan.groupIds.has(route.groupId)) {
      skipped.push({ gatewayId: route.gatewayId, reason: 'not in routing plan' });
      return false;
    }
    if (sell === undefined) return true;
    const cost = costOf(route.groupId)?.rateOf(digits, atMs);
    if (cost === undefined || cost <= sell) return true;
    skipped.push({
      gatewayId: route.gatewayId,
      reason: 'cost above sell price',
      costMicros: cost,
      sellMicros: sell,
    });
    return false;
  });
}
