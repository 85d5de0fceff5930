import { Writable } from 'node:stream';
import { createMetricsRegistry } from '@switchboard/metrics';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningSipCore, startSipCore } from '../src/start.ts';
import { createSubscriber, createTenant, createTestDatabase, type TestDatabase } from './support/database.ts';
import { startTestEngine, type TestEngine } from './support/engine.ts';
import { runSipp, stopAllSipp } from './support/sipp.ts';

/**
 * Engine and sip-core counting into one registry, as in the all-in-one process: registrations, refused
 * credentials, the bindings they leave, and the SIP traffic beneath. The log events of the same actions are
 * checked alongside (registrations at info, authentication failures at warn).
 */
const DOMAIN = 'example.test';
const SECRET = 'metrics-test-secret';
const registry = createMetricsRegistry();
const events: Array<{ level: number; msg: string; component?: string }> = [];
const sink = new Writable({
  write(chunk, _encoding, done) {
    for (const line of chunk.toString().split('\n')) if (line) events.push(JSON.parse(line));
    done();
  },
});
const log = pino({ level: 'info' }, sink);
let testDb: TestDatabase;
let engine: TestEngine;
let sipCore: RunningSipCore;
let remote: string;

beforeAll(async () => {
  testDb = await createTestDatabase();
  const tenant = await createTenant(testDb.db, DOMAIN);
  await createSubscriber(testDb.db, tenant, 'alice', 'alice-secret');
  // What is counted here is our engine's own behaviour, so it runs on ours whatever the engine under test.
  engine = await startTestEngine({
    engine: 'switchboard',
    secret: SECRET,
    logger: pino({ level: 'silent' }),
    metrics: registry,
  });
  remote = engine.remote;
  sipCore = await startSipCore(
    {
      drachtio: engine.drachtio,
      nodeName: 'metrics-node',
      access: { rateLimitPerSecond: 0 },
      auth: { algorithms: ['MD5'] },
      nat: { keepaliveInterval: 0 },
    },
    { prisma: testDb.db.prisma, db: testDb.db, logger: log, metrics: registry },
  );
}, 60_000);

afterAll(async () => {
  stopAllSipp();
  await sipCore?.close();
  await engine?.close();
  await testDb?.drop();
});

function auth(user: string, password: string): string {
  return `${user};${DOMAIN};[authentication username=${user} password=${password}]`;
}

describe('sip-core metrics', { timeout: 60_000 }, () => {
  it('counts a registration and a refused password, and shows the binding left', async () => {
    const ok = await runSipp({ scenario: 'register.xml', remote, csv: [auth('alice', 'alice-secret')] });
    expect(ok.code, ok.output).toBe(0);
    const refused = await runSipp({
      scenario: 'rejected.xml',
      remote,
      csv: [auth('alice', 'not-the-password')],
      localAddress: '127.0.0.5',
    });
    expect(refused.code, refused.output).toBe(0);

    const text = await registry.metrics();
    expect(text).toContain('switchboard_registrations_total{result="registered"} 1');
    expect(text).toContain('switchboard_sip_auth_failures_total 1');
    expect(text).toContain('switchboard_registered_aors 1');
    expect(text).toContain('switchboard_registered_devices 1');
    // The engine's counters in the same registry: two challenges, one 200 and one 403 sent.
    expect(text).toContain('switchboard_sip_responses_total{direction="out",method="REGISTER",code="401"} 2');
    expect(text).toContain('switchboard_sip_responses_total{direction="out",method="REGISTER",code="200"} 1');
    expect(text).toContain('switchboard_sip_responses_total{direction="out",method="REGISTER",code="403"} 1');
    expect(text).toContain('switchboard_calls_active{direction="internal",state="answered"} 0');

    const registered = events.find((e) => e.msg === 'registered');
    expect(registered).toMatchObject({ level: 30, aor: `sip:alice@${DOMAIN}`, bindings: 1 });
    const refusedEvent = events.find((e) => e.msg === 'authentication failed');
    expect(refusedEvent).toMatchObject({ level: 40, source: '127.0.0.5', user: 'alice' });
  });
});
