import {
  createRequest,
  createSipStack,
  type SipResponse,
  type SipStack,
  type TransportTarget,
} from '@switchboard/sip';
import { selfSignedCertificate } from '@switchboard/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningEngine, startEngine } from '../src/engine.ts';
import { SECRET, silentLogger, waitFor } from './helpers.ts';
import { Srf, type SrfApp } from './srf.ts';

/**
 * Whole SIP transactions over TLS and secure WebSocket (RFC 5630 / RFC 7118) with a generated certificate: a
 * user agent built on @switchboard/sip's own client transports (sipp here has no TLS) sends an OPTIONS that a
 * drachtio-srf app answers, then places a call (INVITE, 200, ACK) and hangs up (BYE), the app seeing each.
 */

const SDP =
  'v=0\r\no=ua 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 30000 RTP/AVP 0\r\n';

const certificate = selfSignedCertificate();
let engine: RunningEngine;
let srf: SrfApp;
const appEvents: string[] = [];

beforeAll(async () => {
  engine = await startEngine(
    {
      sipListen: [
        { transport: 'tls', host: '127.0.0.1', port: 0 },
        { transport: 'wss', host: '127.0.0.1', port: 0 },
      ],
      sipTls: certificate,
      engineAdmin: { host: '127.0.0.1', port: 0 },
      engineSecret: SECRET,
    },
    { logger: silentLogger },
  );
  srf = new Srf();
  srf.on('error', () => {});
  srf.options((req, res) => res.send(200, { headers: { 'X-Transport': req.protocol } }));
  srf.invite(async (req, res) => {
    appEvents.push(`invite ${req.protocol}`);
    const dlg = await srf.createUAS(req, res, { localSdp: SDP });
    dlg.on('destroy', () => appEvents.push(`bye ${req.protocol}`));
  });
  await new Promise<void>((resolve) => {
    srf.on('connect', () => resolve());
    srf.connect({ host: '127.0.0.1', port: engine.adminAddress.port, secret: SECRET });
  });
}, 60_000);

afterAll(async () => {
  srf.disconnect();
  await engine.close();
});

/** Sends a request in a client transaction and resolves with its final response. */
function finalResponse(ua: SipStack, request: ReturnType<typeof createRequest>, target: TransportTarget) {
  return new Promise<SipResponse>((resolve) => {
    const tx = ua.transactions.sendRequest(request, target);
    tx.on('response', (response: SipResponse) => {
      if (response.status >= 200) resolve(response);
    });
  });
}

for (const transport of ['tls', 'wss'] as const) {
  describe(`over ${transport.toUpperCase()}`, () => {
    let ua: SipStack;
    let target: TransportTarget;
    let contact: string;

    beforeAll(async () => {
      // the client's own listener gives its Via/Contact; it trusts the engine's self-signed certificate
      ua = await createSipStack({
        listen: [{ transport, host: '127.0.0.1', port: 0, tls: certificate }],
        transport: { tlsClient: { ca: certificate.cert, rejectUnauthorized: true } },
      });
      const engineListener = engine.listeners.find((l) => l.transport === transport)!;
      target = { transport, address: '127.0.0.1', port: engineListener.port, serverName: 'localhost' };
      contact = `<sips:ua@127.0.0.1:${ua.listeners[0]!.port};transport=${transport}>`;
    });
    afterAll(() => ua.close());

    it('an OPTIONS reaches the app and its 200 comes back', async () => {
      const response = await finalResponse(
        ua,
        createRequest({
          method: 'OPTIONS',
          uri: `sips:service@127.0.0.1:${target.port};transport=${transport}`,
          from: '<sips:ua@example.invalid>',
          to: '<sips:service@127.0.0.1>',
        }),
        target,
      );
      expect(response.status).toBe(200);
      expect(response.getHeader('x-transport')).toBe(transport);
    });

    it('a call: INVITE answered by the app, ACK, then BYE ends the dialog in the app', async () => {
      const invite = createRequest({
        method: 'INVITE',
        uri: `sips:service@127.0.0.1:${target.port};transport=${transport}`,
        from: '<sips:ua@example.invalid>',
        to: '<sips:service@127.0.0.1>',
        contact,
        body: SDP,
        contentType: 'application/sdp',
      });
      const ok = await finalResponse(ua, invite, target);
      expect(ok.status).toBe(200);
      expect(ok.body.toString()).toContain('m=audio');
      const peer = ok.contact === '*' ? undefined : ok.contact[0]?.uri.toString();
      expect(peer).toMatch(new RegExp(`;transport=${transport}`));
      const inDialog = (method: 'ACK' | 'BYE', cseq: number) =>
        createRequest({
          method,
          uri: peer!,
          from: invite.getHeader('from')!,
          to: ok.getHeader('to')!,
          callId: invite.callId,
          cseq,
        });
      await ua.transactions.sendAck(inDialog('ACK', 1), target);
      await waitFor(() => appEvents.includes(`invite ${transport}`), 'the app to take the call');
      const byeAnswer = await finalResponse(ua, inDialog('BYE', 2), target);
      expect(byeAnswer.status).toBe(200);
      await waitFor(() => appEvents.includes(`bye ${transport}`), 'the app to see the BYE');
    });
  });
}

describe('admin listener over TLS', () => {
  it('drachtio-srf connects with tls options, authenticates and gets its requests', async () => {
    const tlsEngine = await startEngine(
      {
        sipListen: [{ transport: 'udp', host: '127.0.0.1', port: 0 }],
        engineAdmin: { host: '127.0.0.1', port: 0 },
        adminTls: certificate,
        engineSecret: SECRET,
      },
      { logger: silentLogger },
    );
    const app = new Srf();
    app.on('error', () => {});
    app.options((_req, res) => res.send(200, { headers: { 'X-Over': 'tls-admin' } }));
    try {
      const hostport = await new Promise<string>((resolve) => {
        app.on('connect', (_err: unknown, hp: string) => resolve(hp));
        app.connect({
          host: '127.0.0.1',
          port: tlsEngine.adminAddress.port,
          secret: SECRET,
          tls: { ca: certificate.cert, servername: 'localhost', rejectUnauthorized: true },
        });
      });
      expect(hostport).toMatch(/^udp\//);
      const ua = await createSipStack({ listen: [{ transport: 'udp', host: '127.0.0.1', port: 0 }] });
      try {
        const port = tlsEngine.listeners[0]!.port;
        const response = await finalResponse(
          ua,
          createRequest({
            method: 'OPTIONS',
            uri: `sip:service@127.0.0.1:${port}`,
            from: '<sip:ua@example.invalid>',
            to: '<sip:service@127.0.0.1>',
          }),
          { transport: 'udp', address: '127.0.0.1', port },
        );
        expect(response.getHeader('x-over')).toBe('tls-admin');
      } finally {
        await ua.close();
      }
    } finally {
      app.disconnect();
      await tlsEngine.close();
    }
  });
});
