import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { FollowOptions } from '../src/follow.ts';
import { followDatabase } from '../src/follow.ts';
import { NumberingIndex } from '../src/numbering-index.ts';
import { emptyNumberingData } from '../src/types.ts';
import { sampleData } from './fixtures.ts';

/** A database stand-in that hands the test the change handler and the reconnect hook. */
function fakeDb() {
  const hooks: { notify: (payload: string) => void; reconnect: () => void; stopped: boolean } = {
    notify: () => undefined,
    reconnect: () => undefined,
    stopped: false,
  };
  const db: FollowOptions['db'] = {
    prisma: undefined as never,
    onChange: async (_channel, handler, options) => {
      hooks.notify = handler;
      hooks.reconnect = options?.onReconnect ?? (() => undefined);
      return async () => {
        hooks.stopped = true;
      };
    },
  };
  return { db, hooks };
}

describe('followDatabase reload policy', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('loads at start, reloads on numbering changes only, coalescing bursts', async () => {
    const { db, hooks } = fakeDb();
    const index = new NumberingIndex();
    const load = vi.fn(async () => sampleData());
    const follower = await followDatabase({ db, index, load, debounceMs: 100 });
    await vi.advanceTimersByTimeAsync(0);
    expect(load).toHaveBeenCalledTimes(1);
    await expect(follower.ready).resolves.toMatchObject({ version: 1 });
    expect(index.lookupNumber('+4311001')).not.toBeNull();

    hooks.notify(JSON.stringify({ table: 'ip_bans', op: 'insert', id: 'x' }));
    hooks.notify(JSON.stringify({ table: 'call_forwards', op: 'update', id: 'x' }));
    await vi.advanceTimersByTimeAsync(1_000);
    expect(load).toHaveBeenCalledTimes(1);

    for (const table of ['numbers', 'subscribers', 'peering_rules']) {
      hooks.notify(JSON.stringify({ table, op: 'update', id: 'x' }));
    }
    await vi.advanceTimersByTimeAsync(99);
    expect(load).toHaveBeenCalledTimes(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(load).toHaveBeenCalledTimes(2);

    hooks.notify('not json');
    await vi.advanceTimersByTimeAsync(100);
    expect(load).toHaveBeenCalledTimes(3);

    hooks.reconnect();
    await vi.advanceTimersByTimeAsync(0);
    expect(load).toHaveBeenCalledTimes(4);
    expect(index.version).toBe(4);

    await follower.close();
    expect(hooks.stopped).toBe(true);
  });

  it('reloads once more when a change arrives during a reload', async () => {
    const { db, hooks } = fakeDb();
    let release: () => void = () => undefined;
    const load = vi.fn(
      () => new Promise<ReturnType<typeof sampleData>>((resolve) => (release = () => resolve(sampleData()))),
    );
    const follower = await followDatabase({ db, index: new NumberingIndex(), load, debounceMs: 10 });
    await vi.advanceTimersByTimeAsync(0);
    expect(load).toHaveBeenCalledTimes(1);
    hooks.notify(JSON.stringify({ table: 'numbers', op: 'insert', id: 'x' }));
    hooks.notify(JSON.stringify({ table: 'numbers', op: 'insert', id: 'y' }));
    await vi.advanceTimersByTimeAsync(50);
    expect(load).toHaveBeenCalledTimes(1); // still running: the change is remembered, not lost
    release();
    await vi.advanceTimersByTimeAsync(10);
    expect(load).toHaveBeenCalledTimes(2);
    release();
    await vi.advanceTimersByTimeAsync(0);
    await follower.close();
  });

  it('keeps the previous snapshot when a reload fails, and retries with backoff', async () => {
    const { db, hooks } = fakeDb();
    const index = new NumberingIndex();
    let fail = false;
    const load = vi.fn(async () => {
      if (fail) throw new Error('connection refused');
      return sampleData();
    });
    const follower = await followDatabase({ db, index, load, debounceMs: 10 });
    await vi.advanceTimersByTimeAsync(0);
    expect(index.version).toBe(1);

    fail = true;
    hooks.notify(JSON.stringify({ table: 'numbers', op: 'delete', id: 'x' }));
    await vi.advanceTimersByTimeAsync(10);
    expect(load).toHaveBeenCalledTimes(2);
    expect(index.version).toBe(1);
    expect(index.lookupNumber('+4311001')).not.toBeNull();

    await vi.advanceTimersByTimeAsync(999);
    expect(load).toHaveBeenCalledTimes(2);
    await vi.advanceTimersByTimeAsync(1);
    expect(load).toHaveBeenCalledTimes(3); // first retry after 1 s
    await vi.advanceTimersByTimeAsync(1_999);
    expect(load).toHaveBeenCalledTimes(3);
    fail = false;
    await vi.advanceTimersByTimeAsync(1);
    expect(load).toHaveBeenCalledTimes(4); // second retry after 2 s, succeeds
    expect(index.version).toBe(2);
    await follower.close();
  });

  it('stops reloading once closed', async () => {
    const { db, hooks } = fakeDb();
    const load = vi.fn(async () => emptyNumberingData());
    const follower = await followDatabase({ db, index: new NumberingIndex(), load, debounceMs: 10 });
    await vi.advanceTimersByTimeAsync(0);
    await follower.close();
    hooks.notify(JSON.stringify({ table: 'numbers', op: 'insert', id: 'x' }));
    await vi.advanceTimersByTimeAsync(1_000);
    expect(load).toHaveBeenCalledTimes(1);
  });
});
