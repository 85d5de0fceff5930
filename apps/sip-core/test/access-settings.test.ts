import { loadConfig } from '@switchboard/config';
import { sipHa1 } from '@switchboard/db';
import { pino } from 'pino';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type RunningSipCore, startSipCore } from '../src/start.ts';
import { createTenant, createTestDatabase, type TestDatabase, type TestTenant } from './support/database.ts';
import { describeOnEngine, onEngine, startTestEngine, type TestEngine } from './support/engine.ts';
import { runSipp, stopAllSipp } from './support/sipp.ts';

/**
 * The SIP access variables of the runtime contract, read as the launcher and sip-core's main read them:
 * with `SIP_TRUSTED_SOURCES=127.0.0.0/8 SIP_RATE_LIMIT=0` a provisioning or load-test host on loopback
 * registers a thousand subscribers at 200 per second without one 503 (the default limit, 50/s with a
 * burst of 200 per source, would refuse most of them; the sustained rate is measured in bench/).
 */
const log = pino({ level: process.env.SIPCORE_TEST_LOG ?? 'silent' });
const DOMAIN = 'access-settings.test';
const SECRET = 'access-settings-secret';
const SUBSCRIBERS = 1000;
let testDb: TestDatabase;
let tenant: TestTenant;
let engine: TestEngine;
let sipCore: RunningSipCore;
let remote: string;

beforeAll(async () => {
  testDb = await createTestDatabase();
  tenant = await createTenant(testDb.db, DOMAIN);
  await testDb.db.prisma.subscriber.createMany({
    data: Array.from({ length: SUBSCRIBERS }, (_, i) => ({
      customerId: tenant.customerId,
      domainId: tenant.domainId,
      username: `load${i}`,
      ...sipHa1(`load${i}`, DOMAIN, `load-secret-${i}`),
    })),
  });
  engine = await startTestEngine({ secret: SECRET, logger: log });
  remote = engine.remote;
  const config = loadConfig({ SIP_TRUSTED_SOURCES: '127.0.0.0/8', SIP_RATE_LIMIT: '0' });
  sipCore = await startSipCore(
    {
      drachtio: engine.drachtio,
      nodeName: 'access-settings',
      access: config.sipAccess,
      // sipp answers MD5 challenges only.
      auth: { algorithms: ['MD5'], strictUri: config.sipAuthStrictUri },
      nat: { keepaliveInterval: 0 },
    },
    { prisma: testDb.db.prisma, db: testDb.db, logger: log },
  );
}, 120_000);

afterAll(async () => {
  stopAllSipp();
  await sipCore?.close();
  await engine?.close();
  await testDb?.drop();
});

describeOnEngine(onEngine('SIP_TRUSTED_SOURCES=127.0.0.0/8 SIP_RATE_LIMIT=0'), { timeout: 240_000 }, () => {
  it('take effect in sip-core: the access limits are those of the environment', () => {
    expect(sipCore.config.access).toMatchObject({
      trustedSources: ['127.0.0.0/8'],
      rateLimitPerSecond: 0,
      rateLimitBurst: 200,
    });
  });

  it('let sipp register 1,000 subscribers at 200/s from 127.0.0.1 with no 503', async () => {
    const result = await runSipp({
      scenario: 'register-domain.xml',
      remote,
      calls: SUBSCRIBERS,
      rate: 200,
      timeoutS: 180,
      csv: Array.from(
        { length: SUBSCRIBERS },
        (_, i) => `load${i};${DOMAIN};[authentication username=load${i} password=load-secret-${i}]`,
      ),
    });
    // Exit code 0: every one of the 1,000 scenarios got its 401 and then its 200 (any 503 fails one).
    expect(result.code, result.output).toBe(0);
    expect(result.output).not.toMatch(/SIP\/2\.0 503/);
    for (let i = 0; i < SUBSCRIBERS; i++) {
      expect(sipCore.location.lookup(`sip:load${i}@${DOMAIN}`), `load${i}`).toHaveLength(1);
    }
  });
});
