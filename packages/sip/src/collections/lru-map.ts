/**
 * A Map that knows which key was set longest ago: the bounded tables of the SIP path (nonces issued,
 * nonce counts, rate-limit buckets, failure counters, the call capture) drop that one first.
 *
 * A plain Map kept in recency order (delete, then set again; evict `keys().next()`) looks the same but
 * costs in V8 what the table holds: deleted slots stay in place until the table is rehashed, and each
 * look for the first key walks over every hole in front of it. At 10,000 keys that was about 5 µs per
 * eviction (bench/lru-map.bench.ts), on every REGISTER challenged. Here each `set` appends the key to
 * a queue with its touch number; only a key's latest touch counts, older ones are skipped when they
 * reach the front, and the queue is cut back once it is mostly consumed or stale. Every operation is
 * amortised O(1).
 */
export class LruMap<K, V> {
  private readonly slots = new Map<K, { value: V; touch: number }>();
  /** Keys in the order they were set, from `head`, with the touch number of each set. */
  private keys: K[] = [];
  private touches: number[] = [];
  private head = 0;
  private touchCount = 0;

  /** `limit`: most keys kept; `set` drops the oldest beyond it. */
  constructor(private readonly limit = Number.POSITIVE_INFINITY) {}

  get size(): number {
    return this.slots.size;
  }

  /** The value, without making the key recent. */
  get(key: K): V | undefined {
    return this.slots.get(key)?.value;
  }

  has(key: K): boolean {
    return this.slots.has(key);
  }

  /** Sets the value and makes the key the most recent; drops the oldest keys beyond the limit. */
  set(key: K, value: V): this {
    const touch = ++this.touchCount;
    const slot = this.slots.get(key);
    if (slot === undefined) this.slots.set(key, { value, touch });
    else {
      slot.value = value;
      slot.touch = touch;
    }
    this.keys.push(key);
    this.touches.push(touch);
    while (this.slots.size > this.limit) this.deleteOldest();
    this.compact();
    return this;
  }

  delete(key: K): boolean {
    return this.slots.delete(key);
  }

  /** The key set longest ago, with its value. */
  oldest(): [K, V] | undefined {
    while (this.head < this.keys.length) {
      const key = this.keys[this.head] as K;
      const slot = this.slots.get(key);
      if (slot !== undefined && slot.touch === this.touches[this.head]) return [key, slot.value];
      this.head++;
    }
    return undefined;
  }

  /** Drops the key set longest ago; returns it with its value. */
  deleteOldest(): [K, V] | undefined {
    const oldest = this.oldest();
    if (oldest !== undefined) {
      this.slots.delete(oldest[0]);
      this.head++;
    }
    return oldest;
  }

  clear(): void {
    this.slots.clear();
    this.keys = [];
    this.touches = [];
    this.head = 0;
  }

  /** Keys and values, oldest first. */
  *entries(): IterableIterator<[K, V]> {
    for (let i = this.head; i < this.keys.length; i++) {
      const key = this.keys[i] as K;
      const slot = this.slots.get(key);
      if (slot !== undefined && slot.touch === this.touches[i]) yield [key, slot.value];
    }
  }

  /**
   * Keeps the queue near the number of keys: stale touches (keys set again or deleted) are filtered out
   * once they outnumber the live keys several times over, and a consumed front is cut off once it is
   * most of the array.
   */
  private compact(): void {
    const queued = this.keys.length - this.head;
    if (queued > 4 * this.slots.size + 1024) {
      const keys: K[] = [];
      const touches: number[] = [];
      for (let i = this.head; i < this.keys.length; i++) {
        const key = this.keys[i] as K;
        if (this.slots.get(key)?.touch !== this.touches[i]) continue;
        keys.push(key);
        touches.push(this.touches[i] as number);
      }
      this.keys = keys;
      this.touches = touches;
      this.head = 0;
    } else if (this.head > 1024 && this.head * 2 > this.keys.length) {
      this.keys = this.keys.slice(this.head);
      this.touches = this.touches.slice(this.head);
      this.head = 0;
    }
  }
}
