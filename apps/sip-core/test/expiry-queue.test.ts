import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ExpiryQueue } from '../src/location/expiry-queue.ts';

interface Item {
  name: string;
  expiresAt: number;
}

let clock = 0;
beforeEach(() => {
  clock = 1_000_000;
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
});
afterEach(() => vi.useRealTimers());

/** A queue over a map of current items by name, as the location service keeps its bindings. */
function setUp() {
  const current = new Map<string, Item>();
  const expired: string[] = [];
  const queue = new ExpiryQueue<Item>(
    (item) => item.expiresAt,
    (item) => current.get(item.name) === item,
    (item) => {
      current.delete(item.name);
      expired.push(item.name);
    },
    () => clock,
  );
  const put = (name: string, inMs: number): Item => {
    const item = { name, expiresAt: clock + inMs };
    current.set(name, item);
    queue.add(item);
    return item;
  };
  const advance = (ms: number) => {
    clock += ms;
    vi.advanceTimersByTime(ms);
  };
  return { queue, current, expired, put, advance };
}

describe('ExpiryQueue', () => {
  it('expires items in deadline order with one timer, whatever the order they were added in', () => {
    const { expired, put, advance } = setUp();
    put('c', 3_000);
    put('a', 1_000);
    put('b', 2_000);
    expect(vi.getTimerCount()).toBe(1);
    advance(999);
    expect(expired).toEqual([]);
    advance(1);
    expect(expired).toEqual(['a']);
    advance(2_000);
    expect(expired).toEqual(['a', 'b', 'c']);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('skips a replaced item at its old deadline and expires the new one at its own', () => {
    const { expired, put, advance } = setUp();
    put('a', 1_000);
    put('a', 5_000);
    advance(1_000);
    expect(expired).toEqual([]);
    advance(4_000);
    expect(expired).toEqual(['a']);
  });

  it('skips a removed item, and waits again for an item whose deadline moved later in place', () => {
    const { expired, current, put, advance } = setUp();
    put('gone', 1_000);
    const moved = put('moved', 1_000);
    current.delete('gone');
    moved.expiresAt = clock + 3_000;
    advance(1_000);
    expect(expired).toEqual([]);
    advance(2_000);
    expect(expired).toEqual(['moved']);
  });

  it('an earlier deadline re-arms the timer for it', () => {
    const { expired, put, advance } = setUp();
    put('late', 60_000);
    put('early', 1_000);
    advance(1_000);
    expect(expired).toEqual(['early']);
  });

  it('compacts stale entries once they outnumber the live ones', () => {
    const { queue, current, put, advance, expired } = setUp();
    for (let round = 0; round < 4; round++) for (let i = 0; i < 1000; i++) put(`item${i}`, 10_000 + round);
    expect(queue.size).toBe(4000);
    queue.compact(current.size);
    expect(queue.size).toBe(1000);
    advance(10_003);
    expect(expired).toHaveLength(1000);
    expect(queue.size).toBe(0);
  });

  it('clear forgets everything and stops the timer', () => {
    const { queue, expired, put, advance } = setUp();
    put('a', 1_000);
    queue.clear();
    expect(vi.getTimerCount()).toBe(0);
    advance(2_000);
    expect(expired).toEqual([]);
  });
});
