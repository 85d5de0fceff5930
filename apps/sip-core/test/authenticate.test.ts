import { sipHa1 } from '@switchboard/db';
import { computeDigestAuthorization, selectChallenge } from '@switchboard/sip';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { RateLimiter } from '../src/access/rate-limiter.ts';
import { chain } from '../src/chain.ts';
import { type AccessConfig, resolveConfig, type SipCoreConfig } from '../src/config.ts';
import { authenticate, CALLER, type DigestRole, REGISTRAR } from '../src/middleware/authenticate.ts';
import { banCheck } from '../src/middleware/ban-check.ts';
import { identifySource } from '../src/middleware/identify-source.ts';
import { rateLimit } from '../src/middleware/rate-limit.ts';
import { sanity } from '../src/middleware/sanity.ts';
import { replyModeOf } from '../src/sip/reply.ts';
import type { Middleware } from '../src/sip/request.ts';
import { createServices, type SipCoreServices } from '../src/start.ts';
import { createSubscriber, createTenant, createTestDatabase, type TestDatabase } from './support/database.ts';
import { FakeRequest, FakeResponse, type SentResponse } from './support/fakes.ts';

/**
 * The one digest authenticator, tested once for both of its roles: REGISTER (To, 401) and a request
 * from a subscriber (From, 407). Same decoy, same counting, same bans, same stateless answers.
 */
const log = pino({ level: 'silent' });
const DOMAIN = 'auth.test';
let testDb: TestDatabase;
let cseq = 1;

beforeAll(async () => {
  testDb = await createTestDatabase();
  const tenant = await createTenant(testDb.db, DOMAIN);
  await createSubscriber(testDb.db, tenant, 'alice', 'alice-secret');
  await createSubscriber(testDb.db, tenant, 'bob', 'bob-secret');
});
afterAll(async () => {
  await testDb?.drop();
});
afterEach(async () => {
  await testDb.db.prisma.ipBan.deleteMany({});
});

const ROLES: Array<{ method: string; role: DigestRole; challenge: string; credentials: string }> = [
  { method: 'REGISTER', role: REGISTRAR, challenge: 'WWW-Authenticate', credentials: 'Authorization' },
  { method: 'INVITE', role: CALLER, challenge: 'Proxy-Authenticate', credentials: 'Proxy-Authorization' },
];

interface Harness {
  services: SipCoreServices;
  send(req: FakeRequest): Promise<SentResponse & { passed: boolean }>;
}

async function harness(role: DigestRole, access: Partial<AccessConfig> = {}, strictUri = false) {
  const config: SipCoreConfig = resolveConfig({
    drachtio: { host: '127.0.0.1', port: 9022, secret: 'x' },
    access: { maxFailuresPerAddress: 3, maxFailuresPerUser: 100, rateLimitPerSecond: 0, ...access },
    auth: { algorithms: ['MD5'], strictUri },
  });
  const services = createServices(config, testDb.db, log);
  await Promise.all([services.directory.load(), services.bans.load()]);
  const passed = new WeakSet<FakeRequest>();
  const accept: Middleware = (req, res) => {
    passed.add(req as FakeRequest);
    res.send(200, 'OK');
  };
  const run = chain(
    [identifySource(services.bans), banCheck(services.bans), sanity(), authenticate(services, role), accept],
    log,
  );
  return {
    services,
    async send(req: FakeRequest) {
      const res = new FakeResponse();
      run(req, res);
      const answer = await res.answered;
      return { ...answer, passed: passed.has(req) };
    },
  } satisfies Harness;
}

describe.each(ROLES)('$method: one digest authenticator', ({ method, role, challenge, credentials }) => {
  interface Options {
    user?: string;
    source?: string;
    uri?: string;
    digestUri?: string;
    domain?: string;
  }
  const request = (o: Options, authorization?: string): FakeRequest => {
    const user = o.user ?? 'alice';
    const source = o.source ?? '192.0.2.10';
    const domain = o.domain ?? DOMAIN;
    const identity = `<sip:${user}@${domain}>`;
    const headers: Record<string, string> = {
      Via: `SIP/2.0/UDP ${source}:5060;branch=z9hG4bK${cseq}`,
      'Max-Forwards': '70',
      // The identity is the To of a REGISTER and the From of anything else.
      From: `${role.identity === 'from' ? identity : `<sip:${user}@${domain}>`};tag=t${cseq}`,
      To: role.identity === 'to' ? identity : `<sip:carol@${domain}>`,
      'Call-ID': `auth-${cseq}`,
      CSeq: `${cseq++} ${method}`,
      Contact: `<sip:${user}@${source}:5060>`,
    };
    if (authorization) headers[credentials] = authorization;
    return new FakeRequest(method, o.uri ?? `sip:${domain}`, headers, source);
  };
  /** The request, then the same with credentials computed for `password` against the challenge. */
  const attempt = async (h: Harness, o: Options, password: string) => {
    const first = await h.send(request(o));
    if (first.status !== role.challenge) return first;
    const authorization = computeDigestAuthorization({
      challenge: selectChallenge(first.headers[challenge]!.split(`\r\n${challenge}: `))!,
      method,
      uri: o.digestUri ?? o.uri ?? `sip:${o.domain ?? DOMAIN}`,
      username: o.user ?? 'alice',
      password,
    });
    return h.send(request(o, authorization));
  };

  it('challenges statelessly, then lets the right credentials through', async () => {
    const h = await harness(role);
    const first = await h.send(request({}));
    expect(first.status).toBe(role.challenge);
    expect(first.headers[challenge]).toContain(`realm="${DOMAIN}"`);
    expect(replyModeOf(first.headers)).toBe('stateless');
    const ok = await attempt(h, {}, 'alice-secret');
    expect(ok).toMatchObject({ status: 200, passed: true });
  });

  it('challenges in a domain created after the load, before its change arrives', async () => {
    const h = await harness(role);
    const domain = `new-${method.toLowerCase()}.test`;
    const tenant = await createTenant(testDb.db, domain);
    await createSubscriber(testDb.db, tenant, 'alice', 'alice-secret');
    expect(h.services.directory.servesDomain(domain)).toBe(false);
    const ok = await attempt(h, { domain, source: '192.0.2.91' }, 'alice-secret');
    expect(ok).toMatchObject({ status: 200, passed: true });
    const stranger = await h.send(request({ domain: 'nobody.test', source: '192.0.2.91' }));
    expect(stranger).toMatchObject({ status: 403, passed: false });
  });

  it('answers an unknown user exactly like a wrong password, statelessly, and counts both', async () => {
    const h = await harness(role);
    const unknown = await attempt(h, { user: 'mallory', source: '198.51.100.1' }, 'x');
    const wrong = await attempt(h, { source: '198.51.100.1' }, 'wrong');
    expect(unknown).toMatchObject({ status: 403, passed: false });
    expect(wrong).toEqual(unknown);
    expect(replyModeOf(wrong.headers)).toBe('stateless');
    // The third failure of that address bans it: both kinds counted.
    await attempt(h, { source: '198.51.100.1' }, 'wrong-again');
    expect(h.services.bans.isBanned('198.51.100.1')).toBe(true);
    // Over UDP the banned source gets nothing: the engine is told to drop the request.
    const banned = await h.send(request({ source: '198.51.100.1' }));
    expect(replyModeOf(banned.headers)).toBe('drop');
    expect(banned.headers[challenge]).toBeUndefined();
  });

  it('refuses the credentials of another user for this identity', async () => {
    const h = await harness(role);
    const first = await h.send(request({ user: 'bob' }));
    const authorization = computeDigestAuthorization({
      challenge: selectChallenge(first.headers[challenge]!.split(`\r\n${challenge}: `))!,
      method,
      uri: `sip:${DOMAIN}`,
      username: 'alice',
      password: 'alice-secret',
    });
    expect(await h.send(request({ user: 'bob' }, authorization))).toMatchObject({
      status: 403,
      passed: false,
    });
  });

  it('re-challenges a replayed nonce-count without counting it as a guess', async () => {
    const h = await harness(role, { maxFailuresPerAddress: 1 });
    const first = await h.send(request({ source: '198.51.100.2' }));
    const authorization = computeDigestAuthorization({
      challenge: selectChallenge(first.headers[challenge]!.split(`\r\n${challenge}: `))!,
      method,
      uri: `sip:${DOMAIN}`,
      username: 'alice',
      password: 'alice-secret',
    });
    expect((await h.send(request({ source: '198.51.100.2' }, authorization))).passed).toBe(true);
    // The same credentials again (a request resent after its stateless answer was lost, or a replay).
    const again = await h.send(request({ source: '198.51.100.2' }, authorization));
    expect(again.status).toBe(role.challenge);
    expect(h.services.bans.isBanned('198.51.100.2')).toBe(false);
  });

  it('locks out the guessing address, never the user: the real phone keeps getting through', async () => {
    // Per-user limit 2, so the guesser's failures push alice over it; 1 s is the longest delay.
    const h = await harness(role, { maxFailuresPerAddress: 3, maxFailuresPerUser: 2, userDelayMax: 1 });
    for (let i = 0; i < 3; i++)
      expect((await attempt(h, { source: '203.0.113.66' }, `guess-${i}`)).status).toBe(403);
    expect(h.services.bans.isBanned('203.0.113.66')).toBe(true);
    // A second guessing address: alice is over her limit, so its failure is answered, later.
    expect((await attempt(h, { source: '203.0.113.67' }, 'guess-x')).status).toBe(403);
    // The phone, from its own address, with the right password.
    expect(await attempt(h, { source: '192.0.2.44' }, 'alice-secret')).toMatchObject({
      status: 200,
      passed: true,
    });
  });

  it('accepts a digest-uri other than the Request-URI when the response verifies (sipp, Kamailio)', async () => {
    const h = await harness(role);
    const ok = await attempt(h, { digestUri: 'sip:127.0.0.1:5060' }, 'alice-secret');
    expect(ok).toMatchObject({ status: 200, passed: true });
  });

  it('strict mode: a digest-uri other than the Request-URI is a 400 (RFC 2617), not counted', async () => {
    const h = await harness(role, { maxFailuresPerAddress: 1 }, true);
    const bad = await attempt(h, { source: '198.51.100.3', digestUri: 'sip:127.0.0.1:5060' }, 'alice-secret');
    expect(bad).toMatchObject({ status: 400, passed: false });
    expect(h.services.bans.isBanned('198.51.100.3')).toBe(false);
    const ok = await attempt(h, { source: '198.51.100.3' }, 'alice-secret');
    expect(ok.passed).toBe(true);
  });
});

describe('trusted sources', () => {
  it('pass without digest as callers, but a REGISTER from them is still challenged', async () => {
    const trusted = { trustedSources: ['192.0.2.200'] };
    const invite = await harness(CALLER, trusted);
    const registrar = await harness(REGISTRAR, trusted);
    const headers = (m: string) => ({
      Via: 'SIP/2.0/UDP 192.0.2.200:5060;branch=z9hG4bKtrusted',
      From: `<sip:gateway@${DOMAIN}>;tag=g`,
      To: `<sip:alice@${DOMAIN}>`,
      'Call-ID': `trusted-${m}`,
      CSeq: `1 ${m}`,
    });
    expect(
      (await invite.send(new FakeRequest('INVITE', `sip:alice@${DOMAIN}`, headers('INVITE'), '192.0.2.200')))
        .passed,
    ).toBe(true);
    expect(
      (await registrar.send(new FakeRequest('REGISTER', `sip:${DOMAIN}`, headers('REGISTER'), '192.0.2.200')))
        .status,
    ).toBe(401);
  });
});

describe('directory', () => {
  it('finds a subscriber created after the cache was loaded with one database read, then from memory', async () => {
    const h = await harness(REGISTRAR);
    const tenant = await testDb.db.prisma.domain.findUniqueOrThrow({ where: { name: DOMAIN } });
    const customer = await testDb.db.prisma.customer.findFirstOrThrow();
    await createSubscriber(
      testDb.db,
      { customerId: customer.id, domainId: tenant.id, domain: DOMAIN },
      'dave',
      'dave-secret',
    );
    // No change feed in this harness: only the read-through can find dave.
    expect(h.services.directory.findSubscriber('dave', DOMAIN)).toBeUndefined();
    const reads = vi.spyOn(testDb.db.prisma.subscriber, 'findFirst');
    try {
      const [a, b] = await Promise.all([
        h.services.directory.lookup('dave', DOMAIN),
        h.services.directory.lookup('dave', DOMAIN),
      ]);
      expect(a?.username).toBe('dave');
      expect(b).toBe(a);
      expect(await h.services.directory.lookup('dave', DOMAIN)).toBe(a);
      expect(reads).toHaveBeenCalledTimes(1);
      // A name the database lacks too costs one read, then is answered from memory for a while.
      expect(await h.services.directory.lookup('nobody', DOMAIN)).toBeUndefined();
      expect(await h.services.directory.lookup('nobody', DOMAIN)).toBeUndefined();
      expect(reads).toHaveBeenCalledTimes(2);
    } finally {
      reads.mockRestore();
    }
  });
});

describe('a password changed a moment ago', () => {
  it('works at once: credentials failing against the cached HA1 are checked against the database', async () => {
    const h = await harness(REGISTRAR);
    const alice = await testDb.db.prisma.subscriber.findFirstOrThrow({ where: { username: 'alice' } });
    // No change feed in this harness: the cache keeps the old HA1.
    await testDb.db.prisma.subscriber.update({
      where: { id: alice.id },
      data: sipHa1('alice', DOMAIN, 'alice-new-secret'),
    });
    try {
      const first = await h.send(
        new FakeRequest('REGISTER', `sip:${DOMAIN}`, registerHeaders('alice', 'pw-1'), '192.0.2.61'),
      );
      const authorization = computeDigestAuthorization({
        challenge: first.headers['WWW-Authenticate']!,
        method: 'REGISTER',
        uri: `sip:${DOMAIN}`,
        username: 'alice',
        password: 'alice-new-secret',
      });
      const ok = await h.send(
        new FakeRequest(
          'REGISTER',
          `sip:${DOMAIN}`,
          { ...registerHeaders('alice', 'pw-2'), Authorization: authorization },
          '192.0.2.61',
        ),
      );
      expect(ok).toMatchObject({ status: 200, passed: true });
    } finally {
      await testDb.db.prisma.subscriber.update({
        where: { id: alice.id },
        data: { ha1Md5: alice.ha1Md5, ha1Sha256: alice.ha1Sha256 },
      });
    }
  });
});

function registerHeaders(user: string, callId: string): Record<string, string> {
  return {
    Via: `SIP/2.0/UDP 192.0.2.61:5060;branch=z9hG4bK${callId}`,
    From: `<sip:${user}@${DOMAIN}>;tag=${callId}`,
    To: `<sip:${user}@${DOMAIN}>`,
    'Call-ID': callId,
    CSeq: `1 REGISTER`,
  };
}

describe('a source over its rate limit', () => {
  it('is dropped over UDP and answered once (503, stateless) over TCP', async () => {
    const config = resolveConfig({ drachtio: { host: '127.0.0.1', port: 9022, secret: 'x' } });
    const services = createServices(config, testDb.db, log);
    const run = chain([identifySource(services.bans), rateLimit(new RateLimiter(1, 1)), sanity()], log);
    const answer = async (protocol: string) => {
      const res = new FakeResponse();
      const headers = {
        Via: `SIP/2.0/${protocol.toUpperCase()} 192.0.2.99:5060;branch=z9hG4bKrate`,
        From: `<sip:alice@${DOMAIN}>;tag=r`,
        To: `<sip:alice@${DOMAIN}>`,
        'Call-ID': `rate-${protocol}`,
        CSeq: '1 OPTIONS',
      };
      run(new FakeRequest('OPTIONS', `sip:${DOMAIN}`, headers, '192.0.2.99', 5060, protocol), res);
      return res.answered;
    };
    // The first request takes the bucket's only token and goes on (sanity, then nothing: no answer).
    void answer('udp');
    const udp = await answer('udp');
    expect(udp.status).toBe(503);
    expect(replyModeOf(udp.headers)).toBe('drop');
    const tcp = await answer('tcp');
    expect(tcp).toMatchObject({ status: 503, headers: { 'Retry-After': '10' } });
    expect(replyModeOf(tcp.headers)).toBe('stateless');
  });
});
