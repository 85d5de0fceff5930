import { readFileSync, writeFileSync } from 'node:fs';

/**
 * Test audio: writes sine-tone WAV files for softphones to play and analyses the WAV files they record,
 * so a test can tell which tone reached which side (and that it is not silence).
 */

export interface PcmAudio {
  sampleRate: number;
  /** Channels in the file. */
  channels: number;
  /** The channel read (the first unless asked), normalised to [-1, 1). */
  samples: Float64Array;
}

/** A mono 16-bit PCM WAV file holding a sine tone of `frequency` Hz at half of full scale. */
export function writeToneWav(path: string, frequency: number, seconds: number, sampleRate = 8000): void {
  const count = Math.round(seconds * sampleRate);
  const data = Buffer.alloc(count * 2);
  for (let i = 0; i < count; i++)
    data.writeInt16LE(Math.round(16_384 * Math.sin((2 * Math.PI * frequency * i) / sampleRate)), i * 2);
  const header = Buffer.alloc(44);
  header.write('RIFF', 0, 'ascii');
  header.writeUInt32LE(36 + data.length, 4);
  header.write('WAVE', 8, 'ascii');
  header.write('fmt ', 12, 'ascii');
  header.writeUInt32LE(16, 16);
  header.writeUInt16LE(1, 20); // PCM
  header.writeUInt16LE(1, 22); // mono
  header.writeUInt32LE(sampleRate, 24);
  header.writeUInt32LE(sampleRate * 2, 28);
  header.writeUInt16LE(2, 32);
  header.writeUInt16LE(16, 34);
  header.write('data', 36, 'ascii');
  header.writeUInt32LE(data.length, 40);
  writeFileSync(path, Buffer.concat([header, data]));
}

/**
 * Reads one channel (default the first; a stereo call recording has the caller left, 0, and the callee
 * right, 1) of a 16-bit PCM WAV file. A recorder killed before it closed its file leaves the data chunk's
 * size at 0 (or too large): then the rest of the file is taken as the data.
 */
export function readWav(path: string, channel = 0): PcmAudio {
  const file = readFileSync(path);
  if (file.length < 12 || file.toString('ascii', 0, 4) !== 'RIFF' || file.toString('ascii', 8, 12) !== 'WAVE')
    throw new Error(`${path} is not a WAV file (${file.length} bytes)`);
  let offset = 12;
  let sampleRate = 0;
  let channels = 0;
  while (offset + 8 <= file.length) {
    const id = file.toString('ascii', offset, offset + 4);
    const size = file.readUInt32LE(offset + 4);
    const body = offset + 8;
    if (id === 'fmt ') {
      const format = file.readUInt16LE(body);
      const bits = file.readUInt16LE(body + 14);
      // 0xfffe: WAVE_FORMAT_EXTENSIBLE, which libsndfile writes for PCM too.
      if ((format !== 1 && format !== 0xfffe) || bits !== 16)
        throw new Error(`${path}: format ${format}/${bits} bits, only 16-bit PCM is read`);
      channels = file.readUInt16LE(body + 2);
      sampleRate = file.readUInt32LE(body + 4);
    } else if (id === 'data') {
      if (sampleRate === 0) throw new Error(`${path}: data before fmt`);
      if (channel >= channels) throw new Error(`${path}: no channel ${channel} (${channels} channels)`);
      const end = size === 0 || body + size > file.length ? file.length : body + size;
      const frames = Math.floor((end - body) / (2 * channels));
      const samples = new Float64Array(frames);
      for (let i = 0; i < frames; i++)
        samples[i] = file.readInt16LE(body + i * 2 * channels + channel * 2) / 32_768;
      return { sampleRate, channels, samples };
    }
    offset = body + size + (size % 2);
  }
  throw new Error(`${path}: no data chunk`);
}

/** Squared magnitude of DFT bin `bin` of `block` (Goertzel). */
function goertzel(block: Float64Array, bin: number): number {
  const coefficient = 2 * Math.cos((2 * Math.PI * bin) / block.length);
  let previous = 0;
  let beforePrevious = 0;
  for (const sample of block) {
    const current = sample + coefficient * previous - beforePrevious;
    beforePrevious = previous;
    previous = current;
  }
  return previous * previous + beforePrevious * beforePrevious - coefficient * previous * beforePrevious;
}

export interface ToneAnalysis {
  /** One-second blocks louder than the silence threshold. */
  voicedSeconds: number;
  /** RMS level of the voiced blocks (full scale = 1). */
  rms: number;
  /** Per analysed frequency: share of the voiced blocks' energy within ±`band` Hz of it (0..1). */
  share: Map<number, number>;
}

/**
 * Splits the audio into one-second blocks (so DFT bins fall on whole hertz) and, over the blocks that
 * are not silence, measures which share of the energy lies near each of `frequencies`. By Parseval,
 * a real signal's energy is (2/N) · Σ|X_k|² over the positive bins; a pure tone puts nearly all of it
 * within a few hertz of its frequency, G.711 quantisation noise and jitter-buffer gaps very little.
 */
export function analyseTones(
  audio: Pick<PcmAudio, 'sampleRate' | 'samples'>,
  frequencies: number[],
  band = 10,
): ToneAnalysis {
  const n = audio.sampleRate;
  // About -40 dBFS: far above G.711 silence (a few LSBs), far below the test tones (-6 dBFS).
  const silence = 0.01;
  let voicedSeconds = 0;
  let energy = 0;
  const near = new Map<number, number>(frequencies.map((f) => [f, 0]));
  for (let start = 0; start + n <= audio.samples.length; start += n) {
    const block = audio.samples.subarray(start, start + n);
    let blockEnergy = 0;
    for (const sample of block) blockEnergy += sample * sample;
    if (Math.sqrt(blockEnergy / n) < silence) continue;
    voicedSeconds++;
    energy += blockEnergy;
    for (const frequency of frequencies) {
      let sum = 0;
      for (let bin = Math.max(1, frequency - band); bin <= frequency + band && bin < n / 2; bin++)
        sum += goertzel(block, bin);
      near.set(frequency, (near.get(frequency) ?? 0) + (2 / n) * sum);
    }
  }
  const share = new Map<number, number>();
  for (const [frequency, value] of near) share.set(frequency, energy > 0 ? value / energy : 0);
  const samples = voicedSeconds * n;
  return { voicedSeconds, rms: samples > 0 ? Math.sqrt(energy / samples) : 0, share };
}
