import dgram from 'node:dgram';
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import {
  createRequest,
  createResponse,
  parseMessage,
  type SipRequest,
  type SipResponse,
} from '../src/messages/index.ts';
import {
  type ClientTransaction,
  type InviteClientTransaction,
  type InviteServerTransaction,
  TransactionManager,
} from '../src/transactions/index.ts';
import { TransportLayer } from '../src/transport/index.ts';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function endpoint(transport: 'udp' | 'tcp' = 'udp', t1 = 500) {
  const layer = new TransportLayer();
  const info = await layer.listen({ transport, host: '127.0.0.1', port: 0 });
  const manager = new TransactionManager(layer, { timers: { t1, t2: Math.max(t1 * 8, 40), t4: t1 * 10 } });
  cleanups.push(async () => {
    manager.close();
    await layer.close();
  });
  return { layer, info, manager };
}

function invite(port: number, transport = 'udp'): SipRequest {
  return createRequest({
    method: 'INVITE',
    uri: `sip:bob@127.0.0.1:${port};transport=${transport}`,
    from: 'sip:alice@127.0.0.1',
    to: 'sip:bob@127.0.0.1',
    contact: 'sip:alice@127.0.0.1',
  });
}

function optionsRequest(port: number): SipRequest {
  return createRequest({
    method: 'OPTIONS',
    uri: `sip:bob@127.0.0.1:${port}`,
    from: 'sip:a@127.0.0.1',
    to: 'sip:bob@127.0.0.1',
  });
}

function responses(tx: ClientTransaction): SipResponse[] {
  const list: SipResponse[] = [];
  tx.on('response', (r) => list.push(r));
  return list;
}

async function until(predicate: () => boolean, ms = 8_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('TransactionManager over loopback', () => {
  it('non-INVITE round trip: adds Via with branch and rport, matches the response', async () => {
    const a = await endpoint();
    const b = await endpoint();
    b.manager.on('request', (req, tx) => tx.respond(createResponse(req, 200)));
    const req = optionsRequest(b.info.port);
    const tx = a.manager.sendRequest(req, { transport: 'udp', address: '127.0.0.1', port: b.info.port });
    const got = responses(tx);
    expect(req.topVia?.isRfc3261Branch).toBe(true);
    expect(req.topVia?.rport).toBe(true);
    expect(req.topVia?.port).toBe(a.info.port);
    await until(() => got.length === 1);
    expect(got[0]!.status).toBe(200);
    expect(tx.state).toBe('completed');
  });

  it('absorbs request retransmissions and answers them with the last response', async () => {
    const b = await endpoint();
    let requests = 0;
    b.manager.on('request', (req, tx) => {
      requests++;
      tx.respond(createResponse(req, 200));
    });
    const peer = dgram.createSocket('udp4');
    await new Promise<void>((r) => peer.bind(0, '127.0.0.1', r));
    cleanups.push(() => new Promise<void>((r) => peer.close(() => r())));
    const received: string[] = [];
    peer.on('message', (m) => received.push(m.toString()));
    const raw = optionsRequest(b.info.port);
    raw.prependVia(`SIP/2.0/UDP 127.0.0.1:${peer.address().port};branch=z9hG4bKretrans1`);
    peer.send(raw.toBuffer(), b.info.port, '127.0.0.1');
    await until(() => received.length === 1);
    peer.send(raw.toBuffer(), b.info.port, '127.0.0.1');
    await until(() => received.length === 2);
    expect(requests).toBe(1);
    expect(received.every((r) => r.startsWith('SIP/2.0 200'))).toBe(true);
  });

  it('INVITE rejected: UAS sends 100 by itself, UAC ACKs the 486 within its transaction', async () => {
    const a = await endpoint();
    const b = await endpoint('udp', 100);
    const serverTxs: InviteServerTransaction[] = [];
    b.manager.on('request', (req, tx) => {
      serverTxs.push(tx as InviteServerTransaction);
      // answer after the automatic 100 Trying went out
      setTimeout(() => tx.respond(createResponse(req, 486)), 300);
    });
    const tx = a.manager.sendRequest(invite(b.info.port), {
      transport: 'udp',
      address: '127.0.0.1',
      port: b.info.port,
    });
    const got = responses(tx);
    await until(() => serverTxs[0]?.state === 'confirmed');
    expect(got.map((r) => r.status)).toEqual([100, 486]);
    expect(tx.state).toBe('completed');
  });

  it('INVITE accepted: 2xx retransmitted until the ACK arrives (RFC 6026 Accepted on both sides)', async () => {
    const a = await endpoint();
    const b = await endpoint('udp', 20);
    const acks: SipRequest[] = [];
    b.manager.on('ack', (ack) => acks.push(ack));
    b.manager.on('request', (req, tx) =>
      b.manager.acceptInvite(tx as InviteServerTransaction, createResponse(req, 200, { toTag: 'uas1' })),
    );
    const inv = invite(b.info.port);
    const tx = a.manager.sendRequest(inv, { transport: 'udp', address: '127.0.0.1', port: b.info.port });
    const got = responses(tx);
    // Do not ACK at first: the UAS must retransmit its 2xx, and the client transaction passes each one up.
    // A quick 2xx is preceded by the 100 Trying that was due (server.ts).
    await until(() => got.length >= 4);
    expect(tx.state).toBe('accepted');
    expect(got[0]!.status).toBe(100);
    expect(got.slice(1).every((r) => r.status === 200)).toBe(true);
    const ack = createRequest({
      method: 'ACK',
      uri: inv.uri,
      from: inv.from,
      to: got[1]!.to,
      callId: inv.callId,
      cseq: 1,
    });
    await a.manager.sendAck(ack, { transport: 'udp', address: '127.0.0.1', port: b.info.port });
    await until(() => acks.length === 1);
    const count = got.length;
    await new Promise((r) => setTimeout(r, 200));
    expect(got.length).toBeLessThanOrEqual(count + 1);
  });

  it('an acknowledged INVITE transaction lets go of its INVITE and 2xx and still absorbs retransmissions', async () => {
    const a = await endpoint();
    const b = await endpoint();
    const requests: SipRequest[] = [];
    const acknowledged: Array<InviteServerTransaction | undefined> = [];
    b.manager.on('ack', (_ack, _source, tx) => acknowledged.push(tx));
    b.manager.on('request', (req, tx) => {
      requests.push(req);
      b.manager.acceptInvite(tx as InviteServerTransaction, createResponse(req, 200, { toTag: 'uas2' }));
    });
    const inv = invite(b.info.port);
    const target = { transport: 'udp' as const, address: '127.0.0.1', port: b.info.port };
    const got = responses(a.manager.sendRequest(inv, target));
    await until(() => got.some((r) => r.status === 200));
    const ack = createRequest({
      method: 'ACK',
      uri: inv.uri,
      from: inv.from,
      to: got.find((r) => r.status === 200)!.to,
      callId: inv.callId,
      cseq: 1,
    });
    await a.manager.sendAck(ack, target);
    await until(() => acknowledged.length === 1);
    const server = acknowledged[0]!;
    expect(server.state).toBe('accepted');
    expect(() => server.request).toThrow(/released its request/);
    expect(server.lastResponse?.toTag).toBe('uas2');
    // A retransmission of the INVITE is absorbed until Timer L: no new request, no response (RFC 6026 §7.1).
    const before = got.length;
    await a.layer.send(inv, target);
    await new Promise((r) => setTimeout(r, 200));
    expect(requests).toHaveLength(1);
    expect(got).toHaveLength(before);
    // A second ACK (a retransmission) is the TU's again, with no transaction to acknowledge.
    await a.manager.sendAck(ack, target);
    await until(() => acknowledged.length === 2);
    expect(acknowledged[1]).toBeUndefined();
  });

  it("an INVITE client transaction lets go of its INVITE once accepted and still passes up a fork's 2xx", async () => {
    const a = await endpoint();
    const b = await endpoint();
    let received: SipRequest | undefined;
    b.manager.on('request', (req, tx) => {
      received = req;
      b.manager.acceptInvite(tx as InviteServerTransaction, createResponse(req, 200, { toTag: 'fork1' }));
    });
    const target = { transport: 'udp' as const, address: '127.0.0.1', port: b.info.port };
    const tx = a.manager.sendRequest(invite(b.info.port), target) as InviteClientTransaction;
    const got = responses(tx);
    await until(() => got.some((r) => r.status === 200));
    expect(tx.state).toBe('accepted');
    // RFC 6026 §7.2: Accepted sends nothing more, so it holds no INVITE for the 32 s of Timer M.
    expect(() => tx.request).toThrow(/released its request/);
    // A 2xx from another fork still reaches the TU (§13.2.2.4).
    const back = { transport: 'udp' as const, address: '127.0.0.1', port: a.info.port };
    await b.layer.send(createResponse(received!, 200, { toTag: 'fork2' }), back);
    const answers = () => got.filter((r) => r.status === 200).map((r) => r.toTag);
    await until(() => answers().length >= 2);
    expect(answers()).toEqual(['fork1', 'fork2']);
  });

  it('reports ackTimeout when a 2xx is never ACKed', async () => {
    const a = await endpoint();
    const b = await endpoint('udp', 5);
    const timedOut = new Promise<number>((resolve) =>
      b.manager.once('ackTimeout', (_tx, res) => resolve(res.status)),
    );
    b.manager.on('request', (req, tx) =>
      b.manager.acceptInvite(tx as InviteServerTransaction, createResponse(req, 200)),
    );
    a.manager.sendRequest(invite(b.info.port), { transport: 'udp', address: '127.0.0.1', port: b.info.port });
    expect(await timedOut).toBe(200);
  });

  it('CANCEL after a provisional: UAS gets cancel, answers 487; CANCEL gets 200 (§9)', async () => {
    const a = await endpoint();
    const b = await endpoint();
    b.manager.on('request', (req, tx) => tx.respond(createResponse(req, 180, { toTag: 'ring' })));
    b.manager.on('cancel', (_cancel, inviteTx) =>
      inviteTx.respond(createResponse(inviteTx.request, 487, { toTag: 'ring' })),
    );
    const tx = a.manager.sendRequest(invite(b.info.port), {
      transport: 'udp',
      address: '127.0.0.1',
      port: b.info.port,
    });
    const got = responses(tx);
    await until(() => got.some((r) => r.status === 180));
    const cancelTx = a.manager.cancel(tx as InviteClientTransaction, 'SIP;cause=487');
    expect(cancelTx).toBeDefined();
    const cancelResponses = responses(cancelTx!);
    expect(cancelTx!.request.topVia?.branch).toBe(tx.request.topVia?.branch);
    await until(() => got.some((r) => r.status === 487) && cancelResponses.length === 1);
    expect(cancelResponses[0]!.status).toBe(200);
  });

  it('a CANCEL asked for before any provisional waits for one (§9.1)', async () => {
    const a = await endpoint();
    const b = await endpoint();
    b.manager.on('request', (req, tx) => {
      setTimeout(() => tx.respond(createResponse(req, 183, { toTag: 'early' })), 100);
    });
    let cancelled = 0;
    b.manager.on('cancel', (_c, inviteTx) => {
      cancelled++;
      inviteTx.respond(createResponse(inviteTx.request, 487, { toTag: 'early' }));
    });
    // No automatic 100 at b for 200 ms, and b answers 183 after 100 ms.
    const tx = a.manager.sendRequest(invite(b.info.port), {
      transport: 'udp',
      address: '127.0.0.1',
      port: b.info.port,
    });
    const got = responses(tx);
    expect(a.manager.cancel(tx as InviteClientTransaction)).toBeUndefined();
    await until(() => got.some((r) => r.status === 487));
    expect(cancelled).toBe(1);
  });

  it('a CANCEL matching nothing gets 481', async () => {
    const a = await endpoint();
    const b = await endpoint();
    const cancel = createRequest({
      method: 'CANCEL',
      uri: `sip:bob@127.0.0.1:${b.info.port}`,
      from: 'sip:a@x.test',
      to: 'sip:b@x.test',
    });
    const tx = a.manager.sendRequest(cancel, { transport: 'udp', address: '127.0.0.1', port: b.info.port });
    const got = responses(tx);
    await until(() => got.length === 1);
    expect(got[0]!.status).toBe(481);
  });

  it('Timer F: an unanswered request gets a synthesized 408', async () => {
    const a = await endpoint('udp', 10);
    const silent = dgram.createSocket('udp4');
    await new Promise<void>((r) => silent.bind(0, '127.0.0.1', r));
    cleanups.push(() => new Promise<void>((r) => silent.close(() => r())));
    let retransmissions = 0;
    silent.on('message', () => retransmissions++);
    const tx = a.manager.sendRequest(optionsRequest(silent.address().port), {
      transport: 'udp',
      address: '127.0.0.1',
      port: silent.address().port,
    });
    const failed = new Promise<string>((r) => tx.once('failed', (reason) => r(reason)));
    const got = responses(tx);
    expect(await failed).toBe('timeout');
    expect(got[0]?.status).toBe(408);
    expect(retransmissions).toBeGreaterThan(1);
    expect(a.manager.size.client).toBe(0);
  });

  it('a transport error becomes a synthesized 503 (§8.1.3.1)', async () => {
    const a = await endpoint('tcp');
    // a port nobody listens on
    const probe = net.createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    const port = (probe.address() as net.AddressInfo).port;
    await new Promise<void>((r) => probe.close(() => r()));
    const tx = a.manager.sendRequest(optionsRequest(port), { transport: 'tcp', address: '127.0.0.1', port });
    const got = responses(tx);
    const failed = new Promise<string>((r) => tx.once('failed', (reason) => r(reason)));
    expect(await failed).toBe('transport-error');
    expect(got[0]?.status).toBe(503);
  });

  it('RFC 2543 fallback: matches retransmissions and the non-2xx ACK without a magic cookie', async () => {
    const b = await endpoint();
    const txs: InviteServerTransaction[] = [];
    b.manager.on('request', (req, tx) => {
      txs.push(tx as InviteServerTransaction);
      tx.respond(createResponse(req, 404, { toTag: 'old' }));
    });
    const peer = dgram.createSocket('udp4');
    await new Promise<void>((r) => peer.bind(0, '127.0.0.1', r));
    cleanups.push(() => new Promise<void>((r) => peer.close(() => r())));
    const received: SipResponse[] = [];
    peer.on('message', (m) => received.push(parseMessage(m) as SipResponse));
    const inv = invite(b.info.port);
    inv.prependVia(`SIP/2.0/UDP 127.0.0.1:${peer.address().port};branch=oldstyle1`);
    peer.send(inv.toBuffer(), b.info.port, '127.0.0.1');
    await until(() => received.length >= 1);
    const before = received.length;
    peer.send(inv.toBuffer(), b.info.port, '127.0.0.1');
    // the retransmitted INVITE is answered with the same final response, not a new transaction
    await until(() => received.length > before);
    expect(received.every((r) => r.status === 404)).toBe(true);
    expect(txs).toHaveLength(1);
    const ack = parseMessage(
      inv
        .toString()
        .replace(/^INVITE /, 'ACK ')
        .replace('CSeq: 1 INVITE', 'CSeq: 1 ACK')
        .replace(/(To: [^\r]*)/, '$1;tag=old'),
    ) as SipRequest;
    peer.send(ack.toBuffer(), b.info.port, '127.0.0.1');
    await until(() => txs[0]!.state === 'confirmed' || txs[0]!.state === 'terminated');
  });

  it('responses matching no transaction are reported as stray', async () => {
    const a = await endpoint();
    const stray = new Promise<number>((r) => a.manager.once('strayResponse', (res) => r(res.status)));
    const peer = dgram.createSocket('udp4');
    await new Promise<void>((r) => peer.bind(0, '127.0.0.1', r));
    cleanups.push(() => new Promise<void>((r) => peer.close(() => r())));
    const req = optionsRequest(a.info.port);
    req.prependVia(`SIP/2.0/UDP 127.0.0.1:${a.info.port};branch=z9hG4bKnobody`);
    peer.send(createResponse(req, 200).toBuffer(), a.info.port, '127.0.0.1');
    expect(await stray).toBe(200);
  });

  it('TCP: responses and the ACK reuse the INVITE connection', async () => {
    const a = await endpoint('tcp');
    const b = await endpoint('tcp');
    b.manager.on('request', (req, tx) => tx.respond(createResponse(req, 603)));
    const tx = a.manager.sendRequest(invite(b.info.port, 'tcp'), {
      transport: 'tcp',
      address: '127.0.0.1',
      port: b.info.port,
    });
    const got = responses(tx);
    await until(() => got.some((r) => r.status === 603));
    await until(() => tx.state === 'terminated'); // Timer D is 0 on TCP
    expect(b.layer.sockets.connections.size).toBe(1);
  });
});
