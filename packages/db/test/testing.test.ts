import { afterAll, describe, expect, it } from 'vitest';
import type { Database } from '../src/client.ts';
import { createTestDatabase, openTestDatabase } from '../src/testing.ts';

describe('@switchboard/db/testing', () => {
  const opened: Database[] = [];
  afterAll(async () => {
    await Promise.all(opened.map((db) => db.close()));
  });

  it.each<Database['kind']>(['postgres', 'pglite'])('opens a migrated private %s database', async (kind) => {
    const db = await openTestDatabase(kind, 'testing');
    opened.push(db);
    expect(db.kind).toBe(kind);
    expect(await db.prisma.subscriber.count()).toBe(0);
    expect((await db.migrate()).applied).toEqual([]);
  });

  it('drops the PostgreSQL database on close', async () => {
    const created = await createTestDatabase('dropcheck');
    await created.drop();
    const db = await openTestDatabase('postgres', 'dropcheck');
    const name = (await db.prisma.$queryRaw<{ name: string }[]>`SELECT current_database() AS name`)[0]!.name;
    await db.close();
    const probe = await openTestDatabase('postgres', 'probe');
    opened.push(probe);
    const left = await probe.prisma.$queryRaw<
      { n: bigint }[]
    >`SELECT count(*) AS n FROM pg_database WHERE datname = ${name}`;
    expect(Number(left[0]!.n)).toBe(0);
  });

  it('refuses labels that are not safe identifiers', async () => {
    await expect(createTestDatabase('bad"label')).rejects.toThrow(/label must match/);
  });
});
