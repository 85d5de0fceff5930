import { CHANGES_CHANNEL } from '@switchboard/db';
import { computeDigestAuthorization, selectChallenge } from '@switchboard/sip';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { chain } from '../src/chain.ts';
import { resolveConfig } from '../src/config.ts';
import {
  createServices,
  optionsChain,
  registerChain,
  type SipCoreServices,
  tableChangeHandler,
} from '../src/start.ts';
import {
  createSubscriber,
  createTenant,
  createTestDatabase,
  type TestDatabase,
  type TestTenant,
} from './support/database.ts';
import { FakeRequest, FakeResponse, type SentResponse } from './support/fakes.ts';

const log = pino({ level: 'silent' });
const DOMAIN = 'example.test';
let testDb: TestDatabase;
let services: SipCoreServices;
let register: (req: FakeRequest, res: FakeResponse) => void;
let options: (req: FakeRequest, res: FakeResponse) => void;
let cseq = 1;
let tenant: TestTenant;
let stopFeed: () => Promise<void>;

beforeAll(async () => {
  testDb = await createTestDatabase();
  tenant = await createTenant(testDb.db, DOMAIN);
  await createSubscriber(testDb.db, tenant, 'alice', 'alice-secret');
  await createSubscriber(testDb.db, tenant, 'bob', 'bob-secret');
  const config = resolveConfig({
    drachtio: { host: '127.0.0.1', port: 9022, secret: 'x' },
    nodeName: 'node-a',
    registrar: { minExpires: 60, maxExpires: 3600, natExpires: 90 },
    access: { maxFailuresPerAddress: 3, maxFailuresPerUser: 100, rateLimitPerSecond: 0 },
    auth: { algorithms: ['SHA-256', 'MD5'] },
  });
  services = createServices(config, testDb.db, log);
  await Promise.all([services.directory.load(), services.bans.load(), services.location.load()]);
  register = chain(registerChain(services), log);
  options = chain(optionsChain(services), log);
  stopFeed = await testDb.db.onChange(CHANGES_CHANNEL, tableChangeHandler(services));
});

afterAll(async () => {
  await stopFeed?.();
  await services?.location.close();
  await testDb?.drop();
});

afterEach(async () => {
  await services.location.flush();
  await testDb.db.prisma.registration.deleteMany({});
  await testDb.db.prisma.ipBan.deleteMany({});
  await services.location.load();
  await services.bans.load();
});

interface RegisterOptions {
  user?: string;
  password?: string;
  contact?: string;
  expires?: string;
  source?: string;
  port?: number;
  callId?: string;
  extra?: Record<string, string>;
  requestUri?: string;
  userAgent?: string;
  domain?: string;
}

function registerRequest(o: RegisterOptions, authorization?: string): FakeRequest {
  const user = o.user ?? 'alice';
  const domain = o.domain ?? DOMAIN;
  const source = o.source ?? '192.0.2.10';
  const port = o.port ?? 5060;
  const headers: Record<string, string> = {
    Via: `SIP/2.0/UDP ${source}:${port};branch=z9hG4bK${cseq}`,
    'Max-Forwards': '70',
    From: `<sip:${user}@${domain}>;tag=abc`,
    To: `<sip:${user}@${domain}>`,
    'Call-ID': o.callId ?? `call-${user}-${source}`,
    CSeq: `${cseq++} REGISTER`,
    'User-Agent': o.userAgent ?? 'test-phone/1.0',
    ...o.extra,
  };
  if (o.contact !== undefined) headers.Contact = o.contact;
  else headers.Contact = `<sip:${user}@${source}:${port}>`;
  if (o.expires !== undefined) headers.Expires = o.expires;
  if (authorization) headers.Authorization = authorization;
  return new FakeRequest('REGISTER', o.requestUri ?? `sip:${domain}`, headers, source, port);
}

async function send(req: FakeRequest): Promise<SentResponse> {
  const res = new FakeResponse();
  register(req, res);
  return res.answered;
}

/** REGISTER, answer the challenge, return the final response. */
async function registerWithAuth(o: RegisterOptions): Promise<SentResponse> {
  const first = await send(registerRequest(o));
  if (first.status !== 401) return first;
  const challenges = first.headers['WWW-Authenticate']!.split('\r\nWWW-Authenticate: ');
  const challenge = selectChallenge(challenges)!;
  const authorization = computeDigestAuthorization({
    challenge,
    method: 'REGISTER',
    uri: o.requestUri ?? `sip:${o.domain ?? DOMAIN}`,
    username: o.user ?? 'alice',
    password: o.password ?? `${o.user ?? 'alice'}-secret`,
  });
  return send(registerRequest(o, authorization));
}

describe('REGISTER', () => {
  it('challenges with SHA-256 and MD5, then registers and lists the binding', async () => {
    const challenge = await send(registerRequest({ expires: '600' }));
    expect(challenge.status).toBe(401);
    const values = challenge.headers['WWW-Authenticate']!.split('\r\nWWW-Authenticate: ');
    expect(values.map((v) => /algorithm=([\w-]+)/.exec(v)?.[1])).toEqual(['SHA-256', 'MD5']);
    expect(values[0]).toContain('realm="example.test"');

    const ok = await registerWithAuth({ expires: '600' });
    expect(ok.status).toBe(200);
    expect(ok.headers.Contact).toBe('<sip:alice@192.0.2.10:5060>;expires=600');
    await services.location.flush();
    const rows = await testDb.db.prisma.registration.findMany();
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      aor: 'sip:alice@example.test',
      receivedAddress: '192.0.2.10',
      node: 'node-a',
    });
  });

  it('accepts MD5 credentials against the stored MD5 HA1', async () => {
    const first = await send(registerRequest({}));
    const md5 = first.headers['WWW-Authenticate']!.split('\r\nWWW-Authenticate: ').find((c) =>
      c.includes('MD5'),
    )!;
    const authorization = computeDigestAuthorization({
      challenge: md5,
      method: 'REGISTER',
      uri: `sip:${DOMAIN}`,
      username: 'alice',
      password: 'alice-secret',
    });
    expect((await send(registerRequest({}, authorization))).status).toBe(200);
  });

  it('answers an unknown user exactly like a wrong password', async () => {
    const unknown = await registerWithAuth({ user: 'mallory', password: 'x' });
    const wrong = await registerWithAuth({ user: 'alice', password: 'wrong' });
    expect(unknown.status).toBe(403);
    expect(wrong).toEqual(unknown);
  });

  it('refuses credentials of another user for this AOR', async () => {
    const first = await send(registerRequest({ user: 'bob' }));
    const authorization = computeDigestAuthorization({
      challenge: selectChallenge(first.headers['WWW-Authenticate']!.split('\r\nWWW-Authenticate: '))!,
      method: 'REGISTER',
      uri: `sip:${DOMAIN}`,
      username: 'alice',
      password: 'alice-secret',
    });
    expect((await send(registerRequest({ user: 'bob' }, authorization))).status).toBe(403);
  });

  it('answers 423 with Min-Expires for too brief an interval, and caps long ones', async () => {
    const brief = await registerWithAuth({ expires: '30' });
    expect(brief.status).toBe(423);
    expect(brief.headers['Min-Expires']).toBe('60');
    const long = await registerWithAuth({ expires: '86400' });
    expect(long.headers.Contact).toBe('<sip:alice@192.0.2.10:5060>;expires=3600');
  });

  it('keeps one binding per device and lists them all', async () => {
    await registerWithAuth({
      contact:
        '<sip:alice@192.0.2.10:5060>;+sip.instance="<urn:uuid:00000000-0000-0000-0000-000000000001>";reg-id=1',
      expires: '600',
    });
    const second = await registerWithAuth({
      source: '192.0.2.20',
      contact:
        '<sip:alice@192.0.2.20:5060>;+sip.instance="<urn:uuid:00000000-0000-0000-0000-000000000002>";reg-id=1',
      expires: '300',
    });
    expect(second.status).toBe(200);
    const listed = second.headers.Contact!.split(', ');
    expect(listed).toHaveLength(2);
    expect(listed).toContain(
      '<sip:alice@192.0.2.20:5060>;expires=300;+sip.instance="<urn:uuid:00000000-0000-0000-0000-000000000002>";reg-id=1',
    );
    // The same device registering from a new address replaces its binding instead of adding one.
    const moved = await registerWithAuth({
      source: '192.0.2.30',
      contact:
        '<sip:alice@192.0.2.30:5060>;+sip.instance="<urn:uuid:00000000-0000-0000-0000-000000000002>";reg-id=1',
      expires: '300',
    });
    expect(moved.headers.Contact!.split(', ')).toHaveLength(2);
    expect(
      services.location
        .lookup('sip:alice@example.test')
        .map((b) => b.receivedAddress)
        .sort(),
    ).toEqual(['192.0.2.10', '192.0.2.30']);
  });

  it('refreshes, removes one binding with expires=0 and all with Contact: *', async () => {
    await registerWithAuth({ expires: '600', callId: 'refresh-1' });
    const refreshed = await registerWithAuth({ expires: '900', callId: 'refresh-1' });
    expect(refreshed.headers.Contact).toBe('<sip:alice@192.0.2.10:5060>;expires=900');
    await registerWithAuth({ source: '192.0.2.11', expires: '600' });
    const removedOne = await registerWithAuth({ expires: '0', callId: 'refresh-1' });
    expect(removedOne.status).toBe(200);
    expect(removedOne.headers.Contact).toBe('<sip:alice@192.0.2.11:5060>;expires=600');
    const removedAll = await registerWithAuth({ contact: '*', expires: '0' });
    expect(removedAll.status).toBe(200);
    expect(removedAll.headers.Contact).toBeUndefined();
    await services.location.flush();
    expect(await testDb.db.prisma.registration.count()).toBe(0);
  });

  it('refuses Contact: * without Expires: 0', async () => {
    expect((await registerWithAuth({ contact: '*', expires: '60' })).status).toBe(400);
  });

  it('answers a query (no Contact) with the current bindings', async () => {
    await registerWithAuth({ expires: '600' });
    const query = await registerWithAuth({ contact: '' });
    expect(query.status).toBe(200);
    expect(query.headers.Contact).toBe('<sip:alice@192.0.2.10:5060>;expires=600');
  });

  it('detects NAT, stores the packet source and shortens the interval for UDP', async () => {
    const ok = await registerWithAuth({
      source: '198.51.100.7',
      port: 40123,
      contact: '<sip:alice@192.168.1.20:5060>',
      expires: '3600',
    });
    expect(ok.headers.Contact).toBe('<sip:alice@192.168.1.20:5060>;expires=90');
    const [binding] = services.location.lookup('sip:alice@example.test');
    expect(binding).toMatchObject({
      contactUri: 'sip:alice@192.168.1.20:5060',
      receivedAddress: '198.51.100.7',
      receivedPort: 40123,
      transport: 'udp',
    });
  });

  it('stores Path and echoes it when the UA supports it, and returns Service-Route when configured', async () => {
    const ok = await registerWithAuth({
      extra: { Path: '<sip:edge.example.test;lr>', Supported: 'path' },
    });
    expect(ok.headers.Path).toBe('<sip:edge.example.test;lr>');
    expect(services.location.lookup('sip:alice@example.test')[0]?.path).toEqual([
      '<sip:edge.example.test;lr>',
    ]);
  });

  it('refuses an out-of-order CSeq within the same Call-ID (RFC 3261 §10.3 step 7)', async () => {
    const saved = cseq;
    expect((await registerWithAuth({ callId: 'order' })).status).toBe(200);
    cseq = 1;
    const stale = await registerWithAuth({ callId: 'order' });
    cseq = saved + 10;
    expect(stale.status).toBe(500);
    expect(services.location.lookup('sip:alice@example.test')[0]?.cseq).toBe(saved + 1);
  });
});

describe('logs', () => {
  it('writes a device that appears, moves or leaves at info, and a refresh at debug', async () => {
    const lines: Array<{ level: number; msg: string }> = [];
    const capture = pino({ level: 'debug' }, { write: (line: string) => lines.push(JSON.parse(line)) });
    const logged = createServices(services.config, testDb.db, capture);
    await Promise.all([logged.directory.load(), logged.bans.load(), logged.location.load()]);
    const fed = register;
    register = chain(registerChain(logged), capture);
    const device = (source: string, expires?: string) =>
      registerWithAuth({
        user: 'bob',
        source,
        callId: 'logs-device',
        contact: `<sip:bob@${source}:5060>;+sip.instance="<urn:uuid:00000000-0000-4000-8000-00000000b0b1>"`,
        ...(expires === undefined ? {} : { expires }),
      });
    try {
      expect((await device('192.0.2.60')).status).toBe(200);
      expect((await device('192.0.2.60')).status).toBe(200);
      expect((await device('192.0.2.61')).status).toBe(200);
      expect((await device('192.0.2.61', '0')).status).toBe(200);
      const registrar = lines
        .filter((line) => ['registered', 'refreshed', 'unregistered'].includes(line.msg))
        .map((line) => `${line.level} ${line.msg}`);
      expect(registrar).toEqual(['30 registered', '20 refreshed', '30 registered', '30 unregistered']);
    } finally {
      register = fed;
      await logged.location.close();
    }
  });
});

describe('access control', () => {
  it('refuses domains we do not serve without a challenge', async () => {
    const res = await send(registerRequest({ domain: 'elsewhere.test' }));
    expect(res.status).toBe(403);
    expect(res.headers['WWW-Authenticate']).toBeUndefined();
  });

  it('serves a domain created a moment ago, before its change reaches the directory', async () => {
    // A sip-core without the change feed: only the database knows the new domain.
    const unfed = createServices(services.config, testDb.db, log);
    await Promise.all([unfed.directory.load(), unfed.bans.load(), unfed.location.load()]);
    const fresh = await createTenant(testDb.db, 'fresh.test');
    await createSubscriber(testDb.db, fresh, 'carol', 'carol-secret');
    const fed = register;
    register = chain(registerChain(unfed), log);
    try {
      expect(unfed.directory.servesDomain('fresh.test')).toBe(false);
      const registered = await registerWithAuth({
        user: 'carol',
        domain: 'fresh.test',
        source: '192.0.2.90',
      });
      expect(registered.status).toBe(200);
      // Still refused: a domain the database does not have either.
      expect((await send(registerRequest({ domain: 'never.test', source: '192.0.2.90' }))).status).toBe(403);
    } finally {
      register = fed;
      await unfed.location.close();
    }
  });

  it('rejects scanners by User-Agent', async () => {
    expect((await send(registerRequest({ userAgent: 'friendly-scanner' }))).status).toBe(403);
    const probe = new FakeRequest('OPTIONS', 'sip:100@192.0.2.1', {
      Via: 'SIP/2.0/UDP 203.0.113.9:5070;branch=z9hG4bKx',
      From: '<sip:100@203.0.113.9>;tag=1',
      To: '<sip:100@192.0.2.1>',
      'Call-ID': 'scan',
      CSeq: '1 OPTIONS',
      'User-Agent': 'sipvicious',
    });
    const res = new FakeResponse();
    options(probe, res);
    expect((await res.answered).status).toBe(403);
  });

  it('bans a source after N failures, in the table, and answers it 403 without challenge', async () => {
    for (let i = 0; i < 3; i++) {
      expect((await registerWithAuth({ source: '203.0.113.50', password: `guess${i}` })).status).toBe(403);
    }
    const ban = await testDb.db.prisma.ipBan.findUnique({ where: { address: '203.0.113.50' } });
    expect(ban?.createdBy).toBe('auto:auth-failures');
    const after = await send(registerRequest({ source: '203.0.113.50' }));
    expect(after.status).toBe(403);
    expect(after.headers['WWW-Authenticate']).toBeUndefined();
    // Others are not affected.
    expect((await registerWithAuth({ source: '203.0.113.51' })).status).toBe(200);
  });

  it('counts the requests a ban refused in hit_count and last_hit_at, written in one batch', async () => {
    const ban = await testDb.db.prisma.ipBan.create({
      data: { address: '198.51.100.0/24', createdBy: 'test', reason: 'test' },
    });
    await services.bans.onBanChanged(ban.id);
    const before = Date.now();
    for (let i = 0; i < 5; i++)
      expect((await send(registerRequest({ source: `198.51.100.${i + 1}` }))).status).toBe(403);
    // Counted in memory, not written per request.
    expect((await testDb.db.prisma.ipBan.findUniqueOrThrow({ where: { id: ban.id } })).hitCount).toBe(0);
    await services.bans.flushHits();
    const counted = await testDb.db.prisma.ipBan.findUniqueOrThrow({ where: { id: ban.id } });
    expect(counted.hitCount).toBe(5);
    expect(counted.lastHitAt!.getTime()).toBeGreaterThanOrEqual(before - 1000);
    // The next batch adds to it.
    await send(registerRequest({ source: '198.51.100.9' }));
    await services.bans.flushHits();
    expect((await testDb.db.prisma.ipBan.findUniqueOrThrow({ where: { id: ban.id } })).hitCount).toBe(6);
  });

  it('refuses subscribers of a locked customer like a disabled subscriber, following the change feed', async () => {
    const answer = async () => {
      const res = await registerWithAuth({ source: '192.0.2.77', callId: `cust-${cseq}` });
      return { status: res.status, reason: res.reason, challenged: res.headers['WWW-Authenticate'] };
    };
    expect((await answer()).status).toBe(200);
    const alice = await testDb.db.prisma.subscriber.findFirstOrThrow({ where: { username: 'alice' } });

    // The reference: the subscriber itself disabled.
    await testDb.db.prisma.subscriber.update({ where: { id: alice.id }, data: { status: 'locked' } });
    await vi.waitFor(async () => expect((await answer()).status).toBe(403), { timeout: 10_000 });
    const disabledSubscriber = await answer();
    await testDb.db.prisma.subscriber.update({ where: { id: alice.id }, data: { status: 'active' } });
    await vi.waitFor(async () => expect((await answer()).status).toBe(200), { timeout: 10_000 });

    // Its customer locked: no restart, no reload, the same answer.
    await testDb.db.prisma.customer.update({ where: { id: tenant.customerId }, data: { status: 'locked' } });
    await vi.waitFor(async () => expect((await answer()).status).toBe(403), { timeout: 10_000 });
    expect(await answer()).toEqual(disabledSubscriber);
    expect((await registerWithAuth({ user: 'bob', source: '192.0.2.78' })).status).toBe(403);

    await testDb.db.prisma.customer.update({ where: { id: tenant.customerId }, data: { status: 'active' } });
    await vi.waitFor(async () => expect((await answer()).status).toBe(200), { timeout: 10_000 });
  });

  it('answers malformed requests with 400', async () => {
    const req = registerRequest({});
    const bad = new FakeRequest('REGISTER', 'sip:example.test', {
      Via: req.get('Via')!,
      From: 'not an address <<',
      To: req.get('To')!,
      'Call-ID': 'x',
      CSeq: '1 REGISTER',
    });
    expect((await send(bad)).status).toBe(400);
  });
});

describe('OPTIONS', () => {
  it('answers keep-alives with 200, Allow and Accept', async () => {
    const req = new FakeRequest('OPTIONS', 'sip:192.0.2.1', {
      Via: 'SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bKo',
      From: '<sip:alice@example.test>;tag=1',
      To: '<sip:192.0.2.1>',
      'Call-ID': 'ka',
      CSeq: '1 OPTIONS',
    });
    const res = new FakeResponse();
    options(req, res);
    const answer = await res.answered;
    expect(answer.status).toBe(200);
    expect(answer.headers.Allow).toContain('REGISTER');
    expect(answer.headers.Accept).toBe('application/sdp');
  });
});
