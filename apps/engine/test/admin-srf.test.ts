import { afterEach, describe, expect, it } from 'vitest';
import { startEngine } from '../src/engine.ts';
import { rawClient, SECRET, silentLogger, startAdmin, waitFor } from './helpers.ts';
import { Srf } from './srf.ts';

/**
 * The admin listener driven by the real, unmodified drachtio-srf: authenticate, route, ping,
 * disconnect and reconnect.
 */

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

function connectSrf(port: number, secret: string, extra: Record<string, unknown> = {}, tags?: string[]) {
  const srf = tags ? new Srf(tags) : new Srf();
  srf.on('error', () => {});
  const connected = new Promise<{ err: Error | null; hostport: string; version: string; local: string }>(
    (resolve) => {
      srf.on('connect', (err: Error | null, hostport: string, version: string, local: string) =>
        resolve({ err, hostport, version, local }),
      );
    },
  );
  srf.connect({ host: '127.0.0.1', port, secret, ...extra });
  cleanups.push(() => {
    try {
      srf.disconnect();
    } catch {
      // already disconnected
    }
  });
  return { srf, connected };
}

describe('drachtio-srf against the admin listener', () => {
  it('authenticates with the right secret and learns the SIP hostports and version', async () => {
    const engine = await startEngine(
      {
        sipListen: [],
        engineAdmin: { host: '127.0.0.1', port: 0 },
        engineSecret: SECRET,
      },
      { logger: silentLogger },
    );
    cleanups.push(() => engine.close());
    const { connected } = connectSrf(engine.adminAddress.port, SECRET);
    const result = await connected;
    expect(result.err).toBeFalsy();
    expect(result.version).toMatch(/^v\d+\.\d+\.\d+/);
  });

  it('reports the hostports, tags reach the engine', async () => {
    const { admin, address } = await startAdmin();
    cleanups.push(() => admin.close());
    const { connected } = connectSrf(address.port, SECRET, {}, ['blue', 'green']);
    const result = await connected;
    expect(result.err).toBeFalsy();
    expect(result.hostport).toBe('udp/192.0.2.10:5060,tcp/192.0.2.10:5060');
    expect(result.local).toBe('udp/127.0.0.1:5060,tcp/127.0.0.1:5060');
    const app = [...admin.apps][0]!;
    expect(app.hasTag('blue') && app.hasTag('green')).toBe(true);
  });

  it('refuses a wrong secret and closes the connection', async () => {
    const { admin, address } = await startAdmin();
    cleanups.push(() => admin.close());
    const { srf, connected } = connectSrf(address.port, 'wrong-secret', { reconnect: { maxAttempts: 1 } });
    const result = await connected;
    expect(result.err).toBeInstanceOf(Error);
    expect(admin.counters.authFailures).toBeGreaterThanOrEqual(1);
    srf.disconnect();
    await waitFor(() => admin.apps.size === 0, 'the refused app to be disconnected');
  });

  it('registers the verbs the app routes; remove_route removes all of them, as drachtio-server does', async () => {
    const { admin, address } = await startAdmin();
    cleanups.push(() => admin.close());
    const { srf, connected } = connectSrf(address.port, SECRET);
    srf.options((_req, res) => res.send(200));
    srf.register((_req, res) => res.send(200));
    expect((await connected).err).toBeFalsy();
    await waitFor(() => admin.registry.hasRoute('options') && admin.registry.hasRoute('register'), 'routes');
    // routes added after connecting are sent at once
    srf.message((_req, res) => res.send(200));
    await waitFor(() => admin.registry.hasRoute('message'), 'late route');
    // as drachtio-server does, remove_route drops every route of the app, not just the verb named
    srf.unregisterForMessages('message');
    await waitFor(() => !admin.registry.hasRoute('message'), 'route removal');
    expect(admin.registry.hasRoute('options')).toBe(false);
    expect(admin.registry.hasRoute('register')).toBe(false);
  });

  it('answers the pings drachtio-srf sends', async () => {
    const { admin, address } = await startAdmin();
    cleanups.push(() => admin.close());
    const { srf, connected } = connectSrf(address.port, SECRET, { enablePing: true, pingInterval: 5000 });
    expect((await connected).err).toBeFalsy();
    const pongs: string[] = [];
    // observe the replies drachtio-srf receives on its socket
    const socket = (
      srf as unknown as { _app: { client: { mapServer: Map<unknown, unknown> } } }
    )._app.client.mapServer
      .keys()
      .next().value as import('node:net').Socket;
    socket.on('data', (d: Buffer) => {
      if (d.toString().includes('|OK|pong')) pongs.push(d.toString());
    });
    await waitFor(() => pongs.length >= 1, 'a pong', 15_000);
    expect(admin.counters.messages.get('ping')).toBeGreaterThanOrEqual(1);
  }, 30_000);

  it('forgets a disconnected app and takes it back when drachtio-srf reconnects', async () => {
    const { admin, address, gone } = await startAdmin();
    cleanups.push(() => admin.close());
    const { srf, connected } = connectSrf(address.port, SECRET);
    srf.invite((_req, res) => res.send(486));
    expect((await connected).err).toBeFalsy();
    await waitFor(() => admin.registry.hasRoute('invite'), 'invite route');
    const reconnected = new Promise<void>((resolve) => {
      srf.once('connect', () => resolve());
    });
    const first = [...admin.apps][0]!;
    first.destroy();
    await waitFor(() => gone.includes(first.id), 'appGone for the dropped app');
    await reconnected;
    await waitFor(() => admin.registry.hasRoute('invite') && admin.apps.size === 1, 'routes after reconnect');
    expect([...admin.apps][0]!.id).not.toBe(first.id);
    srf.disconnect();
    await waitFor(() => admin.apps.size === 0 && !admin.registry.hasRoute('invite'), 'clean disconnect');
  });

  it('round-robins new requests between two apps routing the same verb', async () => {
    const { admin, address } = await startAdmin();
    cleanups.push(() => admin.close());
    const one = connectSrf(address.port, SECRET);
    const two = connectSrf(address.port, SECRET);
    one.srf.invite(() => {});
    two.srf.invite(() => {});
    await Promise.all([one.connected, two.connected]);
    await waitFor(() => admin.registry.appsFor('invite').length === 2, 'two invite routes');
    const picks = [1, 2, 3, 4].map(() => admin.registry.select('invite')!.id);
    expect(picks[0]).not.toBe(picks[1]);
    expect(picks[0]).toBe(picks[2]);
    expect(picks[1]).toBe(picks[3]);
  });
});

describe('malformed admin traffic', () => {
  it('drops a connection whose framing is not `<len>#`', async () => {
    const { admin, address } = await startAdmin();
    cleanups.push(() => admin.close());
    const c = await rawClient(address.port);
    c.socket.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    await waitFor(() => c.state.closed, 'the engine to close the connection');
    expect(c.state.received).toBe('');
  });

  it('drops a connection announcing a frame of six digits', async () => {
    const { admin, address } = await startAdmin();
    cleanups.push(() => admin.close());
    const c = await rawClient(address.port);
    c.socket.write('100000#');
    await waitFor(() => c.state.closed, 'the engine to close the connection');
  });

  it('refuses anything but authenticate before authentication', async () => {
    const { admin, address } = await startAdmin();
    cleanups.push(() => admin.close());
    const c = await rawClient(address.port);
    c.sendFrame('m1|route|invite');
    await waitFor(() => c.state.closed, 'the engine to close the connection');
    expect(c.state.received).toMatch(/^\d+#[^|]+\|response\|m1\|NO\|not authenticated$/);
    expect(admin.registry.hasRoute('invite')).toBe(false);
  });

  it('answers ping, rejects a bad verb, and closes on an unknown message type', async () => {
    const { admin, address } = await startAdmin();
    cleanups.push(() => admin.close());
    const c = await rawClient(address.port);
    // one byte at a time: framing must survive any split
    for (const b of Buffer.from(`${'m1|authenticate|'.length + SECRET.length}#m1|authenticate|${SECRET}`)) {
      c.socket.write(Buffer.from([b]));
    }
    await waitFor(() => c.state.received.includes('|m1|OK|'), 'authentication');
    c.sendFrame('m2|ping');
    c.sendFrame('m3|route|in vite');
    await waitFor(() => c.state.received.includes('|m3|'), 'replies');
    expect(c.state.received).toContain('|response|m2|OK|pong');
    expect(c.state.received).toContain('|response|m3|NO|');
    c.sendFrame('m4|bogus');
    await waitFor(() => c.state.closed, 'the engine to close the connection');
    expect(c.state.received).toContain('|response|m4|NO|Unknown message type');
  });

  it('disconnects an app that does not authenticate in time', async () => {
    const { admin, address } = await startAdmin({ authTimeoutMs: 200 });
    cleanups.push(() => admin.close());
    const c = await rawClient(address.port);
    await waitFor(() => c.state.closed, 'the idle connection to be closed');
    expect(admin.apps.size).toBe(0);
  });
});
