import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { analyseTones, readWav, writeToneWav } from '../src/audio.ts';

const dir = mkdtempSync(join(tmpdir(), 'testkit-audio-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('tone analysis used by the softphone media tests', () => {
  it('finds a written tone and not another one', () => {
    const file = join(dir, 'tone.wav');
    writeToneWav(file, 440, 3);
    const audio = readWav(file);
    expect(audio.sampleRate).toBe(8000);
    expect(audio.samples.length).toBe(24_000);
    const analysis = analyseTones(audio, [440, 1000]);
    expect(analysis.voicedSeconds).toBe(3);
    expect(analysis.rms).toBeCloseTo(0.5 / Math.SQRT2, 2);
    expect(analysis.share.get(440)).toBeGreaterThan(0.99);
    expect(analysis.share.get(1000)).toBeLessThan(0.001);
  });

  it('splits the energy of two mixed tones and ignores silence', () => {
    const rate = 16_000;
    const samples = new Float64Array(rate * 4);
    // Two seconds of silence, then two seconds of 440 Hz + 1000 Hz at equal levels.
    for (let i = 2 * rate; i < samples.length; i++)
      samples[i] =
        0.25 * Math.sin((2 * Math.PI * 440 * i) / rate) + 0.25 * Math.sin((2 * Math.PI * 1000 * i) / rate);
    const analysis = analyseTones({ sampleRate: rate, samples }, [440, 1000, 2000]);
    expect(analysis.voicedSeconds).toBe(2);
    expect(analysis.share.get(440)).toBeCloseTo(0.5, 2);
    expect(analysis.share.get(1000)).toBeCloseTo(0.5, 2);
    expect(analysis.share.get(2000)).toBeLessThan(0.001);
  });

  it('reads a recording whose data size was never written (recorder killed)', () => {
    const file = join(dir, 'killed.wav');
    writeToneWav(file, 1000, 1);
    const bytes = readFileSync(file);
    bytes.writeUInt32LE(0, 40);
    writeFileSync(file, bytes);
    expect(readWav(file).samples.length).toBe(8000);
  });
});
