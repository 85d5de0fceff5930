/**
 * Counts events per key in a fixed window and says how long a key must wait once it has used its budget.
 * Used for login attempts (per client IP and per account) and for self sign-up (per IP). In-process state:
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

  /** Counts one event for `key` and returns how many the window now holds. */
  hit(key: string): number {
    const b = this.current(key);
    if (b !== undefined) {
      b.count += 1;
      return b.count;
    }
    if (this.buckets.size >= MAX_KEYS) this.sweep();
    this.buckets.set(key, { count: 1, resetAt: this.now() + this.limit.windowMs });
    return 1;
  }

  /**
   * Counts one event for `key` if it is within its budget: 0 when counted, else the seconds to wait. Check
   * and count are one synchronous step, so concurrent requests cannot all pass the check before any of them
   * is counted (the gap an `await` between `retryAfter` and `hit` would leave).
   */
  take(key: string): number {
    const wait = this.retryAfter(key);
    if (wait > 0) return wait;
    this.hit(key);
    return 0;
  }

  /** Gives back one event counted by `take`, e.g. an attempt that turned out to be a good login. */
  refund(key: string): void {
    const b = this.current(key);
    if (b === undefined) return;
    b.count -= 1;
    if (b.count <= 0) this.buckets.delete(key);
  }

  /** Live keys with their counts and when their window ends (for the operator's view). */
  entries(): { key: string; count: number; resetAt: number }[] {
    const now = this.now();
    const out: { key: string; count: number; resetAt: number }[] = [];
    for (const [key, b] of this.buckets) if (b.resetAt > now) out.push({ key, ...b });
    return out;
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
