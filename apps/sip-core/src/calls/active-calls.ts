import type { ActiveCallInfo, Call } from './call.ts';

export interface CallLimits {
  /** Concurrent calls of the subscriber (as caller or callee); undefined: unlimited. */
  subscriberMax?: number | null | undefined;
  /** Concurrent calls of the subscriber's customer; undefined: unlimited. */
  customerMax?: number | null | undefined;
}

export type Admission = { ok: true } | { ok: false; status: number; reason: string };

/**
 * The calls this node is handling, with the per-subscriber and per-customer counts the limits
 * check. A call counts for its caller's and its callee's subscriber and customer.
 */
export class ActiveCalls {
  private readonly calls = new Map<string, Call>();
  private readonly perSubscriber = new Map<string, number>();
  private readonly perCustomer = new Map<string, number>();

  /**
   * Whether one more call for this party fits its limits: 486 when the subscriber's own limit is
   * reached (the user is busy), 503 when the customer's is (a capacity problem).
   */
  admit(subscriberId: string | undefined, customerId: string | undefined, limits: CallLimits): Admission {
    if (
      subscriberId &&
      limits.subscriberMax != null &&
      (this.perSubscriber.get(subscriberId) ?? 0) >= limits.subscriberMax
    )
      return { ok: false, status: 486, reason: 'Busy Here' };
    if (
      customerId &&
      limits.customerMax != null &&
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
    const release = this.hold(parties);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.calls.delete(call.callId);
      release();
    };
  }

  /**
   * Counts a call already added for more parties (a forwarded call for the subscriber it reaches)
   * until `release` is called.
   */
  hold(parties: Array<{ subscriberId?: string | undefined; customerId?: string | undefined }>): () => void {
    const counted: Array<[Map<string, number>, string]> = [];
    for (const party of parties) {
      if (party.subscriberId) counted.push([this.perSubscriber, party.subscriberId]);
      if (party.customerId) counted.push([this.perCustomer, party.customerId]);
    }
    // A call inside one customer counts once for it.
    const unique = counted.filter(
      ([map, key], index) => counted.findIndex(([m, k]) => m === map && k === key) === index,
    );
    for (const [map, key] of unique) map.set(key, (map.get(key) ?? 0) + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      for (const [map, key] of unique) {
        const left = (map.get(key) ?? 1) - 1;
        if (left <= 0) map.delete(key);
        else map.set(key, left);
      }
    };
  }

  count(): number {
    return this.calls.size;
  }

  list(): ActiveCallInfo[] {
    return [...this.calls.values()].map((call) => call.info());
  }

  callIds(): string[] {
    return [...this.calls.keys()];
  }
}
