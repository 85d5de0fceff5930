import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { Logger } from 'pino';

/**
 * One full, compacting garbage collection once the start-up loads are done. Loading the directory,
 * the numbering index and the bindings reads every row in pages and builds the indexes aside before
 * swapping them in: with 100,000 subscribers about half of the heap is garbage once sip-core is ready
 * (596 MB used, 296 MB live). An idle process allocates too little for V8 to collect it on its own,
 * and it is resident memory until a collection runs; so sip-core collects once, while nothing is
 * waiting. The collection also compacts (V8's `--compact-on-every-full-gc`, set for this one call):
 * the surviving index objects are spread over every page the loads touched, and a plain full GC
 * frees only pages left empty, so the heap kept all its pages (heap total 378 MB for 207 MB live).
 *
 * `gc` is exposed for this one call (Node's documented `--expose-gc`, set at run time and read in a
 * fresh context, so that start scripts need no flag); where that is unavailable nothing happens.
 */
export function collectStartupGarbage(log: Logger): void {
  const before = process.memoryUsage();
  let ms: number;
  try {
    ms = compactingCollection();
  } catch (error) {
    log.debug({ err: error }, 'no full garbage collection after start-up');
    return;
  }
  const after = process.memoryUsage();
  log.info(
    {
      heapUsedMB: mb(after.heapUsed),
      heapTotalMB: mb(after.heapTotal),
      freedMB: mb(before.heapUsed - after.heapUsed),
      rssMB: mb(after.rss),
      ms: Math.round(ms),
    },
    'start-up garbage collected',
  );
}

/**
 * A full garbage collection that also compacts the heap (`--compact-on-every-full-gc` for this call
 * only); returns how long it stopped the process, in ms. Throws where `gc` cannot be exposed.
 */
export function compactingCollection(): number {
  const gc = globalThis.gc ?? exposedGc();
  const started = performance.now();
  setFlagsFromString('--compact-on-every-full-gc');
  try {
    gc();
  } finally {
    setFlagsFromString('--no-compact-on-every-full-gc');
  }
  return performance.now() - started;
}

function exposedGc(): () => void {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

const mb = (bytes: number): number => Math.round(bytes / (1024 * 1024));
