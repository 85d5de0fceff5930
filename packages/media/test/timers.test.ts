import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { RtpengineMedia } from '../src/rtpengine-media.ts';
import { silentLogger } from './support.ts';

// Timer logic only: the periodic health check and sweeper, on fake timers. No NG traffic is awaited.
describe('periodic work', () => {
  let media: RtpengineMedia;

  beforeEach(() => {
    vi.useFakeTimers();
  });

  afterEach(async () => {
    await media?.close();
    vi.useRealTimers();
  });

  it('pings on the configured interval and stops on close', async () => {
    media = new RtpengineMedia({
      // Nothing listens here (this package's NG range); the check itself is stubbed.
      instances: [{ host: '127.0.0.1', port: 22395, weight: 1 }],
      logger: silentLogger,
      healthIntervalMs: 1000,
    });
    const check = vi.spyOn(media.pool, 'checkHealth').mockResolvedValue(undefined);
    await vi.advanceTimersByTimeAsync(3500);
    expect(check).toHaveBeenCalledTimes(3);
    await media.close();
    await vi.advanceTimersByTimeAsync(5000);
    expect(check).toHaveBeenCalledTimes(3);
  });

  it('sweeps on its interval with the live set of the moment, never two at once, until stopped', async () => {
    media = new RtpengineMedia({
      instances: [{ host: '127.0.0.1', port: 22395, weight: 1 }],
      logger: silentLogger,
      healthIntervalMs: 0,
    });
    let finishSweep: () => void = () => {};
    const sweep = vi.spyOn(media, 'sweep').mockImplementation(
      () =>
        new Promise((resolve) => {
          finishSweep = () => resolve({ deleted: [], unreachable: [], tooYoung: [] });
        }),
    );
    let live = ['a'];
    const stop = media.startSweeper({ intervalMs: 1000, liveCallIds: () => live, minAgeMs: 5000 });

    await vi.advanceTimersByTimeAsync(1000);
    expect(sweep).toHaveBeenCalledTimes(1);
    expect(sweep).toHaveBeenLastCalledWith(['a'], { minAgeMs: 5000 });
    // The first sweep is still running: the next ticks are skipped.
    await vi.advanceTimersByTimeAsync(2000);
    expect(sweep).toHaveBeenCalledTimes(1);

    finishSweep();
    live = ['a', 'b'];
    await vi.advanceTimersByTimeAsync(1000);
    expect(sweep).toHaveBeenCalledTimes(2);
    expect(sweep).toHaveBeenLastCalledWith(['a', 'b'], { minAgeMs: 5000 });

    finishSweep();
    stop();
    await vi.advanceTimersByTimeAsync(5000);
    expect(sweep).toHaveBeenCalledTimes(2);
  });
});
