import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { copyRecordRoute, Dialog, DialogTable } from '../src/dialogs/index.ts';
import { createRequest, createResponse, type SipResponse } from '../src/messages/index.ts';
import { StatefulProxy } from '../src/proxy/index.ts';
import { type InviteServerTransaction, TransactionManager } from '../src/transactions/index.ts';
import { TransportLayer, type TransportProtocol } from '../src/transport/index.ts';
import { parseUri } from '../src/uri/index.ts';
import { runSipp, stopAllSipp } from './helpers/sipp.ts';

// Interoperability with sipp over UDP and TCP on loopback, ports 15100-15199.
const scenario = (name: string) => fileURLToPath(new URL(`./sipp/${name}`, import.meta.url));
const SDP =
  'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 30999 RTP/AVP 0\r\n';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});
afterAll(() => stopAllSipp());

async function library(transport: TransportProtocol) {
  const layer = new TransportLayer();
  const info = await layer.listen({ transport, host: '127.0.0.1', port: 0 });
  const manager = new TransactionManager(layer);
  cleanups.push(async () => {
    manager.close();
    await layer.close();
  });
  return { layer, info, manager };
}

/** A minimal UAS on the library: answers OPTIONS, INVITE (180 then 200 with SDP) and BYE in dialog. */
function actAsUas(lib: Awaited<ReturnType<typeof library>>) {
  const dialogs = new DialogTable();
  const counts = { invites: 0, acks: 0, byes: 0, options: 0 };
  const contact = `<sip:uas@127.0.0.1:${lib.info.port};transport=${lib.info.transport}>`;
  lib.manager.on('request', (req, tx) => {
    const match = dialogs.matchRequest(req);
    if (req.method === 'OPTIONS') {
      counts.options++;
      tx.respond(createResponse(req, 200));
    } else if (req.method === 'INVITE' && match.kind === 'out-of-dialog') {
      counts.invites++;
      const toTag = `lib${counts.invites}`;
      tx.respond(createResponse(req, 180, { toTag, headers: [['Contact', contact]] }));
      const ok = copyRecordRoute(
        req,
        createResponse(req, 200, {
          toTag,
          headers: [['Contact', contact]],
          body: SDP,
          contentType: 'application/sdp',
        }),
      );
      dialogs.add(Dialog.fromUas(req, ok));
      lib.manager.acceptInvite(tx as InviteServerTransaction, ok);
    } else if (req.method === 'BYE' && match.kind === 'in-dialog') {
      counts.byes++;
      const check = match.dialog.receiveRequest(req);
      tx.respond(createResponse(req, check.ok ? 200 : check.status));
      dialogs.remove(match.dialog);
    } else {
      tx.respond(createResponse(req, match.kind === 'unknown-dialog' ? 481 : 501));
    }
  });
  lib.manager.on('ack', () => counts.acks++);
  return counts;
}

const transports: Array<[TransportProtocol, string, number]> = [
  ['udp', 'u1', 15100],
  ['tcp', 't1', 15110],
];

describe.each(transports)('sipp interop over %s', (transport, sippMode, basePort) => {
  it('sipp sends OPTIONS, the library answers 200 from its server transactions', async () => {
    const lib = await library(transport);
    const counts = actAsUas(lib);
    const run = runSipp([
      '-sf',
      scenario('options-uac.xml'),
      '-t',
      sippMode,
      '-i',
      '127.0.0.1',
      '-p',
      String(basePort),
      '-m',
      '5',
      '-r',
      '20',
      '-timeout',
      '20s',
      '-timeout_error',
      `127.0.0.1:${lib.info.port}`,
    ]);
    cleanups.push(() => run.stop());
    const result = await run.done;
    expect(result.errors).toBe('');
    expect(result.code).toBe(0);
    expect(counts.options).toBe(5);
  }, 40_000);

  it('sipp places INVITE/ACK/BYE calls, the library answers as a UAS', async () => {
    const lib = await library(transport);
    const counts = actAsUas(lib);
    const run = runSipp([
      '-sn',
      'uac',
      '-t',
      sippMode,
      '-i',
      '127.0.0.1',
      '-p',
      String(basePort + 1),
      '-m',
      '3',
      '-r',
      '10',
      '-d',
      '100',
      '-timeout',
      '20s',
      '-timeout_error',
      `127.0.0.1:${lib.info.port}`,
    ]);
    cleanups.push(() => run.stop());
    const result = await run.done;
    expect(result.errors).toBe('');
    expect(result.code).toBe(0);
    expect(counts).toMatchObject({ invites: 3, acks: 3, byes: 3 });
  }, 40_000);

  it('the library places a call to sipp uas: INVITE, ACK for the 2xx, BYE', async () => {
    const lib = await library(transport);
    const sippPort = basePort + 2;
    const run = runSipp([
      '-sn',
      'uas',
      '-t',
      sippMode,
      '-i',
      '127.0.0.1',
      '-p',
      String(sippPort),
      '-m',
      '1',
      '-timeout',
      '20s',
    ]);
    cleanups.push(() => run.stop());
    // give sipp a moment to bind before the first INVITE (it retransmits anyway over UDP)
    await new Promise((r) => setTimeout(r, 500));
    const target = { transport, address: '127.0.0.1', port: sippPort } as const;
    const invite = createRequest({
      method: 'INVITE',
      uri: `sip:service@127.0.0.1:${sippPort}`,
      from: 'sip:lib@127.0.0.1',
      to: `sip:service@127.0.0.1:${sippPort}`,
      contact: `<sip:lib@127.0.0.1:${lib.info.port};transport=${transport}>`,
      body: SDP,
      contentType: 'application/sdp',
    });
    const tx = lib.manager.sendRequest(invite, target);
    const final = await new Promise<SipResponse>((resolve) =>
      tx.on('response', (res) => {
        if (res.status >= 200) resolve(res);
      }),
    );
    expect(final.status).toBe(200);
    const dialog = Dialog.fromUac(invite, final);
    await lib.manager.sendAck(dialog.createAck(invite.cseq.seq), target);
    const bye = lib.manager.sendRequest(dialog.createRequest('BYE'), target);
    const byeFinal = await new Promise<SipResponse>((resolve) =>
      bye.on('response', (res) => {
        if (res.status >= 200) resolve(res);
      }),
    );
    expect(byeFinal.status).toBe(200);
    const result = await run.done;
    expect(result.errors).toBe('');
    expect(result.code).toBe(0);
  }, 40_000);
});

describe.each(transports)('sipp through the stateful proxy over %s', (transport, sippMode, basePort) => {
  it('sipp uac -> library proxy -> sipp uas: INVITE, ACK and BYE all cross', async () => {
    const lib = await library(transport);
    const uasPort = basePort + 5;
    const uasUri = parseUri(`sip:service@127.0.0.1:${uasPort};transport=${transport}`);
    const proxy = new StatefulProxy({ manager: lib.manager });
    let forwarded = 0;
    lib.manager.on('request', (req, tx) => {
      const rejection = proxy.validate(req);
      if (rejection) {
        tx.respond(createResponse(req, rejection.status));
        return;
      }
      proxy.preprocessRoute(req);
      forwarded++;
      // sipp sends ACK/BYE to the proxy's address without Route: the "location service" maps it to the uas.
      proxy.forward(tx, req, [proxy.hasRemoteDestination(req) ? req.uri : uasUri]);
    });
    lib.manager.on('ack', (ack) => {
      proxy.preprocessRoute(ack);
      if (!proxy.hasRemoteDestination(ack)) ack.uri = uasUri.clone();
      void proxy.forwardStateless(ack);
    });
    const uas = runSipp([
      '-sn',
      'uas',
      '-t',
      sippMode,
      '-i',
      '127.0.0.1',
      '-p',
      String(uasPort),
      '-m',
      '1',
      '-timeout',
      '20s',
    ]);
    cleanups.push(() => uas.stop());
    await new Promise((r) => setTimeout(r, 500));
    const uac = runSipp([
      '-sn',
      'uac',
      '-t',
      sippMode,
      '-i',
      '127.0.0.1',
      '-p',
      String(basePort + 6),
      '-m',
      '1',
      '-d',
      '100',
      '-timeout',
      '20s',
      '-timeout_error',
      `127.0.0.1:${lib.info.port}`,
    ]);
    cleanups.push(() => uac.stop());
    const [uacResult, uasResult] = await Promise.all([uac.done, uas.done]);
    expect(uacResult.errors).toBe('');
    expect(uasResult.errors).toBe('');
    expect(uacResult.code).toBe(0);
    expect(uasResult.code).toBe(0);
    expect(forwarded).toBe(2); // INVITE and BYE in transactions; the ACK statelessly
  }, 40_000);
});
