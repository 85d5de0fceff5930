import { afterEach, describe, expect, it } from 'vitest';
import type { LocalRequest } from '../src/bridge/local-handlers.ts';
import { type RunningEngine, startEngine } from '../src/engine.ts';
import { SECRET, silentLogger, udpRequest } from './helpers.ts';
import { Srf } from './srf.ts';

/**
 * A handler in the engine's process answers REGISTER on the engine's parsed message, before any connected
 * app (the all-in-one launcher's sip-core); its answers are completed as an app's are.
 */

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

async function engineWithApp(): Promise<{ engine: RunningEngine; port: number; appSaw: string[] }> {
  const engine = await startEngine(
    {
      sipListen: [{ transport: 'udp', host: '127.0.0.1', port: 0 }],
      engineAdmin: { host: '127.0.0.1', port: 0 },
      engineSecret: SECRET,
    },
    { logger: silentLogger },
  );
  cleanups.push(() => engine.close());
  // A connected app that routes REGISTER too: it hears only what the local handler does not take.
  const appSaw: string[] = [];
  const srf = new Srf();
  srf.on('error', () => {});
  srf.register((req, res) => {
    appSaw.push(req.get('Call-ID') as string);
    res.send(202, { headers: { 'X-Answered-By': 'app' } });
  });
  const connected = new Promise<void>((resolve) => srf.on('connect', () => resolve()));
  srf.connect({ host: '127.0.0.1', port: engine.adminAddress.port, secret: SECRET });
  await connected;
  cleanups.push(() => srf.disconnect());
  return { engine, port: engine.listeners[0]!.port, appSaw };
}

function header(response: string, name: string): string | undefined {
  const line = response.split('\r\n').find((l) => l.toLowerCase().startsWith(`${name.toLowerCase()}:`));
  return line?.slice(line.indexOf(':') + 1).trim();
}

describe('local request handlers', () => {
  it('answer REGISTER before any app, on the parsed request, completed like an app answer', async () => {
    const { engine, port, appSaw } = await engineWithApp();
    const seen: LocalRequest[] = [];
    engine.answerLocally('REGISTER', (local) => {
      seen.push(local);
      local.respond(200, 'OK', [
        ['Contact', `<sip:alice@${local.source.address}:${local.source.port}>;expires=300`],
        ['X-Answered-By', 'local'],
      ]);
    });

    const response = await udpRequest(port, 'REGISTER', 'alice');

    expect(response).toMatch(/^SIP\/2\.0 200 OK\r\n/);
    expect(appSaw).toEqual([]);
    const [local] = seen;
    expect(local?.request.method).toBe('REGISTER');
    expect(local?.source).toMatchObject({ address: '127.0.0.1', transport: 'udp' });
    expect(local?.receivedOn).toEqual({ host: '127.0.0.1', port });
    // RFC 3261 §8.2.6.2: Call-ID, CSeq, From and Via as in the request, To with our tag.
    expect(header(response, 'Call-ID')).toBe(local?.request.callId);
    expect(header(response, 'CSeq')).toBe('1 REGISTER');
    expect(header(response, 'From')).toBe(local?.request.getHeader('From'));
    expect(header(response, 'Via')).toMatch(/;rport=\d+/);
    expect(header(response, 'To')).toMatch(/^<sip:alice@127\.0\.0\.1:\d+>;tag=\S+$/);
    expect(header(response, 'Contact')).toBe(`<sip:alice@127.0.0.1:${local?.source.port}>;expires=300`);
    expect(header(response, 'X-Answered-By')).toBe('local');
    expect(header(response, 'Content-Length')).toBe('0');
  });

  it("give a registrar's Contact list as it is: the devices' addresses, localhost included", async () => {
    const { engine, port } = await engineWithApp();
    const bindings = '<sip:alice@localhost:5070>;expires=300, <sip:alice@192.0.2.7:5060;ob>;expires=120';
    engine.answerLocally('REGISTER', (local) => local.respond(200, 'OK', [['Contact', bindings]]));
    const response = await udpRequest(port, 'REGISTER', 'alice');
    expect(header(response, 'Contact')).toBe(bindings);
  });

  it('honour the reply mode header and take it off; a handler that throws gets the request a 500', async () => {
    const { engine, port } = await engineWithApp();
    let next: (local: LocalRequest) => void = () => {};
    engine.answerLocally('REGISTER', (local) => next(local));

    next = (local) =>
      local.respond(401, 'Unauthorized', [
        ['WWW-Authenticate', 'Digest realm="example.test", nonce="abc"'],
        ['X-Switchboard-Reply', 'stateless'],
      ]);
    const challenge = await udpRequest(port, 'REGISTER', 'alice');
    expect(challenge).toMatch(/^SIP\/2\.0 401 Unauthorized\r\n/);
    expect(challenge).not.toMatch(/X-Switchboard-Reply/i);

    next = (local) => local.respond(403, 'Forbidden', [['X-Switchboard-Reply', 'drop']]);
    expect(await udpRequest(port, 'REGISTER', 'alice', { silenceMs: 1_000 })).toBe('');

    next = () => {
      throw new Error('a bug in the handler');
    };
    expect(await udpRequest(port, 'REGISTER', 'alice')).toMatch(/^SIP\/2\.0 500 /);
  });

  it('hand REGISTER back to the apps once removed, and take nothing but REGISTER', async () => {
    const { engine, port, appSaw } = await engineWithApp();
    const handBack = engine.answerLocally('REGISTER', (local) => local.respond(200, 'OK', []));
    expect(await udpRequest(port, 'REGISTER', 'alice')).toMatch(/^SIP\/2\.0 200 /);
    handBack();
    const fromApp = await udpRequest(port, 'REGISTER', 'alice');
    expect(fromApp).toMatch(/^SIP\/2\.0 202 /);
    expect(header(fromApp, 'X-Answered-By')).toBe('app');
    expect(appSaw).toHaveLength(1);
    expect(() => engine.answerLocally('INVITE' as 'REGISTER', () => {})).toThrow(/only REGISTER/);
  });
});
