import { createSocket, type Socket } from 'node:dgram';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { analyseTones, readWav, writeToneWav } from '@switchboard/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import {
  buildRtp,
  decodeG711,
  encodeG711,
  ensurePrompts,
  MediaSession,
  parseOffer,
  parseRtp,
  promptPath,
  readWavFile,
  SdpError,
} from '../src/index.ts';

const dirs: string[] = [];
const sockets: Socket[] = [];
const sessions: MediaSession[] = [];
afterEach(() => {
  for (const s of sessions.splice(0)) s.close();
  for (const s of sockets.splice(0)) s.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'media-endpoint-'));
  dirs.push(dir);
  return dir;
}

async function peer(): Promise<{ socket: Socket; port: number; received: Buffer[] }> {
  const socket = createSocket('udp4');
  sockets.push(socket);
  const received: Buffer[] = [];
  socket.on('message', (m) => received.push(m));
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  return { socket, port: socket.address().port, received };
}

function offer(port: number, formats = '8 0 101'): string {
  return [
    'v=0',
    'o=- 1 1 IN IP4 127.0.0.1',
    's=-',
    'c=IN IP4 127.0.0.1',
    't=0 0',
    `m=audio ${port} RTP/AVP ${formats}`,
    'a=rtpmap:8 PCMA/8000',
    'a=rtpmap:0 PCMU/8000',
    'a=rtpmap:101 telephone-event/8000',
    'a=sendrecv',
    '',
  ].join('\r\n');
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('SDP', () => {
  it('answers the first G.711 codec of the offer with telephone-event', () => {
    const media = parseOffer(offer(4000));
    expect(media).toMatchObject({ codec: 'PCMA', payloadType: 8, eventPayloadType: 101, port: 4000 });
  });
  it('refuses an offer without G.711', () => {
    expect(() =>
      parseOffer(offer(4000, '96').replace('a=rtpmap:8 PCMA/8000', 'a=rtpmap:96 opus/48000/2')),
    ).toThrow(SdpError);
  });
});

describe('G.711', () => {
  it('round-trips samples within the companding error', () => {
    const samples = Int16Array.from([0, 100, -100, 1000, -1000, 30_000, -30_000]);
    for (const codec of ['PCMU', 'PCMA'] as const) {
      const back = decodeG711(codec, encodeG711(codec, samples));
      for (const [i, s] of samples.entries())
        expect(Math.abs((back[i] ?? 0) - s)).toBeLessThanOrEqual(Math.max(16, Math.abs(s) / 16));
    }
  });
});

describe('MediaSession', () => {
  it('plays a WAV file as 20 ms PCMA packets the far end decodes to the same tone', async () => {
    const far = await peer();
    const dir = tempDir();
    const tone = join(dir, 'tone.wav');
    writeToneWav(tone, 700, 1);
    const session = await MediaSession.open(offer(far.port), { address: '127.0.0.1' });
    sessions.push(session);
    expect(session.answer).toMatch(/m=audio \d+ RTP\/AVP 8 101/);
    expect(await session.play(tone)).toBe('done');
    await sleep(100);
    const packets = far.received.map((p) => parseRtp(p)).filter((p) => p !== undefined);
    expect(packets.length).toBe(50);
    expect(packets.every((p) => p.payload.length === 160 && p.payloadType === 8)).toBe(true);
    expect(packets[0]?.marker).toBe(true);
    const decoded = Int16Array.from(packets.flatMap((p) => [...decodeG711('PCMA', p.payload)]));
    const out = join(dir, 'out.wav');
    const { writeWavFile } = await import('../src/wav.ts');
    await writeWavFile(out, [decoded]);
    expect(analyseTones(readWav(out), [700]).share.get(700)).toBeGreaterThan(0.9);
  });

  it('records what arrives, bounded by maxSeconds, and takes RFC 4733 digits', async () => {
    const far = await peer();
    const dir = tempDir();
    const session = await MediaSession.open(offer(far.port, '0 101'), { address: '127.0.0.1' });
    sessions.push(session);
    const port = Number(/m=audio (\d+)/.exec(session.answer)?.[1]);
    const send = (pt: number, seq: number, ts: number, payload: Buffer) =>
      far.socket.send(
        buildRtp({ payloadType: pt, marker: false, sequence: seq, timestamp: ts, ssrc: 7, payload }),
        port,
        '127.0.0.1',
      );
    const tone = Int16Array.from({ length: 160 * 100 }, (_, i) =>
      Math.round(10_000 * Math.sin((2 * Math.PI * 440 * i) / 8000)),
    );
    const path = join(dir, 'rec.wav');
    const recorded = session.record(path, { maxSeconds: 1 });
    // 2 s of tone, in 20 ms packets: the recording stops at 1 s.
    for (let i = 0; i < 100; i++) {
      send(0, i, i * 160, encodeG711('PCMU', tone.subarray(i * 160, (i + 1) * 160)));
      if (i % 10 === 9) await sleep(5);
    }
    const result = await recorded;
    expect(result).toMatchObject({ stoppedBy: 'max-length', durationMs: 1000 });
    const samples = await readWavFile(path);
    expect(samples.length).toBe(8000);
    expect(analyseTones(readWav(path), [440]).share.get(440)).toBeGreaterThan(0.9);

    // Digit 5 sent three times (same timestamp) counts once; then '#'.
    for (const [event, ts] of [
      [5, 50_000],
      [5, 50_000],
      [5, 50_000],
      [11, 51_000],
    ] as const)
      send(101, 200, ts, Buffer.from([event, 0x8a, 0x03, 0x20]));
    expect(await session.collectDigits({ max: 4, timeoutMs: 2000, terminator: '#' })).toBe('5');
  });

  it('ends playback, recording and digit waits when closed', async () => {
    const far = await peer();
    const session = await MediaSession.open(offer(far.port), { address: '127.0.0.1' });
    const waiting = session.nextDigit(10_000);
    const playing = session.play(new Int16Array(8000 * 10));
    session.close();
    expect(await waiting).toBeUndefined();
    expect(await playing).toBe('closed');
  });
});

describe('prompts', () => {
  it('generates the default set with espeak-ng and sox as 8 kHz WAV; an upload replaces one', async () => {
    const dir = tempDir();
    expect(await ensurePrompts(dir)).toEqual([]);
    const samples = await readWavFile(promptPath(dir, 'vm-unavailable'));
    expect(samples.length).toBeGreaterThan(8000 * 2);
    const custom = join(dir, 'custom', 'vm-unavailable.wav');
    writeToneWav(custom, 500, 1);
    expect(promptPath(dir, 'vm-unavailable')).toBe(custom);
  }, 120_000);

  it('stops between prompts once told to: a shutdown leaves no generation writing behind it', async () => {
    const dir = tempDir();
    const stop = new AbortController();
    const generating = ensurePrompts(dir, undefined, ['vm-unavailable', 'vm-deleted'], stop.signal);
    // Told before the first prompt was started: none is, and the promise settles at once.
    stop.abort();
    expect(await generating).toEqual([]);
    expect(readdirSync(join(dir, 'default'))).toEqual([]);
  }, 60_000);
});
