import { pino } from 'pino';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { RateLimiter } from '../src/access/rate-limiter.ts';
import { DEFAULT_CALLS } from '../src/calls/calls-config.ts';
import { DEFAULT_ACCESS, DEFAULT_REGISTRAR, resolveConfig } from '../src/config.ts';
import { DEFAULT_MESSAGES } from '../src/messages/messages-config.ts';
import { LiveSettings } from '../src/settings.ts';
import { createServices, type RunningSipCore, startSipCore } from '../src/start.ts';
import { operatorApi, type TestApi } from './support/api.ts';
import { createTenant, createTestDatabase, type TestDatabase } from './support/database.ts';
import { describeOnEngine, onEngine, startTestEngine, type TestEngine } from './support/engine.ts';
import { rawRequest, tcpPeer } from './support/raw-sip.ts';

/**
 * Operator settings changed through `PATCH /api/v1/settings` (apps/api on the same PostgreSQL database)
 * take effect in a running sip-core through the change feed, without a restart. sip-core starts with a
 * tight rate limit (1 request per second, burst 1): a burst of REGISTERs over TCP from 127.0.0.1 draws
 * 503s; once 127.0.0.0/8 is a trusted source, or once the limit is 0, the same burst is all challenged.
 */
const log = pino({ level: process.env.SIPCORE_TEST_LOG ?? 'silent' });
const DOMAIN = 'live-settings.test';
const SECRET = 'live-settings-secret';
const OPERATOR = { email: 'ops@live-settings.test', password: 'operator password 1' };
const BURST = 20;
let testDb: TestDatabase;
let engine: TestEngine;
let sipCore: RunningSipCore;
let api: TestApi;
let token: string;
let burstNumber = 0;

beforeAll(async () => {
  testDb = await createTestDatabase();
  await createTenant(testDb.db, DOMAIN);
  engine = await startTestEngine({ secret: SECRET, logger: log, transports: ['tcp'] });
  sipCore = await startSipCore(
    {
      drachtio: engine.drachtio,
      nodeName: 'live-settings',
      access: { rateLimitPerSecond: 1, rateLimitBurst: 1 },
      nat: { keepaliveInterval: 0 },
    },
    { prisma: testDb.db.prisma, db: testDb.db, logger: log },
  );
  ({ api, token } = await operatorApi(testDb.db.prisma, log, OPERATOR));
}, 60_000);

afterAll(async () => {
  await api?.close();
  await sipCore?.close();
  await engine?.close();
  await testDb?.drop();
});

/** Sends BURST REGISTERs without credentials back to back over one TCP connection; returns the status codes. */
async function registerBurst(): Promise<number[]> {
  burstNumber += 1;
  const peer = await tcpPeer('127.0.0.1', engine.port('tcp'));
  try {
    const requests = Array.from({ length: BURST }, (_, i) =>
      rawRequest({
        method: 'REGISTER',
        transport: 'TCP',
        peer,
        domain: DOMAIN,
        user: `user${i}`,
        callId: `live-${burstNumber}-${i}`,
        branch: `z9hG4bKlive${burstNumber}x${i}`,
      }),
    );
    await peer.send(requests.join(''));
    await peer.waitFor(BURST);
    return peer.received.map((response) => Number(response.split(' ')[1]));
  } finally {
    peer.close();
  }
}

async function patch(body: Record<string, unknown>): Promise<void> {
  const res = await api.inject({
    method: 'PATCH',
    url: '/api/v1/settings',
    headers: { authorization: `Bearer ${token}` },
    payload: body,
  });
  expect(res.statusCode, res.body).toBe(200);
}

describeOnEngine(onEngine('settings changed through the API'), { timeout: 60_000 }, () => {
  it('start from the limit sip-core was given: a burst from one source draws 503s', async () => {
    const statuses = await registerBurst();
    expect(statuses).toContain(503);
  });

  it('apply a new trusted source live: the same burst is all challenged (401)', async () => {
    await patch({ 'access.trustedSources': ['127.0.0.0/8'] });
    await vi.waitFor(() => expect(sipCore.config.access.trustedSources).toEqual(['127.0.0.0/8']), {
      timeout: 15_000,
      interval: 50,
    });
    expect(await registerBurst()).toEqual(Array(BURST).fill(401));
  });

  it('apply a rate limit of 0 live, and a reset trusted source goes back to none', async () => {
    await patch({ 'access.trustedSources': null });
    await vi.waitFor(() => expect(sipCore.config.access.trustedSources).toEqual([]), {
      timeout: 15_000,
      interval: 50,
    });
    expect(await registerBurst()).toContain(503);
    await patch({ 'access.rateLimitPerSecond': 0 });
    await vi.waitFor(() => expect(sipCore.config.access.rateLimitPerSecond).toBe(0), {
      timeout: 15_000,
      interval: 50,
    });
    expect(await registerBurst()).toEqual(Array(BURST).fill(401));
  });
});

describeOnEngine(onEngine('the settings table as sip-core reads it'), { timeout: 60_000 }, () => {
  it('keeps what the environment fixes, ignores a bad stored value and goes back to the start value', async () => {
    const config = resolveConfig({
      drachtio: { host: '127.0.0.1', port: 9022, secret: 'x' },
      access: { rateLimitPerSecond: 5 },
    });
    const services = createServices(config, testDb.db, log);
    const calls = { ...DEFAULT_CALLS };
    const live = new LiveSettings(
      testDb.db.prisma,
      {
        config,
        calls,
        limiter: services.limiter,
        bans: services.bans,
        messages: { ...DEFAULT_MESSAGES },
        messageLimiter: new RateLimiter(0, 1),
      },
      new Set(['auth.strictUri']),
      log,
    );
    const prisma = testDb.db.prisma;
    await prisma.setting.deleteMany();
    await prisma.setting.createMany({
      data: [
        { id: 'auth.strictUri', value: true },
        { id: 'registrar.minExpires', value: 120 },
        { id: 'calls.ringTimeout', value: -3 },
        { id: 'access.maxFailuresPerAddress', value: 3 },
      ],
    });
    await live.load();
    expect(config.auth.strictUri).toBe(false);
    expect(config.registrar.minExpires).toBe(120);
    expect(calls.ringTimeout).toBe(DEFAULT_CALLS.ringTimeout);
    expect(config.access.maxFailuresPerAddress).toBe(3);
    expect(config.access.rateLimitPerSecond).toBe(5);

    await prisma.setting.deleteMany();
    await live.load();
    expect(config.registrar.minExpires).toBe(DEFAULT_REGISTRAR.minExpires);
    expect(config.access.maxFailuresPerAddress).toBe(DEFAULT_ACCESS.maxFailuresPerAddress);
  });
});
