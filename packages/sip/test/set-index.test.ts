import { describe, expect, it } from 'vitest';
import { SetIndex } from '../src/collections/set-index.ts';

describe('SetIndex', () => {
  it('groups values by key and drops a group once its last value leaves', () => {
    const index = new SetIndex<string, number>();
    index.add('a', 1);
    index.add('a', 2);
    index.add('b', 3);
    expect([...(index.get('a') ?? [])]).toEqual([1, 2]);
    index.delete('a', 1);
    expect([...(index.get('a') ?? [])]).toEqual([2]);
    index.delete('a', 2);
    expect(index.get('a')).toBeUndefined();
    index.delete('a', 2);
    expect([...(index.deleteKey('b') ?? [])]).toEqual([3]);
    expect(index.get('b')).toBeUndefined();
  });
});
