import { createSocket } from 'node:dgram';
import { connect, type Socket } from 'node:net';
import pino from 'pino';
import { AdminServer, type AdminServerOptions, type AppRequestHandler } from '../src/admin/admin-server.ts';
import type { AppMessage } from '../src/wire/protocol.ts';

export const SECRET = 'test-secret-1234';

export const silentLogger = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });

/** Polls a condition (bounded) instead of sleeping a fixed time. */
export async function waitFor(condition: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** An admin server on an ephemeral loopback port whose SIP handler records what it is given. */
export async function startAdmin(
  options: Partial<
    Pick<AdminServerOptions, 'authTimeoutMs' | 'authGuard' | 'secret' | 'host' | 'logger'>
  > = {},
) {
  const sipMessages: AppMessage[] = [];
  const gone: string[] = [];
  const handler: AppRequestHandler = {
    handleSip: (_app, msg) => sipMessages.push(msg),
    handleProxy: (_app, msg) => sipMessages.push(msg),
    appGone: (app) => gone.push(app.id),
  };
  const admin = new AdminServer({
    host: '127.0.0.1',
    port: 0,
    secret: SECRET,
    identity: {
      version: 'v0.9.4-test',
      hostports: () => ['udp/192.0.2.10:5060', 'tcp/192.0.2.10:5060'],
      localHostports: () => ['udp/127.0.0.1:5060', 'tcp/127.0.0.1:5060'],
    },
    handler,
    logger: silentLogger,
    ...options,
  });
  const address = await admin.listen();
  return { admin, address, sipMessages, gone };
}

/** A raw protocol client: writes bytes, collects every byte and whether the engine closed the connection. */
export async function rawClient(port: number) {
  const socket: Socket = connect({ host: '127.0.0.1', port });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  const state = { received: '', closed: false };
  socket.on('data', (d: Buffer) => {
    state.received += d.toString('utf8');
  });
  socket.on('error', () => {});
  socket.on('close', () => {
    state.closed = true;
  });
  return {
    socket,
    state,
    sendFrame(payload: string) {
      socket.write(`${Buffer.byteLength(payload)}#${payload}`);
    },
  };
}

/**
 * Sends one request over UDP from an ephemeral socket and resolves with the first final response's start
 * line and headers (as text). `silenceMs`: resolves with '' when nothing final comes within that long.
 */
export async function udpRequest(
  enginePort: number,
  method: string,
  user = 'bob',
  options: { headers?: string[]; silenceMs?: number } = {},
): Promise<string> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', () => resolve()));
  const local = socket.address().port;
  const branch = `z9hG4bK${Math.random().toString(36).slice(2)}`;
  const request = [
    `${method} sip:${user}@127.0.0.1:${enginePort};lane=b SIP/2.0`,
    `Via: SIP/2.0/UDP 127.0.0.1:${local};branch=${branch};rport`,
    `From: <sip:alice@127.0.0.1:${local}>;tag=${Math.random().toString(36).slice(2)}`,
    `To: <sip:${user}@127.0.0.1:${enginePort}>`,
    `Call-ID: ${Math.random().toString(36).slice(2)}@test`,
    `CSeq: 1 ${method}`,
    `Contact: <sip:alice@127.0.0.1:${local}>`,
    ...(options.headers ?? []),
    'Max-Forwards: 70',
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
  try {
    return await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => {
        if (options.silenceMs !== undefined) resolve('');
        else reject(new Error(`no final response to ${method}`));
      }, options.silenceMs ?? 15_000);
      socket.on('message', (msg: Buffer) => {
        const text = msg.toString();
        if (/^SIP\/2\.0 1\d\d/.test(text)) return;
        clearTimeout(timer);
        resolve(text);
      });
      socket.send(request, enginePort, '127.0.0.1');
    });
  } finally {
    socket.close();
  }
}
