import type { Call } from './call.ts';
import type { ActiveCallInfo } from './call-types.ts';

export interface CallLimits {
  /** Concurrent calls of the subscriber (as caller or callee); undefined: unlimited. */
  subscriberMax?: number | null | undefined;
  /** Concurrent calls of the subscriber's customer; undefined: unlimited. */
  customerMax?: number | null | undefined;
}

/** Where refusals are counted (switchboard_calls_refused_total). */
export interface RefusalCounter {
  inc(labels: { scope: string; limit: string }): void;
}

/** One count: the map (per subscriber, customer, gateway or peering group) and the key in it. */
type Counter = [Map<string, number>, string];

/** What a call counts for; a peer-side leg counts for its gateway and the gateway's peering group. */
export interface CountedParty {
  subscriberId?: string | undefined;
  customerId?: string | undefined;
  gatewayId?: string | undefined;
  groupId?: string | undefined;
}

/**
 * A refused call's answer; `retryAfter` (seconds) goes out as Retry-After (RFC 3261 §21.5.4: a 503
 * for an overload that passes).
 */
export type Admission = { ok: true } | { ok: false; status: number; reason: string; retryAfter?: number };

/** Call admission control of one gateway, peering group or customer (docs/sbc.md). */
export interface ScopeLimit {
  scope: 'gateway' | 'group' | 'customer';
  id: string;
  /** Concurrent calls (gateways and groups; a customer's is `CallLimits.customerMax`). */
  maxConcurrent?: number | undefined;
  /** New calls in any one second. */
  maxPerSecond?: number | undefined;
}

/** Seconds a peer is told to wait when its concurrency limit is reached (a call rate: one second). */
export const RETRY_AFTER_BUSY_S = 5;

/** The window of a calls-per-second limit. */
const RATE_WINDOW_MS = 1000;

/**
 * The calls this node is handling, with the per-subscriber, per-customer, per-gateway and
 * per-peering-group counts the limits check, and the recent call starts the rate limits check. A call
 * counts for its caller's and its callee's subscriber and customer, and for the gateway (and its
 * group) its peer-side leg goes to or came from.
 */
export class ActiveCalls {
  private readonly calls = new Map<string, Call>();
  private readonly perSubscriber = new Map<string, number>();
  private readonly perCustomer = new Map<string, number>();
  private readonly perGateway = new Map<string, number>();
  private readonly perGroup = new Map<string, number>();
  /** Start times in the last second per `scope:id` with a rate limit (at most its limit of them). */
  private readonly starts = new Map<string, number[]>();
  /** What each call is counted for, so that a forwarded call is not counted twice for one party. */
  private readonly countedFor = new Map<string, Counter[]>();
  private readonly listeners: Array<(call: ActiveCallInfo) => void> = [];
  private refusals: RefusalCounter | undefined;

  /** Counts every refusal into `counter` (switchboard_calls_refused_total). */
  countRefusalsIn(counter: RefusalCounter): void {
    this.refusals = counter;
  }

  private refused(scope: string, limit: 'concurrent' | 'rate', admission: Admission): Admission {
    this.refusals?.inc({ scope, limit });
    return admission;
  }

  /** Called when a call starts, rings, is answered or ends (presence and busy-lamp watchers follow it). */
  onChange(listener: (call: ActiveCallInfo) => void): void {
    this.listeners.push(listener);
  }

  /** A call's state changed (the call reports it). */
  changed(call: Call): void {
    if (this.listeners.length === 0) return;
    const info = call.info();
    for (const listener of this.listeners) listener(info);
  }

  /**
   * Whether one more call for this party fits its limits: 486 when the subscriber's own limit is
   * reached (the user is busy), 503 when the customer's is (a capacity problem). `callId`: a call
   * already counted (a forwarded call reaching another party) needs no new room in a customer it
   * already counts for.
   */
  admit(
    subscriberId: string | undefined,
    customerId: string | undefined,
    limits: CallLimits,
    callId?: string,
  ): Admission {
    if (
      subscriberId &&
      limits.subscriberMax != null &&
      (this.perSubscriber.get(subscriberId) ?? 0) >= limits.subscriberMax
    )
      return this.refused('subscriber', 'concurrent', { ok: false, status: 486, reason: 'Busy Here' });
    const counted = callId ? this.countedFor.get(callId) : undefined;
    if (
      customerId &&
      limits.customerMax != null &&
      !counted?.some(([map, key]) => map === this.perCustomer && key === customerId) &&
      (this.perCustomer.get(customerId) ?? 0) >= limits.customerMax
    )
      return this.refused('customer', 'concurrent', {
        ok: false,
        status: 503,
        reason: 'Service Unavailable',
      });
    return { ok: true };
  }

  /**
   * Whether one more call fits the concurrency and rate limits of `limits` (peer side: gateway and
   * peering group, 503 with Retry-After; a customer's rate: 403). Admitted: the call's start is counted
   * for every rate limit; its concurrency is counted by `hold` for as long as it lasts.
   */
  admitScopes(limits: readonly ScopeLimit[], now = Date.now()): Admission {
    for (const limit of limits) {
      const map =
        limit.scope === 'gateway' ? this.perGateway : limit.scope === 'group' ? this.perGroup : undefined;
      if (map && limit.maxConcurrent != null && (map.get(limit.id) ?? 0) >= limit.maxConcurrent)
        return this.refused(limit.scope, 'concurrent', {
          ok: false,
          status: 503,
          reason: 'Service Unavailable',
          retryAfter: RETRY_AFTER_BUSY_S,
        });
      if (limit.maxPerSecond != null && this.recentStarts(limit, now).length >= limit.maxPerSecond)
        return this.refused(
          limit.scope,
          'rate',
          limit.scope === 'customer'
            ? { ok: false, status: 403, reason: 'Call Rate Exceeded' }
            : { ok: false, status: 503, reason: 'Service Unavailable', retryAfter: 1 },
        );
    }
    for (const limit of limits) if (limit.maxPerSecond != null) this.recentStarts(limit, now).push(now);
    return { ok: true };
  }

  /** The starts of the last second under `limit`'s rate, older ones dropped (the array is live). */
  private recentStarts(limit: ScopeLimit, now: number): number[] {
    const key = `${limit.scope}:${limit.id}`;
    const kept = (this.starts.get(key) ?? []).filter((t) => t > now - RATE_WINDOW_MS);
    this.starts.set(key, kept);
    return kept;
  }

  /** Concurrent calls counted now for one gateway or peering group (metrics, tests). */
  peerCount(scope: 'gateway' | 'group', id: string): number {
    return (scope === 'gateway' ? this.perGateway : this.perGroup).get(id) ?? 0;
  }

  /** Counts `call` for the given parties until `release` is called. */
  add(call: Call, parties: CountedParty[]): () => void {
    this.calls.set(call.callId, call);
    const release = this.hold(call.callId, parties);
    this.changed(call);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.calls.delete(call.callId);
      release();
    };
  }

  /**
   * Counts the call `callId` for more parties (a forwarded call for the subscriber it reaches) until
   * `release` is called. A subscriber or customer the call already counts for is not counted again:
   * a call inside one customer counts once for it.
   */
  hold(callId: string, parties: CountedParty[]): () => void {
    const already = this.countedFor.get(callId) ?? [];
    const counted: Counter[] = [];
    const isCounted = (map: Map<string, number>, key: string): boolean =>
      [...already, ...counted].some(([m, k]) => m === map && k === key);
    for (const party of parties) {
      if (party.subscriberId && !isCounted(this.perSubscriber, party.subscriberId))
        counted.push([this.perSubscriber, party.subscriberId]);
      if (party.customerId && !isCounted(this.perCustomer, party.customerId))
        counted.push([this.perCustomer, party.customerId]);
      if (party.gatewayId && !isCounted(this.perGateway, party.gatewayId))
        counted.push([this.perGateway, party.gatewayId]);
      if (party.groupId && !isCounted(this.perGroup, party.groupId))
        counted.push([this.perGroup, party.groupId]);
    }
    for (const [map, key] of counted) map.set(key, (map.get(key) ?? 0) + 1);
    this.countedFor.set(callId, [...already, ...counted]);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      for (const [map, key] of counted) {
        const left = (map.get(key) ?? 1) - 1;
        if (left <= 0) map.delete(key);
        else map.set(key, left);
      }
      const remaining = (this.countedFor.get(callId) ?? []).filter((c) => !counted.includes(c));
      if (remaining.length > 0) this.countedFor.set(callId, remaining);
      else this.countedFor.delete(callId);
    };
  }

  /** The subscriber takes part in a call on this node (a hunt group skips it as busy). */
  inCall(subscriberId: string): boolean {
    return (this.perSubscriber.get(subscriberId) ?? 0) > 0;
  }

  count(): number {
    return this.calls.size;
  }

  list(): ActiveCallInfo[] {
    return [...this.calls.values()].map((call) => call.info());
  }

  /** Hangs up the call `callId` if this node handles it; false when it does not. */
  hangUp(callId: string, why: string): boolean {
    const call = this.calls.get(callId);
    if (call === undefined) return false;
    call.hangUp(why);
    return true;
  }

  callIds(): string[] {
    return [...this.calls.keys()];
  }
}
