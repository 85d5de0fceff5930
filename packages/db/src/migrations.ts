import { createHash, randomUUID } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Logger } from 'pino';
import type { SqlConnection, SqlSession } from './sql.ts';

/**
 * Applies the committed SQL migrations (Prisma's folder layout) without Prisma's native engine.
 *
 * Bookkeeping is Prisma's own `_prisma_migrations` table, row for row as `prisma migrate deploy`
 * writes it, so the Prisma CLI (where it is available) and this runner can take turns on the same
 * database. Differences, both deliberate: each migration runs inside a transaction (a failed one
 * leaves no half-applied schema behind), and a failed attempt is recorded as already rolled back
 * (which it is), so the next start retries it instead of waiting for `prisma migrate resolve`.
 */

/** Directory with the committed migrations of this package. */
export const MIGRATIONS_DIR = fileURLToPath(new URL('../prisma/migrations/', import.meta.url));

/** The key `prisma migrate` itself locks with, so this runner and the Prisma CLI exclude each other. */
const PRISMA_ADVISORY_LOCK_KEY = 72707369;

/** Same definition as the schema engine creates on PostgreSQL. */
const CREATE_MIGRATIONS_TABLE = `CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
    "id"                    VARCHAR(36) PRIMARY KEY NOT NULL,
    "checksum"              VARCHAR(64) NOT NULL,
    "finished_at"           TIMESTAMPTZ,
    "migration_name"        VARCHAR(255) NOT NULL,
    "logs"                  TEXT,
    "rolled_back_at"        TIMESTAMPTZ,
    "started_at"            TIMESTAMPTZ NOT NULL DEFAULT now(),
    "applied_steps_count"   INTEGER NOT NULL DEFAULT 0
)`;

export interface MigrationFile {
  /** Folder name, `<yyyymmddhhmmss>_<name>`; migrations apply in ascending name order. */
  name: string;
  script: string;
  /** Hex SHA-256 of the script, as Prisma computes it. */
  checksum: string;
}

export interface MigrationResult {
  /** Names applied by this call, in order. */
  applied: string[];
  /** Names that were already applied before this call. */
  alreadyApplied: string[];
}

export class MigrationError extends Error {
  override readonly name = 'MigrationError';
}

export function migrationChecksum(script: string): string {
  return createHash('sha256').update(script, 'utf8').digest('hex');
}

/** Reads `<dir>/<name>/migration.sql` for every migration folder, sorted by name. */
export async function readMigrations(migrationsDir: string = MIGRATIONS_DIR): Promise<MigrationFile[]> {
  const entries = await readdir(migrationsDir, { withFileTypes: true });
  const names = entries
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort();
  const migrations: MigrationFile[] = [];
  for (const name of names) {
    const script = await readFile(path.join(migrationsDir, name, 'migration.sql'), 'utf8').catch(
      (error: NodeJS.ErrnoException) => {
        if (error.code === 'ENOENT') return undefined;
        throw error;
      },
    );
    // Prisma ignores folders without a migration.sql too (e.g. an editor's leftovers).
    if (script === undefined) continue;
    migrations.push({ name, script, checksum: migrationChecksum(script) });
  }
  return migrations;
}

interface MigrationRow {
  migration_name: string;
  checksum: string;
  finished_at: Date | null;
  rolled_back_at: Date | null;
}

/** A checksum matches if it is the script's, or the script's with other line endings (Prisma accepts both). */
function checksumMatches(row: MigrationRow, file: MigrationFile): boolean {
  if (row.checksum === file.checksum) return true;
  const lf = file.script.replace(/\r\n/g, '\n');
  return (
    row.checksum === migrationChecksum(lf) || row.checksum === migrationChecksum(lf.replace(/\n/g, '\r\n'))
  );
}

export interface ApplyMigrationsOptions {
  migrationsDir?: string;
  log?: Logger;
  /** How long to wait for another process's migration run to finish; default 5 minutes. */
  lockTimeoutMs?: number;
}

const LOCK_POLL_MS = 200;

/**
 * Takes Prisma's session-level advisory lock, waiting (bounded) while another process holds it.
 * Polls with pg_try_advisory_lock instead of blocking in pg_advisory_lock, so a hung holder
 * produces a clear error instead of a start-up that never finishes.
 */
async function takeMigrationLock(connection: SqlConnection, timeoutMs: number, log: Logger | undefined) {
  const deadline = Date.now() + timeoutMs;
  let logged = false;
  for (;;) {
    const [row] = await connection.query<{ locked: boolean }>('SELECT pg_try_advisory_lock($1) AS locked', [
      PRISMA_ADVISORY_LOCK_KEY,
    ]);
    if (row?.locked) return;
    if (Date.now() >= deadline) {
      throw new MigrationError(
        `another process has been migrating this database for over ${Math.round(timeoutMs / 1000)} s ` +
          `(advisory lock ${PRISMA_ADVISORY_LOCK_KEY} is held); giving up`,
      );
    }
    if (!logged) {
      log?.info('another process is migrating this database; waiting for it');
      logged = true;
    }
    await new Promise((resolve) => setTimeout(resolve, LOCK_POLL_MS));
  }
}

/**
 * Applies every pending migration, each in its own transaction, under Prisma's advisory lock.
 *
 * Refuses (throws `MigrationError`, applies nothing) when an applied migration's script changed,
 * or when Prisma recorded a failed migration that nobody resolved.
 */
export async function applyMigrations(
  connection: SqlConnection,
  options: ApplyMigrationsOptions = {},
): Promise<MigrationResult> {
  const files = await readMigrations(options.migrationsDir);
  // Session-level lock: a second process starting at the same time waits here, then finds
  // everything applied.
  await takeMigrationLock(connection, options.lockTimeoutMs ?? 5 * 60_000, options.log);
  try {
    await connection.exec(CREATE_MIGRATIONS_TABLE);
    const rows = await connection.query<MigrationRow>(
      'SELECT migration_name, checksum, finished_at, rolled_back_at FROM "_prisma_migrations" ORDER BY started_at',
    );
    const live = rows.filter((row) => row.rolled_back_at === null);

    const failed = live.filter((row) => row.finished_at === null);
    if (failed.length > 0) {
      const names = failed.map((row) => row.migration_name).join(', ');
      throw new MigrationError(
        `migration(s) ${names} failed in an earlier run and were not resolved; fix the database, then mark ` +
          'them with `prisma migrate resolve --rolled-back <name>` (or --applied)',
      );
    }

    const byName = new Map(files.map((file) => [file.name, file]));
    const appliedNames = new Set<string>();
    for (const row of live) {
      appliedNames.add(row.migration_name);
      const file = byName.get(row.migration_name);
      if (!file) {
        options.log?.warn(
          { migration: row.migration_name },
          'database has a migration that this version does not know (newer release ran here?)',
        );
        continue;
      }
      if (!checksumMatches(row, file)) {
        throw new MigrationError(
          `migration ${row.migration_name} was modified after it was applied (checksum ${row.checksum} in the ` +
            `database, ${file.checksum} on disk); restore the original file and put the change in a new migration`,
        );
      }
    }

    const pending = files.filter((file) => !appliedNames.has(file.name));
    const applied: string[] = [];
    for (const file of pending) {
      await applyOne(connection, file, options.log);
      applied.push(file.name);
    }
    return {
      applied,
      alreadyApplied: files.filter((file) => appliedNames.has(file.name)).map((f) => f.name),
    };
  } finally {
    await connection
      .query('SELECT pg_advisory_unlock($1)', [PRISMA_ADVISORY_LOCK_KEY])
      .catch(() => undefined);
  }
}

async function applyOne(
  connection: SqlConnection,
  file: MigrationFile,
  log: Logger | undefined,
): Promise<void> {
  const id = randomUUID();
  log?.info({ migration: file.name }, 'applying migration');
  try {
    await connection.transaction(async (tx: SqlSession) => {
      await tx.query(
        `INSERT INTO "_prisma_migrations" (id, checksum, migration_name, started_at, applied_steps_count)
         VALUES ($1, $2, $3, now(), 0)`,
        [id, file.checksum, file.name],
      );
      await tx.exec(file.script);
      await tx.query(
        `UPDATE "_prisma_migrations" SET finished_at = clock_timestamp(), applied_steps_count = 1 WHERE id = $1`,
        [id],
      );
    });
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    // The transaction rolled the script back; keep the attempt in the history for the operator.
    await connection
      .query(
        `INSERT INTO "_prisma_migrations" (id, checksum, migration_name, logs, started_at, rolled_back_at, applied_steps_count)
         VALUES ($1, $2, $3, $4, now(), now(), 0)`,
        [id, file.checksum, file.name, message],
      )
      .catch(() => undefined);
    log?.error({ migration: file.name, err: error }, 'migration failed and was rolled back');
    throw new MigrationError(`migration ${file.name} failed and was rolled back: ${message}`, {
      cause: error,
    });
  }
}
