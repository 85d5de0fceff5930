/** `pnpm db:migrate`: applies pending migrations to DATABASE_URL, or to the embedded database in $DATA_DIR/db. */
import { pino } from 'pino';
import { openDatabase } from '../client.ts';
import { databaseSettingsFromEnv } from '../env.ts';

const log = pino({ level: process.env.LOG_LEVEL ?? 'info' });
const settings = databaseSettingsFromEnv();
const db = await openDatabase({ ...settings, log });
try {
  const result = await db.migrate();
  const target =
    db.kind === 'postgres' ? 'PostgreSQL (DATABASE_URL)' : `embedded database in ${settings.dataDir}`;
  if (result.applied.length === 0)
    console.log(`${target}: already up to date (${result.alreadyApplied.length} migrations)`);
  else console.log(`${target}: applied ${result.applied.join(', ')}`);
} catch (error) {
  log.error({ err: error }, 'migration failed');
  process.exitCode = 1;
} finally {
  await db.close();
}
