import { LruMap } from '@switchboard/sip';

interface Bucket {
  tokens: number;
  updatedAt: number;
}

/**
 * One token bucket per key (a source address): `ratePerSecond` tokens flow in, up to `burst`; each
 * request takes one. The table is bounded: when full, the least recently used bucket is dropped, so a
 * spoofed-source flood cannot grow memory without limit (nor make each new source cost a walk over the
 * table: see LruMap).
 */
export class RateLimiter {
  private readonly buckets: LruMap<string, Bucket>;

  constructor(
    private ratePerSecond: number,
    private burst: number,
    maxKeys = 100_000,
    private readonly now: () => number = Date.now,
  ) {
    this.buckets = new LruMap(maxKeys);
  }

  /**
   * New rate and burst (an operator's setting changed). Buckets keep their tokens, capped at the new
   * burst on their next request.
   */
  configure(ratePerSecond: number, burst: number): void {
    this.ratePerSecond = ratePerSecond;
    this.burst = burst;
  }

  get enabled(): boolean {
    return this.ratePerSecond > 0;
  }

  /** Takes a token for `key`; false when its bucket is empty (the request should be refused). */
  take(key: string): boolean {
    if (!this.enabled) return true;
    const now = this.now();
    let bucket = this.buckets.get(key);
    if (bucket) {
      const refill = ((now - bucket.updatedAt) / 1000) * this.ratePerSecond;
      bucket.tokens = Math.min(this.burst, bucket.tokens + refill);
      bucket.updatedAt = now;
    } else {
      bucket = { tokens: this.burst, updatedAt: now };
    }
    this.buckets.set(key, bucket);
    if (bucket.tokens < 1) return false;
    bucket.tokens -= 1;
    return true;
  }

  get size(): number {
    return this.buckets.size;
  }
}
