import { type ChildProcess, spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** sipp (sip-tester 3.6) runs bounded in calls and time, control socket on loopback, no stdin. */
export const CALL_SCENARIOS = fileURLToPath(new URL('../../sipp/calls/', import.meta.url));
const running = new Set<ChildProcess>();

export interface SippOptions {
  scenario: string;
  port: number;
  remote?: string;
  /** CSV fields of the one call (semicolon-separated line). */
  fields?: string[];
  timeoutS?: number;
  /** Digest `uri` (without `sip:`); sipp's default, `remote_ip:remote_port`, is not the Request-URI. */
  authUri?: string;
  /** Local address (default 127.0.0.1); another loopback address stands for another host. */
  localIp?: string;
}

export interface SippResult {
  code: number | null;
  output: string;
}

export interface SippRun {
  done: Promise<SippResult>;
  stop(): void;
}

export function runSipp(opts: SippOptions): SippRun {
  const args = [
    '-sf',
    join(CALL_SCENARIOS, opts.scenario),
    '-i',
    opts.localIp ?? '127.0.0.1',
    '-mi',
    opts.localIp ?? '127.0.0.1',
    '-p',
    String(opts.port),
    '-ci',
    '127.0.0.1',
    '-nostdin',
    '-m',
    '1',
    '-timeout',
    `${opts.timeoutS ?? 30}s`,
    '-timeout_error',
    '-t',
    'u1',
    '-max_recv_loops',
    '1000',
  ];
  if (opts.fields) {
    const file = join(mkdtempSync(join(tmpdir(), 'sipp-calls-')), 'fields.csv');
    writeFileSync(file, `SEQUENTIAL\n${opts.fields.join(';')}\n`);
    args.push('-inf', file);
  }
  if (opts.authUri) args.push('-auth_uri', opts.authUri);
  if (opts.remote) args.push(opts.remote);
  const child = spawn('sipp', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  let output = '';
  const collect = (d: Buffer): void => {
    output = (output + d.toString()).slice(-20_000);
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  const done = new Promise<SippResult>((resolve) => {
    child.on('exit', (code) => {
      running.delete(child);
      resolve({ code, output });
    });
    child.on('error', (error) => {
      running.delete(child);
      resolve({ code: -1, output: String(error) });
    });
  });
  return {
    done,
    stop: () => {
      if (child.exitCode === null) child.kill('SIGKILL');
    },
  };
}

/** Kills the sipp processes this test file started that are still running. */
export function stopAllSipp(): void {
  for (const child of running) if (child.exitCode === null) child.kill('SIGKILL');
}

export function expectSippOk(result: SippResult, what: string): void {
  if (result.code !== 0) throw new Error(`sipp ${what} exited ${result.code}\n${result.output.slice(-4000)}`);
}

/** A UDP port in 18000-18999 free on 127.0.0.1 right now (sipp cannot be given port 0). */
export async function allocatePort(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = 18000 + Math.floor(Math.random() * 1000);
    const free = await new Promise<boolean>((resolve) => {
      const socket = createSocket('udp4');
      socket.once('error', () => resolve(false));
      socket.bind(port, '127.0.0.1', () => socket.close(() => resolve(true)));
    });
    if (free) return port;
  }
  throw new Error('no free UDP port in 18000-18999');
}
