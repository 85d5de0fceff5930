import { describe, expect, it } from 'vitest';
import { LruMap } from '../src/collections/lru-map.ts';

describe('LruMap', () => {
  it('drops the key set longest ago beyond its limit; get does not make a key recent', () => {
    const map = new LruMap<string, number>(2);
    map.set('a', 1).set('b', 2);
    expect(map.get('a')).toBe(1);
    map.set('c', 3);
    expect([...map.entries()]).toEqual([
      ['b', 2],
      ['c', 3],
    ]);
    map.set('b', 20).set('d', 4);
    expect([...map.entries()]).toEqual([
      ['b', 20],
      ['d', 4],
    ]);
    expect(map.deleteOldest()).toEqual(['b', 20]);
    expect(map.oldest()).toEqual(['d', 4]);
    expect(map.delete('d')).toBe(true);
    expect([map.size, map.oldest(), map.deleteOldest()]).toEqual([0, undefined, undefined]);
  });

  it('over a long run answers as a Map kept in recency order', () => {
    const map = new LruMap<number, number>(100);
    const model = new Map<number, number>();
    let seed = 11;
    const random = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    for (let n = 0; n < 100_000; n++) {
      // a few keys set again and again, many set once, some deleted
      const key = random() < 0.3 ? Math.floor(random() * 5) : Math.floor(random() * 1000);
      if (random() < 0.05) {
        expect(map.delete(key)).toBe(model.delete(key));
        continue;
      }
      map.set(key, n);
      model.delete(key);
      model.set(key, n);
      if (model.size > 100) model.delete(model.keys().next().value as number);
      expect(map.size).toBe(model.size);
      if (n % 997 === 0) {
        expect(map.oldest()).toEqual(model.entries().next().value);
        expect([...map.entries()]).toEqual([...model.entries()]);
      }
    }
    expect([...map.entries()]).toEqual([...model.entries()]);
  });

  it('keeps its order when the newest or the only key is set again or deleted, and after clear', () => {
    const map = new LruMap<string, number>(3);
    map.set('a', 1).set('a', 2);
    expect([...map.entries()]).toEqual([['a', 2]]);
    map.set('b', 3).set('b', 4).set('c', 5);
    expect(map.delete('c')).toBe(true);
    map.set('d', 6).set('a', 7);
    expect([...map.entries()]).toEqual([
      ['b', 4],
      ['d', 6],
      ['a', 7],
    ]);
    const during: string[] = [];
    for (const [key] of map.entries()) {
      during.push(key);
      map.delete(key);
      map.set(`${key}'`, 0);
    }
    expect(during).toEqual(['b', 'd', 'a']);
    map.clear();
    expect([map.size, map.oldest(), [...map.entries()]]).toEqual([0, undefined, []]);
    map.set('e', 8);
    expect(map.deleteOldest()).toEqual(['e', 8]);
    expect(map.oldest()).toBeUndefined();
  });
});
