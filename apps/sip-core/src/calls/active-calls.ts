import type { Call } from './call.ts';
import { type CallCounters, type CounterClaim, InMemoryCallCounters } from './call-counters.ts';
import type { ActiveCallInfo } from './call-types.ts';

/** A party of a call as the limits see it: its subscriber and customer, with their limits. */
export interface CountedParty {
  subscriberId?: string | undefined;
  customerId?: string | undefined;
  /** Concurrent calls of the subscriber (as caller or callee); null/undefined: unlimited. */
  subscriberMax?: number | null | undefined;
  /** Concurrent calls of the subscriber's customer; null/undefined: unlimited. */
  customerMax?: number | null | undefined;
}

/** The peer side of a call: the gateway its leg goes to or came from, and the gateway's peering group. */
export interface PeerParty {
  gatewayId: string;
  groupId: string;
}

/** Where refusals are counted (switchboard_calls_refused_total). */
export interface RefusalCounter {
  inc(labels: { scope: string; limit: string }): void;
}

/** Room for a call in its parties' counts (`release` at its end), or the refusal. */
export type Admission = { ok: true; release: () => void } | { ok: false; status: number; reason: string };

/**
 * Call admission control's answer; `retryAfter` (seconds) goes out as Retry-After (RFC 3261 §21.5.4:
 * a 503 for an overload that passes).
 */
export type ScopeAdmission = { ok: true } | ScopeRefusal;

export interface ScopeRefusal {
  ok: false;
  status: number;
  reason: string;
  retryAfter?: number | undefined;
}

/** Call admission control of one gateway, peering group or customer (docs/sbc.md). */
export interface ScopeLimit {
  scope: 'gateway' | 'group' | 'customer' | 'node';
  id: string;
  /** Concurrent calls (gateways, groups and the node; a customer's is `CountedParty.customerMax`). */
  maxConcurrent?: number | undefined;
  /** New calls in any one second. */
  maxPerSecond?: number | undefined;
}

/** Seconds a peer is told to wait when its concurrency limit is reached (a call rate: one second). */
export const RETRY_AFTER_BUSY_S = 5;

/** The window of a calls-per-second limit. */
const RATE_WINDOW_MS = 1000;

/**
 * The calls this node is handling (live-state API, hang-up, presence), and the admission to their
 * limits:
 * - per subscriber and per customer, concurrent calls: a call counts for its caller's and its callee's
 *   subscriber and customer; the counts live in `CallCounters`, in this process or in Redis where
 *   several workers or nodes share them (call-counters.ts);
 * - per gateway and peering group (call admission control, docs/sbc.md), concurrent calls and new
 *   calls per second, and a customer's new calls per second: counted on this node.
 */
export class ActiveCalls {
  private readonly calls = new Map<string, Call>();
  private readonly listeners: Array<(call: ActiveCallInfo) => void> = [];
  private readonly perGateway = new Map<string, number>();
  private readonly perGroup = new Map<string, number>();
  /** Start times in the last second per `scope:id` with a rate limit (at most its limit of them). */
  private readonly starts = new Map<string, number[]>();
  /** Calls admitted under this process's share of the node's limit and not ended yet. */
  private nodeHeld = 0;
  private refusals: RefusalCounter | undefined;

  /** `workers`: the node's sip-core workers, among which the node's own limits are shared. */
  constructor(
    readonly counters: CallCounters = new InMemoryCallCounters(),
    private readonly workers = 1,
  ) {}

  /** Counts every refusal into `counter` (switchboard_calls_refused_total). */
  countRefusalsIn(counter: RefusalCounter): void {
    this.refusals = counter;
  }

  private refused<T>(scope: string, limit: 'concurrent' | 'rate', refusal: T): T {
    this.refusals?.inc({ scope, limit });
    return refusal;
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
   * Counts the call `callId` for `parties` if one more call fits all their limits, in one atomic step:
   * 486 when a subscriber's own limit is reached (the user is busy), 503 when a customer's is (a
   * capacity problem). A count the call already holds (a forwarded call reaching another subscriber of
   * a customer it counts for) needs no new room.
   */
  async admit(callId: string, parties: CountedParty[]): Promise<Admission> {
    const claims: CounterClaim[] = [];
    for (const party of parties) {
      if (party.subscriberId)
        claims.push({ kind: 'subscriber', id: party.subscriberId, max: party.subscriberMax });
      if (party.customerId) claims.push({ kind: 'customer', id: party.customerId, max: party.customerMax });
    }
    const claimed = await this.counters.claim(callId, claims);
    if (claimed.ok) return claimed;
    return claims[claimed.failed]?.kind === 'subscriber'
      ? this.refused('subscriber', 'concurrent', { ok: false, status: 486, reason: 'Busy Here' })
      : this.refused('customer', 'concurrent', { ok: false, status: 503, reason: 'Service Unavailable' });
  }

  /**
   * Whether one more call fits the concurrency and rate limits of `limits` (peer side: gateway and
   * peering group, 503 with Retry-After; a customer's rate: 403). Admitted: the call's start is counted
   * for every rate limit; its concurrency is counted by `holdPeer` for as long as it lasts.
   */
  admitScopes(limits: readonly ScopeLimit[], now = Date.now()): ScopeAdmission {
    for (const limit of limits) {
      const refusal = this.refusalBy(limit, now);
      if (refusal) return refusal;
    }
    for (const limit of limits) if (limit.maxPerSecond != null) this.recentStarts(limit, now).push(now);
    return { ok: true };
  }

  /** The refusal `limit` gives a new call now (counted as one), or undefined when it has room. */
  private refusalBy(limit: ScopeLimit, now: number): ScopeRefusal | undefined {
    const held = this.heldIn(limit);
    if (held !== undefined && limit.maxConcurrent != null && held >= limit.maxConcurrent)
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
    return undefined;
  }

  /** Concurrent calls counted here for a limit's scope (undefined for a customer: CallCounters counts those). */
  private heldIn(limit: ScopeLimit): number | undefined {
    if (limit.scope === 'node') return this.nodeHeld;
    if (limit.scope === 'customer') return undefined;
    return (limit.scope === 'gateway' ? this.perGateway : this.perGroup).get(limit.id) ?? 0;
  }

  /**
   * The starts of the last second under `limit`'s rate, older ones dropped in place (the array is
   * live): a node's limit keeps hundreds, and a new array per call would copy them all.
   */
  private recentStarts(limit: ScopeLimit, now: number): number[] {
    const key = `${limit.scope}:${limit.id}`;
    let kept = this.starts.get(key);
    if (kept === undefined) {
      kept = [];
      this.starts.set(key, kept);
    }
    let expired = 0;
    while (expired < kept.length && kept[expired]! <= now - RATE_WINDOW_MS) expired++;
    if (expired > 0) kept.splice(0, expired);
    return kept;
  }

  /**
   * This process's share of the node's limits (`calls.maxConcurrent`, `calls.maxPerSecond`), as a
   * scope for `admitScopes`; undefined when neither is set. Each of `workers` processes takes an
   * equal share, rounded up, as the engine spreads new calls evenly among them.
   */
  nodeScope(limits: { maxConcurrent: number; maxPerSecond: number }): ScopeLimit | undefined {
    if (limits.maxConcurrent <= 0 && limits.maxPerSecond <= 0) return undefined;
    const share = (limit: number) => (limit > 0 ? Math.ceil(limit / this.workers) : undefined);
    return {
      scope: 'node',
      id: 'node',
      maxConcurrent: share(limits.maxConcurrent),
      maxPerSecond: share(limits.maxPerSecond),
    };
  }

  /**
   * The refusal a new call gets now from the node's limits, or undefined when there is room; records
   * nothing (`admitScopes` counts the call when it is admitted). Lets a call be turned away before
   * the work of authenticating it.
   */
  nodeAtCapacity(
    limits: { maxConcurrent: number; maxPerSecond: number },
    now = Date.now(),
  ): ScopeRefusal | undefined {
    const node = this.nodeScope(limits);
    return node === undefined ? undefined : this.refusalBy(node, now);
  }

  /** Counts a call under the node's concurrency limit until the returned function is called. */
  holdNode(): () => void {
    this.nodeHeld++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.nodeHeld--;
    };
  }

  /** Counts a call for its gateway and peering group until the returned function is called. */
  holdPeer(peer: PeerParty): () => void {
    const counted: Array<[Map<string, number>, string]> = [
      [this.perGateway, peer.gatewayId],
      [this.perGroup, peer.groupId],
    ];
    for (const [map, key] of counted) map.set(key, (map.get(key) ?? 0) + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      for (const [map, key] of counted) {
        const left = (map.get(key) ?? 1) - 1;
        if (left <= 0) map.delete(key);
        else map.set(key, left);
      }
    };
  }

  /** Concurrent calls counted now for one gateway or peering group (metrics, tests). */
  peerCount(scope: 'gateway' | 'group', id: string): number {
    return (scope === 'gateway' ? this.perGateway : this.perGroup).get(id) ?? 0;
  }

  /** Whether the subscriber takes part in a call (a hunt group skips it as busy). */
  async inCall(subscriberId: string): Promise<boolean> {
    return (await this.counters.count('subscriber', subscriberId)) > 0;
  }

  /** Lists `call` until the returned function is called; that also runs `release` (its counts). */
  add(call: Call, release: () => void = () => {}): () => void {
    this.calls.set(call.callId, call);
    this.changed(call);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.calls.delete(call.callId);
      release();
    };
  }

  count(): number {
    return this.calls.size;
  }

  list(): ActiveCallInfo[] {
    return [...this.calls.values()].map((call) => call.info());
  }

  /** The call `callId` when this process handles it. */
  get(callId: string): Call | undefined {
    return this.calls.get(callId);
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
