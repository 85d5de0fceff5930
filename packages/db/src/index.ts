// Public surface of @switchboard/db. Other packages import Prisma's generated client only from here.

export {
  CALL_CONTROL_CHANNEL,
  CALL_STATES_CHANNEL,
  CHANGES_CHANNEL,
  type ChangedTable,
  type ChangeHandler,
  MESSAGES_CHANNEL,
  PUBLICATIONS_CHANNEL,
  parseTableChange,
  RATED_CHANNEL,
  REGISTRATIONS_CHANNEL,
  type TableChange,
} from './changes.ts';
export {
  type Database,
  embeddedDatabaseDir,
  type OnChangeOptions,
  type OpenDatabaseOptions,
  openDatabase,
  type PoolStats,
} from './client.ts';
export {
  generateSecret,
  hashPassword,
  type SipHa1,
  sha256Hex,
  sipHa1,
  verifyPassword,
} from './credentials.ts';
export { databaseSettingsFromEnv } from './env.ts';
export * from './generated/prisma/client.ts';
export {
  applyMigrations,
  MIGRATIONS_DIR,
  MigrationError,
  type MigrationFile,
  type MigrationResult,
  migrationChecksum,
  readMigrations,
} from './migrations.ts';
export { PAGE_SIZE, readInPages } from './pages.ts';
export { DEMO_DOMAIN, type SeededSubscriber, type SeedOptions, type SeedResult, seedDemo } from './seed.ts';
export { pgConnection, pgliteConnection, type SqlConnection, type SqlSession } from './sql.ts';
export type { CdrLegMediaStats, CdrMediaStats } from './types.ts';
