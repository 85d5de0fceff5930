/**
 * Values grouped by a key, each group a Set: the secondary indexes that let an event find what it names
 * (a dialog's pending requests, a connection's flows, a presentity's subscriptions) without walking
 * everything. A group that empties is dropped, so the index holds only keys that still have values.
 */
export class SetIndex<K, V> {
  private readonly groups = new Map<K, Set<V>>();

  /** The values under `key`, if any (live: do not keep it across changes). */
  get(key: K): ReadonlySet<V> | undefined {
    return this.groups.get(key);
  }

  add(key: K, value: V): void {
    const group = this.groups.get(key);
    if (group) group.add(value);
    else this.groups.set(key, new Set([value]));
  }

  delete(key: K, value: V): void {
    const group = this.groups.get(key);
    if (!group) return;
    group.delete(value);
    if (group.size === 0) this.groups.delete(key);
  }

  /** Drops the whole group; the values it held. */
  deleteKey(key: K): ReadonlySet<V> | undefined {
    const group = this.groups.get(key);
    this.groups.delete(key);
    return group;
  }

  clear(): void {
    this.groups.clear();
  }
}
