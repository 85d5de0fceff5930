/**
 * Helpers for the tests of any package that needs a real database (`@switchboard/db/testing`).
 * Not used at run time.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { type Database, openDatabase } from './client.ts';

/** `TEST_DATABASE_URL`, or the default test role on the local PostgreSQL. */
export function testDatabaseUrl(): string {
  return (
    process.env.TEST_DATABASE_URL || 'postgresql://switchboard:switchboard@127.0.0.1:5432/switchboard_test'
  );
}

export interface TestDatabase {
  /** Connection string of the new database. */
  url: string;
  name: string;
  /** Drops the database, closing whatever is still connected to it. */
  drop(): Promise<void>;
}

function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}

async function onMaintenanceDatabase(work: (client: pg.Client) => Promise<unknown>): Promise<void> {
  // The maintenance database, so that the configured test database itself need not exist.
  const client = new pg.Client({ connectionString: withDatabase(testDatabaseUrl(), 'postgres') });
  await client.connect();
  try {
    await work(client);
  } finally {
    await client.end();
  }
}

/**
 * Creates an empty, uniquely named PostgreSQL database (one per test file, as the test rules ask);
 * call `drop()` in afterAll. `label` (letters, digits, underscores) makes leftovers recognisable.
 */
export async function createTestDatabase(label: string): Promise<TestDatabase> {
  if (!/^[a-z0-9_]{1,30}$/.test(label))
    throw new Error(`test database label must match [a-z0-9_]{1,30}: ${label}`);
  const name = `sb_${label}_${randomBytes(4).toString('hex')}`;
  await onMaintenanceDatabase((client) => client.query(`CREATE DATABASE "${name}"`));
  return {
    name,
    url: withDatabase(testDatabaseUrl(), name),
    drop: () =>
      onMaintenanceDatabase((client) => client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`)),
  };
}

/**
 * A migrated database for a test file: PostgreSQL (a fresh database, dropped on close) or a
 * private in-memory PGlite. Close it in afterAll.
 */
export async function openTestDatabase(kind: Database['kind'], label: string): Promise<Database> {
  if (kind === 'pglite') {
    const db = await openDatabase({ dataDir: '', inMemory: true });
    await db.migrate();
    return db;
  }
  const created = await createTestDatabase(label);
  try {
    const db = await openDatabase({ databaseUrl: created.url, dataDir: '' });
    await db.migrate();
    return {
      ...db,
      async close() {
        await db.close();
        await created.drop();
      },
    };
  } catch (error) {
    await created.drop();
    throw error;
  }
}
