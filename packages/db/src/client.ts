import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { PGlite } from '@electric-sql/pglite';
import { PrismaPg } from '@prisma/adapter-pg';
import pg from 'pg';
import { type Logger, pino } from 'pino';
import { type ChangeHandler, type ChangeSubscription, listenPglite, listenPostgres } from './changes.ts';
import { EmbeddedDatabaseLock } from './embedded-lock.ts';
import { PrismaClient } from './generated/prisma/client.ts';
import { applyMigrations, type MigrationResult } from './migrations.ts';
import { pgConnection, pgliteConnection, pgliteSession, pgPoolSession, type SqlSession } from './sql.ts';

export interface OpenDatabaseOptions {
  /** PostgreSQL connection string; when absent the embedded database in `<dataDir>/db` is used. */
  databaseUrl?: string | undefined;
  /** Platform data directory (`DATA_DIR`); the embedded database lives in its `db` folder. */
  dataDir: string;
  log?: Logger;
  /** Directory of migrations to apply instead of the committed ones (tests). */
  migrationsDir?: string;
  /**
   * Embedded only: keep the database in memory instead of `<dataDir>/db` (tests that want a
   * private database without a folder; everything is gone after `close()`).
   */
  inMemory?: boolean;
}

export interface Database {
  prisma: PrismaClient;
  kind: 'postgres' | 'pglite';
  /**
   * Statements with `$1`-style parameters straight to the driver (the pool, or the embedded backend),
   * past the ORM: for the few writes a hot path batches by hand (a CDR batch's one statement went
   * through Prisma's query interpreter at about as much CPU as writing it). Everything else uses `prisma`.
   */
  sql: SqlSession;
  /** Applies pending migrations; safe to call from several processes at once. */
  migrate(): Promise<MigrationResult>;
  /**
   * Calls `handler` with the payload of every NOTIFY on `channel` (see `CHANGES_CHANNEL`).
   * Resolves once listening; the returned function stops it.
   */
  onChange(channel: string, handler: ChangeHandler, options?: OnChangeOptions): Promise<() => Promise<void>>;
  /** Closes the client, listeners and (embedded) the database itself. */
  close(): Promise<void>;
  /** PostgreSQL: the connection pool's connections (for metrics); undefined for the embedded database. */
  poolStats?(): PoolStats;
}

export interface PoolStats {
  total: number;
  idle: number;
  /** Queries waiting for a free connection. */
  waiting: number;
}

export interface OnChangeOptions {
  /**
   * PostgreSQL only: called after the listening connection was lost and re-established.
   * Notifications sent in between are lost, so reload whatever is cached.
   */
  onReconnect?: () => void;
}

/** Embedded database folder inside the data directory. */
export function embeddedDatabaseDir(dataDir: string): string {
  return path.join(dataDir, 'db');
}

/**
 * Opens the platform database: PostgreSQL when `databaseUrl` is given, else an embedded PGlite
 * (PostgreSQL 17 compiled to WebAssembly, persisted in `<dataDir>/db`). Does not migrate: call
 * `migrate()` before first use (the launcher does on start).
 */
export async function openDatabase(options: OpenDatabaseOptions): Promise<Database> {
  const log = options.log ?? pino({ level: 'silent' });
  if (options.databaseUrl) return openPostgres(options.databaseUrl, options, log.child({ db: 'postgres' }));
  return openPglite(
    options.inMemory ? undefined : embeddedDatabaseDir(options.dataDir),
    options,
    log.child({ db: 'pglite' }),
  );
}

async function openPostgres(
  databaseUrl: string,
  options: OpenDatabaseOptions,
  log: Logger,
): Promise<Database> {
  const pool = new pg.Pool({ connectionString: databaseUrl });
  // An idle client losing its connection (server restart) must not crash the process.
  pool.on('error', (error) => log.warn({ err: error }, 'idle database connection failed'));
  const prisma = new PrismaClient({ adapter: new PrismaPg(pool) });
  const subscriptions = new Set<ChangeSubscription>();
  let closed = false;

  return {
    prisma,
    kind: 'postgres',
    sql: pgPoolSession(pool),
    poolStats: () => ({ total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount }),
    async migrate() {
      const client = new pg.Client({ connectionString: databaseUrl });
      client.on('error', (error) => log.warn({ err: error }, 'migration connection failed'));
      await client.connect();
      try {
        const result = await applyMigrations(pgConnection(client), {
          migrationsDir: options.migrationsDir,
          log,
        });
        log.info({ applied: result.applied }, 'database schema up to date');
        return result;
      } finally {
        await client.end().catch(() => undefined);
      }
    },
    async onChange(channel, handler, onChangeOptions = {}) {
      if (closed) throw new Error('database is closed');
      const subscription = await listenPostgres(
        databaseUrl,
        channel,
        handler,
        log,
        onChangeOptions.onReconnect,
      );
      subscriptions.add(subscription);
      return async () => {
        subscriptions.delete(subscription);
        await subscription.stop();
      };
    },
    async close() {
      if (closed) return;
      closed = true;
      await Promise.all([...subscriptions].map((subscription) => subscription.stop()));
      subscriptions.clear();
      await prisma.$disconnect();
      await pool.end();
    },
  };
}

async function openPglite(
  dir: string | undefined,
  options: OpenDatabaseOptions,
  log: Logger,
): Promise<Database> {
  // Loaded only here: the embedded engine's WebAssembly costs some 50 MB of memory in every process
  // that imports it, which a node on PostgreSQL does not need.
  const [{ PGlite }, { PrismaPGlite }] = await Promise.all([
    import('@electric-sql/pglite'),
    import('pglite-prisma-adapter'),
  ]);
  let lock: EmbeddedDatabaseLock | undefined;
  let db: PGlite;
  const started = Date.now();
  if (dir) {
    await mkdir(dir, { recursive: true });
    lock = await EmbeddedDatabaseLock.acquire(`${dir}.lock`);
    try {
      db = await PGlite.create(dir);
    } catch (error) {
      await lock.release();
      throw error;
    }
  } else {
    db = await PGlite.create();
  }
  log.debug({ dir: dir ?? 'memory', ms: Date.now() - started }, 'embedded database opened');
  const prisma = new PrismaClient({ adapter: new PrismaPGlite(db) });
  const subscriptions = new Set<ChangeSubscription>();
  // One backend for the whole process: the advisory lock cannot keep two migrate() calls of this
  // process apart (a session may take its own lock twice), so they queue here instead.
  let migrating: Promise<unknown> = Promise.resolve();
  let closed = false;

  return {
    prisma,
    kind: 'pglite',
    sql: pgliteSession(db),
    migrate() {
      const run = migrating.then(async () => {
        const result = await applyMigrations(pgliteConnection(db), {
          migrationsDir: options.migrationsDir,
          log,
        });
        log.info({ applied: result.applied }, 'database schema up to date');
        return result;
      });
      migrating = run.catch(() => undefined);
      return run;
    },
    async onChange(channel, handler) {
      if (closed) throw new Error('database is closed');
      const subscription = await listenPglite(db, channel, handler, log);
      subscriptions.add(subscription);
      return async () => {
        subscriptions.delete(subscription);
        await subscription.stop();
      };
    },
    async close() {
      if (closed) return;
      closed = true;
      await Promise.all([...subscriptions].map((subscription) => subscription.stop()));
      subscriptions.clear();
      await prisma.$disconnect();
      await migrating;
      await db.close();
      await lock?.release();
    },
  };
}
