import { isIPv4, isIPv6 } from 'node:net';

/**
 * HEP version 3 (the Homer Encapsulation Protocol, as heplify-server and Homer read it): the header "HEP3"
 * and a 16-bit total length, then chunks of vendor id (16 bits), chunk type (16 bits), chunk length (16 bits,
 * the 6 header bytes included) and the value. Every number is big-endian. Only vendor 0 (generic) chunks
 * are used.
 */
export const HEP_CHUNK = {
  ipFamily: 1,
  ipProtocol: 2,
  ipv4Source: 3,
  ipv4Destination: 4,
  ipv6Source: 5,
  ipv6Destination: 6,
  sourcePort: 7,
  destinationPort: 8,
  timestampSeconds: 9,
  timestampMicroseconds: 10,
  protocolType: 11,
  captureId: 12,
  authKey: 14,
  payload: 0x000f,
  correlationId: 17,
} as const;

/** Address families as HEP writes them (the BSD socket constants). */
export const HEP_FAMILY = { ipv4: 2, ipv6: 10 } as const;
/** IP protocol numbers (IANA): SIP over TLS and WebSocket is still TCP to the capture. */
export const HEP_IP_PROTOCOL = { udp: 17, tcp: 6 } as const;
export const HEP_PROTOCOL_SIP = 1;

export interface HepPacket {
  /** `udp` or a stream transport (tcp, tls, ws, wss: all carried over TCP). */
  ipProtocol: 'udp' | 'tcp';
  sourceAddress: string;
  sourcePort: number;
  destinationAddress: string;
  destinationPort: number;
  /** Capture time, microseconds since the epoch. */
  timeMicros: number;
  captureId: number;
  payload: Buffer;
  /** Chunk 14: the collector's password, when it asks for one. */
  authKey?: string;
  /** Chunk 17: ties the packets of one call together; the SIP Call-ID. */
  correlationId?: string;
}

const HEADER_BYTES = 6;
const MAX_PACKET_BYTES = 0xffff;

function chunk(type: number, value: Buffer): Buffer {
  const head = Buffer.alloc(HEADER_BYTES);
  head.writeUInt16BE(0, 0);
  head.writeUInt16BE(type, 2);
  head.writeUInt16BE(HEADER_BYTES + value.length, 4);
  return Buffer.concat([head, value]);
}

function uint8(type: number, n: number): Buffer {
  return chunk(type, Buffer.from([n]));
}

function uint16(type: number, n: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(n);
  return chunk(type, b);
}

function uint32(type: number, n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n >>> 0);
  return chunk(type, b);
}

function ipv4Bytes(address: string): Buffer {
  return Buffer.from(address.split('.').map(Number));
}

/** The 16 bytes of an IPv6 literal (`::` expanded; an embedded dotted IPv4 tail allowed). */
function ipv6Bytes(address: string): Buffer {
  let text = address;
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted?.[1]) {
    const v4 = ipv4Bytes(dotted[1]);
    text = `${text.slice(0, -dotted[1].length)}${v4.readUInt16BE(0).toString(16)}:${v4.readUInt16BE(2).toString(16)}`;
  }
  const [head = '', tail] = text.split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const groups = [...left, ...Array(8 - left.length - right.length).fill('0'), ...right];
  const out = Buffer.alloc(16);
  for (const [i, g] of groups.entries()) out.writeUInt16BE(Number.parseInt(g, 16), i * 2);
  return out;
}

/**
 * Encodes one captured message. Throws when an address is not an IP literal, the two addresses are of
 * different families, or the packet would not fit the 16-bit length.
 */
export function encodeHep3(packet: HepPacket): Buffer {
  const v4 = isIPv4(packet.sourceAddress) && isIPv4(packet.destinationAddress);
  const v6 = isIPv6(packet.sourceAddress) && isIPv6(packet.destinationAddress);
  if (!v4 && !v6) {
    throw new Error(
      `HEP needs two IP literals of one family: ${packet.sourceAddress}, ${packet.destinationAddress}`,
    );
  }
  const seconds = Math.floor(packet.timeMicros / 1_000_000);
  const chunks = [
    uint8(HEP_CHUNK.ipFamily, v4 ? HEP_FAMILY.ipv4 : HEP_FAMILY.ipv6),
    uint8(HEP_CHUNK.ipProtocol, HEP_IP_PROTOCOL[packet.ipProtocol]),
    v4
      ? chunk(HEP_CHUNK.ipv4Source, ipv4Bytes(packet.sourceAddress))
      : chunk(HEP_CHUNK.ipv6Source, ipv6Bytes(packet.sourceAddress)),
    v4
      ? chunk(HEP_CHUNK.ipv4Destination, ipv4Bytes(packet.destinationAddress))
      : chunk(HEP_CHUNK.ipv6Destination, ipv6Bytes(packet.destinationAddress)),
    uint16(HEP_CHUNK.sourcePort, packet.sourcePort),
    uint16(HEP_CHUNK.destinationPort, packet.destinationPort),
    uint32(HEP_CHUNK.timestampSeconds, seconds),
    uint32(HEP_CHUNK.timestampMicroseconds, packet.timeMicros - seconds * 1_000_000),
    uint8(HEP_CHUNK.protocolType, HEP_PROTOCOL_SIP),
    uint32(HEP_CHUNK.captureId, packet.captureId),
  ];
  if (packet.authKey !== undefined)
    chunks.push(chunk(HEP_CHUNK.authKey, Buffer.from(packet.authKey, 'utf8')));
  chunks.push(chunk(HEP_CHUNK.payload, packet.payload));
  if (packet.correlationId !== undefined) {
    chunks.push(chunk(HEP_CHUNK.correlationId, Buffer.from(packet.correlationId, 'utf8')));
  }
  const length = HEADER_BYTES + chunks.reduce((n, c) => n + c.length, 0);
  if (length > MAX_PACKET_BYTES) throw new Error(`HEP packet of ${length} bytes exceeds the 16-bit length`);
  const header = Buffer.alloc(HEADER_BYTES);
  header.write('HEP3', 0, 'ascii');
  header.writeUInt16BE(length, 4);
  return Buffer.concat([header, ...chunks], length);
}

/** A decoded packet: every vendor-0 chunk by type (the raw value), as a collector would see it. */
export interface DecodedHep {
  chunks: Map<number, Buffer>;
}

/** Decodes a HEP v3 packet; throws on anything that is not one (bad magic, lengths out of bounds). */
export function decodeHep3(data: Buffer): DecodedHep {
  if (data.length < HEADER_BYTES || data.toString('ascii', 0, 4) !== 'HEP3')
    throw new Error('not a HEP3 packet');
  const total = data.readUInt16BE(4);
  if (total > data.length || total < HEADER_BYTES) throw new Error('HEP3 length out of bounds');
  const chunks = new Map<number, Buffer>();
  let at = HEADER_BYTES;
  while (at < total) {
    if (at + HEADER_BYTES > total) throw new Error('truncated HEP3 chunk header');
    const vendor = data.readUInt16BE(at);
    const type = data.readUInt16BE(at + 2);
    const length = data.readUInt16BE(at + 4);
    if (length < HEADER_BYTES || at + length > total) throw new Error('HEP3 chunk length out of bounds');
    if (vendor === 0) chunks.set(type, data.subarray(at + HEADER_BYTES, at + length));
    at += length;
  }
  return { chunks };
}
