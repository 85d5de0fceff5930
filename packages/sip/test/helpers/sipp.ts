import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface SippRun {
  /** Resolves with sipp's exit code (0: all calls succeeded) and its error trace, if any. */
  done: Promise<{ code: number | null; errors: string; stderr: string }>;
  stop(): void;
}

const running = new Set<ChildProcess>();

/** Starts sipp in its own scratch directory (its logs land there), bounded by -m and -timeout. */
export function runSipp(args: string[]): SippRun {
  const dir = mkdtempSync(join(tmpdir(), 'sipp-'));
  const child = spawn('sipp', ['-ci', '127.0.0.1', '-nostdin', '-trace_err', ...args], {
    cwd: dir,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  running.add(child);
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const done = new Promise<{ code: number | null; errors: string; stderr: string }>((resolve) => {
    child.on('exit', (code) => {
      running.delete(child);
      let errors = '';
      try {
        for (const f of readdirSync(dir))
          if (f.endsWith('_errors.log')) errors += readFileSync(join(dir, f), 'utf8');
      } catch {
        // no error log
      }
      rmSync(dir, { recursive: true, force: true });
      resolve({ code, errors, stderr });
    });
  });
  return {
    done,
    stop: () => {
      if (child.exitCode === null) child.kill('SIGKILL');
    },
  };
}

/** Kills every sipp this process started that is still running (afterAll). */
export function stopAllSipp(): void {
  for (const child of running) if (child.exitCode === null) child.kill('SIGKILL');
}
