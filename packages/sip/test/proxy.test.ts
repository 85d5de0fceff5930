import { afterEach, describe, expect, it } from 'vitest';
import { copyRecordRoute, Dialog } from '../src/dialogs/index.ts';
import {
  createRequest,
  createResponse,
  parseMessage,
  type SipRequest,
  type SipResponse,
} from '../src/messages/index.ts';
import { chooseBestResponse, type ForkingMode, StatefulProxy } from '../src/proxy/index.ts';
import {
  type ClientTransaction,
  type InviteServerTransaction,
  type ServerTransaction,
  TransactionManager,
} from '../src/transactions/index.ts';
import { TransportLayer } from '../src/transport/index.ts';
import { parseUri } from '../src/uri/index.ts';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function endpoint(t1 = 500) {
  const layer = new TransportLayer();
  const info = await layer.listen({ transport: 'udp', host: '127.0.0.1', port: 0 });
  const manager = new TransactionManager(layer, { timers: { t1 } });
  cleanups.push(async () => {
    manager.close();
    await layer.close();
  });
  return { layer, info, manager, uri: `sip:127.0.0.1:${info.port}` };
}

type Endpoint = Awaited<ReturnType<typeof endpoint>>;

/** A proxy whose location service maps sip:bob@<proxy> to the given contacts. */
async function proxyWith(
  contacts: (req: SipRequest) => string[],
  mode: ForkingMode = 'parallel',
  timerC?: number,
  t1 = 500,
) {
  const p = await endpoint(t1);
  const proxy = new StatefulProxy({ manager: p.manager, timerC });
  p.manager.on('request', (req, tx) => {
    const rejection = proxy.validate(req);
    if (rejection) {
      tx.respond(createResponse(req, rejection.status, { headers: rejection.headers }));
      return;
    }
    proxy.preprocessRoute(req);
    if (proxy.hasRemoteDestination(req)) {
      proxy.forward(tx, req, [req.uri]);
      return;
    }
    proxy.forward(
      tx,
      req,
      contacts(req).map((c) => parseUri(c)),
      { mode },
    );
  });
  p.manager.on('ack', (ack) => void proxy.forwardStateless(ack));
  return { ...p, proxy };
}

/** A UAS that runs `behave` for every new request and records what it received. */
function uas(e: Endpoint, behave: (req: SipRequest, tx: ServerTransaction) => void) {
  const received: SipRequest[] = [];
  const acks: SipRequest[] = [];
  e.manager.on('request', (req, tx) => {
    received.push(req);
    behave(req, tx);
  });
  e.manager.on('cancel', (_c, invite) => invite.respond(createResponse(invite.request, 487, { toTag: 'x' })));
  e.manager.on('ack', (ack) => acks.push(ack));
  return { received, acks };
}

function inviteTo(proxyPort: number): SipRequest {
  return createRequest({
    method: 'INVITE',
    uri: `sip:bob@127.0.0.1:${proxyPort}`,
    from: 'sip:alice@127.0.0.1',
    to: 'sip:bob@127.0.0.1',
    contact: 'sip:alice@127.0.0.1',
  });
}

function collect(tx: ClientTransaction): SipResponse[] {
  const list: SipResponse[] = [];
  tx.on('response', (r) => list.push(r));
  return list;
}

async function until(predicate: () => boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}

const finalOf = (list: SipResponse[]) => list.find((r) => r.status >= 200);

describe('StatefulProxy (RFC 3261 §16)', () => {
  it('validates Max-Forwards (483) and Proxy-Require (420)', async () => {
    const p = await proxyWith(() => []);
    const a = await endpoint();
    const req = inviteTo(p.info.port);
    req.setHeader('Max-Forwards', 0);
    let got = collect(
      a.manager.sendRequest(req, { transport: 'udp', address: '127.0.0.1', port: p.info.port }),
    );
    await until(() => !!finalOf(got));
    expect(finalOf(got)!.status).toBe(483);
    const req2 = inviteTo(p.info.port);
    req2.setHeader('Proxy-Require', 'foo');
    got = collect(a.manager.sendRequest(req2, { transport: 'udp', address: '127.0.0.1', port: p.info.port }));
    await until(() => !!finalOf(got));
    expect(finalOf(got)!.status).toBe(420);
    expect(finalOf(got)!.getHeader('Unsupported')).toBe('foo');
  });

  it('a request that comes back unchanged is refused with 482 Loop Detected (§16.3 step 4)', async () => {
    // the location service sends bob back to this same proxy: without loop detection the request would
    // circle until Max-Forwards ran out (483 after 70 hops)
    let selfUri = '';
    const p = await proxyWith(() => [selfUri]);
    selfUri = `sip:bob@127.0.0.1:${p.info.port}`;
    const arrivals: number[] = [];
    p.manager.on('request', (req) => arrivals.push(req.via.length));
    const a = await endpoint();
    const got = collect(
      a.manager.sendRequest(inviteTo(p.info.port), {
        transport: 'udp',
        address: '127.0.0.1',
        port: p.info.port,
      }),
    );
    await until(() => !!finalOf(got));
    expect(finalOf(got)!.status).toBe(482);
    // refused the first time it came back: the caller's Via, then ours on top of it
    expect(arrivals).toEqual([1, 2]);
  });

  it('a request that spirals back retargeted is proxied again, not refused as a loop', async () => {
    const b = await endpoint();
    const seen = uas(b, (req, tx) => tx.respond(createResponse(req, 486)));
    let carolHere = '';
    // bob -> carol at this same proxy (a spiral: new Request-URI) -> carol's phone
    const p = await proxyWith((req) => [(req.uri as { user?: string }).user === 'bob' ? carolHere : b.uri]);
    carolHere = `sip:carol@127.0.0.1:${p.info.port}`;
    const a = await endpoint();
    const got = collect(
      a.manager.sendRequest(inviteTo(p.info.port), {
        transport: 'udp',
        address: '127.0.0.1',
        port: p.info.port,
      }),
    );
    await until(() => !!finalOf(got));
    expect(finalOf(got)!.status).toBe(486);
    // the phone saw the caller's Via and two of the proxy's (one per pass)
    expect(seen.received[0]?.via).toHaveLength(3);
  });

  it('parallel forking: forwards provisional and 2xx, adds Record-Route and Via, decrements Max-Forwards', async () => {
    const b1 = await endpoint();
    const b2 = await endpoint();
    uas(b1, (req, tx) => tx.respond(createResponse(req, 486)));
    const seen = uas(b2, (req, tx) => {
      tx.respond(createResponse(req, 180, { toTag: 'b2' }));
      setTimeout(() => {
        const ok = copyRecordRoute(
          req,
          createResponse(req, 200, { toTag: 'b2', headers: [['Contact', b2.uri]] }),
        );
        b2.manager.acceptInvite(tx as InviteServerTransaction, ok);
      }, 50);
    });
    const p = await proxyWith(() => [b1.uri, b2.uri]);
    const a = await endpoint();
    const invite = inviteTo(p.info.port);
    const got = collect(
      a.manager.sendRequest(invite, { transport: 'udp', address: '127.0.0.1', port: p.info.port }),
    );
    await until(() => !!finalOf(got));
    expect(got.filter((r) => r.status > 100).map((r) => r.status)).toEqual([180, 200]);
    const atB = seen.received[0]!;
    expect(atB.maxForwards).toBe(69);
    expect(atB.via).toHaveLength(2);
    expect(atB.getHeader('Record-Route')).toBe(`<sip:127.0.0.1:${p.info.port};lr>`);
    expect(atB.uri.toString()).toBe(b2.uri);
    // The 2xx reaches A with one Via (ours removed) and the Record-Route for the dialog.
    const ok = finalOf(got)!;
    expect(ok.via).toHaveLength(1);
    // ACK and BYE follow the route set through the proxy (loose routing, §16.4).
    const dialog = Dialog.fromUac(invite, ok);
    expect(dialog.routeSet.map((r) => r.toString())).toEqual([`<sip:127.0.0.1:${p.info.port};lr>`]);
    await a.manager.sendAck(dialog.createAck(1), {
      transport: 'udp',
      address: '127.0.0.1',
      port: p.info.port,
    });
    await until(() => seen.acks.length === 1);
    expect(seen.acks[0]!.route).toHaveLength(0);
    const bye = collect(
      a.manager.sendRequest(dialog.createRequest('BYE'), {
        transport: 'udp',
        address: '127.0.0.1',
        port: p.info.port,
      }),
    );
    await until(() => !!finalOf(bye));
    expect(finalOf(bye)!.status).toBe(200);
  });

  it('best response: lowest class wins, 503 becomes 500, 401/407 challenges are aggregated', async () => {
    const b1 = await endpoint();
    const b2 = await endpoint();
    const statuses: Record<string, number> = {};
    const challenge = (req: SipRequest, status: number, realm: string) =>
      createResponse(req, status, {
        headers: [
          [status === 401 ? 'WWW-Authenticate' : 'Proxy-Authenticate', `Digest realm="${realm}", nonce="n"`],
        ],
      });
    uas(b1, (req, tx) =>
      tx.respond(statuses.b1 === 401 ? challenge(req, 401, 'one') : createResponse(req, statuses.b1!)),
    );
    uas(b2, (req, tx) =>
      tx.respond(statuses.b2 === 407 ? challenge(req, 407, 'two') : createResponse(req, statuses.b2!)),
    );
    const p = await proxyWith(() => [b1.uri, b2.uri]);
    const a = await endpoint();
    const run = async (s1: number, s2: number) => {
      statuses.b1 = s1;
      statuses.b2 = s2;
      const got = collect(
        a.manager.sendRequest(inviteTo(p.info.port), {
          transport: 'udp',
          address: '127.0.0.1',
          port: p.info.port,
        }),
      );
      await until(() => !!finalOf(got));
      return finalOf(got)!;
    };
    expect((await run(404, 503)).status).toBe(404);
    expect((await run(503, 503)).status).toBe(500);
    const auth = await run(401, 407);
    expect([401, 407]).toContain(auth.status);
    expect(auth.getHeaders('WWW-Authenticate')).toHaveLength(1);
    expect(auth.getHeaders('Proxy-Authenticate')).toHaveLength(1);
  });

  it('an empty target set is answered 480', async () => {
    const p = await proxyWith(() => []);
    const a = await endpoint();
    const got = collect(
      a.manager.sendRequest(inviteTo(p.info.port), {
        transport: 'udp',
        address: '127.0.0.1',
        port: p.info.port,
      }),
    );
    await until(() => !!finalOf(got));
    expect(finalOf(got)!.status).toBe(480);
  });

  it('a 6xx cancels the other branches and wins', async () => {
    const b1 = await endpoint();
    const b2 = await endpoint();
    uas(b1, (req, tx) => setTimeout(() => tx.respond(createResponse(req, 603)), 100));
    const ringing = uas(b2, (req, tx) => tx.respond(createResponse(req, 180, { toTag: 'r' })));
    let cancelled = 0;
    b2.manager.on('cancel', () => cancelled++);
    const p = await proxyWith(() => [b1.uri, b2.uri]);
    const a = await endpoint();
    const got = collect(
      a.manager.sendRequest(inviteTo(p.info.port), {
        transport: 'udp',
        address: '127.0.0.1',
        port: p.info.port,
      }),
    );
    await until(() => !!finalOf(got));
    expect(finalOf(got)!.status).toBe(603);
    expect(cancelled).toBe(1);
    expect(ringing.received).toHaveLength(1);
  });

  it('CANCEL from upstream fans out to every pending branch (§16.10)', async () => {
    const b1 = await endpoint();
    const b2 = await endpoint();
    uas(b1, (req, tx) => tx.respond(createResponse(req, 180, { toTag: 'one' })));
    uas(b2, (req, tx) => tx.respond(createResponse(req, 183, { toTag: 'two' })));
    let cancels = 0;
    b1.manager.on('cancel', () => cancels++);
    b2.manager.on('cancel', () => cancels++);
    const p = await proxyWith(() => [b1.uri, b2.uri]);
    const a = await endpoint();
    const tx = a.manager.sendRequest(inviteTo(p.info.port), {
      transport: 'udp',
      address: '127.0.0.1',
      port: p.info.port,
    });
    const got = collect(tx);
    await until(() => got.filter((r) => r.status > 100).length >= 2);
    const cancelTx = a.manager.cancel(tx as never);
    const cancelGot = collect(cancelTx!);
    await until(() => !!finalOf(got) && !!finalOf(cancelGot));
    expect(finalOf(cancelGot)!.status).toBe(200);
    expect(finalOf(got)!.status).toBe(487);
    expect(cancels).toBe(2);
  });

  it('serial forking tries the next target only after a failure', async () => {
    const b1 = await endpoint();
    const b2 = await endpoint();
    const order: string[] = [];
    uas(b1, (req, tx) => {
      order.push('b1');
      setTimeout(() => tx.respond(createResponse(req, 480)), 50);
    });
    uas(b2, (req, tx) => {
      order.push('b2');
      b2.manager.acceptInvite(
        tx as InviteServerTransaction,
        createResponse(req, 200, { toTag: 'b2', headers: [['Contact', b2.uri]] }),
      );
    });
    const p = await proxyWith(() => [b1.uri, b2.uri], 'serial');
    const a = await endpoint();
    const got = collect(
      a.manager.sendRequest(inviteTo(p.info.port), {
        transport: 'udp',
        address: '127.0.0.1',
        port: p.info.port,
      }),
    );
    await until(() => !!finalOf(got));
    expect(finalOf(got)!.status).toBe(200);
    expect(order).toEqual(['b1', 'b2']);
  });

  it('Timer C cancels a branch that rings for too long', async () => {
    const b1 = await endpoint();
    uas(b1, (req, tx) => tx.respond(createResponse(req, 180, { toTag: 'long' })));
    const p = await proxyWith(() => [b1.uri], 'parallel', 300);
    const a = await endpoint();
    const got = collect(
      a.manager.sendRequest(inviteTo(p.info.port), {
        transport: 'udp',
        address: '127.0.0.1',
        port: p.info.port,
      }),
    );
    await until(() => !!finalOf(got));
    expect(finalOf(got)!.status).toBe(487);
  });

  it('an unreachable target set yields 408 when every branch times out', async () => {
    // a short T1 makes the proxy's client transaction time out quickly (Timer F = 64*T1)
    const p = await proxyWith(() => ['sip:127.0.0.1:1'], 'parallel', undefined, 10);
    const a = await endpoint();
    const got = collect(
      a.manager.sendRequest(
        createRequest({
          method: 'OPTIONS',
          uri: `sip:bob@127.0.0.1:${p.info.port}`,
          from: 'sip:a@x.test',
          to: 'sip:b@x.test',
        }),
        { transport: 'udp', address: '127.0.0.1', port: p.info.port },
      ),
    );
    await until(() => !!finalOf(got));
    expect(finalOf(got)!.status).toBe(408);
  });
});

describe('route processing', () => {
  it('§16.4: a Request-URI that is ours (strict router upstream) is replaced by the last Route', async () => {
    const p = await proxyWith(() => []);
    const req = parseMessage(
      `BYE sip:127.0.0.1:${p.info.port};lr SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5999;branch=z9hG4bKx\r\n` +
        'Route: <sip:next.example.com;lr>\r\nRoute: <sip:bob@192.0.2.4>\r\n' +
        'From: <sip:a@x.test>;tag=1\r\nTo: <sip:b@x.test>;tag=2\r\nCall-ID: r1\r\nCSeq: 2 BYE\r\nContent-Length: 0\r\n\r\n',
    ) as SipRequest;
    p.proxy.preprocessRoute(req);
    expect(req.uri.toString()).toBe('sip:bob@192.0.2.4');
    expect(req.getHeaders('Route')).toEqual(['<sip:next.example.com;lr>']);
  });

  it('chooseBestResponse synthesizes 408 when no branch answered', () => {
    const req = createRequest({
      method: 'INVITE',
      uri: 'sip:b@x.test',
      from: 'sip:a@x.test',
      to: 'sip:b@x.test',
    });
    req.setHeader('Via', 'SIP/2.0/UDP 127.0.0.1;branch=z9hG4bKq');
    expect(chooseBestResponse(req, []).status).toBe(408);
  });
});

describe('double Record-Route across transports', () => {
  it('UDP caller, TCP callee: two Record-Route entries, and the BYE still crosses the proxy', async () => {
    const layerP = new TransportLayer();
    const udpP = await layerP.listen({ transport: 'udp', host: '127.0.0.1', port: 0 });
    const tcpP = await layerP.listen({ transport: 'tcp', host: '127.0.0.1', port: 0 });
    const managerP = new TransactionManager(layerP);
    cleanups.push(async () => {
      managerP.close();
      await layerP.close();
    });
    const layerB = new TransportLayer();
    const tcpB = await layerB.listen({ transport: 'tcp', host: '127.0.0.1', port: 0 });
    const managerB = new TransactionManager(layerB);
    cleanups.push(async () => {
      managerB.close();
      await layerB.close();
    });
    const contactB = `sip:127.0.0.1:${tcpB.port};transport=tcp`;
    const proxy = new StatefulProxy({ manager: managerP });
    managerP.on('request', (req, tx) => {
      proxy.preprocessRoute(req);
      if (proxy.hasRemoteDestination(req)) proxy.forward(tx, req, [req.uri]);
      else proxy.forward(tx, req, [parseUri(contactB)]);
    });
    managerP.on('ack', (ack) => void proxy.forwardStateless(ack));
    const atB: SipRequest[] = [];
    managerB.on('request', (req, tx) => {
      atB.push(req);
      if (req.method === 'INVITE') {
        const ok = copyRecordRoute(
          req,
          createResponse(req, 200, { toTag: 'tcpb', headers: [['Contact', `<${contactB}>`]] }),
        );
        managerB.acceptInvite(tx as InviteServerTransaction, ok);
      } else {
        tx.respond(createResponse(req, 200));
      }
    });
    const a = await endpoint();
    const invite = inviteTo(udpP.port);
    const got = collect(
      a.manager.sendRequest(invite, { transport: 'udp', address: '127.0.0.1', port: udpP.port }),
    );
    await until(() => !!finalOf(got));
    expect(atB[0]!.getHeaders('Record-Route')).toEqual([
      `<sip:127.0.0.1:${tcpP.port};transport=tcp;lr>`,
      `<sip:127.0.0.1:${udpP.port};lr>`,
    ]);
    const dialog = Dialog.fromUac(invite, finalOf(got)!);
    await a.manager.sendAck(dialog.createAck(1), { transport: 'udp', address: '127.0.0.1', port: udpP.port });
    const bye = collect(
      a.manager.sendRequest(dialog.createRequest('BYE'), {
        transport: 'udp',
        address: '127.0.0.1',
        port: udpP.port,
      }),
    );
    await until(() => !!finalOf(bye));
    expect(finalOf(bye)!.status).toBe(200);
    expect(atB.map((r) => r.method)).toEqual(['INVITE', 'BYE']);
    expect(atB[1]!.route).toHaveLength(0);
  });
});
