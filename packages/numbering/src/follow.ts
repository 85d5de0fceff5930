import type { Database } from '@switchboard/db';
import { CHANGES_CHANNEL, parseTableChange } from '@switchboard/db';
import type { Logger } from 'pino';
import { loadNumberingData } from './loader.ts';
import type { LoadProblem, NumberingIndex } from './numbering-index.ts';
import type { NumberingData } from './types.ts';

/** Tables the numbering snapshot is built from; changes to any other table are ignored. */
export const NUMBERING_TABLES: ReadonlySet<string> = new Set([
  'domains',
  'subscribers',
  'numbers',
  'rewrite_rule_sets',
  'rewrite_rules',
  'peering_groups',
  'peer_gateways',
  'peering_rules',
]);

export interface FollowOptions {
  db: Pick<Database, 'prisma' | 'onChange'>;
  index: NumberingIndex;
  logger?: Logger;
  /** Changes arriving within this window are coalesced into one reload (default 100 ms). */
  debounceMs?: number;
  /** Called after each successful reload (tests, metrics). */
  onReload?: (info: ReloadInfo) => void;
  /** Replaces the database read (tests). */
  load?: () => Promise<NumberingData>;
}

export interface ReloadInfo {
  version: number;
  ms: number;
  problems: LoadProblem[];
}

export interface IndexFollower {
  /** Resolves with the first load's result once the index holds the database's data. */
  ready: Promise<ReloadInfo>;
  /** Reloads now (coalesced with any reload already under way). */
  reload(): void;
  close(): Promise<void>;
}

const RETRY_MIN_MS = 1_000;
const RETRY_MAX_MS = 30_000;
const MAX_LOGGED_PROBLEMS = 20;

/**
 * Keeps a {@link NumberingIndex} in step with the database: LISTENs on the change channel, and on every
 * change to a numbering table reloads the whole snapshot and swaps it in atomically. Calls keep being
 * answered from the previous snapshot while a reload runs; a failed reload keeps the previous snapshot
 * and retries with backoff. After the listening connection was lost, it reloads (changes may have been
 * missed). Listening starts before the first load, so no change falls between the two.
 */
export async function followDatabase(options: FollowOptions): Promise<IndexFollower> {
  const { db, index, logger } = options;
  const debounceMs = options.debounceMs ?? 100;
  const load = options.load ?? (() => loadNumberingData(db.prisma));
  let closed = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | null = null;
  let dirty = false;
  let retryMs = RETRY_MIN_MS;
  let resolveReady: (info: ReloadInfo) => void = () => undefined;
  const ready = new Promise<ReloadInfo>((resolve) => {
    resolveReady = resolve;
  });

  const schedule = (delay: number) => {
    if (closed) return;
    if (running) {
      dirty = true; // reload again once the running one finished: it may have read before the change
      return;
    }
    if (timer) return;
    timer = setTimeout(() => {
      timer = undefined;
      running = reloadOnce().then((retryIn) => {
        running = null;
        if (closed) return;
        if (retryIn !== null) {
          // A failed reload is retried after the backoff; changes meanwhile are covered by it.
          dirty = false;
          schedule(retryIn);
        } else if (dirty) {
          dirty = false;
          schedule(debounceMs);
        }
      });
    }, delay);
  };

  /** Loads and swaps in a snapshot. Returns null on success, else the delay before the retry. */
  const reloadOnce = async (): Promise<number | null> => {
    const started = Date.now();
    try {
      const data = await load();
      if (closed) return null;
      const problems = index.replace(data);
      const info = { version: index.version, ms: Date.now() - started, problems };
      retryMs = RETRY_MIN_MS;
      for (const problem of problems.slice(0, MAX_LOGGED_PROBLEMS)) {
        logger?.warn({ problem }, 'numbering entry left out of the index');
      }
      logger?.info(
        { version: info.version, ms: info.ms, ...index.size, problems: problems.length },
        'numbering index loaded',
      );
      resolveReady(info);
      try {
        options.onReload?.(info);
      } catch (error) {
        logger?.error({ err: error }, 'numbering reload listener threw');
      }
      return null;
    } catch (error) {
      if (closed) return null;
      const delay = retryMs;
      logger?.error(
        { err: error, retryInMs: delay },
        'numbering index reload failed; keeping the previous snapshot',
      );
      retryMs = Math.min(retryMs * 2, RETRY_MAX_MS);
      return delay;
    }
  };

  const stop = await db.onChange(
    CHANGES_CHANNEL,
    (payload) => {
      const change = parseTableChange(payload);
      // Unknown payloads reload too: better a needless reload than a stale index.
      if (change && !NUMBERING_TABLES.has(change.table)) return;
      schedule(debounceMs);
    },
    { onReconnect: () => schedule(0) },
  );
  schedule(0);

  return {
    ready,
    reload: () => schedule(0),
    close: async () => {
      closed = true;
      if (timer) clearTimeout(timer);
      await stop();
      await running;
    },
  };
}
