import { decodeG711 } from '@switchboard/media-endpoint';
import { describe, expect, it } from 'vitest';
import { joinStereo, readPcapRtp, stereoWav } from '../src/recording.ts';

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

  it('reads the RTP of a capture and places each leg on its channel by time, skipping telephone-event', () => {
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
    const { wav, durationMs } = stereoWav(packets, { left: 30000, right: 30002 });
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

  it('joins the segments of a call recorded on demand back to back, without the time between them', () => {
    const loud = Buffer.alloc(160, 0x80);
    const first = stereoWav(readPcapRtp(pcap([{ timeMs: 0, port: 30000, rtp: rtp(0, 0, 1, loud) }])), {
      left: 30000,
      right: 30002,
    });
    // Ten seconds later, the callee only.
    const second = stereoWav(
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
});
