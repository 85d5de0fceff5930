/**
 * A rater in its own process, for the crash test: it rates batches of the database in DATABASE_URL and,
 * inside the transaction of its second batch, prints `in-batch` and waits to be killed.
 */
import { openDatabase } from '@switchboard/db';
import { pino } from 'pino';
import { startRater } from '../../src/billing/rater.ts';

const db = await openDatabase({ databaseUrl: process.env.DATABASE_URL, dataDir: '' });
let batches = 0;
const rater = await startRater(db, pino({ level: 'silent' }), {
  poll: false,
  batchSize: Number(process.env.BATCH_SIZE ?? 100),
  beforeWrite: async () => {
    batches++;
    if (batches < 2) return;
    process.stdout.write('in-batch\n');
    // Bounded: the test kills this process long before.
    await new Promise((resolve) => setTimeout(resolve, 60_000));
  },
});
await rater.drain();
