import { PUBLICATIONS_CHANNEL } from '@switchboard/db';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { SharedPublications } from '../../src/presence/shared-publications.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';

/** Presence publications announced between processes through a real PostgreSQL's NOTIFY. */

const log = pino({ level: 'silent' });
let testDb: TestDatabase;
let stop: (() => Promise<void>) | undefined;
const payloads: string[] = [];

beforeAll(async () => {
  testDb = await createTestDatabase();
  stop = await testDb.db.onChange(PUBLICATIONS_CHANNEL, (payload) => payloads.push(payload));
});

afterAll(async () => {
  await stop?.();
  await testDb.drop();
});

describe('SharedPublications', () => {
  it('passes a change to the other processes, not back to its own, and refuses what is not one', async () => {
    const here = new SharedPublications(testDb.db.prisma, 'worker-1', log);
    const there = new SharedPublications(testDb.db.prisma, 'worker-2', log);
    const put = { etag: 'e2', body: '<presence/>', expiresAt: 1_700_000_060_000 };
    here.announce({ presentityId: 'sub-1', put, drop: 'e1' });
    await vi.waitFor(() => expect(payloads).toHaveLength(1), { timeout: 5_000, interval: 20 });
    const payload = payloads[0] as string;
    expect(there.heard(payload)).toEqual({ presentityId: 'sub-1', put, drop: 'e1' });
    expect(here.heard(payload)).toBeUndefined();
    expect(there.heard('{')).toBeUndefined();
    expect(
      there.heard(JSON.stringify({ origin: 'x', presentityId: 'sub-1', put: { etag: 1 } })),
    ).toBeUndefined();
    expect(there.heard(JSON.stringify({ origin: 'x', presentityId: 'sub-1', drop: 7 }))).toBeUndefined();
  });

  it('a document too large for a notification stays with its process; the entity tag it replaces is still dropped', async () => {
    payloads.length = 0;
    const here = new SharedPublications(testDb.db.prisma, 'worker-1', log);
    const there = new SharedPublications(testDb.db.prisma, 'worker-2', log);
    const large = { etag: 'e3', body: `<presence>${'x'.repeat(9000)}</presence>`, expiresAt: 1 };
    here.announce({ presentityId: 'sub-1', put: large, drop: 'e2' });
    here.announce({ presentityId: 'sub-1', put: { ...large, etag: 'e4' } });
    here.announce({ presentityId: 'sub-1', drop: 'e4' });
    await vi.waitFor(() => expect(payloads).toHaveLength(2), { timeout: 5_000, interval: 20 });
    expect(payloads.map((p) => there.heard(p))).toEqual([
      { presentityId: 'sub-1', drop: 'e2' },
      { presentityId: 'sub-1', drop: 'e4' },
    ]);
  });
});
