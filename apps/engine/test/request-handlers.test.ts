import { createServer as createHttpServer, type IncomingMessage } from 'node:http';
import { createServer, type Server } from 'node:net';
import { selfSignedCertificate } from '@switchboard/testkit';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { EngineConfig } from '../src/config.ts';
import { type RunningEngine, startEngine } from '../src/engine.ts';
import type { RequestHandler } from '../src/routing/request-handlers.ts';
import { parseInstruction } from '../src/routing/request-handlers.ts';
import { SECRET, silentLogger, udpRequest, waitFor } from './helpers.ts';
import { allocatePort, runSipp, stopAllSipp } from './sipp.ts';
import { Srf, type SrfApp } from './srf.ts';

/**
 * drachtio-server's request handlers: the engine connects out to apps listening with drachtio-srf's
 * Srf.listen (reverse mode), or asks an HTTP service where each new request goes (reject, redirect, proxy,
 * an app to connect to, or the connected apps with a tag). Everything on loopback, ephemeral ports.
 */

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});
afterAll(() => stopAllSipp());

const SDP =
  'v=0\r\no=app 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 30000 RTP/AVP 0\r\n';

async function engineWith(
  requestHandlers: RequestHandler[],
  extra: Partial<EngineConfig> = {},
): Promise<{ engine: RunningEngine; port: number }> {
  const engine = await startEngine(
    {
      sipListen: [{ transport: 'udp', host: '127.0.0.1', port: 0 }],
      engineAdmin: { host: '127.0.0.1', port: 0 },
      engineSecret: SECRET,
      requestHandlers,
      ...extra,
    },
    { logger: silentLogger },
  );
  cleanups.push(() => engine.close());
  return { engine, port: engine.listeners[0]!.port };
}

async function connectedApp(engine: RunningEngine, tags: string[], configure: (srf: SrfApp) => void) {
  const srf = new Srf(tags);
  srf.on('error', () => {});
  configure(srf);
  const connected = new Promise<void>((resolve) => srf.on('connect', () => resolve()));
  srf.connect({ host: '127.0.0.1', port: engine.adminAddress.port, secret: SECRET });
  await connected;
  cleanups.push(() => srf.disconnect());
  return srf;
}

/** A drachtio-srf app in reverse mode: it listens, the engine connects to it. */
async function listeningApp(configure: (srf: SrfApp) => void, tls?: { cert: string; key: string }) {
  const srf = new Srf();
  srf.on('error', () => {});
  configure(srf);
  const server: Server = srf.listen({ host: '127.0.0.1', port: 0, secret: SECRET, ...(tls ? { tls } : {}) });
  await new Promise<void>((resolve) => {
    if (server.listening) resolve();
    else server.once('listening', () => resolve());
  });
  cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no address');
  return { srf, server, port: address.port };
}

/** An HTTP request handler answering with `answer`, recording the requests it gets. */
async function httpHandler(answer: (req: IncomingMessage) => { status?: number; body: string }) {
  const seen: Array<{ url: string; method: string; body: string }> = [];
  const server = createHttpServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => {
      body += d.toString();
    });
    req.on('end', () => {
      seen.push({ url: req.url ?? '', method: req.method ?? '', body });
      const a = answer(req);
      res.writeHead(a.status ?? 200, { 'Content-Type': 'application/json' });
      res.end(a.body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no address');
  return { url: `http://127.0.0.1:${address.port}`, seen };
}

/** A port nobody listens on (TCP), for connection failures. */
async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', () => resolve()));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

describe('reverse mode: the engine connects to Srf.listen apps', () => {
  it('hands a sipp call to a listening app, which answers, sees the BYE and ends the session', async () => {
    let destroyed = false;
    const { port: appPort, server } = await listeningApp((srf) =>
      srf.invite(async (req, res) => {
        const dlg = await srf.createUAS(req, res, { localSdp: SDP });
        dlg.on('destroy', () => {
          destroyed = true;
          srf.endSession(req);
        });
      }),
    );
    const { port } = await engineWith([{ method: 'INVITE', url: `tcp://127.0.0.1:${appPort}` }]);
    const caller = runSipp({
      scenario: 'uac-invite.xml',
      port: await allocatePort(),
      remote: `127.0.0.1:${port}`,
    });
    const result = await caller.done;
    expect(result.code, result.stderr).toBe(0);
    await waitFor(() => destroyed, 'the dialog to end in the app');
    // the app closed the connection the engine opened for this call
    let connections = -1;
    await waitFor(() => {
      server.getConnections((_e, n) => {
        connections = n;
      });
      return connections === 0;
    }, 'the session to end');
  });

  it('tls://: connects out over TLS to an app listening with a certificate the engine trusts', async () => {
    const certificate = selfSignedCertificate();
    const answering = (srf: SrfApp) =>
      srf.options((req, res) => {
        res.send(200, { headers: { 'X-App': 'tls-listener' } });
        srf.endSession(req);
      });
    const { port: appPort } = await listeningApp(answering, certificate);
    const trusted = await engineWith([{ method: 'OPTIONS', url: `tls://127.0.0.1:${appPort}` }], {
      outboundTlsCa: certificate.cert,
    });
    expect(await udpRequest(trusted.port, 'OPTIONS')).toMatch(/X-App: tls-listener/i);
    // Without the CA the self-signed certificate is not trusted: no connection, the request gets 480.
    const untrusting = await engineWith([{ method: 'OPTIONS', url: `tls://127.0.0.1:${appPort}` }]);
    expect(await udpRequest(untrusting.port, 'OPTIONS')).toMatch(/^SIP\/2\.0 480 /);
  });

  it('answers 480 when the app cannot be reached, and other methods still go to connected apps', async () => {
    const { engine, port } = await engineWith([
      { method: 'INVITE', url: `tcp://127.0.0.1:${await closedPort()}` },
    ]);
    await connectedApp(engine, [], (srf) =>
      srf.options((_req, res) => res.send(200, { headers: { 'X-App': 'inbound' } })),
    );
    expect(await udpRequest(port, 'INVITE')).toMatch(/^SIP\/2\.0 480 /);
    const options = await udpRequest(port, 'OPTIONS');
    expect(options).toMatch(/^SIP\/2\.0 200 /);
    expect(options).toMatch(/X-App: inbound/i);
  });
});

describe('HTTP request handlers', () => {
  it('route to a tag: only the connected app with that tag gets the requests', async () => {
    const http = await httpHandler(() => ({
      body: JSON.stringify({ action: 'route', data: { tag: 'green' } }),
    }));
    const { engine, port } = await engineWith([{ method: '*', url: `${http.url}/route` }]);
    for (const tag of ['blue', 'green']) {
      await connectedApp(engine, [tag], (srf) =>
        srf.options((_req, res) => res.send(200, { headers: { 'X-App': tag } })),
      );
    }
    for (let i = 0; i < 3; i++) expect(await udpRequest(port, 'OPTIONS')).toMatch(/X-App: green/i);
    // drachtio-server's query string
    const q = new URL(http.seen[0]!.url, 'http://x').searchParams;
    expect(http.seen[0]!.url.startsWith('/route/?')).toBe(true);
    expect(q.get('method')).toBe('OPTIONS');
    expect(q.get('domain')).toBe('127.0.0.1');
    expect(q.get('protocol')).toBe('udp');
    expect(q.get('source_address')).toBe('127.0.0.1');
    expect(q.get('fromUser')).toBe('alice');
    expect(q.get('toUser')).toBe('bob');
    expect(q.get('uriUser')).toBe('bob');
    expect(q.get('lane')).toBe('b');
  });

  it('route to a tag no app carries: 480', async () => {
    const http = await httpHandler(() => ({
      body: JSON.stringify({ action: 'route', data: { tag: 'red' } }),
    }));
    const { engine, port } = await engineWith([{ method: 'OPTIONS', url: http.url }]);
    await connectedApp(engine, ['blue'], (srf) => srf.options((_req, res) => res.send(200)));
    expect(await udpRequest(port, 'OPTIONS')).toMatch(/^SIP\/2\.0 480 /);
  });

  it('route to an app uri: the engine connects out to it', async () => {
    const { port: appPort } = await listeningApp((srf) =>
      srf.options((req, res) => {
        res.send(200, { headers: { 'X-App': 'listener' } });
        srf.endSession(req);
      }),
    );
    const http = await httpHandler(() => ({
      body: JSON.stringify({ action: 'route', data: { uri: `127.0.0.1:${appPort};transport=tcp` } }),
    }));
    const { port } = await engineWith([{ method: 'OPTIONS', url: http.url, httpMethod: 'POST' }]);
    expect(await udpRequest(port, 'OPTIONS')).toMatch(/X-App: listener/i);
    // a POST carries the SIP message itself
    expect(http.seen[0]!.method).toBe('POST');
    expect(http.seen[0]!.body).toMatch(/^OPTIONS sip:bob@127\.0\.0\.1:\d+;lane=b SIP\/2\.0\r\n/);
  });

  it('reject, redirect, and a broken answer (500)', async () => {
    let answer = '';
    const http = await httpHandler(() => ({ body: answer }));
    const { port } = await engineWith([{ method: '*', url: http.url }]);
    answer = JSON.stringify({ action: 'reject', data: { status: 403, reason: 'Go Away' } });
    expect(await udpRequest(port, 'INVITE')).toMatch(/^SIP\/2\.0 403 Go Away\r\n/);
    answer = JSON.stringify({
      action: 'redirect',
      data: { contact: ['sip:a@192.0.2.1', 'sip:b@192.0.2.2'] },
    });
    const redirect = await udpRequest(port, 'INVITE');
    expect(redirect).toMatch(/^SIP\/2\.0 302 /);
    expect(redirect).toMatch(/sip:a@192\.0\.2\.1/);
    expect(redirect).toMatch(/sip:b@192\.0\.2\.2/);
    answer = '{"action": "dance", "data": {}}';
    expect(await udpRequest(port, 'OPTIONS')).toMatch(/^SIP\/2\.0 500 /);
    answer = 'not json';
    expect(await udpRequest(port, 'OPTIONS')).toMatch(/^SIP\/2\.0 500 /);
  });

  it('proxy: the engine proxies to the destination without any app', async () => {
    const sippPort = await allocatePort();
    const uas = runSipp({ scenario: 'uas-options.xml', port: sippPort });
    cleanups.push(() => uas.stop());
    await new Promise((r) => setTimeout(r, 300));
    const http = await httpHandler(() => ({
      body: JSON.stringify({ action: 'proxy', data: { destination: `sip:sipp@127.0.0.1:${sippPort}` } }),
    }));
    const { port } = await engineWith([{ method: 'OPTIONS', url: http.url }]);
    const response = await udpRequest(port, 'OPTIONS');
    expect(response).toMatch(/^SIP\/2\.0 200 /);
    expect(response).toMatch(/X-Answered-By: sipp-uas/i);
    expect((await uas.done).code).toBe(0);
  });
});

describe('routing instructions', () => {
  it('parses what drachtio-server accepts and refuses the rest', () => {
    expect(parseInstruction({ action: 'route', data: { uri: '10.0.0.1:3001' } })).toEqual({
      action: 'connect',
      host: '10.0.0.1',
      port: 3001,
      tls: false,
    });
    expect(parseInstruction({ action: 'route', data: { uri: 'apps.example:3001;transport=tls' } })).toEqual({
      action: 'connect',
      host: 'apps.example',
      port: 3001,
      tls: true,
    });
    expect(parseInstruction({ action: 'proxy', data: { destination: 'sip:a@b' } })).toMatchObject({
      destinations: ['sip:a@b'],
      followRedirects: true,
      provisionalTimeout: '5s',
      finalTimeout: '60s',
    });
    expect(() => parseInstruction({ action: 'reject', data: { status: 200 } })).toThrow(/status/);
    expect(() => parseInstruction({ action: 'route', data: { uri: '10.0.0.1:3001;transport=udp' } })).toThrow(
      /udp/,
    );
    expect(() => parseInstruction({ action: 'route', data: {} })).toThrow(/uri/);
  });
});
