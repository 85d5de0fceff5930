import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHANGES_CHANNEL, parseTableChange, type TableChange } from '../src/changes.ts';
import { type Database, openDatabase } from '../src/client.ts';
import { sipHa1 } from '../src/credentials.ts';
import { readMigrations } from '../src/migrations.ts';
import { DEMO_DOMAIN, seedDemo } from '../src/seed.ts';
import { readGeneratedModel } from './generated-model.ts';
import { copyMigrations, createTestDatabase, type TestDatabase, tempDir } from './helpers.ts';

type Kind = Database['kind'];

/** Collects parsed change notifications and lets a test wait (bounded) for a matching one. */
class ChangeLog {
  readonly changes: TableChange[] = [];
  readonly #waiters = new Set<() => void>();

  push = (payload: string): void => {
    const change = parseTableChange(payload);
    if (!change) return;
    this.changes.push(change);
    for (const wake of this.#waiters) wake();
  };

  /** The first change (received so far or later) that matches. */
  async find(match: (change: TableChange) => boolean, timeoutMs = 15_000): Promise<TableChange> {
    const found = () => this.changes.find(match);
    const already = found();
    if (already) return already;
    return new Promise((resolve, reject) => {
      const wake = () => {
        const change = found();
        if (!change) return;
        clearTimeout(timer);
        this.#waiters.delete(wake);
        resolve(change);
      };
      const timer = setTimeout(() => {
        this.#waiters.delete(wake);
        reject(new Error(`no matching change within ${timeoutMs} ms; got ${JSON.stringify(this.changes)}`));
      }, timeoutMs);
      this.#waiters.add(wake);
    });
  }
}

describe.each<Kind>(['postgres', 'pglite'])('database on %s', (kind) => {
  let pgDatabase: TestDatabase | undefined;
  let scratch: Awaited<ReturnType<typeof tempDir>>;
  let migrationsDir: string;
  let db: Database;
  const open = () =>
    openDatabase({ databaseUrl: pgDatabase?.url, dataDir: path.join(scratch.dir, 'data'), migrationsDir });

  beforeAll(async () => {
    scratch = await tempDir(`database-${kind}`);
    migrationsDir = await copyMigrations(scratch.dir);
    if (kind === 'postgres') pgDatabase = await createTestDatabase('client');
    db = await open();
  }, 120_000);

  afterAll(async () => {
    await db?.close();
    await pgDatabase?.drop();
    await scratch?.remove();
  }, 60_000);

  it('opens the requested kind and applies the committed migrations', async () => {
    expect(db.kind).toBe(kind);
    const result = await db.migrate();
    expect(result.applied).toEqual((await readMigrations()).map((m) => m.name));
    expect((await db.migrate()).applied).toEqual([]);
  }, 120_000);

  it('has exactly the tables and columns of the Prisma models', async () => {
    const { tables } = await readGeneratedModel();
    const rows = await db.prisma.$queryRaw<{ table_name: string; column_name: string }[]>`
      SELECT table_name::text, column_name::text FROM information_schema.columns WHERE table_schema = 'public'`;
    const actual = new Map<string, Set<string>>();
    for (const row of rows) {
      if (!actual.has(row.table_name)) actual.set(row.table_name, new Set());
      actual.get(row.table_name)!.add(row.column_name);
    }
    actual.delete('_prisma_migrations');
    expect([...actual.keys()].sort()).toEqual([...tables.keys()].sort());
    for (const [table, columns] of tables) {
      expect([...actual.get(table)!].sort(), table).toEqual([...columns].sort());
    }
  });

  it('writes through Prisma, and the data survives close and reopen', async () => {
    const reseller = await db.prisma.reseller.create({ data: { name: `persist-${kind}` } });
    const customer = await db.prisma.customer.create({
      data: { resellerId: reseller.id, name: 'Persistent Ltd', maxConcurrentCalls: 3 },
    });
    await db.close();
    db = await open();
    const again = await db.prisma.customer.findUniqueOrThrow({
      where: { id: customer.id },
      include: { reseller: true },
    });
    expect(again).toMatchObject({ name: 'Persistent Ltd', maxConcurrentCalls: 3, status: 'active' });
    expect(again.reseller?.name).toBe(`persist-${kind}`);
    expect((await db.migrate()).applied).toEqual([]);
  }, 120_000);

  it('runs parameterised statements through the driver, seen by Prisma at once', async () => {
    const reseller = await db.prisma.reseller.create({ data: { name: `driver-${kind}` } });
    const names = ['Driver One', 'Driver Two'];
    const rows = await db.sql.query<{ name: string; max_concurrent_calls: number | null }>(
      `INSERT INTO customers (id, reseller_id, name, max_concurrent_calls, updated_at)
       SELECT gen_random_uuid(), $1::uuid, name, $3::int, $4::timestamptz FROM unnest($2::text[]) AS name
       RETURNING name, max_concurrent_calls`,
      [reseller.id, names, null, new Date('2026-01-02T03:04:05.678Z').toISOString()],
    );
    expect(rows.map((row) => row.name).sort()).toEqual(names);
    expect(rows.every((row) => row.max_concurrent_calls === null)).toBe(true);
    const seen = await db.prisma.customer.findMany({
      where: { resellerId: reseller.id },
      orderBy: { name: 'asc' },
    });
    expect(seen.map((customer) => [customer.name, customer.updatedAt.toISOString()])).toEqual(
      names.map((name) => [name, '2026-01-02T03:04:05.678Z']),
    );
    await expect(db.sql.query('SELECT * FROM no_such_table')).rejects.toThrow(/no_such_table/);
  });

  it('applies a migration added later, and only that one', async () => {
    const name = '29991231000000_add_probe';
    await mkdir(path.join(migrationsDir, name));
    await writeFile(
      path.join(migrationsDir, name, 'migration.sql'),
      'CREATE TABLE "probe" ("id" INTEGER PRIMARY KEY);\n',
    );
    const result = await db.migrate();
    expect(result.applied).toEqual([name]);
    const booked = await db.prisma.$queryRaw<{ migration_name: string; finished_at: Date | null }[]>`
      SELECT migration_name, finished_at FROM "_prisma_migrations" WHERE migration_name = ${name}`;
    expect(booked).toHaveLength(1);
    expect(booked[0]!.finished_at).toBeInstanceOf(Date);
    await db.prisma.$executeRaw`INSERT INTO "probe" ("id") VALUES (1)`;
  });

  it('refuses a changed applied migration', async () => {
    const [first] = await readMigrations(migrationsDir);
    await writeFile(path.join(migrationsDir, first!.name, 'migration.sql'), `${first!.script}-- changed\n`);
    try {
      await expect(db.migrate()).rejects.toThrow(/modified after it was applied/);
    } finally {
      await writeFile(path.join(migrationsDir, first!.name, 'migration.sql'), first!.script);
    }
    await expect(db.migrate()).resolves.toMatchObject({ applied: [] });
  });

  it('announces committed changes of cached tables through onChange', async () => {
    const log = new ChangeLog();
    const stop = await db.onChange(CHANGES_CHANNEL, log.push);
    try {
      const domain = await db.prisma.domain.create({ data: { name: `notify-${kind}.example` } });
      expect(await log.find((c) => c.table === 'domains' && c.op === 'insert' && c.id === domain.id)).toEqual(
        {
          table: 'domains',
          op: 'insert',
          id: domain.id,
        },
      );
      await db.prisma.domain.update({ where: { id: domain.id }, data: { areaCode: '1' } });
      await log.find((c) => c.table === 'domains' && c.op === 'update' && c.id === domain.id);
      await db.prisma.domain.delete({ where: { id: domain.id } });
      await log.find((c) => c.table === 'domains' && c.op === 'delete' && c.id === domain.id);

      // A customer's status decides whether its subscribers may register: customers are announced.
      const customer = await db.prisma.customer.create({ data: { name: `notify-${kind}` } });
      await log.find((c) => c.table === 'customers' && c.op === 'insert' && c.id === customer.id);
      await db.prisma.customer.update({ where: { id: customer.id }, data: { status: 'locked' } });
      await log.find((c) => c.table === 'customers' && c.op === 'update' && c.id === customer.id);

      // Hit counters of IP bans change per blocked request and must stay quiet; the next
      // notification after bumping one is the following insert.
      const ban = await db.prisma.ipBan.create({ data: { address: '192.0.2.1', createdBy: 'test' } });
      await log.find((c) => c.table === 'ip_bans' && c.op === 'insert' && c.id === ban.id);
      const mark = log.changes.length;
      await db.prisma.ipBan.update({ where: { id: ban.id }, data: { hitCount: { increment: 1 } } });
      const second = await db.prisma.ipBan.create({ data: { address: '192.0.2.2', createdBy: 'test' } });
      await log.find((c) => c.id === second.id);
      expect(log.changes.slice(mark).filter((c) => c.table === 'ip_bans')).toEqual([
        { table: 'ip_bans', op: 'insert', id: second.id },
      ]);
    } finally {
      await stop();
    }
  }, 60_000);

  // PostgreSQL only (PGlite notifies in process, there is no connection to lose); registered
  // conditionally rather than skipped.
  if (kind === 'postgres') {
    it('keeps listening after the listening connection is killed, and says so', async () => {
      const log = new ChangeLog();
      let reconnects = 0;
      const stop = await db.onChange(CHANGES_CHANNEL, log.push, { onReconnect: () => reconnects++ });
      try {
        const killed = await db.prisma.$queryRaw<{ killed: boolean }[]>`
          SELECT pg_terminate_backend(pid) AS killed FROM pg_stat_activity
          WHERE datname = current_database() AND query LIKE 'LISTEN %' AND pid <> pg_backend_pid()`;
        expect(killed).toEqual([{ killed: true }]);
        // Bounded wait for the reconnect, then a change made afterwards must arrive.
        for (let i = 0; i < 300 && reconnects === 0; i++) await new Promise((r) => setTimeout(r, 100));
        expect(reconnects).toBe(1);
        const group = await db.prisma.peeringGroup.create({ data: { name: 'after-reconnect' } });
        await log.find((c) => c.table === 'peering_groups' && c.id === group.id);
      } finally {
        await stop();
      }
    }, 60_000);
  }

  it('enforces one primary number per subscriber', async () => {
    const customer = await db.prisma.customer.create({ data: { name: 'Primary Test' } });
    const domain = await db.prisma.domain.create({ data: { name: `primary-${kind}.example` } });
    const subscriber = await db.prisma.subscriber.create({
      data: {
        customerId: customer.id,
        domainId: domain.id,
        username: 'carol',
        ...sipHa1('carol', domain.name, 'x'),
      },
    });
    const number = (n: string, isPrimary: boolean) =>
      db.prisma.phoneNumber.create({
        data: {
          subscriberId: subscriber.id,
          e164: `+4319${n}`,
          countryCode: '43',
          areaCode: '1',
          subscriberNumber: `9${n}`,
          isPrimary,
        },
      });
    await number('1', true);
    await number('2', false);
    await number('3', false);
    await expect(number('4', true)).rejects.toThrow();
    expect(await db.prisma.phoneNumber.count({ where: { subscriberId: subscriber.id } })).toBe(3);
  });

  it('seeds the demo tenant idempotently with HA1 digests of the printed passwords', async () => {
    const first = await seedDemo(db.prisma);
    expect(first.subscribers.map((s) => [s.username, s.domain, s.number, s.created])).toEqual([
      ['alice', DEMO_DOMAIN, '+4311001', true],
      ['bob', DEMO_DOMAIN, '+4311002', true],
    ]);
    for (const seeded of first.subscribers) {
      expect(seeded.password).toMatch(/^.{16}$/);
      const stored = await db.prisma.subscriber.findUniqueOrThrow({
        where: { id: seeded.id },
        include: { numbers: true, domain: true },
      });
      expect({ ha1Md5: stored.ha1Md5, ha1Sha256: stored.ha1Sha256 }).toEqual(
        sipHa1(seeded.username, DEMO_DOMAIN, seeded.password!),
      );
      expect(stored.numbers).toEqual([expect.objectContaining({ e164: seeded.number, isPrimary: true })]);
      expect(stored.domain).toMatchObject({
        selfSignup: true,
        countryCode: '43',
        nationalPrefix: '0',
        areaCode: '1',
      });
    }

    const counts = async () => ({
      resellers: await db.prisma.reseller.count(),
      customers: await db.prisma.customer.count(),
      domains: await db.prisma.domain.count(),
      subscribers: await db.prisma.subscriber.count(),
      numbers: await db.prisma.phoneNumber.count(),
    });
    const before = await counts();
    const second = await seedDemo(db.prisma);
    expect(await counts()).toEqual(before);
    expect(second).toMatchObject({
      resellerId: first.resellerId,
      customerId: first.customerId,
      domainId: first.domainId,
    });
    expect(second.subscribers.map((s) => [s.id, s.password, s.created])).toEqual(
      first.subscribers.map((s) => [s.id, null, false]),
    );
    // Existing passwords were kept.
    const alice = await db.prisma.subscriber.findUniqueOrThrow({ where: { id: first.subscribers[0]!.id } });
    expect(alice.ha1Md5).toBe(sipHa1('alice', DEMO_DOMAIN, first.subscribers[0]!.password!).ha1Md5);

    // A given password is set on existing subscribers too.
    const third = await seedDemo(db.prisma, { password: 'demo-password' });
    expect(third.subscribers.every((s) => s.password === 'demo-password')).toBe(true);
    const bob = await db.prisma.subscriber.findUniqueOrThrow({ where: { id: first.subscribers[1]!.id } });
    expect(bob.ha1Sha256).toBe(sipHa1('bob', DEMO_DOMAIN, 'demo-password').ha1Sha256);
    expect(await counts()).toEqual(before);
  }, 60_000);
});
