import { randomBytes } from 'node:crypto';
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { MIGRATIONS_DIR } from '../src/migrations.ts';

export const TEST_DATABASE_URL =
  process.env.TEST_DATABASE_URL ?? 'postgresql://switchboard:switchboard@127.0.0.1:5432/switchboard_test';

export interface TestDatabase {
  url: string;
  name: string;
  drop(): Promise<void>;
}

function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}

/** Creates a uniquely named PostgreSQL database for one test file; `drop()` removes it. */
export async function createTestDatabase(label: string): Promise<TestDatabase> {
  const name = `sb_db_${label}_${randomBytes(4).toString('hex')}`;
  // Connect to the maintenance database: the configured test database need not exist.
  const admin = new pg.Client({ connectionString: withDatabase(TEST_DATABASE_URL, 'postgres') });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE "${name}"`);
  } finally {
    await admin.end();
  }
  return {
    name,
    url: withDatabase(TEST_DATABASE_URL, name),
    async drop() {
      const client = new pg.Client({ connectionString: withDatabase(TEST_DATABASE_URL, 'postgres') });
      await client.connect();
      try {
        await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      } finally {
        await client.end();
      }
    },
  };
}

export async function tempDir(label: string): Promise<{ dir: string; remove(): Promise<void> }> {
  const dir = await mkdtemp(path.join(tmpdir(), `switchboard-db-${label}-`));
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

/** A writable copy of the committed migrations, to add or alter migrations in a test. */
export async function copyMigrations(targetDir: string): Promise<string> {
  const dir = path.join(targetDir, 'migrations');
  await cp(MIGRATIONS_DIR, dir, { recursive: true });
  return dir;
}
