/**
 * Standalone numbering service (production: its own container next to PostgreSQL).
 * Reads DATABASE_URL / DATA_DIR, NUMBERING_PORT (3001), NUMBERING_HOST (127.0.0.1), ENUM_LISTEN, LOG_LEVEL.
 * The schema must be migrated already (the API or the launcher does that).
 */
import { databaseSettingsFromEnv, openDatabase } from '@switchboard/db';
import { pino } from 'pino';
import { DEFAULT_ENUM_LISTEN, DEFAULT_NUMBERING_PORT } from './service.ts';
import { start } from './start.ts';

const logger = pino({ level: process.env.LOG_LEVEL || 'info' });
const port = process.env.NUMBERING_PORT ? Number(process.env.NUMBERING_PORT) : DEFAULT_NUMBERING_PORT;
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  logger.fatal({ NUMBERING_PORT: process.env.NUMBERING_PORT }, 'NUMBERING_PORT must be a port number');
  process.exit(1);
}

const db = await openDatabase({ ...databaseSettingsFromEnv(), log: logger });
const running = await start(
  {
    port,
    host: process.env.NUMBERING_HOST || '127.0.0.1',
    enumListen: process.env.ENUM_LISTEN ?? DEFAULT_ENUM_LISTEN,
  },
  { db, logger },
);

let stopping = false;
const stop = async (signal: string) => {
  if (stopping) return;
  stopping = true;
  logger.info({ signal }, 'numbering stopping');
  await running.close();
  await db.close();
  process.exit(0);
};
process.on('SIGINT', () => void stop('SIGINT'));
process.on('SIGTERM', () => void stop('SIGTERM'));
