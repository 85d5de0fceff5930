import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createRequest, createResponse } from '../src/messages/index.ts';
import { createSipStack, type SipStack } from '../src/transactions/index.ts';
import { parseListenList, parseListenSpec, TransportLayer } from '../src/transport/index.ts';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe('listener configuration', () => {
  it('parses transport:host:port lists with IPv6 brackets', () => {
    expect(parseListenList('udp:0.0.0.0:5060, tcp:[::1]:5061,ws:127.0.0.1:5066')).toEqual([
      { transport: 'udp', host: '0.0.0.0', port: 5060 },
      { transport: 'tcp', host: '::1', port: 5061 },
      { transport: 'ws', host: '127.0.0.1', port: 5066 },
    ]);
  });

  it('rejects malformed listeners', () => {
    for (const bad of ['sctp:1.2.3.4:5060', 'udp:example.com:5060', 'udp:1.2.3.4', 'udp:1.2.3.4:70000', '']) {
      expect(() => parseListenSpec(bad)).toThrow();
    }
  });
});

describe('createSipStack', () => {
  it('binds every listener and answers through its transaction layer', async () => {
    const server = await createSipStack({
      listen: parseListenList('udp:127.0.0.1:0,tcp:127.0.0.1:0,ws:127.0.0.1:0'),
    });
    const client = await createSipStack({ listen: [{ transport: 'tcp', host: '127.0.0.1', port: 0 }] });
    cleanups.push(
      () => server.close(),
      () => client.close(),
    );
    expect(server.listeners.map((l) => l.transport)).toEqual(['udp', 'tcp', 'ws']);
    expect(server.listeners.every((l) => l.port > 0)).toBe(true);
    server.transactions.on('request', (req, tx) => tx.respond(createResponse(req, 200)));
    const tcp = server.listeners[1]!;
    const tx = client.transactions.sendRequest(
      createRequest({
        method: 'OPTIONS',
        uri: `sip:127.0.0.1:${tcp.port}`,
        from: 'sip:a@x.test',
        to: 'sip:b@x.test',
      }),
      { transport: 'tcp', address: '127.0.0.1', port: tcp.port },
    );
    const status = await new Promise<number>((resolve) => tx.on('response', (r) => resolve(r.status)));
    expect(status).toBe(200);
  });

  it('closes what it bound when one listener fails', async () => {
    let stack: SipStack | undefined;
    await expect(
      (async () => {
        stack = await createSipStack({
          listen: [
            { transport: 'udp', host: '127.0.0.1', port: 0 },
            { transport: 'tls', host: '127.0.0.1', port: 0 },
          ],
        });
      })(),
    ).rejects.toThrow(/tls/);
    expect(stack).toBeUndefined();
  });
});

describe('client keep-alive (RFC 5626 §4.4.1)', () => {
  it('pings outbound connections after the configured silence', async () => {
    let received = '';
    const server = net.createServer((sock) => {
      sock.on('data', (d) => {
        received += d.toString('latin1');
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    cleanups.push(() => new Promise<void>((r) => server.close(() => r())));
    const layer = new TransportLayer({ limits: { keepAliveIntervalMs: 30, idleTimeoutMs: 0 } });
    cleanups.push(() => layer.close());
    await layer.listen({ transport: 'tcp', host: '127.0.0.1', port: 0 });
    const port = (server.address() as net.AddressInfo).port;
    await layer.sockets.connectionFor({ transport: 'tcp', address: '127.0.0.1', port });
    const deadline = Date.now() + 5_000;
    while (!received.includes('\r\n\r\n') && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 10));
    expect(received.startsWith('\r\n\r\n')).toBe(true);
  });
});
