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
    const writer = new CdrWriter(testDb.db.prisma, 'node-a', pino({ level: 'silent' }));
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

  it('closes the rows a crashed run left open on start-up, answered ones billed to the restart', async () => {
    const crashed = new CdrWriter(testDb.db.prisma, 'node-b', pino({ level: 'silent' }));
    const ringing = await crashed.start(start('c2'));
    const talking = await crashed.start(start('c3'));
    await crashed.answered(talking, new Date('2026-01-01T10:00:10Z'));
    const other = await new CdrWriter(testDb.db.prisma, 'node-c', pino({ level: 'silent' })).start(
      start('c4'),
    );

    const restarted = new CdrWriter(testDb.db.prisma, 'node-b', pino({ level: 'silent' }));
    expect(await restarted.reconcile(new Date('2026-01-01T10:00:40Z'))).toBe(2);
    const byId = async (id: string | undefined) =>
      testDb.db.prisma.cdr.findUnique({ where: { id: id ?? '' } });
    expect(await byId(ringing)).toMatchObject({
      disposition: 'failed',
      sipReason: RECONCILED,
      durationMs: 0,
    });
    expect(await byId(talking)).toMatchObject({
      disposition: 'answered',
      sipReason: RECONCILED,
      durationMs: 30_000,
    });
    // Another node's calls are its own business.
    expect(await byId(other)).toMatchObject({ sipReason: IN_PROGRESS });
  });
});
