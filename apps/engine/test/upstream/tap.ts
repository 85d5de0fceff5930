import { spawn } from 'node:child_process';

/** What an upstream test file printed, read as TAP (tape and mocha's tap reporter both write it). */
export interface TapRun {
  passed: string[];
  failed: string[];
  /** How the process ended: an exit code, or `timeout` when it had to be killed. */
  exit: number | 'timeout' | null;
  output: string;
}

export function parseTap(output: string): Pick<TapRun, 'passed' | 'failed'> {
  const passed: string[] = [];
  const failed: string[] = [];
  for (const line of output.split('\n')) {
    const m = /^(not ok|ok) \d+\s*(?:-\s*)?(.*)$/.exec(line.trim());
    if (!m) continue;
    (m[1] === 'ok' ? passed : failed).push(m[2]!.trim());
  }
  return { passed, failed };
}

/**
 * Runs one upstream test file in its own node process (its own process group, so that the sipp UACs it
 * starts go with it), killed after `limitMs`.
 */
export function runTapFile(
  args: string[],
  options: { cwd: string; env: NodeJS.ProcessEnv; limitMs: number },
): Promise<TapRun> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, {
      cwd: options.cwd,
      env: options.env,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    const collect = (data: Buffer) => {
      output = (output + data.toString()).slice(-200_000);
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    let timedOut = false;
    const killGroup = () => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    };
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup();
    }, options.limitMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      // sipp UACs still running once the test process is gone belong to nobody: end them with it.
      killGroup();
      resolve({ ...parseTap(output), exit: timedOut ? 'timeout' : code, output });
    });
  });
}
