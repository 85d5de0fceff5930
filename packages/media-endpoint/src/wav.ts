import { readFile, writeFile } from 'node:fs/promises';

/**
 * 16-bit PCM WAV files at 8 kHz mono: what the endpoint plays (prompts, greetings) and writes
 * (recordings). Other formats are converted on upload (sox), not here.
 */

export const SAMPLE_RATE = 8000;

/** The 44-byte header of a 16-bit PCM WAV file with `dataBytes` of samples (interleaved when stereo). */
export function wavHeader(dataBytes: number, sampleRate = SAMPLE_RATE, channels = 1): Buffer {
  const header = Buffer.alloc(44);
  header.write('RIFF', 0, 'ascii');
  header.writeUInt32LE(36 + dataBytes, 4);
  header.write('WAVE', 8, 'ascii');
  header.write('fmt ', 12, 'ascii');
  header.writeUInt32LE(16, 16);
  header.writeUInt16LE(1, 20); // PCM
  header.writeUInt16LE(channels, 22);
  header.writeUInt32LE(sampleRate, 24);
  header.writeUInt32LE(sampleRate * 2 * channels, 28);
  header.writeUInt16LE(2 * channels, 32);
  header.writeUInt16LE(16, 34);
  header.write('data', 36, 'ascii');
  header.writeUInt32LE(dataBytes, 40);
  return header;
}

/** The samples of an 8 kHz mono 16-bit PCM WAV file; anything else is refused with the reason. */
export function parseWav(file: Buffer, name = 'WAV file'): Int16Array {
  if (file.length < 12 || file.toString('ascii', 0, 4) !== 'RIFF' || file.toString('ascii', 8, 12) !== 'WAVE')
    throw new Error(`${name} is not a WAV file`);
  let offset = 12;
  let formatOk = false;
  while (offset + 8 <= file.length) {
    const id = file.toString('ascii', offset, offset + 4);
    const size = file.readUInt32LE(offset + 4);
    const body = offset + 8;
    if (id === 'fmt ') {
      const format = file.readUInt16LE(body);
      const channels = file.readUInt16LE(body + 2);
      const rate = file.readUInt32LE(body + 4);
      const bits = file.readUInt16LE(body + 14);
      if ((format !== 1 && format !== 0xfffe) || channels !== 1 || rate !== SAMPLE_RATE || bits !== 16)
        throw new Error(
          `${name}: needs 16-bit PCM, mono, 8000 Hz (has format ${format}, ${channels} ch, ${rate} Hz, ${bits} bit)`,
        );
      formatOk = true;
    } else if (id === 'data') {
      if (!formatOk) throw new Error(`${name}: data before fmt`);
      const end = Math.min(file.length, body + size);
      const count = Math.floor((end - body) / 2);
      const samples = new Int16Array(count);
      for (let i = 0; i < count; i++) samples[i] = file.readInt16LE(body + i * 2);
      return samples;
    }
    offset = body + size + (size % 2);
  }
  throw new Error(`${name}: no data chunk`);
}

export async function readWavFile(path: string): Promise<Int16Array> {
  return parseWav(await readFile(path), path);
}

/** Writes samples as a WAV file (mode 0640: recordings are personal data). */
export async function writeWavFile(path: string, chunks: Int16Array[]): Promise<void> {
  const data = Buffer.concat(chunks.map((c) => Buffer.from(c.buffer, c.byteOffset, c.byteLength)));
  await writeFile(path, Buffer.concat([wavHeader(data.length), data]), { mode: 0o640 });
}
