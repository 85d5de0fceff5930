/** setTimeout cannot wait longer than 2^31-1 ms; a later deadline re-arms on the way. */
const MAX_TIMER_MS = 2_147_483_647;

/**
 * One timer for many deadlines: a binary min-heap of items by their deadline and a single timer armed
 * for the earliest one. Replaces a timer per item (a Timeout, its closure and a key string: some
 * 400 bytes per binding) with one array slot.
 *
 * Entries are never searched for: an item that is replaced or removed stays in the heap until its old
 * deadline comes, and `isCurrent` then tells current entries from stale ones (the
 * location service compares the binding with the one it holds). Stale entries are swept when they
 * outnumber the live ones, so the heap stays within twice the number of items.
 */
export class ExpiryQueue<T> {
  private heap: Array<{ at: number; item: T }> = [];
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
    return this.heap.length;
  }

  /** Adds an item at its current deadline (a refreshed item is added again; its old entry goes stale). */
  add(item: T): void {
    const at = this.deadline(item);
    this.push({ at, item });
    if (at < this.armedFor) this.arm();
  }

  /**
   * Drops stale and repeated entries when the heap holds more than twice `live` (how many items are
   * current) and more than `minimum` entries.
   */
  compact(live: number, minimum = 1024): void {
    if (this.heap.length <= minimum || this.heap.length <= 2 * live) return;
    const seen = new Set<T>();
    const entries = this.heap;
    this.heap = [];
    for (const entry of entries) {
      if (seen.has(entry.item) || !this.isCurrent(entry.item) || this.deadline(entry.item) !== entry.at)
        continue;
      seen.add(entry.item);
      this.push(entry);
    }
    this.arm();
  }

  /** Forgets every entry and stops the timer. */
  clear(): void {
    this.heap = [];
    this.disarm();
  }

  private disarm(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.armedFor = Number.POSITIVE_INFINITY;
  }

  private arm(): void {
    this.disarm();
    const first = this.heap[0];
    if (!first) return;
    this.armedFor = first.at;
    const delay = Math.min(Math.max(0, first.at - this.now()), MAX_TIMER_MS);
    this.timer = setTimeout(() => this.fire(), delay);
    this.timer.unref();
  }

  private fire(): void {
    this.timer = undefined;
    this.armedFor = Number.POSITIVE_INFINITY;
    const now = this.now();
    while (this.heap.length > 0 && this.heap[0]!.at <= now) {
      const { at, item } = this.pop();
      // A replaced or removed item is stale; an item whose deadline moved later in place waits again.
      if (!this.isCurrent(item)) continue;
      const due = this.deadline(item);
      if (due > now) {
        if (due !== at) this.push({ at: due, item });
        continue;
      }
      this.onExpired(item);
    }
    this.arm();
  }

  private push(entry: { at: number; item: T }): void {
    this.heap.push(entry);
    this.siftUp(this.heap.length - 1);
  }

  private pop(): { at: number; item: T } {
    const heap = this.heap;
    const top = heap[0]!;
    const last = heap.pop()!;
    if (heap.length > 0) {
      heap[0] = last;
      this.siftDown(0);
    }
    return top;
  }

  private siftUp(index: number): void {
    const heap = this.heap;
    const entry = heap[index]!;
    while (index > 0) {
      const parent = (index - 1) >> 1;
      if (heap[parent]!.at <= entry.at) break;
      heap[index] = heap[parent]!;
      index = parent;
    }
    heap[index] = entry;
  }

  private siftDown(index: number): void {
    const heap = this.heap;
    const entry = heap[index]!;
    const length = heap.length;
    for (;;) {
      let child = 2 * index + 1;
      if (child >= length) break;
      if (child + 1 < length && heap[child + 1]!.at < heap[child]!.at) child++;
      if (heap[child]!.at >= entry.at) break;
      heap[index] = heap[child]!;
      index = child;
    }
    heap[index] = entry;
  }
}
