import { isIP } from 'node:net';

/**
 * The STUN keep-alive answer on SIP UDP ports (RFC 5626 §4.4.2, §8.4): a UA behind NAT sends STUN
 * Binding requests (RFC 5389) to the SIP port it registered through and learns from the
 * XOR-MAPPED-ADDRESS of the answer whether its NAT binding changed. STUN and SIP share the port; they
 * are told apart by the first byte: a STUN message starts with two zero bits and, for the methods in
 * use, a first byte of 0x00 or 0x01; a SIP message starts with a letter (RFC 5389 §6, RFC 5626 §5.4).
 */

const MAGIC_COOKIE = 0x2112a442;
const HEADER_LENGTH = 20;
const BINDING_REQUEST = 0x0001;
const BINDING_SUCCESS = 0x0101;
const XOR_MAPPED_ADDRESS = 0x0020;

/** True when a datagram is demultiplexed as STUN rather than SIP (first byte 0x00 or 0x01). */
export function looksLikeStun(data: Buffer): boolean {
  return data.length > 0 && (data[0] === 0x00 || data[0] === 0x01);
}

/**
 * The transaction id of a well-formed STUN Binding request (RFC 5389 §6: 20-byte header with the
 * magic cookie, a length that matches the datagram and is a multiple of 4), else undefined. Attributes
 * are not inspected: the keep-alive usage sends none that this answer depends on.
 */
export function stunBindingRequestId(data: Buffer): Buffer | undefined {
  if (data.length < HEADER_LENGTH) return undefined;
  if (data.readUInt16BE(0) !== BINDING_REQUEST) return undefined;
  const length = data.readUInt16BE(2);
  if (length !== data.length - HEADER_LENGTH || length % 4 !== 0) return undefined;
  if (data.readUInt32BE(4) !== MAGIC_COOKIE) return undefined;
  return data.subarray(8, HEADER_LENGTH);
}

/**
 * A Binding success response for `transactionId` carrying the request's source transport address as
 * XOR-MAPPED-ADDRESS (RFC 5389 §7.3.1, §15.2). Returns undefined for an address that is not an IP
 * literal (cannot happen for a datagram's source).
 */
export function stunBindingSuccess(transactionId: Buffer, address: string, port: number): Buffer | undefined {
  const family = isIP(address);
  const raw = family === 4 ? ipv4Bytes(address) : family === 6 ? ipv6Bytes(address) : undefined;
  if (raw === undefined) return undefined;
  const out = Buffer.alloc(HEADER_LENGTH + 4 + 4 + raw.length);
  out.writeUInt16BE(BINDING_SUCCESS, 0);
  out.writeUInt16BE(out.length - HEADER_LENGTH, 2);
  out.writeUInt32BE(MAGIC_COOKIE, 4);
  transactionId.copy(out, 8);
  // attribute header, then: reserved, family, X-Port, X-Address
  out.writeUInt16BE(XOR_MAPPED_ADDRESS, 20);
  out.writeUInt16BE(4 + raw.length, 22);
  out[25] = family === 4 ? 0x01 : 0x02;
  out.writeUInt16BE(port ^ (MAGIC_COOKIE >>> 16), 26);
  // X-Address: the address XOR the magic cookie (IPv4), or XOR cookie + transaction id (IPv6)
  for (let i = 0; i < raw.length; i++) out[28 + i] = (raw[i] as number) ^ (out[4 + i] as number);
  return out;
}

function ipv4Bytes(address: string): Buffer {
  return Buffer.from(address.split('.').map(Number));
}

/** The 16 bytes of an IPv6 literal (`::` shorthand and a dotted IPv4 tail accepted). */
function ipv6Bytes(address: string): Buffer | undefined {
  let text = address.split('%')[0] as string; // zone index
  const groups: number[] = [];
  const tail = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  let v4: number[] = [];
  if (tail) {
    v4 = (tail[1] as string).split('.').map(Number);
    text = `${text.slice(0, -(tail[1] as string).length)}0:0`;
  }
  const [head, rest] = text.split('::') as [string, string | undefined];
  const parse = (part: string): number[] =>
    part === '' ? [] : part.split(':').map((g) => Number.parseInt(g, 16));
  const left = parse(head);
  const right = rest === undefined ? [] : parse(rest);
  const missing = 8 - left.length - right.length;
  if (missing < 0 || (rest === undefined && missing !== 0)) return undefined;
  groups.push(...left, ...new Array<number>(missing).fill(0), ...right);
  const out = Buffer.alloc(16);
  for (let i = 0; i < 8; i++) out.writeUInt16BE((groups[i] as number) & 0xffff, i * 2);
  if (tail) for (let i = 0; i < 4; i++) out[12 + i] = v4[i] as number;
  return out;
}
