import { afterEach, beforeEach, expect, it, vi } from 'vitest';
import { GatewayHealthCheck, type HealthState } from '../../src/trunks/health.ts';
import type { HealthSettings } from '../../src/trunks/settings.ts';

const SETTINGS: HealthSettings = {
  gatewayId: 'gw',
  uri: 'sip:192.0.2.1:5060',
  proxy: 'sip:192.0.2.1:5060;transport=udp',
  intervalMs: 1_000,
  threshold: 3,
};

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

/** A gateway whose answers the test switches: null = it answers, a string = that failure. */
function gateway() {
  let answer: string | null = null;
  let pings = 0;
  return {
    set: (value: string | null) => {
      answer = value;
    },
    pings: () => pings,
    ping: async () => {
      pings++;
      return answer;
    },
  };
}

it('marks a gateway down after threshold misses in a row and up at its first answer', async () => {
  const gw = gateway();
  const changes: Array<[HealthState, string | null]> = [];
  const check = new GatewayHealthCheck(SETTINGS, gw.ping, (state, error) => changes.push([state, error]));
  check.start();
  await vi.advanceTimersByTimeAsync(0);
  expect(check.current).toBe('up');
  gw.set('no answer to OPTIONS');
  // Two misses: still up.
  await vi.advanceTimersByTimeAsync(2_000);
  expect(check.current).toBe('up');
  // The third: down.
  await vi.advanceTimersByTimeAsync(1_000);
  expect(check.current).toBe('down');
  expect(changes).toEqual([
    ['up', null],
    ['down', 'no answer to OPTIONS'],
  ]);
  // Further misses change nothing; one answer brings it back.
  await vi.advanceTimersByTimeAsync(5_000);
  expect(changes).toHaveLength(2);
  gw.set(null);
  await vi.advanceTimersByTimeAsync(1_000);
  expect(check.current).toBe('up');
  expect(changes).toHaveLength(3);
  check.stop();
});

it('an answer between misses resets the count', async () => {
  const gw = gateway();
  const check = new GatewayHealthCheck(SETTINGS, gw.ping, () => {});
  gw.set('503 to OPTIONS');
  check.start();
  await vi.advanceTimersByTimeAsync(1_000);
  gw.set(null);
  await vi.advanceTimersByTimeAsync(1_000);
  gw.set('503 to OPTIONS');
  await vi.advanceTimersByTimeAsync(1_000);
  // Miss, miss, answer, miss, miss: never three in a row.
  expect(check.current).toBe('up');
  check.stop();
});

it('pings one at a time, an interval after the last ended, and not after stop', async () => {
  let resolve: ((value: string | null) => void) | undefined;
  let pings = 0;
  const check = new GatewayHealthCheck(
    SETTINGS,
    () =>
      new Promise<string | null>((r) => {
        pings++;
        resolve = r;
      }),
    () => {},
  );
  check.start();
  await vi.advanceTimersByTimeAsync(10_000);
  // The first ping has not ended: no second one piles up behind it.
  expect(pings).toBe(1);
  resolve?.(null);
  await vi.advanceTimersByTimeAsync(999);
  expect(pings).toBe(1);
  await vi.advanceTimersByTimeAsync(1);
  expect(pings).toBe(2);
  check.stop();
  resolve?.(null);
  await vi.advanceTimersByTimeAsync(10_000);
  expect(pings).toBe(2);
});
