/** One concurrency count a call takes room in: a subscriber's or a customer's. */
export interface CounterClaim {
  kind: 'subscriber' | 'customer';
  id: string;
  /** The most calls this count may hold; null/undefined: unlimited (the call is still counted). */
  max?: number | null | undefined;
}

/**
 * The outcome of claiming room for a call: `release` gives the room back (at the call's end);
 * `failed` is the index of the first claim whose limit was reached (nothing was counted then).
 */
export type Claimed = { ok: true; release: () => void } | { ok: false; failed: number };

/**
 * Concurrent-call counts per subscriber and per customer. `claim` checks every limit and counts the
 * call for all of them as one atomic step, so two calls racing (on two workers or two nodes) cannot
 * both take the last room. A count the call already holds (a forwarded call reaching another
 * subscriber of the same customer) is neither checked nor counted again.
 *
 * `InMemoryCallCounters` serves one process; `RedisCallCounters` (redis-call-counters.ts) is shared by
 * every worker and node that uses the same Redis.
 */
export interface CallCounters {
  claim(callId: string, claims: CounterClaim[]): Promise<Claimed>;
  /** Current count (tests, metrics). */
  count(kind: CounterClaim['kind'], id: string): Promise<number>;
  close(): Promise<void>;
}

/** Claims with the same count once, in order (caller and callee of one customer count once). */
export function distinctClaims(claims: CounterClaim[]): CounterClaim[] {
  const seen = new Set<string>();
  return claims.filter((claim) => {
    const key = `${claim.kind}:${claim.id}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** The counts of one process: exact for a single node with a single sip-core worker. */
export class InMemoryCallCounters implements CallCounters {
  /** kind:id -> call-ids counted there. */
  private readonly counted = new Map<string, Set<string>>();

  claim(callId: string, claims: CounterClaim[]): Promise<Claimed> {
    return Promise.resolve(this.claimNow(callId, claims));
  }

  claimNow(callId: string, claims: CounterClaim[]): Claimed {
    const wanted = distinctClaims(claims);
    const fresh: string[] = [];
    for (const [index, claim] of claims.entries()) {
      if (!wanted.includes(claim)) continue;
      const key = `${claim.kind}:${claim.id}`;
      const calls = this.counted.get(key);
      if (calls?.has(callId)) continue;
      if (claim.max != null && (calls?.size ?? 0) >= claim.max) return { ok: false, failed: index };
      fresh.push(key);
    }
    for (const key of fresh) {
      let calls = this.counted.get(key);
      if (!calls) {
        calls = new Set();
        this.counted.set(key, calls);
      }
      calls.add(callId);
    }
    let released = false;
    const counted = this.counted;
    return {
      ok: true,
      // A method, not a named arrow (docs/performance.md, "What a name made at run time costs").
      release() {
        if (released) return;
        released = true;
        for (const key of fresh) {
          const calls = counted.get(key);
          calls?.delete(callId);
          if (calls?.size === 0) counted.delete(key);
        }
      },
    };
  }

  count(kind: CounterClaim['kind'], id: string): Promise<number> {
    return Promise.resolve(this.counted.get(`${kind}:${id}`)?.size ?? 0);
  }

  close(): Promise<void> {
    this.counted.clear();
    return Promise.resolve();
  }
}
