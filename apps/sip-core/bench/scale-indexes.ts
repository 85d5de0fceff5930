/**
 * One measurement of the scale benchmark, in a process of its own so that its heap holds nothing
 * else: loads sip-core's in-memory indexes (directory, numbering, location) from BENCH_DATABASE_URL
 * one after the other, with a full garbage collection before and after each, and prints one JSON
 * line with the heap each one holds and how long its load took. A second directory load is the
 * full reload sip-core does when a domain changes or the change feed reconnects.
 */
import { tmpdir } from 'node:os';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { openDatabase } from '@switchboard/db';
import { followDatabase, NumberingIndex } from '@switchboard/numbering';
import { pino } from 'pino';
import { Directory } from '../src/directory/directory.ts';
import { LocationService } from '../src/location/location-service.ts';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** Heap in use after two full collections (the second one frees what the first one's finalisers left). */
function heapUsed(): number {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

async function timed(load: () => Promise<unknown>): Promise<{ bytes: number; ms: number }> {
  const before = heapUsed();
  const started = performance.now();
  await load();
  const ms = performance.now() - started;
  return { bytes: heapUsed() - before, ms };
}

const log = pino({ level: 'warn' });
const db = await openDatabase({ databaseUrl: process.env.BENCH_DATABASE_URL, dataDir: tmpdir(), log });
const directory = new Directory(db.prisma, log);
const numbering = new NumberingIndex();
const location = new LocationService(db, { nodeName: 'scale', log });

const directoryLoad = await timed(() => directory.load());
const numberingLoad = await timed(async () => {
  const follower = await followDatabase({
    db: { prisma: db.prisma, onChange: db.onChange.bind(db) },
    index: numbering,
    logger: log,
  });
  await follower.ready;
});
const locationLoad = await timed(() => location.load());
const reloadStarted = performance.now();
await directory.load();
const directoryReloadMs = performance.now() - reloadStarted;
// Two more directories now that the numbering index is loaded (the first query's one-time work is
// done): one with strings of its own, and one sharing the subscribers' id and username strings with
// the numbering index, as sip-core's directory does.
const ownStrings = new Directory(db.prisma, log);
const directoryAgain = await timed(() => ownStrings.load());
const sharing = new Directory(db.prisma, log, (id) => numbering.subscriberStrings(id));
const directoryShared = await timed(() => sharing.load());

process.stdout.write(
  `${JSON.stringify({
    directory: directoryLoad,
    numbering: numberingLoad,
    location: locationLoad,
    directoryReloadMs,
    directoryAgain,
    directoryShared,
    heapUsed: heapUsed(),
    rss: process.memoryUsage().rss,
  })}\n`,
);
process.exit(0);
