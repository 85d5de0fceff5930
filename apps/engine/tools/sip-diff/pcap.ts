import { frameMessages } from '@switchboard/sip';
import type { WireMessage } from './capture.ts';

/**
 * Reads SIP messages out of a classic pcap file (what tcpdump -w writes): IPv4/IPv6, UDP datagrams as they
 * are, TCP byte streams reassembled per direction and cut into messages by Content-Length (RFC 3261 §18.3).
 * Link types: Ethernet (loopback on Linux), Linux cooked v1/v2 (`-i any`), BSD loopback.
 */

const LINK_NULL = 0;
const LINK_ETHERNET = 1;
const LINK_LOOP = 108;
const LINK_SLL = 113;
const LINK_SLL2 = 276;

interface Packet {
  time: number;
  data: Buffer;
}

interface TcpStream {
  next: number | undefined;
  buffer: Buffer;
}

export function readPcap(file: Buffer): WireMessage[] {
  const { packets, linkType } = records(file);
  const messages: WireMessage[] = [];
  const streams = new Map<string, TcpStream>();
  for (const packet of packets) {
    const ip = ipPayload(packet.data, linkType);
    if (!ip) continue;
    if (ip.protocol === 17) udpMessage(ip, packet.time, messages);
    else if (ip.protocol === 6) tcpSegment(ip, packet.time, streams, messages);
  }
  return messages;
}

function records(file: Buffer): { packets: Packet[]; linkType: number } {
  if (file.length < 24) throw new Error('not a pcap file: shorter than its header');
  const magic = file.readUInt32LE(0);
  let le: boolean;
  if (magic === 0xa1b2c3d4 || magic === 0xa1b23c4d) le = true;
  else if (magic === 0xd4c3b2a1 || magic === 0x4d3cb2a1) le = false;
  else throw new Error('not a pcap file (pcapng is not read: write with tcpdump -w)');
  const m = le ? magic : file.readUInt32BE(0);
  const nano = m === 0xa1b23c4d;
  const u32 = (at: number) => (le ? file.readUInt32LE(at) : file.readUInt32BE(at));
  const linkType = u32(20) & 0xffff;
  const packets: Packet[] = [];
  let pos = 24;
  while (pos + 16 <= file.length) {
    const sec = u32(pos);
    const frac = u32(pos + 4);
    const length = u32(pos + 8);
    const start = pos + 16;
    if (start + length > file.length) break; // truncated last record (capture stopped mid-write)
    packets.push({ time: sec + frac / (nano ? 1e9 : 1e6), data: file.subarray(start, start + length) });
    pos = start + length;
  }
  return { packets, linkType };
}

interface IpPacket {
  protocol: number;
  src: string;
  dst: string;
  payload: Buffer;
}

function ipPayload(frame: Buffer, linkType: number): IpPacket | undefined {
  let offset: number;
  if (linkType === LINK_ETHERNET) offset = 14;
  else if (linkType === LINK_SLL) offset = 16;
  else if (linkType === LINK_SLL2) offset = 20;
  else if (linkType === LINK_NULL || linkType === LINK_LOOP) offset = 4;
  else throw new Error(`pcap link type ${linkType} is not read`);
  if (frame.length <= offset) return undefined;
  const version = (frame[offset] as number) >> 4;
  if (version === 4) {
    const ihl = ((frame[offset] as number) & 0x0f) * 4;
    const total = frame.readUInt16BE(offset + 2);
    return {
      protocol: frame[offset + 9] as number,
      src: Array.from(frame.subarray(offset + 12, offset + 16)).join('.'),
      dst: Array.from(frame.subarray(offset + 16, offset + 20)).join('.'),
      payload: frame.subarray(offset + ihl, offset + total),
    };
  }
  if (version === 6) {
    const length = frame.readUInt16BE(offset + 4);
    return {
      protocol: frame[offset + 6] as number,
      src: ipv6(frame.subarray(offset + 8, offset + 24)),
      dst: ipv6(frame.subarray(offset + 24, offset + 40)),
      payload: frame.subarray(offset + 40, offset + 40 + length),
    };
  }
  return undefined;
}

function ipv6(bytes: Buffer): string {
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(bytes.readUInt16BE(i).toString(16));
  return `[${groups.join(':')}]`;
}

function udpMessage(ip: IpPacket, time: number, out: WireMessage[]): void {
  if (ip.payload.length < 8) return;
  const body = ip.payload.subarray(8);
  if (!looksLikeSip(body)) return; // keep-alives, STUN
  out.push({
    time,
    transport: 'udp',
    src: `${ip.src}:${ip.payload.readUInt16BE(0)}`,
    dst: `${ip.dst}:${ip.payload.readUInt16BE(2)}`,
    raw: body.toString('latin1'),
  });
}

function tcpSegment(ip: IpPacket, time: number, streams: Map<string, TcpStream>, out: WireMessage[]): void {
  const seg = ip.payload;
  if (seg.length < 20) return;
  const src = `${ip.src}:${seg.readUInt16BE(0)}`;
  const dst = `${ip.dst}:${seg.readUInt16BE(2)}`;
  const seq = seg.readUInt32BE(4);
  const flags = seg[13] as number;
  const data = seg.subarray(((seg[12] as number) >> 4) * 4);
  const key = `${src}>${dst}`;
  let stream = streams.get(key);
  if (flags & 0x02) {
    // SYN: a new connection on this 4-tuple starts its stream afresh
    streams.set(key, { next: (seq + 1) >>> 0, buffer: Buffer.alloc(0) });
    return;
  }
  if (data.length === 0) return;
  if (!stream) {
    stream = { next: undefined, buffer: Buffer.alloc(0) }; // joined mid-connection
    streams.set(key, stream);
  }
  let fresh = data;
  if (stream.next !== undefined) {
    const behind = (stream.next - seq) | 0; // bytes of this segment already had (retransmission)
    if (behind >= data.length) return;
    if (behind > 0) fresh = data.subarray(behind);
  }
  stream.next = (seq + data.length) >>> 0;
  stream.buffer = Buffer.concat([stream.buffer, fresh]);
  const framed = frameMessages(stream.buffer);
  for (const message of framed.messages) {
    out.push({ time, transport: 'tcp', src, dst, raw: message.toString('latin1') });
  }
  stream.buffer = framed.error ? Buffer.alloc(0) : Buffer.from(framed.rest);
}

function looksLikeSip(body: Buffer): boolean {
  const head = body.subarray(0, 16).toString('latin1');
  return /^(SIP\/2\.0 \d{3}|[A-Z]+ \S)/.test(head);
}
