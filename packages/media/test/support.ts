import { createSocket, type Socket } from 'node:dgram';
import pino from 'pino';
import { type LocalRtpengine, startLocalRtpengine } from '../src/launcher.ts';

export const silentLogger = pino({ level: 'silent' });

/** Starts a test rtpengine on loopback; the caller must stop it in afterAll. */
export function startTestRtpengine(options: {
  ngPort: number;
  portMin: number;
  portMax: number;
  interfaces?: string[];
}): Promise<LocalRtpengine> {
  return startLocalRtpengine({
    ngPort: options.ngPort,
    portMin: options.portMin,
    portMax: options.portMax,
    interface: options.interfaces ?? ['127.0.0.1'],
    logger: silentLogger,
    stopTimeoutMs: 3000,
  });
}

export interface MLine {
  media: string;
  port: number;
  proto: string;
  formats: string[];
}

export function mLines(sdp: string): MLine[] {
  return sdp
    .split(/\r?\n/)
    .filter((l) => l.startsWith('m='))
    .map((l) => {
      const [media, port, proto, ...formats] = l.slice(2).split(' ');
      return { media: media!, port: Number(port), proto: proto!, formats };
    });
}

export function lines(sdp: string, prefix: string): string[] {
  return sdp.split(/\r?\n/).filter((l) => l.startsWith(prefix));
}

/** Lines of the media section with the given index (0-based), m= line included. */
export function mediaSection(sdp: string, index: number): string[] {
  const all = sdp.split(/\r?\n/).filter((l) => l !== '');
  const starts = all.map((l, i) => (l.startsWith('m=') ? i : -1)).filter((i) => i >= 0);
  const start = starts[index];
  if (start === undefined) return [];
  return all.slice(start, starts[index + 1] ?? all.length);
}

export interface SdpOptions {
  address: string;
  audioPort: number;
  videoPort?: number;
  audioFormats?: Array<[number, string]>;
  proto?: string;
  extra?: string[];
  family?: 'IP4' | 'IP6';
}

/** A plain SIP phone's SDP. */
export function sdp(options: SdpOptions): string {
  const family = options.family ?? 'IP4';
  const formats = options.audioFormats ?? [
    [0, 'PCMU/8000'],
    [8, 'PCMA/8000'],
    [101, 'telephone-event/8000'],
  ];
  const proto = options.proto ?? 'RTP/AVP';
  const out = [
    'v=0',
    `o=phone 1000 1000 IN ${family} ${options.address}`,
    's=-',
    `c=IN ${family} ${options.address}`,
    't=0 0',
    `m=audio ${options.audioPort} ${proto} ${formats.map(([pt]) => pt).join(' ')}`,
    ...formats.map(([pt, name]) => `a=rtpmap:${pt} ${name}`),
    ...(options.extra ?? []),
    'a=sendrecv',
  ];
  if (options.videoPort !== undefined) {
    out.push(`m=video ${options.videoPort} ${proto} 96`, 'a=rtpmap:96 H264/90000', 'a=sendrecv');
  }
  return `${out.join('\r\n')}\r\n`;
}

/** A browser's offer: ICE, DTLS-SRTP, rtcp-mux, opus + G.711. */
export function webrtcSdp(address: string, port: number): string {
  return `${[
    'v=0',
    'o=- 4611731400430051336 2 IN IP4 127.0.0.1',
    's=-',
    't=0 0',
    'a=msid-semantic: WMS',
    `m=audio ${port} UDP/TLS/RTP/SAVPF 111 0 8`,
    `c=IN IP4 ${address}`,
    `a=rtcp:${port} IN IP4 ${address}`,
    `a=candidate:1 1 udp 2122260223 ${address} ${port} typ host generation 0`,
    'a=ice-ufrag:Wq7c',
    'a=ice-pwd:8mLqoEVqM1nvhDwnkjM9Yzq7',
    'a=ice-options:trickle',
    'a=fingerprint:sha-256 7B:8B:F0:65:5F:78:E2:51:3B:AC:6F:F3:3F:46:1B:35:DC:B8:5F:64:1A:24:C2:43:F0:A1:58:D0:A1:2C:19:08',
    'a=setup:actpass',
    'a=mid:0',
    'a=sendrecv',
    'a=rtcp-mux',
    'a=rtpmap:111 opus/48000/2',
    'a=fmtp:111 minptime=10;useinbandfec=1',
    'a=rtpmap:0 PCMU/8000',
    'a=rtpmap:8 PCMA/8000',
  ].join('\r\n')}\r\n`;
}

export function udpSocket(address = '127.0.0.1'): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = createSocket(address.includes(':') ? 'udp6' : 'udp4');
    socket.once('error', reject);
    socket.bind(0, address, () => resolve(socket));
  });
}

export function closeSocket(socket: Socket): Promise<void> {
  return new Promise((resolve) => {
    try {
      socket.close(() => resolve());
    } catch {
      resolve();
    }
  });
}

/** An RFC 3550 RTP packet with a 20-byte payload. */
export function rtpPacket(payloadType: number, seq: number, ssrc: number, marker = 0): Buffer {
  const packet = Buffer.alloc(12 + 160);
  packet[0] = 0x80;
  packet[1] = (marker << 7) | payloadType;
  packet.writeUInt16BE(seq & 0xffff, 2);
  packet.writeUInt32BE((seq * 160) >>> 0, 4);
  packet.writeUInt32BE(ssrc >>> 0, 8);
  packet.fill(0xd5, 12);
  return packet;
}

/**
 * Sends RTP from `from` to `to` every 20 ms until `receiver` gets a packet (or 40 tries); resolves with
 * the first packet received and its source.
 */
export async function sendUntilReceived(
  from: Socket,
  to: { address: string; port: number },
  receiver: Socket,
  payloadType: number,
  ssrc: number,
): Promise<{ packet: Buffer; source: { address: string; port: number } }> {
  return new Promise((resolve, reject) => {
    let seq = 1;
    const onMessage = (packet: Buffer, rinfo: { address: string; port: number }): void => {
      clearInterval(timer);
      receiver.off('message', onMessage);
      resolve({ packet, source: { address: rinfo.address, port: rinfo.port } });
    };
    receiver.on('message', onMessage);
    const timer = setInterval(() => {
      if (seq > 40) {
        clearInterval(timer);
        receiver.off('message', onMessage);
        reject(new Error(`no RTP arrived after ${seq - 1} packets to ${to.address}:${to.port}`));
        return;
      }
      from.send(rtpPacket(payloadType, seq, ssrc), to.port, to.address);
      seq += 1;
    }, 20);
  });
}
