/** Targets remembered at most; beyond it the entries whose wait ended are dropped first. */
const MAX_ENTRIES = 100_000;

/**
 * Where a push service answered 429: nothing goes to that target (a device token, or a whole
 * project when the quota is the project's) until the Retry-After time has passed.
 */
export class RetryAfterGate {
  private readonly until = new Map<string, number>();

  /** Milliseconds still to wait for `key`, or 0. */
  remaining(key: string, now: number): number {
    const until = this.until.get(key);
    if (until === undefined) return 0;
    if (until <= now) {
      this.until.delete(key);
      return 0;
    }
    return until - now;
  }

  block(key: string, ms: number, now: number): void {
    if (this.until.size >= MAX_ENTRIES) {
      for (const [k, until] of this.until) if (until <= now) this.until.delete(k);
      // Still full: the oldest entry (Map order) gives way.
      if (this.until.size >= MAX_ENTRIES) {
        const first = this.until.keys().next();
        if (!first.done) this.until.delete(first.value);
      }
    }
    this.until.set(key, now + ms);
  }
}
