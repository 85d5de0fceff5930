/**
 * Counts events per key in a fixed window and says how long a key must wait once it has used its budget.
 * Used for login failures (per client IP and per account) and for self sign-up (per IP). In-process state:
 * one API process guards itself; several API processes each keep their own budget.
 */
export interface WindowLimit {
  /** Events allowed in one window. */
  max: number;
  windowMs: number;
}

interface Bucket {
  count: number;
  resetAt: number;
}

/** Upper bound on tracked keys so that a flood of distinct keys cannot grow memory without limit. */
const MAX_KEYS = 50_000;

export class WindowLimiter {
  private readonly buckets = new Map<string, Bucket>();

  constructor(
    private readonly limit: WindowLimit,
    private readonly now: () => number = Date.now,
  ) {}

  /** Seconds until `key` may try again, or 0 when it is within its budget. Does not count anything. */
  retryAfter(key: string): number {
    const b = this.current(key);
    if (b === undefined || b.count < this.limit.max) return 0;
    return Math.ceil((b.resetAt - this.now()) / 1000);
  }

  /** Counts one event for `key`. */
  hit(key: string): void {
    const b = this.current(key);
    if (b !== undefined) {
      b.count += 1;
      return;
    }
    if (this.buckets.size >= MAX_KEYS) this.sweep();
    this.buckets.set(key, { count: 1, resetAt: this.now() + this.limit.windowMs });
  }

  /** Forgets `key`, e.g. after a successful login. */
  reset(key: string): void {
    this.buckets.delete(key);
  }

  private current(key: string): Bucket | undefined {
    const b = this.buckets.get(key);
    if (b === undefined) return undefined;
    if (b.resetAt <= this.now()) {
      this.buckets.delete(key);
      return undefined;
    }
    return b;
  }

  private sweep(): void {
    const now = this.now();
    for (const [k, b] of this.buckets) if (b.resetAt <= now) this.buckets.delete(k);
    // Still full of live keys: drop the oldest (Map keeps insertion order) rather than grow.
    while (this.buckets.size >= MAX_KEYS) {
      const first = this.buckets.keys().next();
      if (first.done) break;
      this.buckets.delete(first.value);
    }
  }
}
