import { type ChildProcess, spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Scenario files kept in the repository, next to this folder. */
export const SCENARIO_DIR = fileURLToPath(new URL('../sipp/', import.meta.url));
const running = new Set<ChildProcess>();

export interface SippOptions {
  scenario: string;
  /** `host:port` of the engine's SIP listener. */
  remote: string;
  /** Lines of the injection file (SEQUENTIAL is prepended). */
  csv: string[];
  /** Local address: several loopback addresses act as different sources. */
  localAddress?: string;
  calls?: number;
  rate?: number;
  timeoutS?: number;
  extraArgs?: string[];
}

export interface SippResult {
  code: number | null;
  output: string;
  /** The local UDP port sipp used. */
  port: number;
}

/** Runs one bounded sipp UAC (UDP) to completion; exit code 0 means every call passed. */
export async function runSipp(options: SippOptions): Promise<SippResult> {
  const localAddress = options.localAddress ?? '127.0.0.1';
  const port = await allocatePort(localAddress);
  const dir = mkdtempSync(join(tmpdir(), 'sipcore-sipp-'));
  const csv = join(dir, 'users.csv');
  writeFileSync(csv, `${['SEQUENTIAL', ...options.csv].join('\n')}\n`);
  const args = [
    '-sf',
    join(SCENARIO_DIR, options.scenario),
    '-inf',
    csv,
    '-i',
    localAddress,
    '-p',
    String(port),
    '-ci',
    localAddress,
    '-cp',
    String(port + 1),
    '-nostdin',
    '-m',
    String(options.calls ?? 1),
    '-r',
    String(options.rate ?? 10),
    '-timeout',
    `${options.timeoutS ?? 30}s`,
    '-timeout_error',
    '-t',
    'u1',
    '-trace_err',
    '-error_file',
    join(dir, 'errors.log'),
    ...(options.extraArgs ?? []),
    options.remote,
  ];
  const child = spawn('sipp', args, { stdio: ['ignore', 'pipe', 'pipe'], cwd: dir });
  running.add(child);
  let output = '';
  const collect = (data: Buffer): void => {
    output = (output + data.toString()).slice(-20_000);
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  const result = await new Promise<SippResult>((resolve) => {
    child.on('exit', (code) => resolve({ code, output, port }));
    child.on('error', (error) => resolve({ code: -1, output: String(error), port }));
  });
  running.delete(child);
  try {
    const { readFileSync } = await import('node:fs');
    result.output += readFileSync(join(dir, 'errors.log'), 'utf8').slice(-5000);
  } catch {
    // no error file: no errors
  }
  rmSync(dir, { recursive: true, force: true });
  return result;
}

/** Kills the sipp processes this test file started that are still running. */
export function stopAllSipp(): void {
  for (const child of running) if (child.exitCode === null) child.kill('SIGKILL');
}

/** A UDP port in 17000-17998 free on `address` right now (with the next one free for the control socket). */
export async function allocatePort(address = '127.0.0.1'): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = 17000 + 2 * Math.floor(Math.random() * 499);
    if ((await udpFree(address, port)) && (await udpFree(address, port + 1))) return port;
  }
  throw new Error('no free port in 17000-17999');
}

function udpFree(address: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createSocket('udp4');
    socket.once('error', () => resolve(false));
    socket.bind(port, address, () => socket.close(() => resolve(true)));
  });
}
