import { spawnSync } from 'node:child_process';
import dgram from 'node:dgram';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import tls from 'node:tls';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { createResponse, parseMessage, type SipRequest, type SipResponse } from '../src/messages/index.ts';
import { type MessageSource, TransportLayer } from '../src/transport/index.ts';
import { selfSignedCertificate } from './helpers/cert.ts';

let cert: { cert: string; key: string };
beforeAll(() => {
  cert = selfSignedCertificate();
});

const layers: TransportLayer[] = [];
const cleanups: Array<() => void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) c();
  await Promise.all(layers.splice(0).map((l) => l.close()));
});

function layer(options: ConstructorParameters<typeof TransportLayer>[0] = {}): TransportLayer {
  const l = new TransportLayer(options);
  layers.push(l);
  return l;
}

function options(transport: string, host: string, port: number, extra = ''): string {
  const h = host.includes(':') ? `[${host}]` : host;
  return (
    `OPTIONS sip:x@${h} SIP/2.0\r\n` +
    `Via: SIP/2.0/${transport} ${h}:${port};branch=z9hG4bK${Math.random().toString(36).slice(2)}${extra}\r\n` +
    `From: <sip:a@${h}>;tag=1\r\nTo: <sip:x@${h}>\r\nCall-ID: c${Math.random()}\r\nCSeq: 1 OPTIONS\r\n` +
    'Max-Forwards: 70\r\nContent-Length: 0\r\n\r\n'
  );
}

function nextRequest(l: TransportLayer): Promise<[SipRequest, MessageSource]> {
  return new Promise((resolve) => l.once('request', (r, s) => resolve([r, s])));
}

function nextResponse(l: TransportLayer): Promise<[SipResponse, MessageSource]> {
  return new Promise((resolve) => l.once('response', (r, s) => resolve([r, s])));
}

/** Waits until the predicate holds, polling for at most `ms`. */
async function until(predicate: () => boolean, ms = 5_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** A raw UDP peer. */
async function udpPeer(type: 'udp4' | 'udp6' = 'udp4') {
  const sock = dgram.createSocket(type);
  await new Promise<void>((r) => sock.bind(0, type === 'udp4' ? '127.0.0.1' : '::1', r));
  cleanups.push(() => sock.close());
  const received: Buffer[] = [];
  sock.on('message', (m) => received.push(m));
  return { sock, port: sock.address().port, received };
}

/** A raw TCP peer collecting what it receives. */
async function tcpPeer(port: number, host = '127.0.0.1') {
  const sock = net.connect({ port, host });
  await new Promise<void>((r) => sock.once('connect', () => r()));
  cleanups.push(() => sock.destroy());
  let data = '';
  sock.on('data', (d) => {
    data += d.toString('latin1');
  });
  sock.on('error', () => {});
  let closed = false;
  sock.on('close', () => {
    closed = true;
  });
  return { sock, text: () => data, closed: () => closed };
}

describe('UDP', () => {
  it('receives a request, stamps received/rport, and answers to received:rport (RFC 3581)', async () => {
    const l = layer();
    const info = await l.listen({ transport: 'udp', host: '127.0.0.1', port: 0 });
    const peer = await udpPeer();
    const got = nextRequest(l);
    // sent-by lies about the port and host: the response must go to the real source anyway.
    peer.sock.send(options('UDP', '127.0.0.9', 9999, ';rport'), info.port, '127.0.0.1');
    const [req, source] = await got;
    expect(source).toMatchObject({
      transport: 'udp',
      remoteAddress: '127.0.0.1',
      remotePort: peer.port,
      listenerId: info.id,
    });
    expect(req.topVia?.received).toBe('127.0.0.1');
    expect(req.topVia?.rport).toBe(peer.port);
    await l.sendResponse(createResponse(req, 200), source);
    await until(() => peer.received.length === 1);
    const res = parseMessage(peer.received[0]!) as SipResponse;
    expect(res.status).toBe(200);
    expect(res.topVia?.rport).toBe(peer.port);
  });

  it('adds received only when the Via host differs from the source (RFC 3261 §18.2.1)', async () => {
    const l = layer();
    const info = await l.listen({ transport: 'udp', host: '127.0.0.1', port: 0 });
    const peer = await udpPeer();
    let got = nextRequest(l);
    peer.sock.send(options('UDP', '127.0.0.1', peer.port), info.port, '127.0.0.1');
    const [asSent] = await got;
    expect(asSent.topVia?.received).toBeUndefined();
    // Nothing to record: the Via keeps the bytes it was sent with.
    expect(asSent.toBuffer().toString()).toContain(`Via: SIP/2.0/UDP 127.0.0.1:${peer.port};branch=`);
    got = nextRequest(l);
    peer.sock.send(options('UDP', '127.0.0.7', peer.port), info.port, '127.0.0.1');
    expect((await got)[0].topVia?.received).toBe('127.0.0.1');
  });

  it('drops oversized datagrams, ignores CRLF keep-alives, counts unparseable input', async () => {
    const l = layer({ limits: { maxDatagramSize: 1_000 } });
    const info = await l.listen({ transport: 'udp', host: '127.0.0.1', port: 0 });
    const peer = await udpPeer();
    let requests = 0;
    l.on('request', () => requests++);
    peer.sock.send(options('UDP', '127.0.0.1', peer.port, `;x=${'a'.repeat(1_200)}`), info.port, '127.0.0.1');
    peer.sock.send('\r\n', info.port, '127.0.0.1');
    peer.sock.send('garbage that is not SIP', info.port, '127.0.0.1');
    await until(() => l.stats.datagramsTooLarge === 1 && l.stats.unparseable === 1);
    const got = nextRequest(l);
    peer.sock.send(options('UDP', '127.0.0.1', peer.port), info.port, '127.0.0.1');
    await got;
    expect(requests).toBe(1);
    expect(peer.received).toHaveLength(0);
  });

  // RFC 5626 §4.4.2: STUN Binding requests on the SIP port get the source address back (RFC 5389).
  for (const [family, host] of [
    ['IPv4', '127.0.0.1'],
    ['IPv6', '::1'],
  ] as const) {
    it(`answers a STUN binding request on the SIP port with XOR-MAPPED-ADDRESS (${family})`, async () => {
      const l = layer();
      const info = await l.listen({ transport: 'udp', host, port: 0 });
      const peer = await udpPeer(family === 'IPv4' ? 'udp4' : 'udp6');
      let requests = 0;
      l.on('request', () => requests++);
      const id = Buffer.from('0123456789ab', 'latin1');
      const request = Buffer.concat([Buffer.from([0x00, 0x01, 0x00, 0x00, 0x21, 0x12, 0xa4, 0x42]), id]);
      peer.sock.send(request, info.port, host);
      // a STUN indication (not a request) and a truncated header are dropped without an answer
      peer.sock.send(
        Buffer.concat([Buffer.from([0x00, 0x11, 0x00, 0x00, 0x21, 0x12, 0xa4, 0x42]), id]),
        info.port,
        host,
      );
      peer.sock.send(Buffer.from([0x00, 0x01, 0x00]), info.port, host);
      await until(() => peer.received.length === 1 && l.stats.unparseable === 2);
      const answer = peer.received[0] as Buffer;
      expect(answer.readUInt16BE(0)).toBe(0x0101); // Binding success response
      expect(answer.readUInt16BE(2)).toBe(answer.length - 20);
      expect(answer.readUInt32BE(4)).toBe(0x2112a442);
      expect(answer.subarray(8, 20).equals(id)).toBe(true);
      expect(answer.readUInt16BE(20)).toBe(0x0020); // XOR-MAPPED-ADDRESS
      expect(answer[25]).toBe(family === 'IPv4' ? 0x01 : 0x02);
      expect(answer.readUInt16BE(26) ^ 0x2112).toBe(peer.port);
      const xored = answer.subarray(28, 28 + answer.readUInt16BE(22) - 4);
      const address = Buffer.from(xored.map((b, i) => b ^ (answer[4 + i] as number)));
      expect([...address]).toEqual(family === 'IPv4' ? [127, 0, 0, 1] : [...Array(15).fill(0), 1]);
      // SIP on the same port still works
      const got = nextRequest(l);
      peer.sock.send(options('UDP', host, peer.port), info.port, host);
      await got;
      expect(requests).toBe(1);
      expect(peer.received).toHaveLength(1);
    });
  }

  it('answers a parseable-but-invalid request with 400 and the reason', async () => {
    const l = layer();
    const info = await l.listen({ transport: 'udp', host: '127.0.0.1', port: 0 });
    const peer = await udpPeer();
    const bad = options('UDP', '127.0.0.1', peer.port).replace('CSeq: 1 OPTIONS', 'CSeq: 1 INVITE');
    peer.sock.send(bad, info.port, '127.0.0.1');
    await until(() => peer.received.length === 1);
    const res = parseMessage(peer.received[0]!) as SipResponse;
    expect(res.status).toBe(400);
    expect(res.reason.length).toBeGreaterThan(0);
    expect(res.toTag).toBeDefined();
    expect(l.stats.invalidRequests).toBe(1);
  });

  it('never answers an ACK, even a malformed one: it is dropped and counted (RFC 3261 §17.2.1)', async () => {
    const l = layer();
    const info = await l.listen({ transport: 'udp', host: '127.0.0.1', port: 0 });
    const peer = await udpPeer();
    // the ACK some scenarios send for a re-INVITE: CSeq method INVITE
    const bad = options('UDP', '127.0.0.1', peer.port)
      .replace(/OPTIONS/g, 'ACK')
      .replace('CSeq: 1 ACK', 'CSeq: 1 INVITE');
    peer.sock.send(bad, info.port, '127.0.0.1');
    await until(() => l.stats.unparseable === 1);
    // a request after it is answered: the ACK got nothing
    peer.sock.send(
      options('UDP', '127.0.0.1', peer.port).replace('CSeq: 1 OPTIONS', 'CSeq: 1 INVITE'),
      info.port,
      '127.0.0.1',
    );
    await until(() => peer.received.length === 1);
    expect((parseMessage(peer.received[0]!) as SipResponse).cseq.method).toBe('INVITE');
    expect(l.stats.invalidRequests).toBe(1);
  });

  it('a handler that throws is counted and does not stop the listener', async () => {
    const l = layer();
    const info = await l.listen({ transport: 'udp', host: '127.0.0.1', port: 0 });
    const peer = await udpPeer();
    let calls = 0;
    l.on('request', () => {
      calls++;
      if (calls === 1) throw new Error('handler bug');
    });
    peer.sock.send(options('UDP', '127.0.0.1', peer.port), info.port, '127.0.0.1');
    await until(() => l.stats.handlerErrors === 1);
    peer.sock.send(options('UDP', '127.0.0.1', peer.port), info.port, '127.0.0.1');
    await until(() => calls === 2);
  });

  it('asks the kernel for the configured receive buffer: a burst the default drops arrives whole', async () => {
    const burst = 600;
    const small = layer();
    const large = layer({ limits: { udpReceiveBufferBytes: 4 * 2 ** 20 } });
    const smallInfo = await small.listen({ transport: 'udp', host: '127.0.0.1', port: 0 });
    const largeInfo = await large.listen({ transport: 'udp', host: '127.0.0.1', port: 0 });
    expect(largeInfo.receiveBufferBytes).toBeGreaterThan(smallInfo.receiveBufferBytes ?? 0);
    const counts = { small: 0, large: 0 };
    small.on('request', () => counts.small++);
    large.on('request', () => counts.large++);
    // A child process sends the burst while this event loop is blocked (spawnSync), as a busy engine's
    // would be: every datagram waits in the kernel's receive buffer until the loop reads again.
    const message = options('UDP', '127.0.0.1', 5060, `\r\nX-Pad: ${'x'.repeat(800)}`);
    const sender = `
      const s = require('node:dgram').createSocket('udp4');
      const m = Buffer.from(process.argv[1]);
      let left = ${burst * 2};
      const done = () => { if (--left === 0) s.close(); };
      for (let i = 0; i < ${burst}; i++) {
        s.send(m, ${smallInfo.port}, '127.0.0.1', done);
        s.send(m, ${largeInfo.port}, '127.0.0.1', done);
      }`;
    const run = spawnSync(process.execPath, ['-e', sender, message], { timeout: 20_000 });
    expect(run.status).toBe(0);
    // The system default (about 200 KB) cannot hold 600 datagrams of about 1 KB. The asked-for 4 MB can
    // when the kernel grants it (net.core.rmem_max, raised by `pnpm test:deps`); granted less, the
    // listener still got all the kernel allows and more than the default.
    const granted = largeInfo.receiveBufferBytes ?? 0;
    const rmemMax = Number(readFileSync('/proc/sys/net/core/rmem_max', 'utf8'));
    expect(granted).toBeGreaterThanOrEqual(Math.min(4 * 2 ** 20, rmemMax));
    if (granted >= 2 * 2 ** 20) await until(() => counts.large === burst);
    else await until(() => counts.large > counts.small);
    expect(counts.small).toBeLessThan(burst);
  });

  it('sends requests and receives responses; IPv6 on ::1', async () => {
    const l = layer();
    await l.listen({ transport: 'udp', host: '::1', port: 0 });
    const peer = await udpPeer('udp6');
    const req = parseMessage(options('UDP', '::1', 5060)) as SipRequest;
    const sent = await l.send(req, { transport: 'udp', address: '::1', port: peer.port });
    expect(sent.localAddress).toBe('::1');
    await until(() => peer.received.length === 1);
    const back = createResponse(parseMessage(peer.received[0]!) as SipRequest, 200);
    const got = nextResponse(l);
    peer.sock.send(back.toBuffer(), sent.localPort, '::1');
    const [res, source] = await got;
    expect(res.status).toBe(200);
    expect(source.remoteAddress).toBe('::1');
  });
});

describe('TCP', () => {
  it('frames messages, answers on the same connection and reuses it for requests to the peer', async () => {
    const l = layer();
    const info = await l.listen({ transport: 'tcp', host: '127.0.0.1', port: 0 });
    const peer = await tcpPeer(info.port);
    const got = nextRequest(l);
    // two messages split oddly across writes
    const msg = options('TCP', '127.0.0.1', 5999);
    peer.sock.write(msg.slice(0, 30));
    await new Promise((r) => setTimeout(r, 20));
    peer.sock.write(msg.slice(30));
    const [req, source] = await got;
    expect(source.connectionId).toBeDefined();
    await l.sendResponse(createResponse(req, 200), source);
    await until(() => peer.text().includes('SIP/2.0 200'));
    // A request towards the peer's address/port reuses the connection it opened.
    const sent = await l.send(parseMessage(options('TCP', '127.0.0.1', info.port)) as SipRequest, {
      transport: 'tcp',
      address: '127.0.0.1',
      port: peer.sock.localPort!,
    });
    expect(sent.connectionId).toBe(source.connectionId);
    await until(() => peer.text().includes('OPTIONS sip:'));
    expect(l.sockets.connections.size).toBe(1);
  });

  it('a Via alias (RFC 5923) lets requests to the peer’s listening port reuse its connection', async () => {
    const l = layer();
    const info = await l.listen({ transport: 'tcp', host: '127.0.0.1', port: 0 });
    const peer = await tcpPeer(info.port);
    const got = nextRequest(l);
    peer.sock.write(options('TCP', '127.0.0.1', 5999, ';alias'));
    const [, source] = await got;
    const sent = await l.send(parseMessage(options('TCP', '127.0.0.1', info.port)) as SipRequest, {
      transport: 'tcp',
      address: '127.0.0.1',
      port: 5999,
    });
    expect(sent.connectionId).toBe(source.connectionId);
    await until(() => peer.text().includes('OPTIONS sip:'));
  });

  it('opens an outbound connection and receives the response on it', async () => {
    const a = layer();
    const b = layer();
    await a.listen({ transport: 'tcp', host: '127.0.0.1', port: 0 });
    const bInfo = await b.listen({ transport: 'tcp', host: '127.0.0.1', port: 0 });
    b.on('request', (req, src) => void b.sendResponse(createResponse(req, 202), src));
    const got = nextResponse(a);
    const sent = await a.send(parseMessage(options('TCP', '127.0.0.1', 5060)) as SipRequest, {
      transport: 'tcp',
      address: '127.0.0.1',
      port: bInfo.port,
    });
    const [res, source] = await got;
    expect(res.status).toBe(202);
    expect(source.connectionId).toBe(sent.connectionId);
  });

  it('answers a CRLF CRLF ping with a CRLF pong (RFC 5626 §4.4.1)', async () => {
    const l = layer();
    const info = await l.listen({ transport: 'tcp', host: '127.0.0.1', port: 0 });
    const peer = await tcpPeer(info.port);
    peer.sock.write('\r\n\r\n');
    await until(() => peer.text() === '\r\n');
    expect(l.stats.keepAlivePings).toBe(1);
    expect(peer.closed()).toBe(false);
  });

  it('closes a connection whose message exceeds the stream limit', async () => {
    const l = layer({ limits: { maxStreamMessageSize: 2_000 } });
    const info = await l.listen({ transport: 'tcp', host: '127.0.0.1', port: 0 });
    const peer = await tcpPeer(info.port);
    peer.sock.write(options('TCP', '127.0.0.1', 5060, `;x=${'a'.repeat(3_000)}`));
    await until(() => peer.closed());
    expect(l.stats.streamViolations).toBe(1);
  });

  it('refuses connections beyond the per-IP limit', async () => {
    const l = layer({ limits: { maxConnectionsPerIp: 2 } });
    const info = await l.listen({ transport: 'tcp', host: '127.0.0.1', port: 0 });
    const p1 = await tcpPeer(info.port);
    const p2 = await tcpPeer(info.port);
    await until(() => l.sockets.connections.size === 2);
    const p3 = await tcpPeer(info.port);
    await until(() => p3.closed());
    expect(l.stats.connectionsRefused).toBe(1);
    expect(p1.closed() || p2.closed()).toBe(false);
  });

  it('reaps idle connections', async () => {
    const l = layer({ limits: { idleTimeoutMs: 50, reapIntervalMs: 20 } });
    const info = await l.listen({ transport: 'tcp', host: '127.0.0.1', port: 0 });
    const peer = await tcpPeer(info.port);
    await until(() => peer.closed() && l.sockets.connections.size === 0);
    expect(l.stats.connectionsReaped).toBeGreaterThanOrEqual(1);
  });

  it('works over IPv6 ::1', async () => {
    const l = layer();
    const info = await l.listen({ transport: 'tcp', host: '::1', port: 0 });
    expect(info.family).toBe(6);
    const peer = await tcpPeer(info.port, '::1');
    const got = nextRequest(l);
    peer.sock.write(options('TCP', '::1', 5060));
    const [, source] = await got;
    expect(source.remoteAddress).toBe('::1');
  });
});

/** A logger that keeps the events the transport layer writes. */
function recordingLogger() {
  const events: Array<Record<string, unknown>> = [];
  const keep = (o: object) => {
    events.push(o as Record<string, unknown>);
  };
  return { logger: { debug: keep, info: keep, warn: keep, error: keep }, events };
}

/** Writes `text` one byte per `everyMs` until done or the socket closes (a bounded slow sender). */
function trickle(sock: net.Socket, data: string | Buffer, everyMs: number): void {
  const bytes = typeof data === 'string' ? Buffer.from(data, 'latin1') : data;
  let i = 0;
  const timer = setInterval(() => {
    if (i >= bytes.length || sock.destroyed) {
      clearInterval(timer);
      return;
    }
    sock.write(bytes.subarray(i, i + 1));
    i++;
  }, everyMs);
  cleanups.push(() => clearInterval(timer));
}

describe('slow senders and connection caps', () => {
  it('closes a TCP connection whose message does not complete within the deadline of its first byte', async () => {
    const l = layer({ limits: { messageTimeoutMs: 400 } });
    const info = await l.listen({ transport: 'tcp', host: '127.0.0.1', port: 0 });
    const delivered: string[] = [];
    l.on('request', (r) => delivered.push(r.callId));
    const peer = await tcpPeer(info.port);
    // A whole message first: it completes at once and stops no clock from running afterwards.
    const first = options('TCP', '127.0.0.1', 5060);
    peer.sock.write(first);
    await until(() => delivered.length === 1);
    // Then one byte every 20 ms: the idle timer is refreshed by each byte, the message deadline is not.
    trickle(peer.sock, options('TCP', '127.0.0.1', 5060), 20);
    await until(() => peer.closed(), 10_000);
    expect(delivered).toHaveLength(1);
    expect(l.stats.streamViolations).toBe(1);
  });

  it('keeps a TCP connection that is quiet between complete messages', async () => {
    const l = layer({ limits: { messageTimeoutMs: 100 } });
    const info = await l.listen({ transport: 'tcp', host: '127.0.0.1', port: 0 });
    const peer = await tcpPeer(info.port);
    const got = nextRequest(l);
    const message = options('TCP', '127.0.0.1', 5060);
    // split in two writes within the deadline, then silence: no message is pending, nothing to time
    peer.sock.write(message.slice(0, 40));
    await new Promise((r) => setTimeout(r, 20));
    peer.sock.write(message.slice(40));
    await got;
    await new Promise((r) => setTimeout(r, 400));
    expect(peer.closed()).toBe(false);
    expect(l.stats.streamViolations).toBe(0);
  });

  it('closes a slow TLS sender the same way', async () => {
    const l = layer({ limits: { messageTimeoutMs: 400 } });
    const info = await l.listen({ transport: 'tls', host: '127.0.0.1', port: 0, tls: cert });
    const sock = tls.connect({ host: '127.0.0.1', port: info.port, ca: cert.cert });
    cleanups.push(() => sock.destroy());
    sock.on('error', () => {});
    await new Promise<void>((r) => sock.once('secureConnect', () => r()));
    let closed = false;
    sock.on('close', () => {
      closed = true;
    });
    trickle(sock, options('TLS', '127.0.0.1', 5061), 20);
    await until(() => closed, 10_000);
    expect(l.stats.streamViolations).toBe(1);
  });

  for (const transport of ['ws', 'wss'] as const) {
    it(`closes a ${transport.toUpperCase()} connection whose frame trickles in, and a trickled upgrade request`, async () => {
      const l = layer({ limits: { messageTimeoutMs: 400 } });
      const info = await l.listen({
        transport,
        host: '127.0.0.1',
        port: 0,
        ...(transport === 'wss' ? { tls: cert } : {}),
      });
      const open = async (): Promise<{ sock: net.Socket; closed: () => boolean; text: () => string }> => {
        const sock =
          transport === 'wss'
            ? tls.connect({ host: '127.0.0.1', port: info.port, ca: cert.cert })
            : net.connect({ host: '127.0.0.1', port: info.port });
        cleanups.push(() => sock.destroy());
        sock.on('error', () => {});
        await new Promise<void>((r) =>
          sock.once(transport === 'wss' ? 'secureConnect' : 'connect', () => r()),
        );
        let closed = false;
        let text = '';
        sock.on('close', () => {
          closed = true;
        });
        sock.on('data', (d: Buffer) => {
          text += d.toString('latin1');
        });
        return { sock, closed: () => closed, text: () => text };
      };
      const upgrade =
        'GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
        'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n' +
        'Sec-WebSocket-Protocol: sip\r\n\r\n';
      const framed = await open();
      framed.sock.write(upgrade);
      await until(() => framed.text().includes('\r\n\r\n'));
      expect(framed.text()).toMatch(/^HTTP\/1.1 101/);
      await until(() => l.sockets.connections.size === 1);
      // a masked text frame, header first, then its payload one byte at a time
      const payload = Buffer.from(options(transport.toUpperCase(), '127.0.0.1', 80));
      const mask = Buffer.from([1, 2, 3, 4]);
      const frame = Buffer.concat([
        Buffer.from([0x81, 0x80 | 126, payload.length >> 8, payload.length & 0xff]),
        mask,
        Buffer.from(payload.map((b, i) => b ^ (mask[i % 4] as number))),
      ]);
      trickle(framed.sock, frame, 20);
      await until(() => framed.closed(), 10_000);
      expect(l.stats.streamViolations).toBe(1);

      const slowUpgrade = await open();
      trickle(slowUpgrade.sock, upgrade, 100);
      await until(() => slowUpgrade.closed(), 10_000);
      expect(slowUpgrade.text()).not.toMatch(/101/);
    });
  }

  it('refuses connections beyond the global cap and says so once in the log', async () => {
    const { logger, events } = recordingLogger();
    const l = layer({ limits: { maxConnections: 2, maxConnectionsPerIp: 100 }, logger });
    const info = await l.listen({ transport: 'tcp', host: '127.0.0.1', port: 0 });
    const p1 = await tcpPeer(info.port);
    const p2 = await tcpPeer(info.port);
    await until(() => l.sockets.connections.size === 2);
    const refused = [await tcpPeer(info.port), await tcpPeer(info.port), await tcpPeer(info.port)];
    await until(() => refused.every((p) => p.closed()));
    expect(l.stats.connectionsRefused).toBe(3);
    expect(p1.closed() || p2.closed()).toBe(false);
    const lines = events.filter((e) => e.event === 'transport_refused');
    expect(lines).toEqual([
      expect.objectContaining({
        reason: 'connection limit reached (all addresses)',
        remoteAddress: '127.0.0.1',
        maxConnections: 2,
        refusedSinceLastLog: 0,
      }),
    ]);
  });

  it('logs a refusal for the per-address limit with the limit it hit', async () => {
    const { logger, events } = recordingLogger();
    const l = layer({ limits: { maxConnectionsPerIp: 1 }, logger });
    const info = await l.listen({ transport: 'tcp', host: '127.0.0.1', port: 0 });
    await tcpPeer(info.port);
    await until(() => l.sockets.connections.size === 1);
    const p2 = await tcpPeer(info.port);
    await until(() => p2.closed());
    expect(events.filter((e) => e.event === 'transport_refused')).toEqual([
      expect.objectContaining({ reason: 'connection limit per address', maxConnectionsPerAddress: 1 }),
    ]);
  });
});

describe('TLS', () => {
  it('accepts TLS clients and connects to TLS servers with a verified self-signed certificate', async () => {
    const server = layer();
    const client = layer({ tlsClient: { ca: cert.cert } });
    const sInfo = await server.listen({ transport: 'tls', host: '127.0.0.1', port: 0, tls: cert });
    await client.listen({ transport: 'tls', host: '127.0.0.1', port: 0, tls: cert });
    server.on('request', (req, src) => void server.sendResponse(createResponse(req, 200), src));
    const got = nextResponse(client);
    await client.send(parseMessage(options('TLS', '127.0.0.1', 5061)) as SipRequest, {
      transport: 'tls',
      address: '127.0.0.1',
      port: sInfo.port,
    });
    const [res, source] = await got;
    expect(res.status).toBe(200);
    expect(source.transport).toBe('tls');
  });

  it('refuses a server whose certificate is not trusted', async () => {
    const server = layer();
    const client = layer();
    const sInfo = await server.listen({ transport: 'tls', host: '127.0.0.1', port: 0, tls: cert });
    await client.listen({ transport: 'tls', host: '127.0.0.1', port: 0, tls: cert });
    await expect(
      client.send(parseMessage(options('TLS', '127.0.0.1', 5061)) as SipRequest, {
        transport: 'tls',
        address: '127.0.0.1',
        port: sInfo.port,
      }),
    ).rejects.toThrow();
  });

  it('a raw TLS client gets its ping answered', async () => {
    const server = layer();
    const sInfo = await server.listen({ transport: 'tls', host: '127.0.0.1', port: 0, tls: cert });
    const sock = tls.connect({ host: '127.0.0.1', port: sInfo.port, ca: cert.cert });
    cleanups.push(() => sock.destroy());
    await new Promise<void>((r) => sock.once('secureConnect', () => r()));
    let data = '';
    sock.on('data', (d) => {
      data += d.toString();
    });
    sock.write('\r\n\r\n');
    await until(() => data === '\r\n');
  });
});

describe('WebSocket (RFC 7118)', () => {
  it('accepts the sip subprotocol, delivers frames as messages and answers on the socket', async () => {
    const l = layer();
    const info = await l.listen({ transport: 'ws', host: '127.0.0.1', port: 0 });
    const ws = new WebSocket(`ws://127.0.0.1:${info.port}/`, 'sip');
    cleanups.push(() => ws.terminate());
    await new Promise<void>((r) => ws.once('open', () => r()));
    expect(ws.protocol).toBe('sip');
    const frames: string[] = [];
    ws.on('message', (d) => frames.push(d.toString()));
    const got = nextRequest(l);
    ws.send(options('WS', 'df7jal23ls0d.invalid', 0).replace(':0;', ';'));
    const [req, source] = await got;
    expect(source.transport).toBe('ws');
    expect(req.topVia?.received).toBe('127.0.0.1');
    await l.sendResponse(createResponse(req, 200), source);
    ws.send('\r\n\r\n');
    await until(() => frames.length === 2);
    expect(frames[0]).toMatch(/^SIP\/2.0 200/);
    expect(frames[1]).toBe('\r\n');
  });

  it('refuses a client that does not offer the sip subprotocol', async () => {
    const l = layer();
    const info = await l.listen({ transport: 'ws', host: '127.0.0.1', port: 0 });
    const ws = new WebSocket(`ws://127.0.0.1:${info.port}/`, 'chat');
    cleanups.push(() => ws.terminate());
    const err = await new Promise<Error>((r) => ws.once('error', r));
    expect(err.message).toMatch(/400/);
  });

  it('connects out over WSS and exchanges a transaction', async () => {
    const server = layer();
    const client = layer({ tlsClient: { ca: cert.cert } });
    const sInfo = await server.listen({ transport: 'wss', host: '127.0.0.1', port: 0, tls: cert });
    await client.listen({ transport: 'wss', host: '127.0.0.1', port: 0, tls: cert });
    server.on('request', (req, src) => void server.sendResponse(createResponse(req, 200), src));
    const got = nextResponse(client);
    await client.send(parseMessage(options('WSS', '127.0.0.1', 443)) as SipRequest, {
      transport: 'wss',
      address: '127.0.0.1',
      port: sInfo.port,
    });
    expect((await got)[0].status).toBe(200);
  });

  it('closes a WebSocket whose frame exceeds the size limit', async () => {
    const l = layer({ limits: { maxStreamMessageSize: 1_000 } });
    const info = await l.listen({ transport: 'ws', host: '127.0.0.1', port: 0 });
    const ws = new WebSocket(`ws://127.0.0.1:${info.port}/`, 'sip');
    cleanups.push(() => ws.terminate());
    await new Promise<void>((r) => ws.once('open', () => r()));
    const closed = new Promise<number>((r) => ws.once('close', (code) => r(code)));
    ws.send('x'.repeat(2_000));
    expect(await closed).toBe(1009);
  });
});
