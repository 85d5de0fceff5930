import { join } from 'node:path';
import { readWavFile } from '@switchboard/media-endpoint';
import { analyseTones, type PcmAudio, readWav, until } from '@switchboard/testkit';
import { expect } from 'vitest';

/** One-second blocks of `audio` in which `frequency` carries more than 80 % of the energy. */
export function toneSeconds(audio: PcmAudio, frequency: number): number {
  let count = 0;
  for (let start = 0; start + audio.sampleRate <= audio.samples.length; start += audio.sampleRate) {
    const block = {
      sampleRate: audio.sampleRate,
      samples: audio.samples.subarray(start, start + audio.sampleRate),
    };
    const analysis = analyseTones(block, [frequency]);
    if (analysis.voicedSeconds === 1 && (analysis.share.get(frequency) ?? 0) > 0.8) count++;
  }
  return count;
}

/** Seconds of a default prompt as sip-core generated it into `dataDir` (8 kHz mono). */
export async function promptSeconds(dataDir: string, name: string): Promise<number> {
  return (await readWavFile(join(dataDir, 'prompts', 'default', `${name}.wav`))).length / 8000;
}

/** Polls `probe` every 200 ms until it gives a value; fails naming `what` after `timeoutMs`. */
export function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs = 30_000,
): Promise<T> {
  return until(what, probe, timeoutMs, 200);
}

/**
 * What a phone recorded (or one `channel` of a stereo call recording) carries `expected` clearly
 * (over 80 % of the energy, at least `minSeconds` voiced) and next to nothing of `other`.
 */
export function expectTone(
  recording: string,
  expected: number,
  other: number,
  options: { channel?: number; minSeconds?: number } = {},
): void {
  const audio = readWav(recording, options.channel ?? 0);
  if (options.channel !== undefined) expect(audio.channels).toBe(2);
  const analysis = analyseTones(audio, [expected, other]);
  const where = options.channel === undefined ? recording : `${recording} channel ${options.channel}`;
  const summary = `${where}: ${JSON.stringify({ ...analysis, share: Object.fromEntries(analysis.share) })}`;
  expect(analysis.voicedSeconds, summary).toBeGreaterThanOrEqual(options.minSeconds ?? 2);
  expect(analysis.share.get(expected), summary).toBeGreaterThan(0.8);
  expect(analysis.share.get(other), summary).toBeLessThan(0.05);
}
