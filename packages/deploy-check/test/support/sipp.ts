import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const SCENARIOS = fileURLToPath(new URL('../sipp/', import.meta.url));
const running = new Set<ChildProcess>();

export interface SippOptions {
  scenario: string;
  port: number;
  remote?: string;
  /** The CSV fields of the one call; digest credentials as the whole `[authentication ...]` keyword. */
  fields?: string[];
  /** Digest `uri` without `sip:`. */
  authUri?: string;
  timeoutS?: number;
}

export interface SippResult {
  code: number | null;
  output: string;
}

/** One sipp call (UDP, loopback, no stdin, bounded in calls and time). */
export function runSipp(opts: SippOptions): Promise<SippResult> {
  const args = ['-sf', join(SCENARIOS, opts.scenario), '-i', '127.0.0.1', '-mi', '127.0.0.1'];
  args.push('-p', String(opts.port), '-ci', '127.0.0.1', '-nostdin', '-m', '1', '-t', 'u1');
  args.push('-timeout', `${opts.timeoutS ?? 30}s`, '-timeout_error', '-max_recv_loops', '1000');
  if (opts.fields) {
    const file = join(mkdtempSync(join(tmpdir(), 'deploy-sipp-')), 'fields.csv');
    writeFileSync(file, `SEQUENTIAL\n${opts.fields.join(';')}\n`);
    args.push('-inf', file);
  }
  if (opts.authUri) args.push('-auth_uri', opts.authUri);
  if (opts.remote) args.push(opts.remote);
  const child = spawn('sipp', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  let output = '';
  const keep = (chunk: Buffer): void => {
    output = (output + chunk.toString()).slice(-12_000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  return new Promise((resolve) => {
    child.on('exit', (code) => {
      running.delete(child);
      resolve({ code, output });
    });
    child.on('error', (error) => {
      running.delete(child);
      resolve({ code: -1, output: String(error) });
    });
  });
}

/** Kills the sipp processes this file started that still run. */
export function stopAllSipp(): void {
  for (const child of running) if (child.exitCode === null) child.kill('SIGKILL');
}

export function expectSippOk(result: SippResult, what: string): void {
  if (result.code !== 0) throw new Error(`sipp ${what} exited ${result.code}\n${result.output.slice(-4000)}`);
}
