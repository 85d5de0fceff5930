import { describe, expect, it } from 'vitest';
import { LoginGuard } from '../src/auth/login-guard.ts';
import type { ApiError } from '../src/errors.ts';
import { DEFAULT_LIMITS } from '../src/types.ts';

const limits = {
  ...DEFAULT_LIMITS,
  loginFailuresPerIp: 5,
  loginFailuresPerAccount: 3,
  loginMaxDelayMs: 10_000,
};

function refusal(run: () => unknown): ApiError | undefined {
  try {
    run();
    return undefined;
  } catch (err) {
    return err as ApiError;
  }
}

describe('login guard', () => {
  it('counts each attempt of an address before its password is checked', () => {
    const guard = new LoginGuard(limits, () => 1_000_000);
    // Forty attempts begun back to back, none of them finished: as parallel requests arrive.
    const outcomes = Array.from({ length: 40 }, (_, i) =>
      refusal(() => guard.begin('192.0.2.1', `u${i}@x.test`)),
    );
    expect(outcomes.filter((o) => o === undefined)).toHaveLength(5);
    const refused = outcomes.filter((o) => o !== undefined);
    expect(refused).toHaveLength(35);
    expect(refused[0]?.status).toBe(429);
    expect(Number(refused[0]?.headers['retry-after'])).toBeGreaterThan(0);
    expect(refusal(() => guard.begin('192.0.2.2', 'u0@x.test'))).toBeUndefined();
  });

  it('gives a good login its attempt back', () => {
    const guard = new LoginGuard(limits, () => 1_000_000);
    for (let i = 0; i < 20; i++) {
      guard.begin('192.0.2.1', 'me@x.test');
      guard.succeeded('192.0.2.1', 'me@x.test');
    }
    expect(refusal(() => guard.begin('192.0.2.1', 'me@x.test'))).toBeUndefined();
  });

  it('slows an account down exponentially instead of locking it, up to the cap', () => {
    const guard = new LoginGuard(limits, () => 1_000_000);
    const delays = Array.from({ length: 8 }, (_, i) => guard.begin(`198.51.100.${i}`, 'victim@x.test'));
    expect(delays).toEqual([0, 0, 0, 1000, 2000, 4000, 8000, 10_000]);
    // Another account is not affected; a good login clears the account.
    expect(guard.begin('198.51.100.50', 'other@x.test')).toBe(0);
    guard.succeeded('198.51.100.9', 'victim@x.test');
    expect(guard.begin('198.51.100.51', 'victim@x.test')).toBe(0);
  });

  it('forgets attempts after the window and shows and lifts blocks', () => {
    let now = 1_000_000;
    const guard = new LoginGuard(limits, () => now);
    for (let i = 0; i < 5; i++) guard.begin('203.0.113.9', 'victim@x.test');
    expect(guard.blocked()).toEqual({
      addresses: [
        { key: '203.0.113.9', attempts: 5, until: new Date(now + limits.loginWindowMs).toISOString() },
      ],
      accounts: [
        { key: 'victim@x.test', attempts: 5, until: new Date(now + limits.loginWindowMs).toISOString() },
      ],
    });
    guard.lift({ address: '203.0.113.9' });
    expect(guard.blocked().addresses).toEqual([]);
    expect(guard.begin('203.0.113.9', 'victim@x.test')).toBeGreaterThan(0);
    guard.lift({ account: 'victim@x.test' });
    expect(guard.begin('203.0.113.9', 'victim@x.test')).toBe(0);
    for (let i = 0; i < 5; i++) refusal(() => guard.begin('203.0.113.10', 'a@x.test'));
    now += limits.loginWindowMs;
    expect(refusal(() => guard.begin('203.0.113.10', 'a@x.test'))).toBeUndefined();
  });
});
