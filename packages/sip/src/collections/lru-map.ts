/** One key of an LruMap, linked to the keys set just before and just after it. */
interface Entry<K, V> {
  readonly key: K;
  value: V;
  older: Entry<K, V> | undefined;
  newer: Entry<K, V> | undefined;
}

/**
 * A Map that knows which key was set longest ago: the bounded tables of the SIP path (nonces issued,
 * nonce counts, rate-limit buckets, failure counters, the call capture) drop that one first.
 *
 * A plain Map kept in recency order (delete, then set again; evict `keys().next()`) looks the same but
 * costs in V8 what the table holds: deleted slots stay in place until the table is rehashed, and each
 * look for the first key walks over every hole in front of it. At 10,000 keys that was about 5 µs per
 * eviction (bench/lru-map.bench.ts), on every REGISTER challenged. Here the keys are a list from the
 * oldest to the newest beside the Map: setting a key moves its entry to the newest end, the oldest is
 * the list's head. Every operation is O(1), and setting a key that is already there allocates nothing
 * (the rate limiter sets a busy source's bucket on every request).
 */
export class LruMap<K, V> {
  private readonly slots = new Map<K, Entry<K, V>>();
  private oldestEntry: Entry<K, V> | undefined;
  private newestEntry: Entry<K, V> | undefined;

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
    let entry = this.slots.get(key);
    if (entry === undefined) {
      entry = { key, value, older: undefined, newer: undefined };
      this.slots.set(key, entry);
    } else {
      entry.value = value;
      if (entry === this.newestEntry) return this;
      this.unlink(entry);
    }
    this.append(entry);
    while (this.slots.size > this.limit) this.deleteOldest();
    return this;
  }

  delete(key: K): boolean {
    const entry = this.slots.get(key);
    if (entry === undefined) return false;
    this.slots.delete(key);
    this.unlink(entry);
    return true;
  }

  /** The key set longest ago, with its value. */
  oldest(): [K, V] | undefined {
    const entry = this.oldestEntry;
    return entry === undefined ? undefined : [entry.key, entry.value];
  }

  /** Drops the key set longest ago; returns it with its value. */
  deleteOldest(): [K, V] | undefined {
    const entry = this.oldestEntry;
    if (entry === undefined) return undefined;
    this.slots.delete(entry.key);
    this.unlink(entry);
    return [entry.key, entry.value];
  }

  clear(): void {
    this.slots.clear();
    this.oldestEntry = undefined;
    this.newestEntry = undefined;
  }

  /** Keys and values, oldest first, as they are when it is called (a copy: the map may change meanwhile). */
  entries(): IterableIterator<[K, V]> {
    const all: Array<[K, V]> = [];
    for (let entry = this.oldestEntry; entry !== undefined; entry = entry.newer)
      all.push([entry.key, entry.value]);
    return all[Symbol.iterator]();
  }

  private append(entry: Entry<K, V>): void {
    entry.older = this.newestEntry;
    entry.newer = undefined;
    if (this.newestEntry === undefined) this.oldestEntry = entry;
    else this.newestEntry.newer = entry;
    this.newestEntry = entry;
  }

  private unlink(entry: Entry<K, V>): void {
    const { older, newer } = entry;
    if (older === undefined) this.oldestEntry = newer;
    else older.newer = newer;
    if (newer === undefined) this.newestEntry = older;
    else newer.older = older;
    entry.older = undefined;
    entry.newer = undefined;
  }
}
