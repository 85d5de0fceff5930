import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { type RunningEngine, startEngine } from '../src/engine.ts';
import { SECRET, silentLogger, waitFor } from './helpers.ts';
import { Srf, type SrfApp } from './srf.ts';

/** SIP over WebSocket (RFC 7118): a browser-style client's OPTIONS reaches the app and is answered. */

let engine: RunningEngine;
let srf: SrfApp;

beforeAll(async () => {
  engine = await startEngine(
    {
      sipListen: [{ transport: 'ws', host: '127.0.0.1', port: 0 }],
      engineAdmin: { host: '127.0.0.1', port: 0 },
      engineSecret: SECRET,
    },
    { logger: silentLogger },
  );
  srf = new Srf();
  srf.on('error', () => {});
  srf.options((req, res) => res.send(200, { headers: { 'X-Transport': req.protocol } }));
  await new Promise<void>((resolve) => {
    srf.on('connect', () => resolve());
    srf.connect({ host: '127.0.0.1', port: engine.adminAddress.port, secret: SECRET });
  });
}, 60_000);

afterAll(async () => {
  srf.disconnect();
  await engine.close();
});

describe('SIP over WebSocket', () => {
  it('answers an OPTIONS sent over a sip WebSocket through the app', async () => {
    const port = engine.listeners[0]!.port;
    const ws = new WebSocket(`ws://127.0.0.1:${port}`, 'sip');
    const received: string[] = [];
    ws.on('message', (data) => received.push(data.toString()));
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    ws.send(
      [
        `OPTIONS sip:service@127.0.0.1:${port};transport=ws SIP/2.0`,
        'Via: SIP/2.0/WS df7jal23ls0d.invalid;branch=z9hG4bKwstest1',
        'From: <sip:web@example.invalid>;tag=ws1',
        'To: <sip:service@127.0.0.1>',
        'Call-ID: ws-call-1',
        'CSeq: 1 OPTIONS',
        'Max-Forwards: 70',
        'Content-Length: 0',
        '',
        '',
      ].join('\r\n'),
    );
    await waitFor(() => received.length > 0, 'the answer over the WebSocket');
    expect(received[0]).toMatch(/^SIP\/2\.0 200/);
    expect(received[0]).toMatch(/X-Transport: ws/i);
    ws.close();
  });
});
