import { createSocket } from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import type { LocalRequest } from '../src/bridge/local-handlers.ts';
import { type RunningEngine, startEngine } from '../src/engine.ts';
import { SECRET, silentLogger, udpRequest } from './helpers.ts';
import { Srf } from './srf.ts';

/**
 * A handler in the engine's process answers REGISTER, and challenges or refuses INVITE, on the engine's
 * parsed message, before any connected app (the all-in-one launcher's sip-core); its answers are
 * completed as an app's are, and what it passes on goes to the app.
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
  srf.invite((req, res) => {
    appSaw.push(req.get('Call-ID') as string);
    res.send(486, { headers: { 'X-Answered-By': 'app' } });
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
    expect(() => engine.answerLocally('OPTIONS' as 'REGISTER', () => {})).toThrow(/only REGISTER and INVITE/);
  });

  it('challenge an INVITE locally, and pass on the one the handler lets through to the app', async () => {
    const { engine, port, appSaw } = await engineWithApp();
    engine.answerLocally('INVITE', (local) => {
      if (local.request.hasHeader('Proxy-Authorization')) return local.passOn();
      local.respond(407, 'Proxy Authentication Required', [
        ['Proxy-Authenticate', 'Digest realm="example.test", nonce="abc"'],
        ['X-Switchboard-Reply', 'stateless'],
      ]);
    });

    const challenge = await udpRequest(port, 'INVITE', 'bob');
    expect(challenge).toMatch(/^SIP\/2\.0 407 Proxy Authentication Required\r\n/);
    expect(header(challenge, 'Proxy-Authenticate')).toBe('Digest realm="example.test", nonce="abc"');
    expect(header(challenge, 'To')).toMatch(/;tag=\S+$/);
    expect(appSaw).toEqual([]);

    const credentials = 'Proxy-Authorization: Digest username="alice", realm="example.test", nonce="abc"';
    const fromApp = await udpRequest(port, 'INVITE', 'bob', { headers: [credentials] });
    expect(fromApp).toMatch(/^SIP\/2\.0 486 /);
    expect(header(fromApp, 'X-Answered-By')).toBe('app');
    expect(appSaw).toHaveLength(1);
  });

  it('never let a local handler make an INVITE dialog: a 1xx or 2xx it gives goes out as 500', async () => {
    const { engine, port, appSaw } = await engineWithApp();
    engine.answerLocally('INVITE', (local) =>
      local.respond(200, 'OK', [['Content-Type', 'application/sdp']]),
    );
    expect(await udpRequest(port, 'INVITE', 'bob')).toMatch(/^SIP\/2\.0 500 /);
    expect(appSaw).toEqual([]);
  });

  it('answer a CANCEL for an INVITE still with its handler: 487, and the INVITE is not passed on', async () => {
    const { engine, port, appSaw } = await engineWithApp();
    const held: LocalRequest[] = [];
    engine.answerLocally('INVITE', (local) => held.push(local));

    const answers = await inviteThenCancel(port, () => held.length === 1);
    expect(answers).toContainEqual(expect.stringMatching(/^SIP\/2\.0 200 .*\r\nCSeq: 1 CANCEL/s));
    expect(answers).toContainEqual(expect.stringMatching(/^SIP\/2\.0 487 .*\r\nCSeq: 1 INVITE/s));
    held[0]?.passOn();
    held[0]?.respond(403, 'Forbidden', []);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(appSaw).toEqual([]);
  });
});

/**
 * Sends an INVITE, then its CANCEL once `ready` holds (checked every 10 ms, at most 2 s); resolves with
 * the final answers to both (an ACK goes for the INVITE's).
 */
async function inviteThenCancel(enginePort: number, ready: () => boolean): Promise<string[]> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', () => resolve()));
  const local = socket.address().port;
  const branch = `z9hG4bK${Math.random().toString(36).slice(2)}`;
  const common = (method: string): string[] => [
    `${method} sip:bob@127.0.0.1:${enginePort} SIP/2.0`,
    `Via: SIP/2.0/UDP 127.0.0.1:${local};branch=${branch};rport`,
    `From: <sip:alice@127.0.0.1:${local}>;tag=caller`,
    `To: <sip:bob@127.0.0.1:${enginePort}>`,
    'Call-ID: cancelled-while-held@test',
    `CSeq: 1 ${method}`,
    'Max-Forwards: 70',
  ];
  const send = (lines: string[]): void => {
    socket.send([...lines, 'Content-Length: 0', '', ''].join('\r\n'), enginePort, '127.0.0.1');
  };
  try {
    return await new Promise<string[]>((resolve, reject) => {
      const answers: string[] = [];
      const timer = setTimeout(() => reject(new Error(`answers so far: ${answers.length}`)), 5_000);
      socket.on('message', (msg: Buffer) => {
        const text = msg.toString();
        if (/^SIP\/2\.0 1\d\d/.test(text)) return;
        answers.push(text);
        if (answers.length === 2) {
          clearTimeout(timer);
          resolve(answers);
        }
      });
      send([...common('INVITE'), `Contact: <sip:alice@127.0.0.1:${local}>`]);
      let polls = 0;
      const poll = setInterval(() => {
        if (!ready() && ++polls < 200) return;
        clearInterval(poll);
        send(common('CANCEL'));
      }, 10);
    });
  } finally {
    socket.close();
  }
}
