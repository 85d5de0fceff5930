import { createSocket } from 'node:dgram';
import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningEngine, startEngine } from '../src/engine.ts';
import { SECRET, silentLogger, waitFor } from './helpers.ts';
import { Srf, type SrfApp } from './srf.ts';

/**
 * Malformed network input never reaches an app and never crashes or stalls the engine: each case is
 * followed by a valid request that must still be answered by the app.
 */

let engine: RunningEngine;
let srf: SrfApp;
const atApp: string[] = [];
const udp = createSocket('udp4');
const datagrams: string[] = [];

beforeAll(async () => {
  engine = await startEngine(
    {
      sipListen: [
        { transport: 'udp', host: '127.0.0.1', port: 0 },
        { transport: 'tcp', host: '127.0.0.1', port: 0 },
      ],
      engineAdmin: { host: '127.0.0.1', port: 0 },
      engineSecret: SECRET,
      limits: { maxMessageBytes: 4096, messageTimeoutMs: 1_000 },
    },
    { logger: silentLogger },
  );
  srf = new Srf();
  srf.on('error', () => {});
  srf.options((req, res) => {
    atApp.push(req.get('Call-ID'));
    res.send(200);
  });
  srf.invite((req, res) => {
    atApp.push(req.get('Call-ID'));
    res.send(486);
  });
  await new Promise<void>((resolve) => {
    srf.on('connect', () => resolve());
    srf.connect({ host: '127.0.0.1', port: engine.adminAddress.port, secret: SECRET });
  });
  await new Promise<void>((resolve) => udp.bind(0, '127.0.0.1', () => resolve()));
  udp.on('message', (m) => datagrams.push(m.toString('latin1')));
}, 60_000);

afterAll(async () => {
  udp.close();
  srf.disconnect();
  await engine.close();
});

const port = (t: 'udp' | 'tcp') => engine.listeners.find((l) => l.transport === t)!.port;
let n = 0;

function options(
  callId: string,
  transport: 'UDP' | 'TCP' = 'UDP',
  extra: string[] = [],
  drop: string[] = [],
): string {
  n++;
  const lines = [
    `OPTIONS sip:service@127.0.0.1 SIP/2.0`,
    `Via: SIP/2.0/${transport} 127.0.0.1:${udp.address().port};branch=z9hG4bKmal${n}x${Date.now()}`,
    `From: <sip:probe@127.0.0.1>;tag=m${n}`,
    'To: <sip:service@127.0.0.1>',
    `Call-ID: ${callId}`,
    'CSeq: 1 OPTIONS',
    'Max-Forwards: 70',
    ...extra,
  ].filter((l) => !drop.some((d) => l.toLowerCase().startsWith(d.toLowerCase())));
  return `${lines.join('\r\n')}\r\nContent-Length: 0\r\n\r\n`;
}

function sendUdp(data: string | Buffer): void {
  udp.send(typeof data === 'string' ? Buffer.from(data, 'latin1') : data, port('udp'), '127.0.0.1');
}

/** The engine still works: a valid OPTIONS over UDP reaches the app and is answered. */
async function stillAnswers(): Promise<void> {
  const callId = `valid-${n}-${Date.now()}`;
  sendUdp(options(callId));
  await waitFor(
    () => datagrams.some((d) => d.startsWith('SIP/2.0 200') && d.includes(callId)),
    'the valid request answered',
  );
  expect(atApp).toContain(callId);
}

describe('malformed input over UDP', () => {
  it('drops garbage datagrams silently', async () => {
    for (let i = 0; i < 20; i++)
      sendUdp(Buffer.from(Array.from({ length: 200 }, (_, j) => (i * 31 + j * 7) % 256)));
    sendUdp('INVITE\r\n\r\n');
    sendUdp('SIP/2.0 200 OK\r\n\r\n');
    sendUdp('\r\n\r\n');
    await stillAnswers();
    expect(atApp.every((c) => c.startsWith('valid-'))).toBe(true);
  });

  it('answers 400 to a request with a malformed mandatory header and keeps it from the app', async () => {
    const before = datagrams.length;
    sendUdp(
      options('bad-cseq', 'UDP', [], ['CSeq']).replace(
        'Max-Forwards: 70',
        'CSeq: one OPTIONS\r\nMax-Forwards: 70',
      ),
    );
    sendUdp(
      options('bad-maxfwd', 'UDP', [], ['Max-Forwards']).replace(
        'To: <sip:service@127.0.0.1>',
        'To: <sip:service@127.0.0.1>\r\nMax-Forwards: lots',
      ),
    );
    await waitFor(
      () => datagrams.slice(before).filter((d) => d.startsWith('SIP/2.0 400')).length >= 2,
      'two 400s',
    );
    expect(atApp).not.toContain('bad-cseq');
    expect(atApp).not.toContain('bad-maxfwd');
    await stillAnswers();
  });

  it('drops a request missing Call-ID or From (nothing to answer with) and keeps it from the app', async () => {
    sendUdp(options('no-from', 'UDP', [], ['From']));
    sendUdp(options('ignored', 'UDP', [], ['Call-ID']));
    await stillAnswers();
    expect(atApp).not.toContain('no-from');
  });

  // RFC 3261 §25.1 lets no control character into a header value but as a quoted-pair in a quoted string.
  it('answers 400 to a NUL in a header value and keeps the request from the app', async () => {
    const before = datagrams.length;
    sendUdp(options('nul-subject', 'UDP', ['Subject: hello\x00world']));
    sendUdp(options('nul-unknown', 'UDP', ['X-Note: a\x00b']));
    await waitFor(
      () =>
        datagrams.slice(before).filter((d) => d.startsWith('SIP/2.0 400') && d.includes('nul-')).length >= 2,
      'two 400s',
    );
    const answers = datagrams.slice(before).filter((d) => d.includes('nul-'));
    expect(answers.every((d) => d.startsWith('SIP/2.0 400') && !d.includes('\x00'))).toBe(true);
    expect(atApp).not.toContain('nul-subject');
    expect(atApp).not.toContain('nul-unknown');
    await stillAnswers();
  });

  it('drops a request whose NUL is in a header the answer would echo', async () => {
    const before = datagrams.length;
    sendUdp(options('nul-echo', 'UDP').replace('<sip:probe@', '"pro\x00be" <sip:probe@'));
    await stillAnswers();
    expect(datagrams.slice(before).some((d) => d.includes('nul-echo'))).toBe(false);
    expect(atApp).not.toContain('nul-echo');
  });

  it('accepts a NUL escaped in a quoted string, as RFC 4475 §3.1.1.2 does', async () => {
    sendUdp(options('nul-escaped', 'UDP').replace('<sip:probe@', '"pro\\\x00be" <sip:probe@'));
    await waitFor(
      () => datagrams.some((d) => d.startsWith('SIP/2.0 200') && d.includes('nul-escaped')),
      'the 200',
    );
    expect(atApp).toContain('nul-escaped');
  });

  it('drops a datagram larger than the configured limit', async () => {
    const big = options('too-big', 'UDP', [`X-Pad: ${'a'.repeat(8000)}`]);
    sendUdp(big);
    await stillAnswers();
    expect(atApp).not.toContain('too-big');
  });
});

describe('malformed input over TCP', () => {
  async function tcp(): Promise<{ socket: Socket; state: { data: string; closed: boolean } }> {
    const socket = connect({ host: '127.0.0.1', port: port('tcp') });
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', () => resolve());
      socket.once('error', reject);
    });
    const state = { data: '', closed: false };
    socket.on('data', (d: Buffer) => {
      state.data += d.toString('latin1');
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      state.closed = true;
    });
    return { socket, state };
  }

  it('never delivers half a message, and a closed half message leaves nothing behind', async () => {
    const { socket } = await tcp();
    const whole = options('half-message', 'TCP');
    socket.write(whole.slice(0, whole.length - 30));
    await new Promise((r) => setTimeout(r, 300));
    expect(atApp).not.toContain('half-message');
    socket.destroy();
    await stillAnswers();
  });

  it('closes a connection that sends garbage or a message over the size limit', async () => {
    const garbage = await tcp();
    garbage.socket.write(Buffer.alloc(5000, 0x41));
    await waitFor(() => garbage.state.closed, 'the garbage connection closed');
    const big = await tcp();
    big.socket.write(options('too-big-tcp', 'TCP', [`X-Pad: ${'b'.repeat(6000)}`]));
    await waitFor(() => big.state.closed, 'the oversized connection closed');
    expect(atApp).not.toContain('too-big-tcp');
    await stillAnswers();
  });

  it('closes a connection that trickles a message slower than the message deadline', async () => {
    const { socket, state } = await tcp();
    const msg = Buffer.from(options('trickled-tcp', 'TCP'), 'latin1');
    let i = 0;
    const timer = setInterval(() => {
      if (i < msg.length && !state.closed) socket.write(msg.subarray(i, ++i));
    }, 25);
    try {
      await waitFor(() => state.closed, 'the trickling connection closed');
    } finally {
      clearInterval(timer);
    }
    expect(i).toBeLessThan(msg.length);
    expect(atApp).not.toContain('trickled-tcp');
    await stillAnswers();
  });

  it('answers complete messages split over many writes', async () => {
    const { socket, state } = await tcp();
    const msg = options('split-tcp', 'TCP');
    for (let i = 0; i < msg.length; i += 7) socket.write(msg.slice(i, i + 7));
    await waitFor(() => state.data.startsWith('SIP/2.0 200'), 'the answer on the connection');
    expect(atApp).toContain('split-tcp');
    socket.destroy();
  });
});
