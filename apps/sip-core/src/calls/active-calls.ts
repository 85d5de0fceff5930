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

/** Room for a call in its parties' counts (`release` at its end), or the refusal. */
export type Admission = { ok: true; release: () => void } | { ok: false; status: number; reason: string };

/**
 * The calls this node is handling (live-state API, hang-up, presence), and the admission to the
 * per-subscriber and per-customer concurrency limits. A call counts for its caller's and its callee's
 * subscriber and customer; the counts live in `CallCounters`: in this process, or in Redis where
 * several workers or nodes share them (call-counters.ts).
 */
export class ActiveCalls {
  private readonly calls = new Map<string, Call>();
  private readonly listeners: Array<(call: ActiveCallInfo) => void> = [];

  constructor(readonly counters: CallCounters = new InMemoryCallCounters()) {}

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
      ? { ok: false, status: 486, reason: 'Busy Here' }
      : { ok: false, status: 503, reason: 'Service Unavailable' };
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
