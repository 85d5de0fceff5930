/**
 * `pnpm db:seed`: migrates, then creates the demo tenant and prints the demo SIP credentials.
 * Reads DATABASE_URL, DATA_DIR and SEED_PASSWORD (a fixed password instead of random ones).
 */
import { pino } from 'pino';
import { openDatabase } from '../client.ts';
import { databaseSettingsFromEnv } from '../env.ts';
import { seedDemo } from '../seed.ts';

const log = pino({ level: process.env.LOG_LEVEL ?? 'warn' });
const db = await openDatabase({ ...databaseSettingsFromEnv(), log });
try {
  await db.migrate();
  const result = await seedDemo(db.prisma, { password: process.env.SEED_PASSWORD || undefined });
  console.log('Demo domain demo.switchboard.test is open for self sign-up (new domains start closed).');
  console.log('Demo SIP accounts:');
  for (const subscriber of result.subscribers) {
    const password = subscriber.password ?? '(unchanged; set SEED_PASSWORD to reset it)';
    console.log(
      `  username=${subscriber.username} domain=${subscriber.domain} password=${password} number=${subscriber.number}`,
    );
  }
} catch (error) {
  log.error({ err: error }, 'seeding failed');
  process.exitCode = 1;
} finally {
  await db.close();
}
