import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalRtpengine } from '../src/launcher.ts';
import { profiles } from '../src/profiles.ts';
import { RtpengineMedia } from '../src/rtpengine-media.ts';
import { sdp, silentLogger, startTestRtpengine } from './support.ts';

// Two real rtpengines; one is killed mid-test and new calls must move to the other.
let first: LocalRtpengine;
let second: LocalRtpengine;
let media: RtpengineMedia;
// Selection draws twice per new call (one per instance left); alternate per call, not per draw, so new
// calls go to each instance in turn and the spread is deterministic.
let draw = 0;
const alternating = (): number => (Math.floor(draw++ / 2) % 2 === 0 ? 0.25 : 0.75);

beforeAll(async () => {
  [first, second] = await Promise.all([
    startTestRtpengine({ ngPort: 22303, portMin: 32000, portMax: 32099 }),
    startTestRtpengine({ ngPort: 22304, portMin: 32100, portMax: 32199 }),
  ]);
  media = new RtpengineMedia({
    instances: [
      { host: '127.0.0.1', port: 22303, weight: 1 },
      { host: '127.0.0.1', port: 22304, weight: 1 },
    ],
    logger: silentLogger,
    requestTimeoutMs: 500,
    setupDeadlineMs: 4000,
    healthIntervalMs: 0,
    random: alternating,
  });
});

afterAll(async () => {
  await media?.close();
  await Promise.all([first?.stop(), second?.stop()]);
});

function offer(callId: string) {
  return media.offer({
    callId,
    fromTag: 'a',
    sdp: sdp({ address: '127.0.0.1', audioPort: 8000 }),
    legProfile: profiles.publicPeer,
    otherLegProfile: profiles.publicPeer,
  });
}

describe('rtpengine pool', () => {
  it('spreads new calls over both instances and keeps each call on the instance that took its offer', async () => {
    const sessions = [];
    for (let i = 0; i < 12; i++) sessions.push((await offer(`pool-spread-${i}@test`)).session);
    const used = new Set(sessions.map((s) => s.instance));
    expect(used).toEqual(new Set(['127.0.0.1:22303', '127.0.0.1:22304']));

    // A re-offer goes back to the same instance, whatever the random draw says.
    for (const session of sessions.slice(0, 4)) {
      const again = await offer(session.callId);
      expect(again.session.instance).toBe(session.instance);
    }
    const perInstance = media.health().map((h) => h.calls);
    expect(perInstance.reduce((a, b) => a + b, 0)).toBe(12);
    await Promise.all(sessions.map((s) => s.end()));
    expect(media.health().map((h) => h.calls)).toEqual([0, 0]);
  });

  it('concurrent first offers of one call land on one instance and share one session', async () => {
    const results = await Promise.all([0, 1, 2, 3].map(() => offer('pool-concurrent@test')));
    expect(new Set(results.map((r) => r.session)).size).toBe(1);
    expect(media.health().reduce((sum, h) => sum + h.calls, 0)).toBe(1);
    await results[0]!.session.end();
  });

  it('health check marks instances healthy by ping', async () => {
    await media.pool.checkHealth();
    expect(media.health().map((h) => h.healthy)).toEqual([true, true]);
  });

  it('moves new calls to the surviving instance when one is killed, without hanging', async () => {
    const before = await offer('pool-before-kill@test');
    process.kill(first.pid, 'SIGKILL');
    await first.stop();

    const sessions = [];
    for (let i = 0; i < 6; i++) {
      const { sdp: rewritten, session } = await offer(`pool-after-kill-${i}@test`);
      expect(session.instance).toBe('127.0.0.1:22304');
      expect(rewritten).toMatch(/m=audio 32[01]\d\d /);
      sessions.push(session);
    }
    const dead = media.health().find((h) => h.address === '127.0.0.1:22303');
    expect(dead?.healthy).toBe(false);

    // Ending a call whose instance died never throws or hangs; it is left to the sweep.
    await before.session.end();
    await Promise.all(sessions.map((s) => s.end()));

    // The sweep reports the dead instance as unreachable and still works on the live one.
    const sweep = await media.sweep([], { minAgeMs: 0 });
    expect(sweep.unreachable).toEqual(['127.0.0.1:22303']);
  });

  it('the periodic health check marks a dead instance unhealthy without any call', async () => {
    const watched = new RtpengineMedia({
      instances: [
        { host: '127.0.0.1', port: 22303, weight: 1 },
        { host: '127.0.0.1', port: 22304, weight: 1 },
      ],
      logger: silentLogger,
      requestTimeoutMs: 300,
      healthIntervalMs: 100,
    });
    try {
      for (let i = 0; i < 50 && watched.health()[0]?.healthy !== false; i++) {
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(watched.health().map((h) => h.healthy)).toEqual([false, true]);
      expect(watched.health()[0]?.lastError).toMatch(/did not answer/);
    } finally {
      await watched.close();
    }
  });

  it('gives up with a clear error, within the set-up deadline, when no instance answers', async () => {
    const lonely = new RtpengineMedia({
      // Nothing listens on this NG port (inside this package's range, never started).
      instances: [{ host: '127.0.0.1', port: 22398, weight: 1 }],
      logger: silentLogger,
      requestTimeoutMs: 300,
      setupDeadlineMs: 1000,
      healthIntervalMs: 0,
    });
    try {
      await expect(
        lonely.offer({
          callId: 'pool-nobody@test',
          fromTag: 'a',
          sdp: sdp({ address: '127.0.0.1', audioPort: 8002 }),
          legProfile: profiles.publicPeer,
          otherLegProfile: profiles.publicPeer,
        }),
      ).rejects.toMatchObject({ code: 'unavailable' });
      expect(lonely.health()[0]?.healthy).toBe(false);
    } finally {
      await lonely.close();
    }
  });
});
