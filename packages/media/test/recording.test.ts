import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeG711 } from '@switchboard/media-endpoint';
import { analyseTones, readWav } from '@switchboard/testkit';
import { describe, expect, it } from 'vitest';
import { joinStereo, readPcapRtp, stereoWav } from '../src/recording.ts';
import { sdpPayloadTypes } from '../src/sdp-codecs.ts';

const decodeMuLaw = (byte: number) => decodeG711('PCMU', Uint8Array.of(byte))[0];
const decodeALaw = (byte: number) => decodeG711('PCMA', Uint8Array.of(byte))[0];

/** A pcap (little-endian, raw IPv4) of UDP packets `{timeMs, port, rtp}` as rtpengine's pcap method writes. */
function pcap(packets: Array<{ timeMs: number; port: number; rtp: Buffer }>): Buffer {
  const header = Buffer.alloc(24);
  header.writeUInt32LE(0xa1b2c3d4, 0);
  header.writeUInt16LE(2, 4);
  header.writeUInt16LE(4, 6);
  header.writeUInt32LE(0xffff, 16);
  header.writeUInt32LE(101, 20);
  const records = packets.map(({ timeMs, port, rtp }) => {
    const ip = Buffer.alloc(28);
    ip[0] = 0x45;
    ip.writeUInt16BE(28 + rtp.length, 2);
    ip[9] = 17;
    ip.writeUInt16BE(40000, 20);
    ip.writeUInt16BE(port, 22);
    ip.writeUInt16BE(8 + rtp.length, 24);
    const record = Buffer.alloc(16);
    record.writeUInt32LE(Math.floor(timeMs / 1000), 0);
    record.writeUInt32LE((timeMs % 1000) * 1000, 4);
    record.writeUInt32LE(28 + rtp.length, 8);
    record.writeUInt32LE(28 + rtp.length, 12);
    return Buffer.concat([record, ip, rtp]);
  });
  return Buffer.concat([header, ...records]);
}

function rtp(payloadType: number, timestamp: number, ssrc: number, payload: Buffer): Buffer {
  const head = Buffer.alloc(12);
  head[0] = 0x80;
  head[1] = payloadType;
  head.writeUInt32BE(timestamp, 4);
  head.writeUInt32BE(ssrc, 8);
  return Buffer.concat([head, payload]);
}

describe('pcap capture to stereo WAV', () => {
  it('decodes G.711 as ITU-T G.711 defines its code words', () => {
    expect(decodeMuLaw(0xff)).toBe(0);
    expect(decodeMuLaw(0x7f)).toBe(0);
    expect(decodeMuLaw(0x80)).toBe(32124);
    expect(decodeMuLaw(0x00)).toBe(-32124);
    expect(decodeALaw(0xd5)).toBe(8);
    expect(decodeALaw(0x55)).toBe(-8);
    expect(decodeALaw(0xaa)).toBe(32256);
  });

  it('reads the RTP of a capture and places each leg on its channel by time, skipping telephone-event', async () => {
    const loud = Buffer.alloc(160, 0x80); // µ-law +32124
    const quiet = Buffer.alloc(160, 0xd5); // A-law +8
    const capture = pcap([
      { timeMs: 1_000_000, port: 30000, rtp: rtp(0, 1000, 1, loud) },
      { timeMs: 1_000_020, port: 30000, rtp: rtp(0, 1160, 1, loud) },
      // The callee starts 100 ms later, in A-law.
      { timeMs: 1_000_100, port: 30002, rtp: rtp(8, 5000, 2, quiet) },
      { timeMs: 1_000_110, port: 30002, rtp: rtp(101, 5160, 2, Buffer.from([1, 0x80, 0, 160])) },
      { timeMs: 1_000_120, port: 30001, rtp: rtp(0, 0, 3, loud) }, // RTCP port: not a leg
    ]);
    const packets = readPcapRtp(capture);
    expect(packets.map((p) => p.port)).toEqual([30000, 30000, 30002, 30002, 30001]);
    const { wav, durationMs } = await stereoWav(packets, { left: 30000, right: 30002 });
    // 100 ms offset + 160 samples of the callee = 960 frames = 120 ms.
    expect(durationMs).toBe(120);
    const frame = (i: number) => [wav.readInt16LE(44 + i * 4), wav.readInt16LE(44 + i * 4 + 2)];
    expect(wav.readUInt16LE(22)).toBe(2);
    expect(frame(0)).toEqual([32124, 0]);
    expect(frame(319)).toEqual([32124, 0]);
    expect(frame(320)).toEqual([0, 0]);
    expect(frame(800)).toEqual([0, 8]);
    expect(frame(959)).toEqual([0, 8]);
  });

  it('joins the segments of a call recorded on demand back to back, without the time between them', async () => {
    const loud = Buffer.alloc(160, 0x80);
    const first = await stereoWav(readPcapRtp(pcap([{ timeMs: 0, port: 30000, rtp: rtp(0, 0, 1, loud) }])), {
      left: 30000,
      right: 30002,
    });
    // Ten seconds later, the callee only.
    const second = await stereoWav(
      readPcapRtp(pcap([{ timeMs: 10_000, port: 30002, rtp: rtp(0, 80_000, 2, loud) }])),
      {
        left: 30000,
        right: 30002,
      },
    );
    const { wav, durationMs } = joinStereo([first, second]);
    expect(durationMs).toBe(40);
    expect(wav.readUInt32LE(40)).toBe(320 * 4);
    expect(wav.length).toBe(44 + 320 * 4);
    const frame = (i: number) => [wav.readInt16LE(44 + i * 4), wav.readInt16LE(44 + i * 4 + 2)];
    expect(frame(0)).toEqual([32124, 0]);
    expect(frame(160)).toEqual([0, 32124]);
    expect(joinStereo([first])).toBe(first);
  });

  it('refuses what is not a pcap and stops at a cut-off record', () => {
    expect(() => readPcapRtp(Buffer.from('not a capture at all, clearly'))).toThrow(/pcap/);
    const whole = pcap([{ timeMs: 5, port: 1, rtp: rtp(0, 0, 1, Buffer.alloc(160, 0xff)) }]);
    expect(readPcapRtp(whole.subarray(0, whole.length - 10))).toEqual([]);
  });

  /**
   * fixtures/opus-call.pcap: the first 2.1 s of rtpengine's pcap capture of a real call between two
   * baresips offering Opus only (payload type 96, opus/48000/2), the caller sending 440 Hz to relay port
   * 40350 and the callee 1000 Hz to relay port 40330.
   */
  it('decodes the Opus of a real capture: 440 Hz on the left, 1000 Hz on the right, the channels aligned', async () => {
    const packets = readPcapRtp(readFileSync(new URL('./fixtures/opus-call.pcap', import.meta.url)));
    expect(new Set(packets.map((p) => p.payloadType))).toEqual(new Set([96]));
    const sdp = [
      'm=audio 4000 RTP/AVP 96 101',
      'a=rtpmap:96 opus/48000/2',
      'a=rtpmap:101 telephone-event/8000',
    ];
    const opus = sdpPayloadTypes(sdp.join('\r\n'));
    const channels = { left: 40350, right: 40330, payloadTypes: { left: opus, right: opus } };
    // Without the SDP's payload types the packets are not known as Opus: nothing is decoded.
    expect((await stereoWav(packets, { left: 40350, right: 40330 })).durationMs).toBe(0);

    const { wav, durationMs } = await stereoWav(packets, channels);
    expect(durationMs).toBeGreaterThanOrEqual(2000);
    expect(durationMs).toBeLessThanOrEqual(2200);
    const dir = mkdtempSync(join(tmpdir(), 'media-opus-'));
    try {
      const file = join(dir, 'call.wav');
      writeFileSync(file, wav);
      for (const [channel, expected, other] of [
        [0, 440, 1000],
        [1, 1000, 440],
      ] as const) {
        const audio = readWav(file, channel);
        expect(audio.sampleRate).toBe(8000);
        const analysis = analyseTones(audio, [expected, other]);
        const summary = `channel ${channel}: ${JSON.stringify({ ...analysis, share: [...analysis.share] })}`;
        expect(analysis.voicedSeconds, summary).toBe(2);
        expect(analysis.share.get(expected), summary).toBeGreaterThan(0.8);
        expect(analysis.share.get(other), summary).toBeLessThan(0.05);
      }
      // Both parties started within a few ms: neither channel is shifted by the 48 kHz RTP clock.
      const firstSound = (channel: number): number =>
        readWav(file, channel).samples.findIndex((v) => Math.abs(v) > 0.05);
      expect(Math.abs(firstSound(0) - firstSound(1))).toBeLessThan(8000 * 0.1);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('leaves telephone-event and comfort noise out of an Opus call', async () => {
    const [first] = readPcapRtp(readFileSync(new URL('./fixtures/opus-call.pcap', import.meta.url)));
    const types = new Map([
      [96, 'opus/48000/2'],
      [101, 'telephone-event/48000'],
      [13, 'CN/8000'],
    ]);
    const packets = [
      {
        ...first!,
        port: 30000,
        timeMs: 0,
        timestamp: 0,
        payloadType: 101,
        payload: Buffer.from([1, 0x8a, 3, 0xc0]),
      },
      { ...first!, port: 30000, timeMs: 0, timestamp: 0, payloadType: 13, payload: Buffer.from([0x40]) },
    ];
    const channels = { left: 30000, right: 30002, payloadTypes: { left: types, right: types } };
    expect((await stereoWav(packets, channels)).durationMs).toBe(0);
    const opus = await stereoWav([{ ...first!, port: 30000, timeMs: 0, timestamp: 0 }], channels);
    expect(opus.durationMs).toBe(20);
  });
});
