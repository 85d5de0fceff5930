import { describe, expect, it } from 'vitest';
import { readPcap } from '../../tools/sip-diff/pcap.ts';
import { splitCapture } from '../../tools/sip-diff/scenarios.ts';

/** A classic pcap file (microsecond timestamps, little-endian) of the given link type and frames. */
function pcap(linkType: number, frames: Array<{ time: number; data: Buffer }>): Buffer {
  const header = Buffer.alloc(24);
  header.writeUInt32LE(0xa1b2c3d4, 0);
  header.writeUInt16LE(2, 4);
  header.writeUInt16LE(4, 6);
  header.writeUInt32LE(262144, 16);
  header.writeUInt32LE(linkType, 20);
  const records = frames.map(({ time, data }) => {
    const r = Buffer.alloc(16);
    r.writeUInt32LE(Math.floor(time), 0);
    r.writeUInt32LE(Math.round((time % 1) * 1e6), 4);
    r.writeUInt32LE(data.length, 8);
    r.writeUInt32LE(data.length, 12);
    return Buffer.concat([r, data]);
  });
  return Buffer.concat([header, ...records]);
}

function ipv4(protocol: number, src: number[], dst: number[], payload: Buffer): Buffer {
  const ip = Buffer.alloc(20);
  ip[0] = 0x45;
  ip.writeUInt16BE(20 + payload.length, 2);
  ip[9] = protocol;
  Buffer.from(src).copy(ip, 12);
  Buffer.from(dst).copy(ip, 16);
  return Buffer.concat([ip, payload]);
}

function udp(srcPort: number, dstPort: number, body: string): Buffer {
  const h = Buffer.alloc(8);
  h.writeUInt16BE(srcPort, 0);
  h.writeUInt16BE(dstPort, 2);
  h.writeUInt16BE(8 + body.length, 4);
  return Buffer.concat([h, Buffer.from(body, 'latin1')]);
}

function tcp(srcPort: number, dstPort: number, seq: number, flags: number, body = ''): Buffer {
  const h = Buffer.alloc(20);
  h.writeUInt16BE(srcPort, 0);
  h.writeUInt16BE(dstPort, 2);
  h.writeUInt32BE(seq, 4);
  h[12] = 5 << 4;
  h[13] = flags;
  return Buffer.concat([h, Buffer.from(body, 'latin1')]);
}

const ETHERNET = Buffer.concat([Buffer.alloc(12), Buffer.from([0x08, 0x00])]);
const LOOP = [127, 0, 0, 1];
const msg = (method: string, body = '') =>
  `${method} sip:x@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.1:5060;branch=z9hG4bK${method}\r\n` +
  `Content-Length: ${body.length}\r\n\r\n${body}`;

describe('readPcap', () => {
  it('reads UDP datagrams on Ethernet framing (Linux loopback), skipping what is not SIP', () => {
    const frames = [
      { time: 10.5, data: Buffer.concat([ETHERNET, ipv4(17, LOOP, LOOP, udp(5080, 5060, msg('OPTIONS')))]) },
      { time: 10.6, data: Buffer.concat([ETHERNET, ipv4(17, LOOP, LOOP, udp(5080, 5060, '\r\n\r\n'))]) },
    ];
    expect(readPcap(pcap(1, frames))).toEqual([
      { time: 10.5, transport: 'udp', src: '127.0.0.1:5080', dst: '127.0.0.1:5060', raw: msg('OPTIONS') },
    ]);
  });

  it('reassembles a TCP stream: a message over two segments, a retransmission, two messages in one segment', () => {
    const first = msg('INVITE', 'v=0\r\n');
    const two = msg('ACK') + msg('BYE');
    const seg = (time: number, seq: number, flags: number, body = '') => ({
      time,
      // Linux cooked capture (tcpdump -i any): 16 bytes before IP
      data: Buffer.concat([Buffer.alloc(16), ipv4(6, LOOP, LOOP, tcp(40000, 5060, seq, flags, body))]),
    });
    const frames = [
      seg(1, 999, 0x02),
      seg(2, 1000, 0x18, first.slice(0, 30)),
      seg(3, 1000, 0x18, first.slice(0, 30)), // retransmitted
      seg(4, 1030, 0x18, first.slice(30)),
      seg(5, 1000 + first.length, 0x18, two),
    ];
    const out = readPcap(pcap(113, frames));
    expect(out.map((m) => [m.time, m.transport, m.src, m.raw])).toEqual([
      [4, 'tcp', '127.0.0.1:40000', first],
      [5, 'tcp', '127.0.0.1:40000', msg('ACK')],
      [5, 'tcp', '127.0.0.1:40000', msg('BYE')],
    ]);
  });

  it('refuses what is not a classic pcap file', () => {
    expect(() => readPcap(Buffer.from('0a0d0d0a000000000000000000000000000000000000000000', 'hex'))).toThrow(
      /pcap/,
    );
  });
});

describe('splitCapture', () => {
  it('keeps in a window the messages from, to, or naming the server, and names the server', () => {
    const base = { transport: 'udp' as const, raw: 'OPTIONS sip:a SIP/2.0\r\n\r\n' };
    const messages = [
      { ...base, time: 1, src: '127.0.0.1:7000', dst: '127.0.0.1:5060' },
      {
        ...base,
        time: 2,
        src: '127.0.0.1:40001',
        dst: '127.0.0.1:7001',
        raw: 'INVITE x\r\nVia: SIP/2.0/TCP 127.0.0.1:5060\r\n',
      },
      { ...base, time: 2.5, src: '127.0.0.1:8000', dst: '127.0.0.1:8001' }, // someone else's traffic
      { ...base, time: 9, src: '127.0.0.1:7000', dst: '127.0.0.1:5060' }, // after the window
    ];
    const [one] = splitCapture(messages, [
      { scenario: 's', start: 0, end: 5, endpoints: ['127.0.0.1:5060'] },
    ]);
    expect(one!.roles).toEqual({ '127.0.0.1:5060': 'server' });
    expect(one!.messages.map((m) => m.time)).toEqual([1, 2]);
  });
});
