/**
 * sip-core in its own process for the benchmarks' `split` layout (engine and sip-core on separate
 * cores, as in production). Configured by the parent through BENCH_DATABASE_URL and
 * BENCH_SIP_CORE_OPTIONS (the sip-core options as JSON, engine port and secret included); prints
 * `ready` once connected to the engine; SIGTERM closes it cleanly.
 */
import { tmpdir } from 'node:os';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { openDatabase } from '@switchboard/db';
import { pino } from 'pino';
import type { SipCoreOptions } from '../src/config.ts';
import { startSipCore } from '../src/start.ts';

const log = pino({ level: process.env.BENCH_LOG ?? 'warn' });
const options = JSON.parse(process.env.BENCH_SIP_CORE_OPTIONS ?? '{}') as SipCoreOptions;
const db = await openDatabase({
  databaseUrl: process.env.BENCH_DATABASE_URL,
  dataDir: tmpdir(),
  log,
});
const sipCore = await startSipCore(options, { prisma: db.prisma, db, logger: log });
process.stdout.write('ready\n');
// The scale bench asks what the heap holds (resident memory it reads from /proc itself).
process.on('SIGUSR2', () => {
  const before = process.memoryUsage();
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
  const after = process.memoryUsage();
  process.stderr.write(`${JSON.stringify({ before, after })}\n`);
});
process.once('SIGTERM', () => {
  void (async () => {
    await sipCore.close();
    await db.close();
    process.exit(0);
  })();
});
