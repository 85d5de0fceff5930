import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyMigrations, MigrationError, migrationChecksum, readMigrations } from '../src/migrations.ts';
import { pgConnection } from '../src/sql.ts';
import { copyMigrations, createTestDatabase, type TestDatabase, tempDir } from './helpers.ts';

interface MigrationRow {
  id: string;
  checksum: string;
  finished_at: Date | null;
  migration_name: string;
  logs: string | null;
  rolled_back_at: Date | null;
  started_at: Date;
  applied_steps_count: number;
}

async function withClient<T>(url: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

const migrate = (url: string, migrationsDir?: string) =>
  withClient(url, (client) => applyMigrations(pgConnection(client), { migrationsDir }));

const rows = (url: string) =>
  withClient(
    url,
    async (client) =>
      (
        await client.query<MigrationRow>(
          'SELECT * FROM "_prisma_migrations" ORDER BY started_at, migration_name',
        )
      ).rows,
  );

const tableExists = (url: string, table: string) =>
  withClient(url, async (client) => {
    const result = await client.query('SELECT to_regclass($1) AS oid', [`public.${table}`]);
    return result.rows[0].oid !== null;
  });

async function addMigration(dir: string, name: string, sql: string): Promise<void> {
  await mkdir(path.join(dir, name));
  await writeFile(path.join(dir, name, 'migration.sql'), sql);
}

describe('migration runner on PostgreSQL', () => {
  const databases: TestDatabase[] = [];
  let scratch: Awaited<ReturnType<typeof tempDir>>;
  const fresh = async (label: string) => {
    const db = await createTestDatabase(label);
    databases.push(db);
    return db.url;
  };

  beforeAll(async () => {
    scratch = await tempDir('pg-migrations');
  });
  afterAll(async () => {
    await Promise.all(databases.map((db) => db.drop()));
    await scratch.remove();
  });

  it('applies every committed migration to a fresh database and books them like Prisma', async () => {
    const url = await fresh('fresh');
    const files = await readMigrations();
    expect(files.map((f) => f.name)).toEqual([...files.map((f) => f.name)].sort());
    expect(files.length).toBeGreaterThanOrEqual(2);

    const result = await migrate(url);
    expect(result.applied).toEqual(files.map((f) => f.name));
    expect(result.alreadyApplied).toEqual([]);

    const booked = await rows(url);
    expect(booked.map((r) => r.migration_name)).toEqual(files.map((f) => f.name));
    for (const [i, row] of booked.entries()) {
      const script = await readFile(
        path.join(
          path.dirname(new URL(import.meta.url).pathname),
          '../prisma/migrations',
          row.migration_name,
          'migration.sql',
        ),
        'utf8',
      );
      expect(row.checksum).toBe(migrationChecksum(script));
      expect(row.checksum).toBe(files[i]!.checksum);
      expect(row.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      expect(row.finished_at).toBeInstanceOf(Date);
      expect(row.rolled_back_at).toBeNull();
      expect(row.logs).toBeNull();
      expect(row.applied_steps_count).toBe(1);
      expect(row.finished_at!.getTime()).toBeGreaterThanOrEqual(row.started_at.getTime());
    }
    expect(await tableExists(url, 'subscribers')).toBe(true);

    // Running again is a no-op.
    const again = await migrate(url);
    expect(again.applied).toEqual([]);
    expect(again.alreadyApplied).toEqual(files.map((f) => f.name));
    expect(await rows(url)).toHaveLength(files.length);
  });

  it('keeps the bookkeeping table exactly as Prisma defines it', async () => {
    const url = await fresh('layout');
    await migrate(url);
    const columns = await withClient(url, async (client) => {
      const result = await client.query<{
        column_name: string;
        data_type: string;
        is_nullable: string;
        character_maximum_length: number | null;
      }>(
        `SELECT column_name, data_type, is_nullable, character_maximum_length FROM information_schema.columns
         WHERE table_name = '_prisma_migrations' ORDER BY ordinal_position`,
      );
      return result.rows.map(
        (c) =>
          `${c.column_name} ${c.data_type}${c.character_maximum_length ? `(${c.character_maximum_length})` : ''} ${c.is_nullable === 'YES' ? 'null' : 'not null'}`,
      );
    });
    expect(columns).toEqual([
      'id character varying(36) not null',
      'checksum character varying(64) not null',
      'finished_at timestamp with time zone null',
      'migration_name character varying(255) not null',
      'logs text null',
      'rolled_back_at timestamp with time zone null',
      'started_at timestamp with time zone not null',
      'applied_steps_count integer not null',
    ]);
  });

  it('applies only a migration added later, and records it', async () => {
    const url = await fresh('incremental');
    const dir = await copyMigrations(path.join(scratch.dir, 'incremental'));
    const before = await migrate(url, dir);
    await addMigration(
      dir,
      '29991231000000_add_probe',
      'CREATE TABLE "probe" ("id" INTEGER NOT NULL PRIMARY KEY);\n',
    );

    const result = await migrate(url, dir);
    expect(result.applied).toEqual(['29991231000000_add_probe']);
    expect(result.alreadyApplied).toEqual(before.applied);
    expect(await tableExists(url, 'probe')).toBe(true);
    const booked = await rows(url);
    expect(booked).toHaveLength(before.applied.length + 1);
    expect(booked.at(-1)).toMatchObject({
      migration_name: '29991231000000_add_probe',
      applied_steps_count: 1,
    });
  });

  it('refuses to run when an applied migration was edited, and applies nothing', async () => {
    const url = await fresh('checksum');
    const dir = await copyMigrations(path.join(scratch.dir, 'checksum'));
    const first = await migrate(url, dir);
    const edited = path.join(dir, first.applied[0]!, 'migration.sql');
    await writeFile(edited, `${await readFile(edited, 'utf8')}\n-- edited afterwards\n`);
    await addMigration(dir, '29991231000000_pending', 'CREATE TABLE "pending" ("id" INTEGER);\n');

    await expect(migrate(url, dir)).rejects.toThrow(MigrationError);
    await expect(migrate(url, dir)).rejects.toThrow(/modified after it was applied/);
    expect(await tableExists(url, 'pending')).toBe(false);
    expect(await rows(url)).toHaveLength(first.applied.length);
  });

  it('accepts an applied migration whose line endings changed (as Prisma does)', async () => {
    const url = await fresh('crlf');
    const dir = await copyMigrations(path.join(scratch.dir, 'crlf'));
    const first = await migrate(url, dir);
    const file = path.join(dir, first.applied[0]!, 'migration.sql');
    await writeFile(file, (await readFile(file, 'utf8')).replace(/\n/g, '\r\n'));
    await expect(migrate(url, dir)).resolves.toMatchObject({ applied: [] });
  });

  it('rolls a failing migration back completely, records the attempt, and retries it next time', async () => {
    const url = await fresh('failing');
    const dir = await copyMigrations(path.join(scratch.dir, 'failing'));
    const first = await migrate(url, dir);
    const name = '29991231000000_broken';
    await addMigration(dir, name, 'CREATE TABLE "half_done" ("id" INTEGER);\nSELECT no_such_function();\n');

    await expect(migrate(url, dir)).rejects.toThrow(/29991231000000_broken failed and was rolled back/);
    expect(await tableExists(url, 'half_done')).toBe(false);
    const attempt = (await rows(url)).find((r) => r.migration_name === name);
    expect(attempt).toBeDefined();
    expect(attempt!.rolled_back_at).toBeInstanceOf(Date);
    expect(attempt!.finished_at).toBeNull();
    expect(attempt!.logs).toMatch(/no_such_function/);

    // Fixed file: applied on the next run, the failed attempt stays in the history.
    await writeFile(path.join(dir, name, 'migration.sql'), 'CREATE TABLE "half_done" ("id" INTEGER);\n');
    const fixed = await migrate(url, dir);
    expect(fixed.applied).toEqual([name]);
    expect(await tableExists(url, 'half_done')).toBe(true);
    const history = (await rows(url)).filter((r) => r.migration_name === name);
    expect(history).toHaveLength(2);
    expect(await rows(url)).toHaveLength(first.applied.length + 2);
  });

  it('refuses to continue past a failure that Prisma recorded and nobody resolved', async () => {
    const url = await fresh('unresolved');
    await migrate(url);
    await withClient(url, (client) =>
      client.query(
        `INSERT INTO "_prisma_migrations" (id, checksum, migration_name, logs, started_at, applied_steps_count)
         VALUES ('00000000-0000-4000-8000-000000000000', 'x', '20000101000000_failed_elsewhere', 'boom', now(), 0)`,
      ),
    );
    await expect(migrate(url)).rejects.toThrow(/20000101000000_failed_elsewhere failed in an earlier run/);
  });

  it('lets several processes start at once: each migration is applied exactly once', async () => {
    const url = await fresh('concurrent');
    const files = await readMigrations();
    const results = await Promise.all(Array.from({ length: 4 }, () => migrate(url)));
    const appliedEverywhere = results.flatMap((r) => r.applied).sort();
    expect(appliedEverywhere).toEqual(files.map((f) => f.name).sort());
    for (const result of results) {
      expect([...result.applied, ...result.alreadyApplied].sort()).toEqual(files.map((f) => f.name).sort());
    }
    const booked = await rows(url);
    expect(booked).toHaveLength(files.length);
    expect(booked.every((r) => r.finished_at !== null && r.rolled_back_at === null)).toBe(true);
  });

  it('gives up with a clear error when another holder keeps the migration lock', async () => {
    const url = await fresh('locked');
    await withClient(url, async (holder) => {
      await holder.query('SELECT pg_advisory_lock(72707369)');
      await expect(
        withClient(url, (client) => applyMigrations(pgConnection(client), { lockTimeoutMs: 1_000 })),
      ).rejects.toThrow(/advisory lock 72707369 is held/);
    });
    // The holder's session ended, so the lock is free again.
    await expect(migrate(url)).resolves.toMatchObject({ alreadyApplied: [] });
  });
});
