import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase } from '@switchboard/db';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CdrWriter, IN_PROGRESS, RECONCILED } from '../../src/cdr/cdr-writer.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';

let testDb: TestDatabase;
beforeAll(async () => {
  testDb = await createTestDatabase();
}, 60_000);
afterAll(async () => {
  await testDb?.drop();
});

const start = (callId: string) => ({
  callId,
  aLegId: callId,
  direction: 'internal' as const,
  callerDialled: 'sip:alice@example.test',
  calleeDialled: 'sip:bob@example.test',
  startedAt: new Date('2026-01-01T10:00:00Z'),
  sourceAddress: 'udp:192.0.2.1:5060',
});

describe('CDR writer', () => {
  it('writes the attempt at start and completes the same row at the end', async () => {
    const writer = new CdrWriter(testDb.db, 'node-a', pino({ level: 'silent' }));
    const id = await writer.start(start('c1'));
    expect(await testDb.db.prisma.cdr.findUnique({ where: { id } })).toMatchObject({
      sipReason: IN_PROGRESS,
    });
    await writer.finish(id, start('c1'), {
      answeredAt: new Date('2026-01-01T10:00:05Z'),
      endedAt: new Date('2026-01-01T10:01:05Z'),
      disposition: 'answered',
      sipCode: 200,
      sipReason: 'Caller hung up',
    });
    const rows = await testDb.db.prisma.cdr.findMany({ where: { callId: 'c1' } });
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ disposition: 'answered', durationMs: 60_000, sipCode: 200 });
  });

  it('closes the rows a crashed run left open on start-up at their last heartbeat, not at the restart', async () => {
    const crashed = new CdrWriter(testDb.db, 'node-b', pino({ level: 'silent' }));
    const ringing = await crashed.start(start('c2'));
    const talking = await crashed.start(start('c3'));
    await crashed.answered(talking, new Date('2026-01-01T10:00:10Z'));
    const other = await new CdrWriter(testDb.db, 'node-c', pino({ level: 'silent' })).start(start('c4'));
    // The node was last known running at 10:00:40; it then died without a word.
    await crashed.beat(new Date('2026-01-01T10:00:40Z'));

    const restarted = new CdrWriter(testDb.db, 'node-b', pino({ level: 'silent' }));
    expect(await restarted.reconcile()).toBe(2);
    const byId = async (id: string | undefined) =>
      testDb.db.prisma.cdr.findUnique({ where: { id: id ?? '' } });
    expect(await byId(ringing)).toMatchObject({
      disposition: 'failed',
      sipReason: RECONCILED,
      durationMs: 0,
      endedAt: new Date('2026-01-01T10:00:40Z'),
    });
    expect(await byId(talking)).toMatchObject({
      disposition: 'answered',
      sipReason: RECONCILED,
      durationMs: 30_000,
      endedAt: new Date('2026-01-01T10:00:40Z'),
    });
    // Another node's calls are its own business.
    expect(await byId(other)).toMatchObject({ sipReason: IN_PROGRESS });
  });

  it('writes the answer times of calls answered together in one batch, never over a finished row', async () => {
    const writer = new CdrWriter(testDb.db, 'node-e', pino({ level: 'silent' }));
    const [a, b, c] = await Promise.all(['c7', 'c8', 'c9'].map((id) => writer.start(start(id))));
    const answeredA = writer.answered(a, new Date('2026-01-01T10:00:01Z'));
    const answeredB = writer.answered(b, new Date('2026-01-01T10:00:02Z'));
    const answeredC = writer.answered(c, new Date('2026-01-01T10:00:03Z'));
    // c ends before its answer was written: the final update carries the answer, the batch leaves it alone.
    await writer.finish(c, start('c9'), {
      answeredAt: new Date('2026-01-01T10:00:03Z'),
      endedAt: new Date('2026-01-01T10:00:09Z'),
      disposition: 'answered',
      sipCode: 200,
      sipReason: 'OK',
    });
    await Promise.all([answeredA, answeredB, answeredC]);
    const byId = async (id: string | undefined) =>
      testDb.db.prisma.cdr.findUnique({ where: { id: id ?? '' } });
    expect(await byId(a)).toMatchObject({
      answeredAt: new Date('2026-01-01T10:00:01Z'),
      sipReason: IN_PROGRESS,
    });
    expect(await byId(b)).toMatchObject({
      answeredAt: new Date('2026-01-01T10:00:02Z'),
      sipReason: IN_PROGRESS,
    });
    expect(await byId(c)).toMatchObject({ answeredAt: new Date('2026-01-01T10:00:03Z'), durationMs: 6_000 });
    // A later answer starts a new batch.
    const d = await writer.start(start('c10'));
    await writer.answered(d, new Date('2026-01-01T10:00:04Z'));
    expect((await byId(d))?.answeredAt).toEqual(new Date('2026-01-01T10:00:04Z'));
    await writer.stop();
  });

  it('completes calls ended together in one batch, keeping what the end does not name', async () => {
    const writer = new CdrWriter(testDb.db, 'node-e', pino({ level: 'silent' }));
    const group = await testDb.db.prisma.peeringGroup.create({ data: { name: 'cdr-batch' } });
    const gateway = await testDb.db.prisma.peerGateway.create({
      data: { groupId: group.id, name: 'gw-cdr-batch', host: '192.0.2.50' },
    });
    // An inbound call's gateway is written at the start; its end names none.
    const inbound = await writer.start({ ...start('c11'), direction: 'inbound', peerGatewayId: gateway.id });
    const forwarded = await writer.start(start('c12'));
    await Promise.all([
      writer.finish(inbound, start('c11'), {
        answeredAt: new Date('2026-01-01T10:00:02Z'),
        endedAt: new Date('2026-01-01T10:00:12Z'),
        disposition: 'answered',
        sipCode: 200,
        sipReason: 'Callee hung up',
        mediaStats: { a: { packetsReceived: 500 } },
      }),
      writer.finish(forwarded, start('c12'), {
        calleeRouted: 'sip:carol@example.test',
        forwardedFrom: 'sip:bob@example.test',
        forwardType: 'cfb',
        endedAt: new Date('2026-01-01T10:00:06Z'),
        disposition: 'no_answer',
        sipCode: 480,
        sipReason: 'Temporarily Unavailable',
        pushWaitMs: 1200,
      }),
    ]);
    const byId = async (id: string | undefined) =>
      testDb.db.prisma.cdr.findUnique({ where: { id: id ?? '' } });
    expect(await byId(inbound)).toMatchObject({
      peerGatewayId: gateway.id,
      answeredAt: new Date('2026-01-01T10:00:02Z'),
      endedAt: new Date('2026-01-01T10:00:12Z'),
      durationMs: 10_000,
      disposition: 'answered',
      sipCode: 200,
      sipReason: 'Callee hung up',
      mediaStats: { a: { packetsReceived: 500 } },
      forwardType: null,
      calleeRouted: null,
    });
    expect(await byId(forwarded)).toMatchObject({
      peerGatewayId: null,
      answeredAt: null,
      endedAt: new Date('2026-01-01T10:00:06Z'),
      durationMs: 0,
      disposition: 'no_answer',
      sipCode: 480,
      calleeRouted: 'sip:carol@example.test',
      forwardedFrom: 'sip:bob@example.test',
      forwardType: 'cfb',
      pushWaitMs: 1200,
      mediaStats: null,
    });
    await writer.stop();
  });

  it('the heartbeat moves only open rows: a finished call keeps its real end', async () => {
    const writer = new CdrWriter(testDb.db, 'node-d', pino({ level: 'silent' }));
    const done = await writer.start(start('c5'));
    const open = await writer.start(start('c6'));
    await writer.finish(done, start('c5'), {
      endedAt: new Date('2026-01-01T10:00:03Z'),
      disposition: 'busy',
      sipCode: 486,
      sipReason: 'Busy Here',
    });
    await writer.beat(new Date('2026-01-01T10:05:00Z'));
    const byId = async (id: string | undefined) =>
      testDb.db.prisma.cdr.findUnique({ where: { id: id ?? '' } });
    expect((await byId(done))?.endedAt).toEqual(new Date('2026-01-01T10:00:03Z'));
    expect(await byId(open)).toMatchObject({
      sipReason: IN_PROGRESS,
      endedAt: new Date('2026-01-01T10:05:00Z'),
    });
    // A clean stop writes a last heartbeat: an open call then ends no later than the stop.
    const before = Date.now();
    await writer.stop();
    expect((await byId(open))!.endedAt.getTime()).toBeGreaterThanOrEqual(before);
  });
});

describe('CDR writer on the embedded database', () => {
  it('inserts, answers and completes a call through the PGlite backend as through the pool', async () => {
    const scratch = await mkdtemp(join(tmpdir(), 'cdr-pglite-'));
    const db = await openDatabase({ dataDir: scratch, inMemory: true });
    try {
      await db.migrate();
      const writer = new CdrWriter(db, 'node-embedded', pino({ level: 'silent' }));
      const id = await writer.start({ ...start('e1'), callerWithheld: true });
      await writer.answered(id, new Date('2026-01-01T10:00:05Z'));
      await writer.flushAnswers();
      expect(await db.prisma.cdr.findUnique({ where: { id } })).toMatchObject({
        sipReason: IN_PROGRESS,
        answeredAt: new Date('2026-01-01T10:00:05Z'),
      });
      await writer.finish(id, start('e1'), {
        answeredAt: new Date('2026-01-01T10:00:05Z'),
        endedAt: new Date('2026-01-01T10:01:05Z'),
        disposition: 'answered',
        sipCode: 200,
        sipReason: 'Caller hung up',
        mediaStats: { a: { packetsReceived: 3000 } },
      });
      await writer.stop();
      expect(await db.prisma.cdr.findMany({ where: { callId: 'e1' } })).toMatchObject([
        {
          node: 'node-embedded',
          callerWithheld: true,
          startedAt: new Date('2026-01-01T10:00:00Z'),
          answeredAt: new Date('2026-01-01T10:00:05Z'),
          endedAt: new Date('2026-01-01T10:01:05Z'),
          disposition: 'answered',
          durationMs: 60_000,
          mediaStats: { a: { packetsReceived: 3000 } },
        },
      ]);
    } finally {
      await db.close();
      await rm(scratch, { recursive: true, force: true });
    }
  }, 60_000);
});
