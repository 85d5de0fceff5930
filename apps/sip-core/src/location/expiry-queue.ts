/** setTimeout cannot wait longer than 2^31-1 ms; a later deadline re-arms on the way. */
const MAX_TIMER_MS = 2_147_483_647;

/**
 * One timer for many deadlines: a binary min-heap of items by their deadline and a single timer armed
 * for the earliest one. Replaces a timer per item (a Timeout, its closure and a key string: some
 * 400 bytes per binding) with two array slots: the heap is two parallel arrays, the deadlines (an
 * array of doubles, stored unboxed) and the items, rather than an `{ at, item }` object per entry
 * with its deadline boxed (some 50 bytes more per entry).
 *
 * Entries are never searched for: an item that is replaced or removed stays in the heap until its old
 * deadline comes, and `isCurrent` then tells current entries from stale ones (the
 * location service compares the binding with the one it holds). Stale entries are swept when they
 * outnumber the live ones, so the heap stays within twice the number of items.
 */
export class ExpiryQueue<T> {
  /** Deadlines of the heap's entries (epoch ms); `items[i]` is the item of `ats[i]`. */
  private ats: number[] = [];
  private items: T[] = [];
  private timer: NodeJS.Timeout | undefined;
  private armedFor = Number.POSITIVE_INFINITY;

  constructor(
    /** The deadline of an item, epoch milliseconds, as it is now. */
    private readonly deadline: (item: T) => number,
    /** True when the entry still stands for the item (not refreshed or removed since it was added). */
    private readonly isCurrent: (item: T) => boolean,
    /** Called with each current item whose deadline has passed, in deadline order. */
    private readonly onExpired: (item: T) => void,
    private readonly now: () => number = Date.now,
  ) {}

  /** Entries held, stale ones included (diagnostics and tests). */
  get size(): number {
    return this.items.length;
  }

  /** Adds an item at its current deadline (a refreshed item is added again; its old entry goes stale). */
  add(item: T): void {
    const at = this.deadline(item);
    this.push(at, item);
    if (at < this.armedFor) this.arm();
  }

  /**
   * Drops stale and repeated entries when the heap holds more than twice `live` (how many items are
   * current) and more than `minimum` entries.
   */
  compact(live: number, minimum = 1024): void {
    if (this.items.length <= minimum || this.items.length <= 2 * live) return;
    const seen = new Set<T>();
    const ats = this.ats;
    const items = this.items;
    this.ats = [];
    this.items = [];
    for (let i = 0; i < items.length; i++) {
      const item = items[i]!;
      const at = ats[i]!;
      if (seen.has(item) || !this.isCurrent(item) || this.deadline(item) !== at) continue;
      seen.add(item);
      this.push(at, item);
    }
    this.arm();
  }

  /** Forgets every entry and stops the timer. */
  clear(): void {
    this.ats = [];
    this.items = [];
    this.disarm();
  }

  private disarm(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.armedFor = Number.POSITIVE_INFINITY;
  }

  private arm(): void {
    this.disarm();
    if (this.items.length === 0) return;
    const first = this.ats[0]!;
    this.armedFor = first;
    const delay = Math.min(Math.max(0, first - this.now()), MAX_TIMER_MS);
    this.timer = setTimeout(() => this.fire(), delay);
    this.timer.unref();
  }

  private fire(): void {
    this.timer = undefined;
    this.armedFor = Number.POSITIVE_INFINITY;
    const now = this.now();
    while (this.items.length > 0 && this.ats[0]! <= now) {
      const at = this.ats[0]!;
      const item = this.pop();
      // A replaced or removed item is stale; an item whose deadline moved later in place waits again.
      if (!this.isCurrent(item)) continue;
      const due = this.deadline(item);
      if (due > now) {
        if (due !== at) this.push(due, item);
        continue;
      }
      this.onExpired(item);
    }
    this.arm();
  }

  private push(at: number, item: T): void {
    this.ats.push(at);
    this.items.push(item);
    this.siftUp(this.items.length - 1, at, item);
  }

  /** Removes the earliest entry and returns its item. */
  private pop(): T {
    const { ats, items } = this;
    const top = items[0]!;
    const lastAt = ats.pop()!;
    const last = items.pop()!;
    if (items.length > 0) this.siftDown(0, lastAt, last);
    return top;
  }

  /** Places the entry (`at`, `item`) at `index` or above it. */
  private siftUp(index: number, at: number, item: T): void {
    const { ats, items } = this;
    while (index > 0) {
      const parent = (index - 1) >> 1;
      if (ats[parent]! <= at) break;
      ats[index] = ats[parent]!;
      items[index] = items[parent]!;
      index = parent;
    }
    ats[index] = at;
    items[index] = item;
  }

  /** Places the entry (`at`, `item`) at `index` or below it. */
  private siftDown(index: number, at: number, item: T): void {
    const { ats, items } = this;
    const length = items.length;
    for (;;) {
      let child = 2 * index + 1;
      if (child >= length) break;
      if (child + 1 < length && ats[child + 1]! < ats[child]!) child++;
      if (ats[child]! >= at) break;
      ats[index] = ats[child]!;
      items[index] = items[child]!;
      index = child;
    }
    ats[index] = at;
    items[index] = item;
  }
}
