import { pino } from 'pino';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type RunningSipCore, startSipCore } from '../src/start.ts';
import { operatorApi, type TestApi } from './support/api.ts';
import { createTenant, createTestDatabase, type TestDatabase, type TestTenant } from './support/database.ts';
import { describeOnEngine, onEngine, startTestEngine, type TestEngine } from './support/engine.ts';
import { runSipp, stopAllSipp } from './support/sipp.ts';

/**
 * Interop as an operator meets it: a subscriber created through the REST API (apps/api on the same
 * PostgreSQL database) registers with sipp's own `[authentication]` keyword right after the API
 * answered. sipp puts `uri="sip:<server ip>:<port>"` in its credentials while the Request-URI is the
 * domain, and the subscriber's change may not have reached sip-core's cache yet.
 */
const log = pino({ level: process.env.SIPCORE_TEST_LOG ?? 'silent' });
const DOMAIN = 'provisioned.test';
const SECRET = 'provisioned-secret';
const OPERATOR = { email: 'ops@provisioned.test', password: 'operator password 1' };
let testDb: TestDatabase;
let tenant: TestTenant;
let engine: TestEngine;
let sipCore: RunningSipCore;
let api: TestApi;
let token: string;
let remote: string;

beforeAll(async () => {
  testDb = await createTestDatabase();
  tenant = await createTenant(testDb.db, DOMAIN);
  engine = await startTestEngine({ secret: SECRET, logger: log });
  remote = engine.remote;
  sipCore = await startSipCore(
    {
      drachtio: engine.drachtio,
      nodeName: 'provisioned',
      access: { rateLimitPerSecond: 0 },
      // sipp answers MD5 challenges only.
      auth: { algorithms: ['MD5'] },
      nat: { keepaliveInterval: 0 },
    },
    { prisma: testDb.db.prisma, db: testDb.db, logger: log },
  );
  ({ api, token } = await operatorApi(testDb.db.prisma, log, OPERATOR));
}, 60_000);

afterAll(async () => {
  stopAllSipp();
  await api?.close();
  await sipCore?.close();
  await engine?.close();
  await testDb?.drop();
});

describeOnEngine(onEngine('a subscriber provisioned through the API'), { timeout: 60_000 }, () => {
  it("registers with sipp's own [authentication] at once, the Request-URI being the domain", async () => {
    const created = await api.inject({
      method: 'POST',
      url: '/api/v1/subscribers',
      headers: { authorization: `Bearer ${token}` },
      payload: {
        customerId: tenant.customerId,
        domainId: tenant.domainId,
        username: 'carol',
        password: 'carol-secret-1',
      },
    });
    expect(created.statusCode, created.body).toBe(201);
    // No wait for the change feed: the REGISTER goes out as soon as the API has answered.
    const result = await runSipp({
      scenario: 'register-domain.xml',
      remote,
      csv: [`carol;${DOMAIN};[authentication username=carol password=carol-secret-1]`],
    });
    expect(result.code, result.output).toBe(0);
    expect(sipCore.location.lookup(`sip:carol@${DOMAIN}`)).toHaveLength(1);
  });
});
