import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openDatabase, seedDemo } from '@switchboard/db';
import { allocatePort, expectSippOk, startSipp, stopAllSipp, until } from '@switchboard/testkit';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  apiBase,
  bundleLauncher,
  type Launched,
  type LauncherProgram,
  LOOPBACK_ENV,
  launch,
  stop,
} from './support/launcher-process.ts';
import { leftRtpengine, running } from './support/processes.ts';
import { createScratchDatabase, type ScratchDatabase } from './support/scratch-database.ts';

/**
 * `switchboard start` with SIP_CORE_WORKERS=2, PostgreSQL and Redis: the launcher runs sip-core in
 * itself and a second worker as a child process attached to the same engine. Registrations pass
 * whichever worker answers the challenge and whichever checks the credentials (they share the nonce
 * secret); a worker that dies is started again; SIGTERM stops the workers with the launcher. Both
 * ways the launcher runs: from its sources under tsx (workers fork sip-core's sources with the same
 * loader) and compiled as `pnpm start` runs it (workers fork sip-core's compiled program).
 */

const SCENARIOS = fileURLToPath(new URL('./sipp/', import.meta.url));
const PASSWORD = 'demo-password-1';
const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

/** Process ids of worker 2 each time it logged that it runs, oldest first. */
function secondWorkerPids(output: string): number[] {
  const pids: number[] = [];
  for (const line of output.split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      const event = JSON.parse(line) as { msg?: string; worker?: number; pid?: number };
      if (event.msg === 'sip-core running' && event.worker === 2 && typeof event.pid === 'number')
        pids.push(event.pid);
    } catch {}
  }
  return pids;
}

describe.each<LauncherProgram>(['sources', 'bundle'])(
  'switchboard start (%s) with two sip-core workers',
  (program) => {
    let database: ScratchDatabase;
    let dataDir: string;
    let run: Launched | undefined;
    const workerPids = new Set<number>();

    beforeAll(async () => {
      if (program === 'bundle') bundleLauncher();
      database = await createScratchDatabase(`workers_${program}`);
      dataDir = await mkdtemp(join(tmpdir(), 'switchboard-workers-'));
    });
    afterAll(async () => {
      stopAllSipp();
      run?.child.kill('SIGKILL');
      await run?.exited;
      for (const pid of workerPids) if (await running(pid)) process.kill(pid, 'SIGKILL');
      const left = await leftRtpengine(dataDir);
      if (left) process.kill(left, 'SIGKILL');
      await database.drop();
      await rm(dataDir, { recursive: true, force: true });
    });

    it('registers through both workers, restarts a dead one and stops them all', async () => {
      const seedDb = await openDatabase({ databaseUrl: database.url, dataDir });
      await seedDb.migrate();
      const { subscribers } = await seedDemo(seedDb.prisma, { password: PASSWORD });
      await seedDb.close();
      const domain = subscribers.find((s) => s.username === 'bob')!.domain;

      run = launch(
        ['start'],
        {
          ...LOOPBACK_ENV,
          DATA_DIR: dataDir,
          DATABASE_URL: database.url,
          REDIS_URL,
          REDIS_KEY_PREFIX: `test:${randomUUID()}:`,
          SIP_CORE_WORKERS: '2',
          ADMIN_EMAIL: 'ops@example.com',
          ADMIN_PASSWORD: 'a-very-good-password',
          RTP_PORTS: program === 'bundle' ? '41500-41598' : '41400-41498',
        },
        program,
      );
      const base = await apiBase(run, 180_000);
      const second = await run.waitForLog('sip-core running', 120_000);
      expect(second).toMatchObject({ worker: 2, workers: 2 });
      const secondPid = Number(second.pid);
      // The worker runs the same kind of program as the launcher: compiled, or the sources with tsx.
      const workerCommand = (await readFile(`/proc/${secondPid}/cmdline`, 'utf8')).split('\0');
      expect(workerCommand.some((arg) => arg.endsWith('sip-core/dist/main.mjs'))).toBe(program === 'bundle');
      expect(workerCommand.some((arg) => arg.endsWith('sip-core/src/main.ts'))).toBe(program === 'sources');
      workerPids.add(secondPid);
      expect(secondPid).not.toBe(run.child.pid);

      const health = (await (await fetch(`${base}/api/health`)).json()) as {
        components: Record<string, { status: string; detail?: string }>;
      };
      expect(health.components['sip-core']).toMatchObject({ status: 'up' });
      expect(health.components['sip-core']?.detail).toContain('2 of 2 workers');

      // The engine hands each REGISTER to the workers in turn: the challenge comes from one, the
      // credentials go to the other, three times over. Each registration ends in the table.
      const engine = await run.waitForLog('SIP engine listening');
      const sipPort = Number((engine.sip as string[]).find((l) => l.startsWith('udp:'))!.split(':')[2]);
      const register = async (user: string): Promise<void> => {
        const port = await allocatePort({ count: 2 });
        const sipp = startSipp({
          scenario: 'register.xml',
          scenarioDir: SCENARIOS,
          port,
          controlPort: port + 1,
          remote: `127.0.0.1:${sipPort}`,
          fields: [user, `[authentication username=${user} password=${PASSWORD}]`, domain],
          authUri: domain,
        });
        expectSippOk(await sipp.done, `register ${user}`);
      };
      for (const user of ['alice', 'bob', 'alice']) await register(user);
      const db = new pg.Client({ connectionString: database.url });
      await db.connect();
      try {
        const deadline = Date.now() + 10_000;
        let aors: string[] = [];
        while (aors.length < 2 && Date.now() < deadline) {
          aors = (
            await db.query<{ aor: string }>('SELECT DISTINCT aor FROM registrations ORDER BY aor')
          ).rows.map((row) => row.aor);
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
        expect(aors).toEqual([`sip:alice@${domain}`, `sip:bob@${domain}`]);
      } finally {
        await db.end();
      }

      // The second worker dies: the launcher starts it again, and registrations still pass.
      process.kill(secondPid, 'SIGKILL');
      await run.waitForLog('sip-core worker exited; starting it again', 30_000);
      const restarted = await until(
        'worker 2 running again',
        () => {
          const pid = secondWorkerPids(run!.output()).at(-1);
          return pid !== undefined && pid !== secondPid ? pid : undefined;
        },
        60_000,
      );
      workerPids.add(restarted);
      for (const user of ['bob', 'alice']) await register(user);

      expect(await stop(run)).toBe(0);
      expect(await running(restarted)).toBe(false);
    }, 600_000);
  },
);
