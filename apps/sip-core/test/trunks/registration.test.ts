import { afterEach, beforeEach, expect, it, vi } from 'vitest';
import {
  type RegisterOutcome,
  type RegistrationState,
  TrunkRegistration,
} from '../../src/trunks/registration.ts';

/** A registrar the test answers by hand: each REGISTER waits until the test settles it. */
function scriptedRegistrar() {
  const pending: Array<(outcome: RegisterOutcome) => void> = [];
  return {
    sent: () => pending.length,
    send: () => new Promise<RegisterOutcome>((resolve) => pending.push(resolve)),
    answer: async (outcome: RegisterOutcome) => {
      const next = pending.at(-1);
      if (!next) throw new Error('no REGISTER is waiting');
      next(outcome);
      // Let the promise chain settle.
      await vi.advanceTimersByTimeAsync(0);
    },
  };
}

beforeEach(() => {
  vi.useFakeTimers({ now: new Date('2026-01-01T00:00:00Z') });
});
afterEach(() => {
  vi.useRealTimers();
});

function start(registrar: ReturnType<typeof scriptedRegistrar>, random = 0.5) {
  const states: RegistrationState[] = [];
  const registration = new TrunkRegistration({
    send: registrar.send,
    random: () => random,
    timing: { retryBaseMs: 1_000, retryMaxMs: 8_000 },
    onStatus: (status, previous) => {
      if (status.state !== previous) states.push(status.state);
    },
  });
  registration.start();
  return { registration, states };
}

it('refreshes between 50 and 80% of the granted expiry, not at the asked one', async () => {
  const registrar = scriptedRegistrar();
  const { registration, states } = start(registrar, 0);
  expect(registrar.sent()).toBe(1);
  await registrar.answer({ ok: true, expires: 100 });
  expect(registration.current.state).toBe('registered');
  expect(registration.current.expiresAt?.toISOString()).toBe('2026-01-01T00:01:40.000Z');
  // random 0: the refresh is at 50% of 100 s.
  await vi.advanceTimersByTimeAsync(49_999);
  expect(registrar.sent()).toBe(1);
  await vi.advanceTimersByTimeAsync(1);
  expect(registrar.sent()).toBe(2);
  // A refresh keeps the state registered-then-registering-then-registered.
  await registrar.answer({ ok: true, expires: 10 });
  expect(states).toEqual(['registering', 'registered', 'registering', 'registered']);
  registration.stop();
});

it('spreads the refresh up to 80% of the expiry', async () => {
  const registrar = scriptedRegistrar();
  const { registration } = start(registrar, 0.999_999);
  await registrar.answer({ ok: true, expires: 10 });
  await vi.advanceTimersByTimeAsync(7_990);
  expect(registrar.sent()).toBe(1);
  await vi.advanceTimersByTimeAsync(10);
  expect(registrar.sent()).toBe(2);
  registration.stop();
});

it('backs off exponentially on failure, capped, and recovers on the next success', async () => {
  const registrar = scriptedRegistrar();
  const { registration, states } = start(registrar);
  const delays: number[] = [];
  for (let i = 0; i < 5; i++) {
    await registrar.answer({ ok: false, error: '403 Forbidden' });
    expect(registration.current.state).toBe('failing');
    expect(registration.current.lastError).toBe('403 Forbidden');
    const next = registration.current.nextAttemptAt?.getTime() ?? 0;
    delays.push(next - Date.now());
    const before = registrar.sent();
    await vi.advanceTimersByTimeAsync(delays[i]! - 1);
    expect(registrar.sent()).toBe(before);
    await vi.advanceTimersByTimeAsync(1);
    expect(registrar.sent()).toBe(before + 1);
  }
  expect(delays).toEqual([1_000, 2_000, 4_000, 8_000, 8_000]);
  await registrar.answer({ ok: true, expires: 60 });
  expect(registration.current.state).toBe('registered');
  expect(registration.current.lastError).toBeNull();
  // Failing retries do not pass through "registering" again: the operator keeps seeing the failure.
  expect(states).toEqual(['registering', 'failing', 'registered']);
  // After a success the back-off starts from its base again.
  // random 0.5: the refresh goes at 65% of 60 s.
  const sent = registrar.sent();
  await vi.advanceTimersByTimeAsync(39_000);
  expect(registrar.sent()).toBe(sent + 1);
  await registrar.answer({ ok: false, error: 'no answer from the registrar' });
  expect((registration.current.nextAttemptAt?.getTime() ?? 0) - Date.now()).toBe(1_000);
  registration.stop();
});

it('a refresh that fails turns the state to failing and keeps the old expiry', async () => {
  const registrar = scriptedRegistrar();
  const { registration } = start(registrar, 0);
  await registrar.answer({ ok: true, expires: 20 });
  const expiresAt = registration.current.expiresAt;
  await vi.advanceTimersByTimeAsync(10_000);
  await registrar.answer({ ok: false, error: '503 Service Unavailable' });
  expect(registration.current.state).toBe('failing');
  expect(registration.current.expiresAt).toEqual(expiresAt);
  registration.stop();
});

it('stop cancels the timer and ignores an answer still on its way', async () => {
  const registrar = scriptedRegistrar();
  const { registration } = start(registrar);
  registration.stop();
  await registrar.answer({ ok: true, expires: 60 });
  expect(registration.current.state).toBe('disabled');
  await vi.advanceTimersByTimeAsync(600_000);
  expect(registrar.sent()).toBe(1);
});

it('a send that throws counts as a failure', async () => {
  const registration = new TrunkRegistration({
    send: () => Promise.reject(new Error('engine gone')),
    timing: { retryBaseMs: 1_000 },
  });
  registration.start();
  await vi.advanceTimersByTimeAsync(0);
  expect(registration.current.state).toBe('failing');
  expect(registration.current.lastError).toContain('engine gone');
  registration.stop();
});
