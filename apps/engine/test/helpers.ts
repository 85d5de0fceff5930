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
