import { loadConfig } from '@switchboard/config';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { rawClient, SECRET, silentLogger, startAdmin, waitFor } from './helpers.ts';
import { Srf } from './srf.ts';

/**
 * Guessing the admin secret: each wrong secret is answered late and closes its connection, and an address
 * that keeps guessing is banned. Short secrets are drachtio-server's habit; they are kept to loopback.
 */

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

/** Sends `authenticate` with a secret on a new raw connection. */
async function tryAuthenticate(port: number, secret: string) {
  const client = await rawClient(port);
  cleanups.push(() => {
    client.socket.destroy();
  });
  client.sendFrame(`${crypto.randomUUID()}|authenticate|${secret}|`);
  return client;
}

/** A pino logger that keeps every event, to look for the lines an operator would see. */
function recordingLogger() {
  const events: Array<Record<string, unknown>> = [];
  const logger = pino(
    { level: 'debug' },
    { write: (line: string) => events.push(JSON.parse(line) as Record<string, unknown>) },
  );
  return { logger, events };
}

describe('wrong admin secrets', () => {
  it('answers a wrong secret only after the failure delay, then closes the connection', async () => {
    const { admin, address } = await startAdmin({ authGuard: { failureDelayMs: 1_500 } });
    cleanups.push(() => admin.close());
    const client = await tryAuthenticate(address.port, 'wrong-secret');
    await waitFor(() => admin.counters.authFailures === 1, 'the failure counted');
    // Counted, but neither answered nor closed yet: the guesser waits out the delay.
    expect(client.state.received).toBe('');
    expect(client.state.closed).toBe(false);
    // More guesses on the same connection are not even read.
    client.sendFrame(`${crypto.randomUUID()}|authenticate|${SECRET}|`);
    await waitFor(() => client.state.closed, 'the connection closed after the delay');
    expect(client.state.received).toMatch(/\|NO\|incorrect secret/);
    expect(client.state.received).not.toMatch(/\|OK\|/);
    expect(admin.counters.authFailures).toBe(1);
  });

  it('bans an address after repeated wrong secrets: even the right secret is then refused unread', async () => {
    const { logger, events } = recordingLogger();
    const { admin, address } = await startAdmin({
      logger,
      authGuard: { failureDelayMs: 50, maxFailures: 3, failureWindowMs: 60_000, banMs: 60_000 },
    });
    cleanups.push(() => admin.close());
    for (let i = 0; i < 3; i++) {
      const guess = await tryAuthenticate(address.port, `guess-${i}-of-the-secret`);
      await waitFor(() => guess.state.closed, `guess ${i} refused`);
    }
    expect(events.some((e) => e.msg === 'admin address banned after repeated incorrect secrets')).toBe(true);

    const rightful = await tryAuthenticate(address.port, SECRET);
    await waitFor(() => rightful.state.closed, 'the banned address cut off');
    expect(rightful.state.received).toBe('');
    expect(admin.counters.bannedConnections).toBeGreaterThanOrEqual(1);
    expect([...admin.apps].some((a) => a.state === 'authenticated')).toBe(false);
  });

  it('does not ban for failures spread beyond the window', async () => {
    const { admin, address } = await startAdmin({
      authGuard: { failureDelayMs: 10, maxFailures: 2, failureWindowMs: 1, banMs: 60_000 },
    });
    cleanups.push(() => admin.close());
    for (let i = 0; i < 3; i++) {
      const guess = await tryAuthenticate(address.port, 'wrong-secret');
      await waitFor(() => guess.state.closed, `guess ${i} refused`);
    }
    const rightful = await tryAuthenticate(address.port, SECRET);
    await waitFor(() => rightful.state.received.includes('|OK|'), 'the right secret accepted');
    expect(admin.counters.bannedConnections).toBe(0);
  });
});

describe('short secrets', () => {
  it('accepts drachtio-srf with a short secret on loopback, with a warning', async () => {
    const { logger, events } = recordingLogger();
    const { admin, address } = await startAdmin({ secret: 'cymru', logger });
    cleanups.push(() => admin.close());
    expect(events.some((e) => /shorter than 16 characters/.test(String(e.msg)))).toBe(true);
    const srf = new Srf();
    srf.on('error', () => {});
    cleanups.push(() => srf.disconnect());
    const connected = new Promise<Error | null>((resolve) =>
      srf.on('connect', (err: Error | null) => resolve(err)),
    );
    srf.connect({ host: '127.0.0.1', port: address.port, secret: 'cymru' });
    expect(await connected).toBeFalsy();
  });

  it('refuses to listen beyond loopback with a secret shorter than 16 characters', async () => {
    await expect(startAdmin({ secret: 'cymru', host: '0.0.0.0', logger: silentLogger })).rejects.toThrow(
      /at least 16 characters on 0\.0\.0\.0/,
    );
    expect(() => loadConfig({ ENGINE_SECRET: 'cymru', ENGINE_ADMIN: '0.0.0.0:9022' })).toThrow(
      /ENGINE_SECRET/,
    );
    expect(loadConfig({ ENGINE_SECRET: 'cymru' }).engineSecret).toBe('cymru');
  });
});
