import type { Call } from './call.ts';
import type { ActiveCallInfo } from './call-types.ts';

export interface CallLimits {
  /** Concurrent calls of the subscriber (as caller or callee); undefined: unlimited. */
  subscriberMax?: number | null | undefined;
  /** Concurrent calls of the subscriber's customer; undefined: unlimited. */
  customerMax?: number | null | undefined;
}

/** One count: the map (per subscriber or per customer) and the key in it. */
type Counter = [Map<string, number>, string];

export type Admission = { ok: true } | { ok: false; status: number; reason: string };

/**
 * The calls this node is handling, with the per-subscriber and per-customer counts the limits
 * check. A call counts for its caller's and its callee's subscriber and customer.
 */
export class ActiveCalls {
  private readonly calls = new Map<string, Call>();
  private readonly perSubscriber = new Map<string, number>();
  private readonly perCustomer = new Map<string, number>();
  /** What each call is counted for, so that a forwarded call is not counted twice for one party. */
  private readonly countedFor = new Map<string, Counter[]>();
  private readonly listeners: Array<(call: ActiveCallInfo) => void> = [];

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
      return { ok: false, status: 486, reason: 'Busy Here' };
    const counted = callId ? this.countedFor.get(callId) : undefined;
    if (
      customerId &&
      limits.customerMax != null &&
      !counted?.some(([map, key]) => map === this.perCustomer && key === customerId) &&
      (this.perCustomer.get(customerId) ?? 0) >= limits.customerMax
    )
      return { ok: false, status: 503, reason: 'Service Unavailable' };
    return { ok: true };
  }

  /** Counts `call` for the given parties until `release` is called. */
  add(
    call: Call,
    parties: Array<{ subscriberId?: string | undefined; customerId?: string | undefined }>,
  ): () => void {
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
  hold(
    callId: string,
    parties: Array<{ subscriberId?: string | undefined; customerId?: string | undefined }>,
  ): () => void {
    const already = this.countedFor.get(callId) ?? [];
    const counted: Counter[] = [];
    const isCounted = (map: Map<string, number>, key: string): boolean =>
      [...already, ...counted].some(([m, k]) => m === map && k === key);
    for (const party of parties) {
      if (party.subscriberId && !isCounted(this.perSubscriber, party.subscriberId))
        counted.push([this.perSubscriber, party.subscriberId]);
      if (party.customerId && !isCounted(this.perCustomer, party.customerId))
        counted.push([this.perCustomer, party.customerId]);
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
