import { createSocket } from 'node:dgram';
import { connect } from 'node:net';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { parseMessage } from '@switchboard/sip';
import { optionsRequest } from '@switchboard/testkit';
import { describe, expect, it } from 'vitest';
import { CallCapture, type CapturedMessage } from '../src/capture/call-capture.ts';
import { decodeHep3, encodeHep3, HEP_CHUNK, type HepPacket } from '../src/capture/hep.ts';
import { ObservedTransportLayer, ownBytes, type SipMessageEvent } from '../src/capture/observed-transport.ts';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const PACKET: HepPacket = {
  ipProtocol: 'tcp',
  sourceAddress: '2001:db8::1',
  sourcePort: 5060,
  destinationAddress: '::ffff:192.0.2.7',
  destinationPort: 5070,
  timeMicros: 1_700_000_000_123_456,
  captureId: 9,
  payload: Buffer.from('OPTIONS sip:x@example.com SIP/2.0\r\n\r\n'),
};

describe('HEP v3 encoding', () => {
  it('writes the header, the generic chunks and the payload as the spec lays them out', () => {
    const data = encodeHep3({ ...PACKET, correlationId: 'abc@host' });
    expect(data.toString('ascii', 0, 4)).toBe('HEP3');
    expect(data.readUInt16BE(4)).toBe(data.length);
    // The first chunk: vendor 0, type 1 (IP family), length 7, value 10 (IPv6).
    expect([...data.subarray(6, 13)]).toEqual([0, 0, 0, 1, 0, 7, 10]);
    const { chunks } = decodeHep3(data);
    expect(chunks.get(HEP_CHUNK.ipProtocol)![0]).toBe(6);
    expect(chunks.get(HEP_CHUNK.ipv6Source)!.toString('hex')).toBe('20010db8000000000000000000000001');
    expect(chunks.get(HEP_CHUNK.ipv6Destination)!.toString('hex')).toBe('00000000000000000000ffffc0000207');
    expect(chunks.get(HEP_CHUNK.timestampSeconds)!.readUInt32BE(0)).toBe(1_700_000_000);
    expect(chunks.get(HEP_CHUNK.timestampMicroseconds)!.readUInt32BE(0)).toBe(123_456);
    expect(chunks.get(HEP_CHUNK.payload)!.toString()).toBe(PACKET.payload.toString());
    expect(chunks.get(HEP_CHUNK.correlationId)!.toString()).toBe('abc@host');
    expect(chunks.has(HEP_CHUNK.authKey)).toBe(false);
  });

  it('refuses mixed address families, host names and payloads beyond the 16-bit length', () => {
    expect(() => encodeHep3({ ...PACKET, sourceAddress: '192.0.2.1' })).toThrow(/one family/);
    expect(() => encodeHep3({ ...PACKET, sourceAddress: 'sip.example.com' })).toThrow(/IP literals/);
    expect(() => encodeHep3({ ...PACKET, payload: Buffer.alloc(65_500) })).toThrow(/16-bit length/);
  });

  it('rejects what is not a well-formed HEP3 packet', () => {
    expect(() => decodeHep3(Buffer.from('HEP2\x00\x06'))).toThrow(/not a HEP3/);
    const data = encodeHep3(PACKET);
    data.writeUInt16BE(0xffff, 10); // first chunk claims to run past the end
    expect(() => decodeHep3(data)).toThrow(/out of bounds/);
  });
});

function message(callId: string, n: number, size = 10): CapturedMessage {
  return {
    seq: n,
    at: new Date(n).toISOString(),
    direction: 'in',
    transport: 'udp',
    source: '127.0.0.1:5060',
    destination: '127.0.0.1:5070',
    callId,
    startLine: `INVITE sip:${n}@x SIP/2.0`,
    message: 'x'.repeat(size),
  };
}

describe('per-call capture ring', () => {
  it('forgets calls idle past the retention', () => {
    let now = 0;
    const capture = new CallCapture({ retentionMs: 1000 }, () => now);
    capture.add(message('a', 1));
    now = 600;
    capture.add(message('b', 2));
    now = 1200;
    expect(capture.ladder(['a'])).toEqual([]);
    expect(capture.ladder(['b']).map((m) => m.seq)).toEqual([2]);
  });

  it('keeps within its call, message and byte bounds, dropping the call idle longest', () => {
    const capture = new CallCapture({ maxCalls: 2, maxMessagesPerCall: 3, maxBytes: 100 });
    capture.add(message('a', 1));
    capture.add(message('b', 2));
    capture.add(message('a', 3)); // a is now the most recent
    capture.add(message('c', 4));
    expect(capture.size.calls).toBe(2);
    expect(capture.ladder(['b'])).toEqual([]);
    for (let n = 5; n < 10; n++) capture.add(message('a', n));
    expect(capture.ladder(['a']).map((m) => m.seq)).toEqual([1, 3, 5]);
    capture.add(message('d', 10, 95));
    expect(capture.size.bytes).toBeLessThanOrEqual(100);
    expect(capture.ladder(['d']).length).toBe(1);
  });

  it('over a long run keeps exactly the calls touched most recently, and forgets the idle ones on time', () => {
    // A reference model: calls in order of their last message, the oldest dropped past the bound.
    let now = 0;
    const capture = new CallCapture({ maxCalls: 50, maxMessagesPerCall: 4, retentionMs: 5000 }, () => now);
    const lastSeen = new Map<string, number>();
    let seed = 7;
    const random = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    for (let n = 1; n <= 19_999; n++) {
      // mostly recent calls, sometimes one far back, three long calls throughout, and now and then a
      // quiet spell longer than the retention
      now += n % 5000 === 0 ? 6000 : 1;
      const call =
        n % 7 === 0
          ? `long${n % 3}`
          : `c${Math.max(0, Math.floor(n / 10) - Math.floor(random() ** 4 * 200))}`;
      capture.add(message(call, n, 1));
      lastSeen.delete(call);
      lastSeen.set(call, now);
      for (const [id, at] of lastSeen) if (at < now - 5000) lastSeen.delete(id);
      while (lastSeen.size > 50) lastSeen.delete(lastSeen.keys().next().value as string);
    }
    expect(capture.size.calls).toBe(lastSeen.size);
    expect(capture.ladder(['long0']).length).toBe(4);
    for (const id of lastSeen.keys()) expect(capture.ladder([id]).length).toBeGreaterThan(0);
    now += 5001;
    expect(capture.ladder([...lastSeen.keys()])).toEqual([]);
    expect(capture.size).toEqual({ calls: 0, bytes: 0 });
  });

  it('merges the legs of a call in capture order', () => {
    const capture = new CallCapture();
    capture.add(message('a-leg', 1));
    capture.add(message('b-leg', 2));
    capture.add(message('a-leg', 3));
    expect(capture.ladder(['b-leg', 'a-leg']).map((m) => m.seq)).toEqual([1, 2, 3]);
  });
});

describe('what the capture holds', () => {
  const invite = (callId: string, n: number) =>
    parseMessage(
      [
        'INVITE sip:bob@127.0.0.1 SIP/2.0',
        'Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-1',
        'From: <sip:alice@example.test>;tag=1',
        'To: <sip:bob@example.test>',
        `Call-ID: ${callId}`,
        'CSeq: 1 INVITE',
        `X-N: ${n}`,
        'Content-Length: 0',
        '',
        '',
      ].join('\r\n'),
    );

  it('copies a view out of a larger buffer, and keeps a buffer that is all its own', () => {
    const pooled = Buffer.from('INVITE sip:bob@127.0.0.1 SIP/2.0\r\n\r\n');
    expect(pooled.buffer.byteLength).toBeGreaterThan(pooled.byteLength); // a slice of Node's pool
    const own = ownBytes(pooled);
    expect(own.equals(pooled)).toBe(true);
    expect(own.buffer.byteLength).toBe(own.byteLength);
    expect(ownBytes(own)).toBe(own);
  });

  it('holds about the bytes it counts for sent messages, not the pool slabs they were printed in', () => {
    const capture = new CallCapture();
    gc();
    const before = process.memoryUsage().arrayBuffers;
    for (let i = 0; i < 20_000; i++) {
      const message = invite(`held-${i % 2000}`, i);
      message.setHeader('Max-Forwards', '69'); // printed anew on send, as a relayed request is
      message.toBuffer();
      Buffer.from(`the next send's bytes ${i}`.repeat(12)); // other traffic from the same pool, not kept
      capture.observer({
        direction: 'out',
        message,
        transport: 'udp',
        localAddress: '127.0.0.1',
        localPort: 5060,
        remoteAddress: '127.0.0.1',
        remotePort: 5070,
        at: Date.now(),
      });
    }
    gc();
    const held = process.memoryUsage().arrayBuffers - before;
    const counted = capture.size.bytes;
    expect(capture.size.calls).toBe(2000);
    // Kept as pool slices the same messages held 4-5 times what they count.
    expect(held).toBeLessThan(counted * 1.5);
    expect(capture.ladder(['held-7'])[0]?.message).toMatch(/^INVITE sip:bob@127\.0\.0\.1 SIP\/2\.0\r\n/);
  });
});

describe('observed transport', () => {
  const OPTIONS = (via: string) =>
    optionsRequest({
      uri: 'sip:engine@127.0.0.1',
      via,
      from: '<sip:probe@example.test>;tag=1',
      to: '<sip:engine@127.0.0.1>',
      callId: 'observed-1',
    });

  it('hands observers the bytes a message arrived in, before received/rport were added', async () => {
    const transport = new ObservedTransportLayer({});
    const seen: SipMessageEvent[] = [];
    transport.observe((event) => seen.push(event));
    const udp = await transport.listen({ transport: 'udp', host: '127.0.0.1', port: 0 });
    const tcp = await transport.listen({ transport: 'tcp', host: '127.0.0.1', port: 0 });
    try {
      const datagram = Buffer.from(OPTIONS('SIP/2.0/UDP 192.0.2.1:5060;rport;branch=z9hG4bK-udp'));
      const client = createSocket('udp4');
      await new Promise<void>((resolve) => client.send(datagram, udp.port, '127.0.0.1', () => resolve()));
      client.close();
      // Two messages in one TCP segment: each is captured on its own, not as a view of the segment.
      const streamed = OPTIONS('SIP/2.0/TCP 192.0.2.1:5060;branch=z9hG4bK-tcp');
      const socket = connect(tcp.port, '127.0.0.1');
      socket.write(streamed + streamed);
      for (let i = 0; i < 200 && seen.length < 3; i++) await new Promise((r) => setTimeout(r, 10));
      socket.destroy();
      expect(seen.length).toBe(3);
      const [fromUdp, firstTcp] = seen as [SipMessageEvent, SipMessageEvent];
      expect(fromUdp.message.toString()).toMatch(/;rport=\d+;branch=z9hG4bK-udp;received=127\.0\.0\.1/);
      expect(fromUdp.wire?.equals(datagram)).toBe(true);
      expect(firstTcp.wire?.toString()).toBe(streamed);
      expect(firstTcp.wire?.buffer.byteLength).toBe(Buffer.byteLength(streamed));
    } finally {
      await transport.close();
    }
  });
});
