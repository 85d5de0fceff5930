/**
 * sip-core in its own process for the benchmark's `split` layout (engine and sip-core on separate
 * cores, as in production). Configured by the parent through BENCH_DATABASE_URL, BENCH_ENGINE_PORT
 * and BENCH_ENGINE_SECRET; prints `ready` once connected to the engine; SIGTERM closes it cleanly.
 */
import { tmpdir } from 'node:os';
import { openDatabase } from '@switchboard/db';
import { pino } from 'pino';
import { startSipCore } from '../src/start.ts';
import { benchSipCoreOptions } from './sip-core-options.ts';

const log = pino({ level: process.env.BENCH_LOG ?? 'warn' });
const db = await openDatabase({
  databaseUrl: process.env.BENCH_DATABASE_URL,
  dataDir: tmpdir(),
  log,
});
const sipCore = await startSipCore(
  benchSipCoreOptions(Number(process.env.BENCH_ENGINE_PORT), process.env.BENCH_ENGINE_SECRET ?? ''),
  { prisma: db.prisma, db, logger: log },
);
process.stdout.write('ready\n');
process.once('SIGTERM', () => {
  void (async () => {
    await sipCore.close();
    await db.close();
    process.exit(0);
  })();
});
