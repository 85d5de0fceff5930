import { computeDigestAuthorization, selectChallenge } from '@switchboard/sip';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { chain } from '../src/chain.ts';
import { resolveConfig } from '../src/config.ts';
import type { Binding } from '../src/location/binding.ts';
import type { RegistrarPush } from '../src/push/contact-push.ts';
import { PushRefresher } from '../src/push/refresher.ts';
import { createServices, registerChain, type SipCoreServices } from '../src/start.ts';
import { createSubscriber, createTenant, createTestDatabase, type TestDatabase } from './support/database.ts';
import { FakeRequest, FakeResponse, type SentResponse } from './support/fakes.ts';

/** The registrar's RFC 8599 rules with a push side that supports APNs only (no engine, no push service). */
const log = pino({ level: 'silent' });
const DOMAIN = 'example.test';
const APNS_PARAM = 'ABCDE12345.com.example.phone.voip';
let testDb: TestDatabase;
let services: SipCoreServices;
let register: (req: FakeRequest, res: FakeResponse) => void;
let cseq = 1;
const registered: Array<Pick<Binding, 'aor' | 'pnPrid'>> = [];

const push: RegistrarPush = {
  refreshLeadSeconds: 120,
  providers: async (domain) => (domain === DOMAIN ? ['apns'] : []),
  registered: (binding) => registered.push(binding),
};

beforeAll(async () => {
  testDb = await createTestDatabase();
  const tenant = await createTenant(testDb.db, DOMAIN);
  await createSubscriber(testDb.db, tenant, 'alice', 'alice-secret');
  const config = resolveConfig({
    drachtio: { host: '127.0.0.1', port: 9022, secret: 'x' },
    nodeName: 'node-a',
    registrar: { minExpires: 60, maxExpires: 3600, natExpires: 3600 },
    access: { rateLimitPerSecond: 0 },
    auth: { algorithms: ['MD5'] },
  });
  services = createServices(config, testDb.db, log);
  services.push = push;
  await Promise.all([services.directory.load(), services.bans.load(), services.location.load()]);
  register = chain(registerChain(services), log);
});

afterAll(async () => {
  await services?.location.close();
  await testDb?.drop();
});

afterEach(async () => {
  await services.location.flush();
  await testDb.db.prisma.registration.deleteMany({});
  await services.location.load();
});

function request(contact: string, port: number, authorization?: string): FakeRequest {
  const headers: Record<string, string> = {
    Via: `SIP/2.0/UDP 192.0.2.10:${port};branch=z9hG4bK${cseq}`,
    'Max-Forwards': '70',
    From: `<sip:alice@${DOMAIN}>;tag=abc`,
    To: `<sip:alice@${DOMAIN}>`,
    'Call-ID': `call-${port}`,
    CSeq: `${cseq++} REGISTER`,
    Contact: contact,
    Expires: '600',
  };
  if (authorization) headers.Authorization = authorization;
  return new FakeRequest('REGISTER', `sip:${DOMAIN}`, headers, '192.0.2.10', port);
}

async function send(req: FakeRequest): Promise<SentResponse> {
  const res = new FakeResponse();
  register(req, res);
  return res.answered;
}

async function registerContact(contact: string, port = 5060): Promise<SentResponse> {
  const first = await send(request(contact, port));
  const challenge = selectChallenge(first.headers['WWW-Authenticate']!.split('\r\nWWW-Authenticate: '))!;
  const authorization = computeDigestAuthorization({
    challenge,
    method: 'REGISTER',
    uri: `sip:${DOMAIN}`,
    username: 'alice',
    password: 'alice-secret',
  });
  return send(request(contact, port, authorization));
}

const apnsContact = (port: number, extra = ''): string =>
  `<sip:alice@192.0.2.10:${port};pn-provider=apns;pn-prid=00ff;pn-param=${APNS_PARAM}>${extra}`;

describe('RFC 8599 REGISTER', () => {
  it('answers a capability query (empty pn-provider) with the services of the domain, storing no push data', async () => {
    const ok = await registerContact('<sip:alice@192.0.2.10:5060;pn-provider>');
    expect(ok.status).toBe(200);
    expect(ok.headers['Feature-Caps']).toBe('*;+sip.pns="apns"');
    const [binding] = services.location.lookup(`sip:alice@${DOMAIN}`);
    expect(binding).toMatchObject({ pnProvider: null, pnPrid: null, pnRefresh: null });
  });

  it('answers 555 to a service without credentials in the domain', async () => {
    const refused = await registerContact(
      '<sip:alice@192.0.2.10:5060;pn-provider=fcm;pn-prid=tok;pn-param=proj>',
    );
    expect(refused).toMatchObject({ status: 555, reason: 'Push Notification Service Not Supported' });
    expect(services.location.lookup(`sip:alice@${DOMAIN}`)).toHaveLength(0);
  });

  it('answers 400 to a pn-provider without pn-prid or with one too long to be a token', async () => {
    const refused = await registerContact('<sip:alice@192.0.2.10:5060;pn-provider=apns>');
    expect(refused).toMatchObject({ status: 400, reason: 'Missing pn-prid' });
    const long = await registerContact(
      `<sip:alice@192.0.2.10:5060;pn-provider=apns;pn-prid=${'a'.repeat(1025)}>`,
    );
    expect(long).toMatchObject({ status: 400, reason: 'Bad pn-prid' });
    expect(services.location.lookup(`sip:alice@${DOMAIN}`)).toHaveLength(0);
  });

  it('grants +sip.pnsreg only to a UA that asked, and keys the binding on the pn-* values', async () => {
    const plain = await registerContact(apnsContact(5060));
    expect(plain.headers['Feature-Caps']).toMatch(/^\*;\+sip\.pns="apns";\+sip\.pnspurr="[\w-]{22}"$/);
    const asked = await registerContact(apnsContact(5070, ';+sip.pnsreg'), 5070);
    expect(asked.headers['Feature-Caps']).toMatch(
      /^\*;\+sip\.pns="apns";\+sip\.pnsreg="120";\+sip\.pnspurr="[\w-]{22}"$/,
    );
    // Same pn-* values from another port: still one binding, now at the new port.
    const bindings = services.location.lookup(`sip:alice@${DOMAIN}`);
    expect(bindings).toHaveLength(1);
    expect(bindings[0]).toMatchObject({ receivedPort: 5070, pnRefresh: 120, pnPrid: '00ff' });
    expect(registered.slice(-2).map((b) => b.pnPrid)).toEqual(['00ff', '00ff']);
  });
});

describe('refresh pushes', () => {
  const binding = (expiresAt: number, node = 'node-a'): Binding => ({
    aor: 'sip:alice@example.test',
    bindingKey: 'pn:apns;00ff;x',
    subscriberId: '00000000-0000-7000-8000-000000000000',
    contactUri: 'sip:alice@192.0.2.10',
    receivedAddress: '192.0.2.10',
    receivedPort: 5060,
    transport: 'udp',
    localSocket: null,
    path: [],
    expiresAt,
    userAgent: null,
    instanceId: null,
    regId: null,
    q: null,
    callId: 'c',
    cseq: 1,
    pnProvider: 'apns',
    pnPrid: '00ff',
    pnParam: 'x',
    pnRefresh: 60,
    node,
  });

  it('pushes once when the binding is within its lead of expiry, again after a refresh moved the expiry', async () => {
    let clock = 1_000_000;
    let bindings = [binding(clock + 120_000)];
    const pushed: Binding[] = [];
    const refresher = new PushRefresher(
      {
        forEachBinding: (visit) => {
          for (const b of bindings) visit(b);
        },
      },
      {
        refresh: async (b) => {
          pushed.push(b);
          return { outcome: 'delivered', provider: 'apns' };
        },
      },
      { nodeName: 'node-a', intervalMs: 1000, log, now: () => clock },
    );
    await refresher.scan();
    expect(pushed).toHaveLength(0);
    clock += 60_000;
    await refresher.scan();
    await refresher.scan();
    expect(pushed).toHaveLength(1);
    bindings = [binding(clock + 120_000)];
    clock += 61_000;
    await refresher.scan();
    expect(pushed).toHaveLength(2);
    // Another node's binding is that node's to push.
    bindings = [binding(clock + 30_000, 'node-b')];
    await refresher.scan();
    expect(pushed).toHaveLength(2);
  });
});
