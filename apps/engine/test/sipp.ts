import { type ChildProcess, spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Runs sipp (Debian sip-tester 3.6) as a far end for contract tests: bounded call count and run time,
 * control socket on loopback, no stdin. Every process started here is tracked so afterAll can stop it.
 */

export const SCENARIO_DIR = fileURLToPath(new URL('./sipp/', import.meta.url));
const running = new Set<ChildProcess>();

export interface SippOptions {
  scenario: string;
  /** `host:port` to send to (UAC scenarios). */
  remote?: string;
  /** Local SIP port (taken from allocatePort() so that tests know where to send). */
  port: number;
  transport?: 'udp' | 'tcp';
  /** Number of calls before sipp stops (default 1). */
  calls?: number;
  /** Whole run limit in seconds (default 20). */
  timeoutS?: number;
  service?: string;
  /** Lines of the injection CSV (the first line, SEQUENTIAL, is added). */
  csv?: string[];
  rate?: number;
  extraArgs?: string[];
}

export interface SippResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface SippRun {
  /** Resolves when sipp has exited. */
  done: Promise<SippResult>;
  stop(): void;
}

export function runSipp(opts: SippOptions): SippRun {
  const args = [
    '-sf',
    join(SCENARIO_DIR, opts.scenario),
    '-i',
    '127.0.0.1',
    '-p',
    String(opts.port),
    '-ci',
    '127.0.0.1',
    '-nostdin',
    '-m',
    String(opts.calls ?? 1),
    '-timeout',
    `${opts.timeoutS ?? 20}s`,
    '-timeout_error',
    '-t',
    opts.transport === 'tcp' ? 't1' : 'u1',
    '-s',
    opts.service ?? 'service',
    '-max_recv_loops',
    '1000',
    ...(opts.rate !== undefined ? ['-r', String(opts.rate)] : []),
    ...(opts.extraArgs ?? []),
  ];
  if (opts.csv) {
    const dir = mkdtempSync(join(tmpdir(), 'sipp-'));
    const file = join(dir, 'fields.csv');
    writeFileSync(file, `${['SEQUENTIAL', ...opts.csv].join('\n')}\n`);
    args.push('-inf', file);
  }
  if (opts.remote) args.push(opts.remote);
  const child = spawn('sipp', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => {
    stdout = (stdout + d.toString()).slice(-20_000);
  });
  child.stderr!.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-20_000);
  });
  const done = new Promise<SippResult>((resolve) => {
    child.on('exit', (code) => {
      running.delete(child);
      resolve({ code, stdout, stderr });
    });
    child.on('error', (err) => {
      running.delete(child);
      resolve({ code: -1, stdout, stderr: String(err) });
    });
  });
  return {
    done,
    stop: () => {
      if (child.exitCode === null) child.kill('SIGKILL');
    },
  };
}

/** Kills every sipp this process started and that is still running. */
export function stopAllSipp(): void {
  for (const child of running) if (child.exitCode === null) child.kill('SIGKILL');
}

/**
 * A port in 16000-16999 free for both UDP and TCP on 127.0.0.1 right now (sipp cannot be told to pick one).
 */
export async function allocatePort(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = 16000 + Math.floor(Math.random() * 1000);
    if ((await udpFree(port)) && (await tcpFree(port))) return port;
  }
  throw new Error('no free port in 16000-16999');
}

function udpFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createSocket('udp4');
    s.once('error', () => resolve(false));
    s.bind(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

function tcpFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}
