import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openDatabase, seedDemo } from '@switchboard/db';
import {
  allocatePort,
  expectSippOk,
  type SippRun,
  startSipp,
  stopAllSipp,
  until,
} from '@switchboard/testkit';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiBase, type Launched, LOOPBACK_ENV, launch } from './support/launcher-process.ts';
import { leftRtpengine } from './support/processes.ts';
import { createScratchDatabase, type ScratchDatabase } from './support/scratch-database.ts';

/**
 * Two nodes as two `switchboard start` processes, node-a on 127.0.0.2 and node-b on 127.0.0.3, sharing
 * one PostgreSQL database and one Redis (docs/scaling.md, "Several nodes"). alice registers on node-a
 * and bob's call placed on node-b reaches her through node-a's engine. Then node-a is killed with
 * SIGKILL (no shutdown: whatever it held in memory is gone); alice registers on node-b, and bob's next
 * call reaches her there.
 */

const SCENARIOS = fileURLToPath(new URL('./sipp/', import.meta.url));
const PASSWORD = 'demo-password-1';
const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

interface NodeSpec {
  name: string;
  host: string;
  port: number;
  rtpPorts: string;
}

describe('two nodes as two processes, one of them killed', () => {
  let database: ScratchDatabase;
  let db: pg.Client | undefined;
  const dataDirs: string[] = [];
  const runs = new Map<string, Launched>();

  beforeAll(async () => {
    database = await createScratchDatabase('cluster_kill');
  });
  afterAll(async () => {
    stopAllSipp();
    for (const run of runs.values()) run.child.kill('SIGKILL');
    await Promise.all([...runs.values()].map((run) => run.exited));
    // Each launcher started an rtpengine; the one of a killed launcher outlives it.
    for (const dir of dataDirs) {
      const left = await leftRtpengine(dir);
      if (left) process.kill(left, 'SIGKILL');
      await rm(dir, { recursive: true, force: true });
    }
    await db?.end();
    await database?.drop();
  });

  it('bob reaches alice through node-a, then, node-a killed, on node-b where she registered again', async () => {
    const seedDir = await mkdtemp(join(tmpdir(), 'switchboard-seed-'));
    dataDirs.push(seedDir);
    const seedDb = await openDatabase({ databaseUrl: database.url, dataDir: seedDir });
    await seedDb.migrate();
    const { subscribers } = await seedDemo(seedDb.prisma, { password: PASSWORD });
    await seedDb.close();
    const domain = subscribers.find((s) => s.username === 'alice')!.domain;
    db = new pg.Client({ connectionString: database.url });
    await db.connect();

    const nodes: NodeSpec[] = [
      { name: 'node-a', host: '127.0.0.2', port: await allocatePort(), rtpPorts: '41800-41898' },
      { name: 'node-b', host: '127.0.0.3', port: await allocatePort(), rtpPorts: '41900-41998' },
    ];
    // The same on every node: the cluster's members, one Redis key space, one nonce secret.
    const shared = {
      ...LOOPBACK_ENV,
      DATABASE_URL: database.url,
      REDIS_URL,
      REDIS_KEY_PREFIX: `test:${randomUUID()}:`,
      SIP_NONCE_SECRET: randomBytes(24).toString('hex'),
      SIP_CLUSTER_NODES: nodes.map((n) => `${n.name}=${n.host}:${n.port}`).join(','),
      SIP_CORE_WORKERS: '1',
      ADMIN_EMAIL: 'ops@example.com',
      ADMIN_PASSWORD: 'a-very-good-password',
    };
    for (const node of nodes) {
      const dataDir = await mkdtemp(join(tmpdir(), `switchboard-${node.name}-`));
      dataDirs.push(dataDir);
      const env = {
        ...shared,
        DATA_DIR: dataDir,
        SIP_CORE_NODE_NAME: node.name,
        SIP_LISTEN: `udp:${node.host}:${node.port}`,
        SIP_ADVERTISED_ADDRESS: node.host,
        RTP_PORTS: node.rtpPorts,
      };
      const run = launch(['start'], env);
      runs.set(node.name, run);
      // One after the other: each launcher picks free loopback ports for its rtpengine as it starts.
      await apiBase(run, 180_000);
    }
    const [nodeA, nodeB] = nodes as [NodeSpec, NodeSpec];
    const at = (node: NodeSpec): string => `${node.host}:${node.port}`;

    const alicePort = await allocatePort({ count: 3 });
    /** alice registers on `node` from her one SIP port; resolves once the table has her binding of it. */
    const registerAlice = async (node: NodeSpec, controlPort: number): Promise<void> => {
      const register = startSipp({
        scenario: 'register.xml',
        scenarioDir: SCENARIOS,
        port: alicePort,
        controlPort,
        remote: at(node),
        fields: ['alice', `[authentication username=alice password=${PASSWORD}]`, domain],
        authUri: domain,
      });
      expectSippOk(await register.done, `register alice on ${node.name}`);
      await until(`alice's binding of ${node.name} in the table`, async () => {
        const { rows } = await db!.query<{ node: string }>(`SELECT node FROM registrations WHERE aor = $1`, [
          `sip:alice@${domain}`,
        ]);
        return rows.length === 1 && rows[0]!.node === node.name ? true : undefined;
      });
    };
    /** CDRs of calls already seen answered. */
    const seen = new Set<string>();
    /** bob calls alice through node-b and stays in the call; resolves with the new call's CDR once answered. */
    const bobCallsAlice = async (): Promise<{ id: string; node: string }> => {
      const bobPort = await allocatePort({ count: 2 });
      const call = startSipp({
        scenario: 'uac-call-stay.xml',
        scenarioDir: SCENARIOS,
        port: bobPort,
        controlPort: bobPort + 1,
        remote: at(nodeB),
        fields: ['bob', `[authentication username=bob password=${PASSWORD}]`, domain, 'alice'],
        authUri: `alice@${domain}`,
        timeoutS: 120,
      });
      const cdr = await until(
        'the call answered',
        async () =>
          (
            await db!.query<{ id: string; node: string }>(
              // bob calls no one but alice; a call's callee is filled in when it ends.
              'SELECT id, node FROM cdrs WHERE answered_at IS NOT NULL',
            )
          ).rows.find((row) => !seen.has(row.id)),
        60_000,
      ).catch(async (error: Error) => {
        call.stop();
        const cdrs = await db!.query(
          'SELECT node, sip_code, sip_reason, disposition, callee_subscriber_id, answered_at FROM cdrs',
        );
        throw new Error(
          `${error.message}\n${diagnostics()}\ncdrs: ${JSON.stringify(cdrs.rows)}\nbob's sipp:\n${(await call.done).output.slice(-3000)}`,
        );
      });
      seen.add(cdr.id);
      return cdr;
    };
    /** What the nodes logged above info, and the calls the table has: for a failure's message. */
    const diagnostics = (): string =>
      [...runs]
        .map(([name, run]) => {
          const events = run
            .output()
            .split('\n')
            .filter((line) => /^\{"level":[4-6]0/.test(line))
            .slice(-10);
          return `${name}:\n${events.join('\n')}`;
        })
        .join('\n');
    const answer = (scenario: string, controlPort: number): SippRun =>
      startSipp({ scenario, scenarioDir: SCENARIOS, port: alicePort, controlPort, timeoutS: 120 });

    // Before: alice's binding is node-a's, and the INVITE reaches her from node-a's engine (the
    // scenario fails the call otherwise).
    await registerAlice(nodeA, alicePort + 1);
    const throughA = answer('uas-answer-stay-through-node-a.xml', alicePort + 2);
    await throughA.listening();
    const first = await bobCallsAlice();
    expect(first.node).toBe('node-b');

    // node-a dies without a word; the device fails over to the node left (DNS SRV, RFC 3263).
    const killed = runs.get('node-a')!;
    killed.child.kill('SIGKILL');
    await killed.exited;
    throughA.stop();
    await throughA.done;
    await registerAlice(nodeB, alicePort + 1);
    const onB = answer('uas-answer-stay.xml', alicePort + 2);
    await onB.listening();
    const second = await bobCallsAlice();
    expect(second.node).toBe('node-b');
    expect(second.id).not.toBe(first.id);
  }, 420_000);
});
