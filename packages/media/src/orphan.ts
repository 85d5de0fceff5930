import { execFile } from 'node:child_process';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { Logger } from 'pino';

/**
 * The pid file of a local rtpengine: which process we started, with which command line. A launcher killed
 * with SIGKILL cannot stop its child, which then keeps running and holding the RTP ports of the calls it
 * relayed; the next start reads this file and stops that process, once it has made sure it is ours.
 */
export interface RtpenginePidRecord {
  pid: number;
  /** argv as spawned: the binary, then the arguments. */
  argv: string[];
}

export function rtpenginePidFile(dataDir: string): string {
  return join(dataDir, 'rtpengine.pid');
}

export async function writePidFile(path: string, record: RtpenginePidRecord): Promise<void> {
  await writeFile(path, `${JSON.stringify(record)}\n`, { mode: 0o640 });
}

/** Removes the pid file if it still names `pid` (a newer run may have written its own). */
export async function removePidFile(path: string, pid: number): Promise<void> {
  const record = await readPidFile(path);
  if (record?.pid === pid) await rm(path, { force: true });
}

async function readPidFile(path: string): Promise<RtpenginePidRecord | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    return undefined;
  }
  try {
    const parsed = JSON.parse(text) as Partial<RtpenginePidRecord>;
    if (
      Number.isInteger(parsed.pid) &&
      (parsed.pid ?? 0) > 1 &&
      Array.isArray(parsed.argv) &&
      parsed.argv.every((a) => typeof a === 'string')
    ) {
      return { pid: parsed.pid as number, argv: parsed.argv };
    }
  } catch {
    // not JSON: not a file we wrote
  }
  return undefined;
}

/**
 * The command line of a running process, or undefined when there is none (a zombie counts as gone: it
 * holds no ports and is not ours to reap). /proc on Linux, `ps` elsewhere.
 */
export async function processCommandLine(pid: number): Promise<string[] | undefined> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    // "pid (comm) S ...": the state follows the last ')' (comm may contain anything)
    if (stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) === 'Z') return undefined;
    const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8');
    return cmdline.split('\0').filter((a, i, all) => a !== '' || i < all.length - 1);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      // No such process, or no /proc (macOS, BSD): ask ps, which exits 1 for an unknown pid.
      if (process.platform === 'linux') return undefined;
      return psCommandLine(pid);
    }
    return undefined;
  }
}

function psCommandLine(pid: number): Promise<string[] | undefined> {
  return new Promise((resolve) => {
    execFile('ps', ['-o', 'stat=,args=', '-p', String(pid)], (error, stdout) => {
      const line = stdout.trim();
      if (error || line === '' || line.startsWith('Z')) resolve(undefined);
      else resolve(line.replace(/^\S+\s+/, '').split(/\s+/));
    });
  });
}

/**
 * Stops the rtpengine a previous run left behind, if the pid file names one that is still running with
 * exactly the command line we started it with (a reused pid now belonging to something else is left
 * alone). SIGTERM, then SIGKILL after `timeoutMs`. Returns the pid it stopped.
 */
export async function stopOrphanedRtpengine(
  path: string,
  logger: Logger,
  timeoutMs = 5_000,
): Promise<number | undefined> {
  const record = await readPidFile(path);
  if (record === undefined) {
    await rm(path, { force: true });
    return undefined;
  }
  const running = await processCommandLine(record.pid);
  if (running === undefined) {
    await rm(path, { force: true });
    return undefined;
  }
  // Ours: an rtpengine binary, with the very command line we spawned (a reused pid would not match).
  if (basename(record.argv[0] ?? '') !== 'rtpengine' || running.join('\0') !== record.argv.join('\0')) {
    logger.warn(
      { pid: record.pid, pidFile: path },
      'the rtpengine pid file names another program now; leaving that process alone',
    );
    await rm(path, { force: true });
    return undefined;
  }
  logger.warn({ pid: record.pid, pidFile: path }, 'stopping the rtpengine a previous run left running');
  signal(record.pid, 'SIGTERM');
  if (!(await gone(record.pid, timeoutMs))) {
    signal(record.pid, 'SIGKILL');
    await gone(record.pid, timeoutMs);
  }
  await rm(path, { force: true });
  return record.pid;
}

function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch {
    // already gone
  }
}

/** Polls (bounded) until the process is gone; false when it is still there after `timeoutMs`. */
async function gone(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if ((await processCommandLine(pid)) === undefined) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return false;
}
