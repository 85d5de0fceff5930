/** RTP packets (RFC 3550 §5.1) and RFC 4733 telephone-events, as far as the endpoint needs them. */

export interface RtpPacket {
  payloadType: number;
  marker: boolean;
  sequence: number;
  timestamp: number;
  ssrc: number;
  payload: Buffer;
}

/** Parses an RTP packet; undefined for anything that is not RTP version 2 (RTCP, STUN, garbage). */
export function parseRtp(packet: Buffer): RtpPacket | undefined {
  if (packet.length < 12) return undefined;
  const first = packet[0] ?? 0;
  if (first >> 6 !== 2) return undefined;
  const second = packet[1] ?? 0;
  const payloadType = second & 0x7f;
  // RTCP (RFC 5761 §4): payload types 64-95 with the marker are RTCP packet types 192-223.
  if (payloadType >= 72 && payloadType <= 76) return undefined;
  const csrcCount = first & 0x0f;
  let offset = 12 + csrcCount * 4;
  if (first & 0x10) {
    if (packet.length < offset + 4) return undefined;
    offset += 4 + packet.readUInt16BE(offset + 2) * 4;
  }
  let end = packet.length;
  if (first & 0x20) end -= packet[packet.length - 1] ?? 0;
  if (offset > end) return undefined;
  return {
    payloadType,
    marker: (second & 0x80) !== 0,
    sequence: packet.readUInt16BE(2),
    timestamp: packet.readUInt32BE(4),
    ssrc: packet.readUInt32BE(8),
    payload: packet.subarray(offset, end),
  };
}

export function buildRtp(packet: RtpPacket): Buffer {
  const header = Buffer.alloc(12);
  header[0] = 0x80;
  header[1] = (packet.marker ? 0x80 : 0) | (packet.payloadType & 0x7f);
  header.writeUInt16BE(packet.sequence & 0xffff, 2);
  header.writeUInt32BE(packet.timestamp >>> 0, 4);
  header.writeUInt32BE(packet.ssrc >>> 0, 8);
  return Buffer.concat([header, packet.payload]);
}

/** An RFC 4733 §2.3 named event: the event code (0-9, 10 `*`, 11 `#`, 12-15 A-D) and its end bit. */
export interface TelephoneEvent {
  event: number;
  end: boolean;
  volume: number;
  duration: number;
}

export function parseTelephoneEvent(payload: Buffer): TelephoneEvent | undefined {
  if (payload.length < 4) return undefined;
  const flags = payload[1] ?? 0;
  return {
    event: payload[0] ?? 0,
    end: (flags & 0x80) !== 0,
    volume: flags & 0x3f,
    duration: payload.readUInt16BE(2),
  };
}

const DIGITS = '0123456789*#ABCD';

/** The DTMF digit of an event code (RFC 4733 §3.2, Table 7), undefined for other events. */
export function digitOf(event: number): string | undefined {
  return event < DIGITS.length ? DIGITS[event] : undefined;
}
