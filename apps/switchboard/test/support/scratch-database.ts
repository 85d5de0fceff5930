import pg from 'pg';
import { TEST_DATABASE_URL } from './launcher-process.ts';

export interface ScratchDatabase {
  /** Connection URL of the new database (same server and credentials as the test database). */
  url: string;
  drop(): Promise<void>;
}

/**
 * An empty database of one suite's own, so a launcher run applies its migrations from scratch and suites
 * running at the same time do not meet. `drop` removes it even while the launcher still holds connections.
 */
export async function createScratchDatabase(label: string): Promise<ScratchDatabase> {
  const name = `sb_${label}_${process.pid}_${Date.now()}`;
  const admin = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  const url = new URL(TEST_DATABASE_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await admin.end();
    },
  };
}
