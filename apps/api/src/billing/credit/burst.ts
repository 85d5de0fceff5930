/**
 * Call bursts per customer, in memory (docs/billing.md, "Fraud limits"): more than `limit` calls
 * started within `windowMs` is a burst, reported once per window. Only the last `limit + 1` start
 * times of a customer are kept: the burst is there exactly when the oldest of them is inside the
 * window, so memory does not grow with the call rate.
 */

interface Window {
  starts: number[];
  /** No further burst is reported before this time (one report per window). */
  quietUntil: number;
}

export interface Burst {
  /** Calls started within the window, this one included (the threshold plus one). */
  calls: number;
  /** The oldest of them. */
  since: number;
}

export class BurstWindows {
  readonly #windows = new Map<string, Window>();

  /** Records a call start; a burst when this call makes one and none was reported within the window. */
  record(customerId: string, now: number, limit: number, windowMs: number): Burst | undefined {
    let w = this.#windows.get(customerId);
    if (!w) {
      w = { starts: [], quietUntil: 0 };
      this.#windows.set(customerId, w);
    }
    w.starts.push(now);
    while (w.starts.length > limit + 1) w.starts.shift();
    const oldest = w.starts[0] ?? now;
    if (w.starts.length <= limit || now - oldest >= windowMs || now < w.quietUntil) return undefined;
    w.quietUntil = now + windowMs;
    return { calls: w.starts.length, since: oldest };
  }

  /** Forgets the customers whose burst alert was switched off. */
  retain(keep: (customerId: string) => boolean): void {
    for (const id of this.#windows.keys()) if (!keep(id)) this.#windows.delete(id);
  }
}
