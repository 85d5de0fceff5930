import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/**
 * Runs the real launcher as a child process, as an operator would: from its sources
 * (bin/switchboard.mjs, under tsx) or compiled, as `pnpm start` runs it (dist/main.mjs).
 */

const BIN = fileURLToPath(new URL('../../bin/switchboard.mjs', import.meta.url));
const BUNDLE = fileURLToPath(new URL('../../dist/main.mjs', import.meta.url));
const PACKAGE_DIR = fileURLToPath(new URL('../..', import.meta.url));
export type LauncherProgram = 'sources' | 'bundle';

/** Compiles the launcher and sip-core's program as `pnpm start` does (its `bundle` script). */
export function bundleLauncher(): void {
  const built = spawnSync('pnpm', ['run', 'bundle'], { cwd: PACKAGE_DIR, encoding: 'utf8' });
  if (built.status !== 0) throw new Error(`pnpm run bundle failed:\n${built.stdout}${built.stderr}`);
}
export const TEST_DATABASE_URL =
  process.env.TEST_DATABASE_URL ?? 'postgresql://switchboard:switchboard@127.0.0.1:5432/switchboard_test';

/** Every listener on loopback and an ephemeral port, so tests never collide with a running platform. */
export const LOOPBACK_ENV = {
  API_PORT: '0',
  NUMBERING_PORT: '0',
  SIP_LISTEN: 'udp:127.0.0.1:0,tcp:127.0.0.1:0',
  ENGINE_ADMIN: '127.0.0.1:0',
  ENUM_LISTEN: 'udp:127.0.0.1:0',
  SIP_ADVERTISED_ADDRESS: '127.0.0.1',
  RTP_PORTS: '41000-41100',
  LOG_LEVEL: 'info',
};

export interface Launched {
  child: ChildProcess;
  output: () => string;
  /** Resolves with the first log event matching `msg`. */
  waitForLog: (msg: string, timeoutMs?: number) => Promise<Record<string, unknown>>;
  exited: Promise<number | null>;
}

export function launch(
  args: string[],
  env: Record<string, string>,
  program: LauncherProgram = 'sources',
): Launched {
  const child = spawn(process.execPath, [program === 'bundle' ? BUNDLE : BIN, ...args], {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const waiters: { msg: string; resolve: (e: Record<string, unknown>) => void }[] = [];
  const scan = (): void => {
    for (const line of out.split('\n')) {
      if (!line.startsWith('{')) continue;
      let event: Record<string, unknown>;
      try {
        event = JSON.parse(line) as Record<string, unknown>;
      } catch {
        continue;
      }
      for (const w of [...waiters]) {
        if (event.msg === w.msg) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(event);
        }
      }
    }
  };
  child.stdout?.on('data', (d: Buffer) => {
    out += d.toString();
    scan();
  });
  child.stderr?.on('data', (d: Buffer) => {
    out += d.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return {
    child,
    output: () => out,
    exited,
    waitForLog(msg, timeoutMs = 60_000) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`no '${msg}' log within ${timeoutMs} ms; output:\n${out}`)),
          timeoutMs,
        );
        waiters.push({
          msg,
          resolve: (e) => {
            clearTimeout(timer);
            resolve(e);
          },
        });
        scan();
        exited.then(() => reject(new Error(`process exited before '${msg}'; output:\n${out}`)));
      });
    },
  };
}

/** The API's base URL once the platform is up (the bound on a start is generous: the machine may be busy). */
export async function apiBase(run: Launched, timeoutMs = 90_000): Promise<string> {
  const event = await run.waitForLog('web admin and API listening', timeoutMs);
  return String(event.url).replace(/\/$/, '');
}

/** Asks the launcher to stop as an operator would (SIGTERM) and waits for its exit code. */
export async function stop(run: Launched): Promise<number | null> {
  run.child.kill('SIGTERM');
  return run.exited;
}
