import { loadavg } from 'node:os';
import { LruMap } from '../src/index.ts';

/**
 * A bounded table that drops its oldest key, two ways: a plain Map kept in recency order (delete, set
 * again, evict `keys().next()`), and LruMap. Three workloads: every operation a new key (the digest
 * server's issued nonces, a spoofed-source flood on the rate limiter), a mix of new keys and keys set
 * again (nonce counts, call capture), and a few keys set again and again (the rate limiter's bucket of
 * a busy source: a registrar's NAT or an SBC peer); at 10,000 keys (the nonce tables) and 100,000 (the
 * rate limiter's). Reported in CPU nanoseconds per operation, median of the samples.
 */
const LIMITS = [10_000, 100_000];
const OPERATIONS = 400_000;
const SAMPLES = 7;

interface Table {
  set(key: string, value: number): void;
}

function plainMap(limit: number): Table {
  const map = new Map<string, number>();
  return {
    set(key, value) {
      map.delete(key);
      map.set(key, value);
      if (map.size > limit) map.delete(map.keys().next().value as string);
    },
  };
}

function lruMap(limit: number): Table {
  const map = new LruMap<string, number>(limit);
  return { set: (key, value) => map.set(key, value) };
}

type Workload = 'new' | 'mixed' | 'few';

function workload(kind: Workload): string[] {
  const keys: string[] = [];
  for (let i = 0; i < OPERATIONS; i++) {
    const n = kind === 'few' ? i % 4 : kind === 'mixed' && i % 3 === 0 ? i % 50 : i;
    keys.push(`realm\u0000nonce-${n}`);
  }
  return keys;
}

function nsPerOperation(make: () => Table, keys: readonly string[]): number {
  const runs: number[] = [];
  for (let s = 0; s < SAMPLES; s++) {
    const table = make();
    const before = process.cpuUsage();
    for (let i = 0; i < keys.length; i++) table.set(keys[i] as string, i);
    const used = process.cpuUsage(before);
    runs.push(((used.user + used.system) * 1000) / keys.length);
  }
  return runs.sort((a, b) => a - b)[Math.floor(SAMPLES / 2)] as number;
}

console.log(`${OPERATIONS} operations per sample; load ${loadavg()[0]?.toFixed(2)}`);
for (const limit of LIMITS) {
  for (const [name, kind] of [
    ['every key new', 'new'],
    ['one key in three set again', 'mixed'],
    ['four keys set again and again', 'few'],
  ] as const) {
    const keys = workload(kind);
    const plain = nsPerOperation(() => plainMap(limit), keys);
    const lru = nsPerOperation(() => lruMap(limit), keys);
    console.log(
      `${limit} keys, ${name}: Map in recency order ${plain.toFixed(0)} ns, LruMap ${lru.toFixed(0)} ns per operation`,
    );
  }
}
