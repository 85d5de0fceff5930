import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createRequest, createResponse, type SipResponse } from '../src/messages/index.ts';
import { StatefulProxy } from '../src/proxy/index.ts';
import { SipResolver } from '../src/resolver/index.ts';
import { FailoverRequest, TransactionManager } from '../src/transactions/index.ts';
import { TransportLayer, type TransportTarget } from '../src/transport/index.ts';
import { parseUri } from '../src/uri/index.ts';
import { startDnsServer } from './helpers/dns.ts';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function endpoint(transports: Array<'udp' | 'tcp'> = ['udp']) {
  const layer = new TransportLayer();
  const infos = [];
  for (const transport of transports)
    infos.push(await layer.listen({ transport, host: '127.0.0.1', port: 0 }));
  const manager = new TransactionManager(layer);
  cleanups.push(async () => {
    manager.close();
    await layer.close();
  });
  return { layer, info: infos[0]!, manager };
}

async function closedTcpPort(): Promise<number> {
  const probe = net.createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
  const port = (probe.address() as net.AddressInfo).port;
  await new Promise<void>((r) => probe.close(() => r()));
  return port;
}

async function until(predicate: () => boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}

const options = () =>
  createRequest({
    method: 'OPTIONS',
    uri: 'sip:service@example.test',
    from: 'sip:a@example.test',
    to: 'sip:service@example.test',
  });

describe('FailoverRequest (RFC 3263 §4.3)', () => {
  it('moves past a transport error and a 503 to the target that answers', async () => {
    const a = await endpoint(['udp', 'tcp']);
    const busy = await endpoint();
    const good = await endpoint();
    busy.manager.on('request', (req, tx) => tx.respond(createResponse(req, 503)));
    good.manager.on('request', (req, tx) => tx.respond(createResponse(req, 200)));
    const targets: TransportTarget[] = [
      { transport: 'tcp', address: '127.0.0.1', port: await closedTcpPort() },
      { transport: 'udp', address: '127.0.0.1', port: busy.info.port },
      { transport: 'udp', address: '127.0.0.1', port: good.info.port },
    ];
    const request = new FailoverRequest(a.manager, () => options(), targets);
    const attempts: TransportTarget[] = [];
    const responses: SipResponse[] = [];
    request.on('attempt', (_tx, target) => attempts.push(target));
    request.on('response', (res) => responses.push(res));
    request.start();
    await until(() => responses.length > 0);
    expect(responses.map((r) => r.status)).toEqual([200]);
    expect(attempts).toEqual(targets);
  });

  it('passes the last failure up when every target fails', async () => {
    const a = await endpoint();
    const busy = await endpoint();
    busy.manager.on('request', (req, tx) => tx.respond(createResponse(req, 503)));
    const request = new FailoverRequest(a.manager, () => options(), [
      { transport: 'udp', address: '127.0.0.1', port: busy.info.port },
      { transport: 'udp', address: '127.0.0.1', port: busy.info.port },
    ]);
    const responses: number[] = [];
    request.on('response', (res) => responses.push(res.status));
    request.start();
    await until(() => responses.length > 0);
    expect(responses).toEqual([503]);
  });
});

describe('proxy next-hop resolution with DNS SRV and failover', () => {
  it('resolves the target domain through SRV and fails over to the second server', async () => {
    const dead = await endpoint();
    const alive = await endpoint();
    dead.manager.on('request', (req, tx) => tx.respond(createResponse(req, 503)));
    alive.manager.on('request', (req, tx) => tx.respond(createResponse(req, 200)));
    const dns = await startDnsServer([
      {
        type: 'SRV',
        name: '_sip._udp.example.test',
        ttl: 60,
        data: { priority: 1, weight: 0, port: dead.info.port, target: 'one.example.test' },
      },
      {
        type: 'SRV',
        name: '_sip._udp.example.test',
        ttl: 60,
        data: { priority: 2, weight: 0, port: alive.info.port, target: 'two.example.test' },
      },
      { type: 'A', name: 'one.example.test', ttl: 60, data: '127.0.0.1' },
      { type: 'A', name: 'two.example.test', ttl: 60, data: '127.0.0.1' },
    ]);
    cleanups.push(() => dns.close());
    const p = await endpoint();
    const proxy = new StatefulProxy({
      manager: p.manager,
      resolver: new SipResolver({ servers: [dns.address], transports: ['udp'], timeoutMs: 1_000, tries: 1 }),
    });
    p.manager.on('request', (req, tx) => proxy.forward(tx, req, [parseUri('sip:service@example.test')]));
    const a = await endpoint();
    const tx = a.manager.sendRequest(options(), {
      transport: 'udp',
      address: '127.0.0.1',
      port: p.info.port,
    });
    const responses: number[] = [];
    tx.on('response', (r) => responses.push(r.status));
    await until(() => responses.length > 0);
    expect(responses).toEqual([200]);
    expect(dns.queries).toContain('SRV _sip._udp.example.test');
  });
});
