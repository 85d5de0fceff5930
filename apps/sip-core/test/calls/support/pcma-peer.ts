import { createSocket } from 'node:dgram';
import type { PcmAudio } from '@switchboard/testkit';

/**
 * The media side of a carrier that speaks PCMA only (G.711 A-law, RFC 3551 payload type 8): a UDP
 * socket that decodes every PCMA packet it receives (what the carrier hears), and from the first one
 * on sends 20 ms packets of a tone of its own back to where that packet came from (symmetric RTP, as
 * the relay expects), so a test can check both directions separately.
 */

const SAMPLE_RATE = 8000;
const FRAME = 160;
const PCMA = 8;

/** G.711 A-law expansion (ITU-T G.711 table 1), to a 16-bit linear sample. */
export function alawToLinear(code: number): number {
  const value = code ^ 0x55;
  let magnitude = (value & 0x0f) << 4;
  const segment = (value & 0x70) >> 4;
  if (segment === 0) magnitude += 8;
  else if (segment === 1) magnitude += 0x108;
  else magnitude = (magnitude + 0x108) << (segment - 1);
  return value & 0x80 ? magnitude : -magnitude;
}

const SEGMENT_ENDS = [0x1f, 0x3f, 0x7f, 0xff, 0x1ff, 0x3ff, 0x7ff, 0xfff];

/** G.711 A-law compression of a 16-bit linear sample. */
export function linearToAlaw(sample: number): number {
  let value = sample >> 3;
  let mask = 0xd5;
  if (value < 0) {
    mask = 0x55;
    value = -value - 1;
  }
  const segment = SEGMENT_ENDS.findIndex((end) => value <= end);
  if (segment < 0) return 0x7f ^ mask;
  const step = segment < 2 ? (value >> 1) & 0x0f : (value >> segment) & 0x0f;
  return ((segment << 4) | step) ^ mask;
}

export interface PcmaPeer {
  port: number;
  /** What arrived as PCMA so far, decoded. */
  received(): PcmAudio;
  /** Packets of another payload type than PCMA (the relay should send none). */
  otherPayloads(): number;
  close(): Promise<void>;
}

/**
 * Starts the carrier's media socket on 127.0.0.1:`port`, sending `frequency` Hz at half scale for at
 * most `maxSeconds` once the relay has sent its first packet.
 */
export function startPcmaPeer(port: number, frequency: number, maxSeconds = 30): Promise<PcmaPeer> {
  const socket = createSocket('udp4');
  const samples: number[] = [];
  let others = 0;
  let sender: NodeJS.Timeout | undefined;
  let sequence = 0;
  const ssrc = 0x5ca1ab1e;
  const startSending = (address: string, remotePort: number): void => {
    const frames = Math.ceil((maxSeconds * SAMPLE_RATE) / FRAME);
    sender = setInterval(() => {
      if (sequence >= frames) return clearInterval(sender);
      const packet = Buffer.alloc(12 + FRAME);
      packet[0] = 0x80;
      packet[1] = PCMA;
      packet.writeUInt16BE(sequence & 0xffff, 2);
      packet.writeUInt32BE((sequence * FRAME) >>> 0, 4);
      packet.writeUInt32BE(ssrc, 8);
      for (let i = 0; i < FRAME; i++) {
        const t = (sequence * FRAME + i) / SAMPLE_RATE;
        packet[12 + i] = linearToAlaw(Math.round(16384 * Math.sin(2 * Math.PI * frequency * t)));
      }
      sequence++;
      socket.send(packet, remotePort, address);
    }, 20);
  };
  socket.on('message', (packet, from) => {
    if (packet.length < 12 || packet[0]! >> 6 !== 2) return;
    if ((packet[1]! & 0x7f) !== PCMA) {
      others++;
      return;
    }
    // RFC 3550 §5.1: a fixed 12-byte header, then 4 bytes per CSRC, then an optional extension.
    let offset = 12 + 4 * (packet[0]! & 0x0f);
    if (packet[0]! & 0x10) offset += 4 + 4 * packet.readUInt16BE(offset + 2);
    for (let i = offset; i < packet.length; i++) samples.push(alawToLinear(packet[i]!) / 32768);
    if (!sender) startSending(from.address, from.port);
  });
  return new Promise((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(port, '127.0.0.1', () =>
      resolve({
        port,
        received: () => ({ sampleRate: SAMPLE_RATE, channels: 1, samples: Float64Array.from(samples) }),
        otherPayloads: () => others,
        close: () =>
          new Promise<void>((done) => {
            clearInterval(sender);
            socket.close(() => done());
          }),
      }),
    );
  });
}
