import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openDatabase, seedDemo } from '@switchboard/db';
import { DEFAULT_HEARTBEAT_MS, IN_PROGRESS, RECONCILED } from '@switchboard/sip-core';
import { allocatePort, expectSippOk, startSipp, stopAllSipp, until } from '@switchboard/testkit';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  apiBase,
  type Launched,
  LOOPBACK_ENV,
  launch,
  TEST_DATABASE_URL,
} from './support/launcher-process.ts';
import { leftRtpengine, running } from './support/processes.ts';

/**
 * `kill -9` of the all-in-one launcher in the middle of a call, then a restart on the same data folder
 * and database: the rtpengine child the dead launcher left holding the call's ports is stopped, and the
 * interrupted call's CDR ends at the last heartbeat the launcher wrote, not at the restart.
 */

const SCENARIOS = fileURLToPath(new URL('./sipp/', import.meta.url));
const PASSWORD = 'demo-password-1';

interface CdrRow {
  id: string;
  answered_at: Date | null;
  ended_at: Date;
  sip_reason: string;
  disposition: string;
  duration_ms: number;
}

describe('switchboard start after the launcher was killed during a call', () => {
  const dbName = `sb_crash_${process.pid}_${Date.now()}`;
  const url = new URL(TEST_DATABASE_URL);
  url.pathname = `/${dbName}`;
  let admin: pg.Client;
  let db: pg.Client | undefined;
  let dataDir: string;
  const runs: Launched[] = [];
  /** rtpengines our launchers started: a failed run must not leave one behind. */
  const rtpengines = new Set<number>();

  beforeAll(async () => {
    admin = new pg.Client({ connectionString: TEST_DATABASE_URL });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${dbName}`);
    dataDir = await mkdtemp(join(tmpdir(), 'switchboard-crash-'));
  });
  afterAll(async () => {
    stopAllSipp();
    for (const run of runs) run.child.kill('SIGKILL');
    await Promise.all(runs.map((r) => r.exited));
    // A launcher killed before the test read its pid file still named its rtpengine there.
    const left = await leftRtpengine(dataDir);
    if (left) rtpengines.add(left);
    for (const pid of rtpengines) if (await running(pid)) process.kill(pid, 'SIGKILL');
    await db?.end();
    await admin.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
    await admin.end();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('stops the orphaned rtpengine and ends the CDR at the last heartbeat', async () => {
    const env = {
      ...LOOPBACK_ENV,
      DATA_DIR: dataDir,
      DATABASE_URL: url.toString(),
      ADMIN_EMAIL: 'ops@example.com',
      ADMIN_PASSWORD: 'a-very-good-password',
      RTP_PORTS: '41200-41298',
    };
    // Provisioned before the start, so that sip-core knows alice and bob from its first request on.
    const seedDb = await openDatabase({ databaseUrl: url.toString(), dataDir });
    await seedDb.migrate();
    const { subscribers } = await seedDemo(seedDb.prisma, { password: PASSWORD });
    await seedDb.close();
    const first = launch(['start'], env);
    runs.push(first);
    await apiBase(first, 180_000);
    const engine = await first.waitForLog('SIP engine listening');
    const sipPort = Number((engine.sip as string[]).find((l) => l.startsWith('udp:'))!.split(':')[2]);
    const domain = subscribers.find((s) => s.username === 'bob')!.domain;
    db = new pg.Client({ connectionString: url.toString() });
    await db.connect();

    // bob registers and answers; alice calls him. Neither hangs up.
    // Each sipp gets its control port next to its SIP port: left to itself it hunts upwards from 8888,
    // where other sipps on the machine may be.
    const bobPort = await allocatePort({ count: 3 });
    const register = startSipp({
      scenario: 'register.xml',
      scenarioDir: SCENARIOS,
      port: bobPort,
      remote: `127.0.0.1:${sipPort}`,
      fields: ['bob', `[authentication username=bob password=${PASSWORD}]`, domain],
      authUri: domain,
      controlPort: bobPort + 1,
    });
    expectSippOk(await register.done, 'register bob');
    const bob = startSipp({
      scenario: 'uas-answer-stay.xml',
      scenarioDir: SCENARIOS,
      port: bobPort,
      controlPort: bobPort + 2,
      timeoutS: 120,
    });
    await bob.listening();
    const alicePort = await allocatePort({ count: 2 });
    startSipp({
      scenario: 'uac-call-stay.xml',
      scenarioDir: SCENARIOS,
      port: alicePort,
      controlPort: alicePort + 1,
      remote: `127.0.0.1:${sipPort}`,
      fields: ['alice', `[authentication username=alice password=${PASSWORD}]`, domain, 'bob'],
      authUri: `bob@${domain}`,
      timeoutS: 120,
    });
    const openCdr = async (): Promise<CdrRow | undefined> =>
      (
        await db!.query<CdrRow>(
          'SELECT id, answered_at, ended_at, sip_reason, disposition, duration_ms FROM cdrs WHERE sip_reason = $1 AND answered_at IS NOT NULL',
          [IN_PROGRESS],
        )
      ).rows[0];
    const answered = await until('the call answered', openCdr, 60_000);

    const pidFile = JSON.parse(await readFile(join(dataDir, 'rtpengine.pid'), 'utf8')) as { pid: number };
    const rtpengine = pidFile.pid;
    rtpengines.add(rtpengine);
    expect(await running(rtpengine)).toBe(true);

    // A heartbeat moves the open row's end past the answer; kill the launcher right after seeing one.
    const heartbeat = await until(
      'a heartbeat after the answer',
      async () => {
        const row = await openCdr();
        return row && row.ended_at.getTime() > answered.answered_at!.getTime() ? row.ended_at : undefined;
      },
      DEFAULT_HEARTBEAT_MS * 4,
    );
    first.child.kill('SIGKILL');
    const killedAt = Date.now();
    await first.exited;
    stopAllSipp();

    // Its rtpengine outlived it, still holding the call's ports.
    expect(await running(rtpengine)).toBe(true);

    const restartedAt = Date.now();
    const second = launch(['start'], env);
    runs.push(second);
    await apiBase(second, 180_000);

    expect(await running(rtpengine)).toBe(false);
    const current = JSON.parse(await readFile(join(dataDir, 'rtpengine.pid'), 'utf8')) as { pid: number };
    rtpengines.add(current.pid);
    expect(current.pid).not.toBe(rtpengine);
    expect(await running(current.pid)).toBe(true);
    expect(second.output()).toContain('stopping the rtpengine a previous run left running');

    const closed = (
      await db.query<CdrRow>(
        'SELECT id, answered_at, ended_at, sip_reason, disposition, duration_ms FROM cdrs WHERE id = $1',
        [answered.id],
      )
    ).rows[0]!;
    expect(closed).toMatchObject({ sip_reason: RECONCILED, disposition: 'answered' });
    // The end is the last heartbeat (the one seen just before the kill, or one written in the instant
    // between), never the restart.
    expect(closed.ended_at.getTime()).toBeGreaterThanOrEqual(heartbeat.getTime());
    expect(closed.ended_at.getTime()).toBeLessThanOrEqual(killedAt);
    expect(closed.ended_at.getTime() - heartbeat.getTime()).toBeLessThan(DEFAULT_HEARTBEAT_MS);
    expect(closed.ended_at.getTime()).toBeLessThan(restartedAt);
    expect(closed.duration_ms).toBe(closed.ended_at.getTime() - answered.answered_at!.getTime());

    second.child.kill('SIGTERM');
    expect(await second.exited).toBe(0);
    // A clean stop stops its rtpengine and removes the pid file.
    expect(await running(current.pid)).toBe(false);
    await expect(readFile(join(dataDir, 'rtpengine.pid'), 'utf8')).rejects.toThrow(/ENOENT/);
  }, 600_000);
});
