import type { PGlite, Transaction as PGliteTransaction } from '@electric-sql/pglite';
import type pg from 'pg';

/**
 * The little SQL surface the migration runner and the seed helpers need, implemented once over a
 * node-postgres client and once over an embedded PGlite instance.
 */
export interface SqlSession {
  /** One statement with `$1`-style parameters; returns the rows. */
  query<Row extends object>(sql: string, params?: unknown[]): Promise<Row[]>;
  /** A script of one or more statements without parameters. */
  exec(script: string): Promise<void>;
}

export interface SqlConnection extends SqlSession {
  /** Runs `work` inside BEGIN/COMMIT, rolling back when it throws. */
  transaction<T>(work: (tx: SqlSession) => Promise<T>): Promise<T>;
}

/** Wraps one dedicated node-postgres client (not a pool: session state such as advisory locks must stick). */
export function pgConnection(client: pg.Client): SqlConnection {
  const session: SqlSession = {
    async query<Row extends object>(sql: string, params: unknown[] = []) {
      const result = await client.query(sql, params);
      return result.rows as Row[];
    },
    async exec(script: string) {
      // Without parameters node-postgres uses the simple query protocol, which accepts several statements.
      await client.query(script);
    },
  };
  return {
    ...session,
    async transaction<T>(work: (tx: SqlSession) => Promise<T>): Promise<T> {
      await client.query('BEGIN');
      try {
        const result = await work(session);
        await client.query('COMMIT');
        return result;
      } catch (error) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw error;
      }
    },
  };
}

/**
 * Statements on a node-postgres pool, each on whichever connection is free (no session state: no
 * transaction or advisory lock can span two statements here).
 */
export function pgPoolSession(pool: pg.Pool): SqlSession {
  return {
    async query<Row extends object>(sql: string, params: unknown[] = []) {
      const result = await pool.query(sql, params);
      return result.rows as Row[];
    },
    async exec(script: string) {
      await pool.query(script);
    },
  };
}

/** Statements on the embedded backend (or inside one of its transactions); PGlite queues them itself. */
export function pgliteSession(db: PGlite | PGliteTransaction): SqlSession {
  return {
    async query<Row extends object>(sql: string, params: unknown[] = []) {
      const result = await db.query<Row>(sql, params);
      return result.rows;
    },
    async exec(script: string) {
      await db.exec(script);
    },
  };
}

/**
 * Wraps a PGlite instance. PGlite has a single backend shared by everything in the process, so a
 * transaction must go through `PGlite.transaction`, which keeps other callers (the Prisma client)
 * out until it ends.
 */
export function pgliteConnection(db: PGlite): SqlConnection {
  return {
    ...pgliteSession(db),
    transaction<T>(work: (tx: SqlSession) => Promise<T>): Promise<T> {
      return db.transaction((tx) => work(pgliteSession(tx)));
    },
  };
}
