import { type ChildProcess, fork } from 'node:child_process';
import type { Logger } from 'pino';

/**
 * How many sip-core workers this node runs: SIP_CORE_WORKERS when REDIS_URL is set (the workers share
 * the call counts there), else 1 (the counts live in the one process), with a warning when more were
 * asked for explicitly.
 */
export function effectiveWorkers(
  config: { sipCoreWorkers: number; redisUrl: string | undefined },
  log: Logger,
  env: NodeJS.ProcessEnv = process.env,
): number {
  if (config.sipCoreWorkers <= 1 || config.redisUrl !== undefined) return config.sipCoreWorkers;
  if (env.SIP_CORE_WORKERS?.trim())
    log.warn(
      { workers: config.sipCoreWorkers },
      'SIP_CORE_WORKERS > 1 needs REDIS_URL (the call limits are shared there); running one worker',
    );
  return 1;
}

export interface WorkerPoolOptions {
  /** SIP_CORE_WORKERS: the workers 2..count are started here (the caller is worker 1). */
  count: number;
  /** The standalone sip-core entry (main.ts). */
  entry: string;
  /** Environment of every worker (DATABASE_URL, DRACHTIO_URL, SIP_NONCE_SECRET, REDIS_URL, ...). */
  env: NodeJS.ProcessEnv;
  /** Node flags of the workers (a TypeScript loader); default: this process's. */
  execArgv?: string[];
  log: Logger;
}

export interface WorkerPool {
  /** Process ids of the running workers (tests, the health detail). */
  pids(): number[];
  /** Stops every worker (SIGTERM, then SIGKILL after 10 s) and restarts none. */
  stop(): Promise<void>;
}

/** A worker that dies is started again after this long; more than MAX_RESTARTS a minute: left down. */
const RESTART_DELAY_MS = 1_000;
const MAX_RESTARTS_PER_MINUTE = 5;
const STOP_TIMEOUT_MS = 10_000;

/**
 * sip-core workers 2..count, each its own process attached to the same engine as worker 1 (the engine
 * hands each new request to the apps in turn and in-dialog requests to the app owning the dialog).
 * Each gets SIP_CORE_WORKER=<n>; a worker that exits unexpectedly is started again, a bounded number
 * of times.
 */
export function startWorkerPool(options: WorkerPoolOptions): WorkerPool {
  const children = new Map<number, ChildProcess>();
  const restarts = new Map<number, number[]>();
  let stopping = false;

  const start = (index: number): void => {
    const child = fork(options.entry, [], {
      env: { ...options.env, SIP_CORE_WORKER: String(index), SIP_CORE_WORKERS: String(options.count) },
      execArgv: options.execArgv ?? process.execArgv,
      stdio: 'inherit',
    });
    children.set(index, child);
    options.log.info({ worker: index, workerPid: child.pid }, 'sip-core worker started');
    child.on('exit', (code, signal) => {
      if (children.get(index) === child) children.delete(index);
      if (stopping) return;
      const now = Date.now();
      const recent = (restarts.get(index) ?? []).filter((at) => now - at < 60_000);
      if (recent.length >= MAX_RESTARTS_PER_MINUTE) {
        options.log.error({ worker: index, code, signal }, 'sip-core worker keeps exiting; left down');
        return;
      }
      restarts.set(index, [...recent, now]);
      options.log.warn({ worker: index, code, signal }, 'sip-core worker exited; starting it again');
      setTimeout(() => {
        if (!stopping) start(index);
      }, RESTART_DELAY_MS).unref();
    });
  };

  for (let index = 2; index <= options.count; index++) start(index);

  return {
    pids: () => [...children.values()].flatMap((child) => (child.pid === undefined ? [] : [child.pid])),
    async stop() {
      stopping = true;
      await Promise.all(
        [...children.values()].map(
          (child) =>
            new Promise<void>((resolve) => {
              if (child.exitCode !== null || child.signalCode !== null) return resolve();
              const kill = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
              child.once('exit', () => {
                clearTimeout(kill);
                resolve();
              });
              child.kill('SIGTERM');
            }),
        ),
      );
      children.clear();
    },
  };
}
