import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ClusterNode } from '@switchboard/config';
import type { CdrMediaStats } from '@switchboard/db';
import { type RunningEngine, startEngine } from '@switchboard/engine';
import type { ResolvedMedia } from '@switchboard/media';
import { type CallingSoftphone, startBaresip, writeToneWav } from '@switchboard/testkit';
import { pino } from 'pino';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { IN_PROGRESS } from '../../src/cdr/cdr-writer.ts';
import { type RunningSipCore, startSipCore } from '../../src/start.ts';
import {
  createSubscriber,
  createTenant,
  createTestDatabase,
  type TestDatabase,
  type TestTenant,
} from '../support/database.ts';
import { describeOnEngine, onEngine } from '../support/engine.ts';
import { expectTone } from './support/audio.ts';
import { allocatePort, expectSippOk, runSipp, stopAllSipp } from './support/sipp.ts';
import { callFields, DOMAIN, startRtpengine } from './support/stack.ts';

/**
 * Two nodes, each an engine and a sip-core, on 127.0.0.2 (node-a) and 127.0.0.3 (node-b), sharing one
 * PostgreSQL database, one Redis and one rtpengine (docs/scaling.md, "Several nodes"). alice's baresip
 * registers over TCP on node-a: her flow is a connection only node-a's engine holds. bob's baresip
 * registers over UDP on node-b. A call placed on one node to a device of the other goes through the
 * other node's engine (a Route with the device's flow token; that engine Record-Routes), so calls work
 * both ways with media, and so does a MESSAGE; a customer's limit of one call holds across the nodes;
 * when node-a dies, alice registers on node-b and is called there.
 */

const log = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const SECRET = 'two-nodes-secret';
const ALICE_TONE = 440;
const BOB_TONE = 1000;
const TALK_SECONDS = 3;

interface Node {
  name: string;
  host: string;
  engine: RunningEngine;
  sipCore?: RunningSipCore;
  port(transport: 'udp' | 'tcp'): number;
}

let testDb: TestDatabase;
let tenant: TestTenant;
let media: ResolvedMedia;
let audioDir: string;
const subscribers = new Map<string, string>();
const nodes: Node[] = [];
const phones: CallingSoftphone[] = [];

async function startNode(name: string, host: string): Promise<Node> {
  const engine = await startEngine(
    {
      sipListen: [
        { transport: 'udp', host, port: 0 },
        { transport: 'tcp', host, port: 0 },
      ],
      engineAdmin: { host: '127.0.0.1', port: 0 },
      engineSecret: SECRET,
      clusterPeers: ['127.0.0.2', '127.0.0.3'],
    },
    { logger: log.child({ node: name }) },
  );
  const port = (transport: 'udp' | 'tcp'): number =>
    engine.listeners.find((listener) => listener.transport === transport)!.port;
  return { name, host, engine, port };
}

beforeAll(async () => {
  testDb = await createTestDatabase();
  tenant = await createTenant(testDb.db, DOMAIN);
  for (const user of ['alice', 'bob', 'carol'])
    subscribers.set(user, await createSubscriber(testDb.db, tenant, user, `${user}-secret`));
  audioDir = mkdtempSync(join(tmpdir(), 'sipcore-two-nodes-'));
  writeToneWav(join(audioDir, 'alice.wav'), ALICE_TONE, 120);
  writeToneWav(join(audioDir, 'bob.wav'), BOB_TONE, 120);
  media = await startRtpengine();
  nodes.push(await startNode('node-a', '127.0.0.2'), await startNode('node-b', '127.0.0.3'));
  // SIP_CLUSTER_NODES: the same list on every node.
  const cluster: ClusterNode[] = nodes.map((n) => ({ name: n.name, host: n.host, port: n.port('udp') }));
  const keyPrefix = `test:${randomUUID()}:`;
  const nonceSecret = randomBytes(24).toString('hex');
  for (const node of nodes)
    node.sipCore = await startSipCore(
      {
        drachtio: { host: '127.0.0.1', port: node.engine.adminAddress.port, secret: SECRET },
        nodeName: node.name,
        clusterNodes: cluster,
        redis: { url: REDIS_URL, keyPrefix },
        auth: { algorithms: ['MD5'], nonceSecret },
        access: { rateLimitPerSecond: 0 },
        nat: { keepaliveInterval: 0 },
      },
      { prisma: testDb.db.prisma, db: testDb.db, logger: log.child({ node: node.name }), media: media.media },
    );
}, 120_000);

afterAll(async () => {
  stopAllSipp();
  for (const phone of phones.splice(0)) phone.stop();
  for (const node of nodes) {
    await node.sipCore?.close();
    await node.engine.close();
  }
  await media?.stop();
  await testDb?.drop();
  if (audioDir) rmSync(audioDir, { recursive: true, force: true });
}, 60_000);

const prisma = () => testDb.db.prisma;
const nodeA = () => nodes[0]!;
const nodeB = () => nodes[1]!;

/** A baresip for `user` registered on `node` over `transport`, sending its tone; bounded wait for the binding. */
async function phoneOn(
  user: 'alice' | 'bob',
  node: Node,
  transport: 'udp' | 'tcp',
): Promise<CallingSoftphone> {
  const phone = await startBaresip(
    {
      user,
      domain: DOMAIN,
      password: `${user}-secret`,
      registrar: `${node.host}:${node.port(transport)}`,
      transport,
    },
    { play: join(audioDir, `${user}.wav`) },
  );
  phones.push(phone);
  // Every node holds every binding (the change feed); the new one records the node that took it.
  await vi.waitFor(
    () => {
      for (const other of nodes) {
        if (!other.sipCore) continue;
        const bindings = other.sipCore.location.lookup(`sip:${user}@${DOMAIN}`);
        expect(
          bindings.some((b) => b.node === node.name && b.transport === transport),
          phone.output().slice(-2000),
        ).toBe(true);
      }
    },
    { timeout: 20_000, interval: 200 },
  );
  return phone;
}

/** Bounded wait for the newest CDR to be completed; exactly one new row per call. */
async function completedCdr(before: number) {
  return vi.waitFor(
    async () => {
      const rows = await prisma().cdr.findMany({ orderBy: { createdAt: 'desc' } });
      expect(rows.length).toBeGreaterThan(before);
      expect(rows[0]!.sipReason).not.toBe(IN_PROGRESS);
      expect(rows).toHaveLength(before + 1);
      return rows[0]!;
    },
    { timeout: 15_000, interval: 100 },
  );
}

/** `caller` dials `callee`, both talk, `caller` hangs up; resolves with the completed CDR. */
async function talk(caller: CallingSoftphone, callee: CallingSoftphone, calleeUser: string) {
  const before = await prisma().cdr.count();
  caller.dial(`sip:${calleeUser}@${DOMAIN}`);
  await Promise.all([caller.waitFor('established', 20_000), callee.waitFor('established', 20_000)]);
  await new Promise((resolve) => setTimeout(resolve, TALK_SECONDS * 1000));
  caller.hangup();
  await Promise.all([caller.waitFor('closed', 20_000), callee.waitFor('closed', 20_000)]);
  return completedCdr(before);
}

function expectRelayed(stats: CdrMediaStats | null): void {
  expect(stats?.a?.packetsReceived, JSON.stringify(stats)).toBeGreaterThan(30);
  expect(stats?.b?.packetsReceived, JSON.stringify(stats)).toBeGreaterThan(30);
}

describeOnEngine(onEngine('two nodes sharing PostgreSQL and Redis'), { timeout: 120_000 }, () => {
  let alice: CallingSoftphone;
  let bob: CallingSoftphone;

  it("bob on node-b calls alice, whose TCP flow is node-a's: through node-a's engine, with media both ways", async () => {
    alice = await phoneOn('alice', nodeA(), 'tcp');
    bob = await phoneOn('bob', nodeB(), 'udp');
    const cdr = await talk(bob, alice, 'alice');
    expect(cdr).toMatchObject({
      disposition: 'answered',
      sipCode: 200,
      callerSubscriberId: subscribers.get('bob'),
      calleeSubscriberId: subscribers.get('alice'),
      node: 'node-b',
    });
    expectRelayed(cdr.mediaStats as CdrMediaStats | null);
    expectTone(alice.recording(), BOB_TONE, ALICE_TONE, { minSeconds: 1.5 });
    expectTone(bob.recording(), ALICE_TONE, BOB_TONE, { minSeconds: 1.5 });
    // The B leg's way: in at node-a's engine from node-b, out on alice's TCP flow, Record-Routed with
    // the flow's token; nothing of it went from node-b to alice directly.
    const invites = nodeA()
      .engine.capture.ladder([cdr.bLegId!])
      .filter((m) => m.startLine.startsWith('INVITE '));
    expect(invites.find((m) => m.direction === 'in')?.source).toMatch(/^127\.0\.0\.3:/);
    const out = invites.find((m) => m.direction === 'out');
    expect(out).toMatchObject({ transport: 'tcp', destination: expect.stringMatching(/^127\.0\.0\.1:/) });
    expect(out?.message).toMatch(/Record-Route: <sip:flow-[\w-]+@127\.0\.0\.2:\d+;transport=tcp;lr>/i);
    expect(
      nodeB()
        .engine.capture.ladder([cdr.bLegId!])
        .every((m) => !m.destination.startsWith('127.0.0.1:')),
    ).toBe(true);
  });

  it('alice on node-a calls bob on node-b: through node-b, with media both ways', async () => {
    const cdr = await talk(alice, bob, 'bob');
    expect(cdr).toMatchObject({
      disposition: 'answered',
      sipCode: 200,
      callerSubscriberId: subscribers.get('alice'),
      calleeSubscriberId: subscribers.get('bob'),
      node: 'node-a',
    });
    expectRelayed(cdr.mediaStats as CdrMediaStats | null);
    expectTone(bob.recording(), ALICE_TONE, BOB_TONE, { minSeconds: 1.5 });
  });

  it("a MESSAGE placed on node-b reaches alice's TCP flow through node-a", async () => {
    const sent = runSipp({
      scenario: 'uac-message.xml',
      port: await allocatePort(),
      remote: `${nodeB().host}:${nodeB().port('udp')}`,
      fields: callFields('carol', 'carol-secret', 'alice'),
      authUri: `alice@${DOMAIN}`,
      timeoutS: 20,
    });
    expectSippOk(await sent.done, 'uac-message.xml');
    // The 200 came from alice's phone (the platform answers 200 only once a device took it), which only
    // node-a's engine can reach, on her TCP connection.
    await vi.waitFor(
      async () => {
        const stored = await prisma().message.findFirst({
          where: {
            senderSubscriberId: subscribers.get('carol'),
            recipientSubscriberId: subscribers.get('alice'),
          },
        });
        expect(stored).toMatchObject({ status: 'delivered' });
      },
      { timeout: 10_000, interval: 100 },
    );
  });

  it("a customer's limit of one call holds across the nodes", async () => {
    const customerId = tenant.customerId;
    await prisma().customer.update({ where: { id: customerId }, data: { maxConcurrentCalls: 1 } });
    const carolId = subscribers.get('carol')!;
    await vi.waitFor(
      () => {
        for (const node of nodes)
          expect(node.sipCore!.caches.directory.subscriberById(carolId)?.customer.maxConcurrentCalls).toBe(1);
      },
      { timeout: 10_000, interval: 50 },
    );
    // alice's call on node-a holds the customer's one room...
    alice.dial(`sip:bob@${DOMAIN}`);
    await Promise.all([alice.waitFor('established', 20_000), bob.waitFor('established', 20_000)]);
    expect(nodeA().sipCore!.activeCalls()).toHaveLength(1);
    // ...so carol's call, placed on node-b, is refused there.
    const refused = runSipp({
      scenario: 'uac-call-rejected.xml',
      port: await allocatePort(),
      remote: `${nodeB().host}:${nodeB().port('udp')}`,
      fields: callFields('carol', 'carol-secret', 'alice'),
      authUri: `alice@${DOMAIN}`,
      timeoutS: 20,
    });
    expectSippOk(await refused.done, 'uac-call-rejected.xml');
    const refusal = await vi.waitFor(
      async () => {
        const row = await prisma().cdr.findFirst({ where: { sipCode: 503 } });
        expect(row).toMatchObject({ callerSubscriberId: carolId, node: 'node-b' });
        return row!;
      },
      { timeout: 10_000, interval: 100 },
    );
    expect(refusal.sipReason).toBe('Service Unavailable');
    alice.hangup();
    await Promise.all([alice.waitFor('closed', 20_000), bob.waitFor('closed', 20_000)]);
    await prisma().customer.update({ where: { id: customerId }, data: { maxConcurrentCalls: null } });
  });

  it('node-a dies: alice registers on node-b and is called there', async () => {
    const a = nodeA();
    await a.sipCore!.close();
    a.sipCore = undefined;
    await a.engine.close();
    alice.stop();
    // The device fails over (DNS SRV, RFC 3263) to the node left: a fresh registration over TCP there.
    const aliceAgain = await phoneOn('alice', nodeB(), 'tcp');
    const cdr = await talk(bob, aliceAgain, 'alice');
    expect(cdr).toMatchObject({
      disposition: 'answered',
      sipCode: 200,
      calleeSubscriberId: subscribers.get('alice'),
      node: 'node-b',
    });
    expectTone(aliceAgain.recording(), BOB_TONE, ALICE_TONE, { minSeconds: 1.5 });
  });
});
