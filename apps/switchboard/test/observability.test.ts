import { createSocket } from 'node:dgram';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEMO_DOMAIN, openDatabase, seedDemo } from '@switchboard/db';
import {
  allocatePort,
  CALL_SCENARIOS,
  callFields,
  expectSippOk,
  registerFields,
  startSipp,
  stopAllSipp,
  waitForUdpListener,
} from '@switchboard/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiBase, type Launched, LOOPBACK_ENV, launch, stop } from './support/launcher-process.ts';
import { createScratchDatabase, type ScratchDatabase } from './support/scratch-database.ts';

/**
 * The all-in-one process observed from outside while a real call runs through it (engine, sip-core,
 * rtpengine, PostgreSQL): one /metrics on the API port with every component's metrics, HEP copies of the
 * call's SIP at a local collector, and the call's ladder from the engine's own capture.
 */

const SIP_PASSWORD = 'demo-password-1';
const OPERATOR = { email: 'ops@example.com', password: 'a-very-good-password' };

/** A value of the scrape: the sample line `name{labels} value`, or undefined when absent. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

/** Scrapes until `done` holds, every 100 ms for at most `timeoutMs`; returns the last scrape. */
async function scrapeUntil(base: string, done: (text: string) => boolean, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const res = await fetch(`${base}/metrics`);
    expect(res.status).toBe(200);
    const text = await res.text();
    if (done(text)) return text;
    if (Date.now() > deadline) throw new Error(`metrics never matched; last scrape:\n${text}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('the all-in-one platform during a call', () => {
  let database: ScratchDatabase | undefined;
  let dataDir: string;
  let run: Launched | undefined;
  const collector = createSocket('udp4');
  const hep: Buffer[] = [];

  beforeAll(async () => {
    database = await createScratchDatabase('observe');
    dataDir = await mkdtemp(join(tmpdir(), 'switchboard-observe-'));
    await new Promise<void>((resolve) => collector.bind(0, '127.0.0.1', () => resolve()));
    collector.on('message', (packet) => hep.push(packet));
  });
  afterAll(async () => {
    stopAllSipp();
    if (run && run.child.exitCode === null) await stop(run);
    collector.close();
    await database?.drop();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('counts the call on /metrics while it lasts and after, exports it as HEP and draws its ladder', async () => {
    const url = new URL(database!.url);
    // Provisioned before the start, so that sip-core knows bob's domain from its first request on
    // (seeding after it would race the change feed on a busy machine).
    const seedDb = await openDatabase({ databaseUrl: url.toString(), dataDir });
    await seedDb.migrate();
    await seedDemo(seedDb.prisma, { password: SIP_PASSWORD });
    run = launch(['start'], {
      ...LOOPBACK_ENV,
      SIP_LISTEN: 'udp:127.0.0.1:0',
      // Its own RTP range and sipp ports: launcher.test.ts may run at the same time.
      RTP_PORTS: '41200-41299',
      DATA_DIR: dataDir,
      DATABASE_URL: url.toString(),
      ADMIN_EMAIL: OPERATOR.email,
      ADMIN_PASSWORD: OPERATOR.password,
      HEP_DESTINATION: `127.0.0.1:${collector.address().port}`,
    });
    const base = await apiBase(run);
    const engine = await run.waitForLog('SIP engine listening');
    const sipAddress = (engine.sip as string[])[0]!.replace(/^udp:/, '');

    // bob registers, then answers on the port he registered from; alice calls him and talks for 8 s.
    const bobPort = await allocatePort({ min: 46000, max: 46499 });
    const register = startSipp({
      scenarioDir: CALL_SCENARIOS,
      scenario: 'register.xml',
      port: bobPort,
      remote: sipAddress,
      fields: registerFields('bob', SIP_PASSWORD, DEMO_DOMAIN),
      authUri: DEMO_DOMAIN,
    });
    expectSippOk(await register.done, 'register bob');
    const callee = startSipp({
      scenarioDir: CALL_SCENARIOS,
      scenario: 'uas-answer.xml',
      port: bobPort,
      timeoutS: 60,
    });
    await waitForUdpListener(bobPort);
    const caller = startSipp({
      scenarioDir: CALL_SCENARIOS,
      scenario: 'uac-call-talk.xml',
      port: await allocatePort({ min: 46000, max: 46499 }),
      remote: sipAddress,
      fields: callFields('alice', SIP_PASSWORD, DEMO_DOMAIN, 'bob'),
      authUri: `bob@${DEMO_DOMAIN}`,
      timeoutS: 60,
      extraArgs: ['-d', '8000'],
    });

    // During the call: one answered internal call, counted as attempted and answered, anchored on rtpengine.
    const during = await scrapeUntil(
      base,
      (text) => sample(text, 'switchboard_calls_active{direction="internal",state="answered"}') === 1,
    );
    expect(sample(during, 'switchboard_call_attempts_total{direction="internal"}')).toBe(1);
    expect(sample(during, 'switchboard_call_answers_total{direction="internal"}')).toBe(1);
    expect(sample(during, 'switchboard_registered_devices')).toBe(1);
    expect(during).toMatch(/switchboard_rtpengine_sessions\{rtpengine="[^"]+"\} 1\n/);
    expect(during).toMatch(/switchboard_rtpengine_up\{rtpengine="[^"]+"\} 1\n/);
    // alice's INVITE came in twice (challenged with 407, then with credentials); one went out to bob.
    expect(sample(during, 'switchboard_sip_requests_total{direction="in",method="INVITE"}')).toBe(2);
    expect(sample(during, 'switchboard_sip_requests_total{direction="out",method="INVITE"}')).toBe(1);
    expect(
      sample(during, 'switchboard_sip_responses_total{direction="out",method="INVITE",code="407"}'),
    ).toBe(1);
    expect(sample(during, 'switchboard_numbering_entries{kind="subscribers"}')).toBeGreaterThan(0);
    expect(sample(during, 'switchboard_db_pool_connections{state="total"}')).toBeGreaterThan(0);
    expect(during).toContain('nodejs_eventloop_lag_seconds');

    const [uac, uas] = await Promise.all([caller.done, callee.done]);
    expectSippOk(uac, 'alice calling bob');
    expectSippOk(uas, 'bob answering');
    const after = await scrapeUntil(
      base,
      (text) =>
        sample(text, 'switchboard_calls_ended_total{direction="internal",disposition="answered"}') === 1,
    );
    expect(sample(after, 'switchboard_calls_active{direction="internal",state="answered"}')).toBe(0);
    expect(sample(after, 'switchboard_call_duration_seconds_count{direction="internal"}')).toBe(1);

    // The call's life in the log, one info event each, under the sip-core component.
    for (const msg of ['call started', 'call answered', 'call ended']) {
      expect(await run.waitForLog(msg)).toMatchObject({
        level: 30,
        app: 'switchboard',
        component: 'sip-core/cdr',
        direction: 'internal',
      });
    }
    expect(await run.waitForLog('call ended')).toMatchObject({ disposition: 'answered', sipCode: 200 });

    // The call's ladder, both legs joined through the CDR: alice's side and bob's side.
    // The CDR's end is written in the next batch (CDR_BATCH_MS) after the log line: a bounded wait.
    let cdr = await seedDb.prisma.cdr.findFirst({ where: { disposition: 'answered' } });
    for (let attempt = 0; !cdr && attempt < 50; attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      cdr = await seedDb.prisma.cdr.findFirst({ where: { disposition: 'answered' } });
    }
    if (!cdr) throw new Error('the answered CDR was not written');
    await seedDb.close();
    const login = await fetch(`${base}/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(OPERATOR),
    });
    const { token } = (await login.json()) as { token: string };
    const ladder = await fetch(`${base}/api/v1/calls/${encodeURIComponent(cdr.callId)}/ladder`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(ladder.status).toBe(200);
    const body = (await ladder.json()) as {
      legs: string[];
      messages: Array<{ direction: string; callId: string; startLine: string }>;
    };
    expect(body.legs).toHaveLength(2);
    const lines = body.messages.map(
      (m) => `${m.callId === cdr.callId ? 'A' : 'B'} ${m.direction} ${m.startLine}`,
    );
    expect(lines[0]).toMatch(/^A in INVITE sip:bob@/);
    expect(lines).toContainEqual(expect.stringMatching(/^B out INVITE sip:bob@127\.0\.0\.1:/));
    expect(lines).toContainEqual('B in SIP/2.0 200 OK');
    expect(lines).toContainEqual('A out SIP/2.0 200 OK');
    expect(lines).toContainEqual(expect.stringMatching(/^A in BYE /));
    expect(lines).toContainEqual(expect.stringMatching(/^B out BYE /));

    // The collector got the same call as HEP v3: the caller's INVITE with its Call-ID as correlation id.
    const hepInvites = hep.filter(
      (p) => p.includes(`Call-ID: ${cdr.callId}`) && p.includes('INVITE sip:bob@'),
    );
    expect(hepInvites.length).toBeGreaterThan(0);
    expect(hepInvites[0]!.subarray(0, 4).toString()).toBe('HEP3');
    expect(hepInvites[0]!.includes(Buffer.from(cdr.callId))).toBe(true);

    expect(await stop(run)).toBe(0);
  });
});
