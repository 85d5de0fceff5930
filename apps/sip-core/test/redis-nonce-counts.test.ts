import { randomUUID } from 'node:crypto';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { RedisNonceCounts } from '../src/access/redis-nonce-counts.ts';

/** The digest nonce-counts that sip-core workers and nodes share through a real Redis. */

const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const log = pino({ level: 'silent' });
const opened: RedisNonceCounts[] = [];

function counts(url = REDIS_URL, keyPrefix = `test:${randomUUID()}:`): RedisNonceCounts {
  const store = new RedisNonceCounts({ url, keyPrefix, nonceTtlMs: 300_000, log });
  opened.push(store);
  return store;
}

afterAll(async () => {
  await Promise.all(opened.map((store) => store.close()));
});

describe('RedisNonceCounts', () => {
  it('a count accepted by one process is a replay for another sharing the prefix, not for another platform', async () => {
    const prefix = `test:${randomUUID()}:`;
    const workerA = counts(REDIS_URL, prefix);
    const workerB = counts(REDIS_URL, prefix);
    const otherPlatform = counts();
    expect(await workerA.accept('nonce-1', 1)).toBe(true);
    expect(await workerB.accept('nonce-1', 1)).toBe(false);
    expect(await workerB.accept('nonce-1', 3)).toBe(true);
    expect(await workerA.accept('nonce-1', 2)).toBe(false);
    expect(await workerA.accept('nonce-2', 1)).toBe(true);
    expect(await otherPlatform.accept('nonce-1', 1)).toBe(true);
  });

  it('two processes racing with the same count: exactly one accepts it', async () => {
    const prefix = `test:${randomUUID()}:`;
    const results = await Promise.all(
      [counts(REDIS_URL, prefix), counts(REDIS_URL, prefix)].map((s) => s.accept('n', 5)),
    );
    expect(results.filter(Boolean)).toHaveLength(1);
  });

  it('without Redis, the process refuses its own replays and accepts the rest', async () => {
    // Port 1 on loopback: nothing listens, so every command fails after its one retry.
    const alone = counts('redis://127.0.0.1:1');
    expect(await alone.accept('nonce-1', 1)).toBe(true);
    expect(await alone.accept('nonce-1', 1)).toBe(false);
    expect(await alone.accept('nonce-1', 2)).toBe(true);
  });
});
