import { type ChildProcess, spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * sipp (sip-tester 3.6) as a test peer: one bounded call over UDP on loopback, control socket on loopback,
 * no stdin. The scenarios in `sipp/` take their values from one CSV line (see `registerFields` and
 * `callFields`).
 */
export const CALL_SCENARIOS = fileURLToPath(new URL('../sipp/', import.meta.url));
const running = new Set<ChildProcess>();

export interface SippOptions {
  /** A file name in `CALL_SCENARIOS`, or an absolute path to another scenario. */
  scenario: string;
  /** Local UDP port: sipp cannot be given port 0, see `allocateUdpPort`. */
  port: number;
  /** `host:port` of the SIP listener; a UAS that only waits for calls needs none. */
  remote?: string;
  /** CSV fields of the one call; digest credentials as the whole `[authentication ...]` keyword. */
  fields?: string[];
  /** Digest `uri` (without `sip:`); sipp's default, `remote_ip:remote_port`, is not the Request-URI. */
  authUri?: string;
  /** Overall limit; the run fails (non-zero exit) when it is reached. */
  timeoutS?: number;
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
  const scenario = isAbsolute(opts.scenario) ? opts.scenario : join(CALL_SCENARIOS, opts.scenario);
  const dir = mkdtempSync(join(tmpdir(), 'sb-sipp-'));
  const args = ['-sf', scenario, '-i', '127.0.0.1', '-mi', '127.0.0.1', '-p', String(opts.port)];
  args.push('-ci', '127.0.0.1', '-nostdin', '-m', '1', '-t', 'u1', '-max_recv_loops', '1000');
  args.push('-timeout', `${opts.timeoutS ?? 30}s`, '-timeout_error');
  if (opts.fields) {
    const file = join(dir, 'fields.csv');
    writeFileSync(file, `SEQUENTIAL\n${opts.fields.join(';')}\n`);
    args.push('-inf', file);
  }
  if (opts.authUri) args.push('-auth_uri', opts.authUri);
  if (opts.remote) args.push(opts.remote);
  // cwd: sipp writes its own files (error and screen logs) next to where it runs.
  const child = spawn('sipp', args, { stdio: ['ignore', 'pipe', 'pipe'], cwd: dir });
  running.add(child);
  let output = '';
  const collect = (d: Buffer): void => {
    output = (output + d.toString()).slice(-20_000);
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  const done = new Promise<SippResult>((resolve) => {
    const finish = (result: SippResult): void => {
      running.delete(child);
      rmSync(dir, { recursive: true, force: true });
      resolve(result);
    };
    child.on('exit', (code) => finish({ code, output }));
    child.on('error', (error) => finish({ code: -1, output: String(error) }));
  });
  return {
    done,
    stop: () => {
      if (child.exitCode === null) child.kill('SIGKILL');
    },
  };
}

/** Kills the sipp processes started in this process that are still running. */
export function stopAllSipp(): void {
  for (const child of running) if (child.exitCode === null) child.kill('SIGKILL');
}

export function expectSippOk(result: SippResult, what: string): void {
  if (result.code !== 0) throw new Error(`sipp ${what} exited ${result.code}\n${result.output.slice(-4000)}`);
}

/** CSV fields of `register.xml`: `user@domain` registers with digest authentication. */
export function registerFields(user: string, password: string, domain: string): string[] {
  return [user, `[authentication username=${user} password=${password}]`, domain];
}

/** CSV fields of `uac-call-bye.xml`: `caller` (authenticating) calls `callee` in the same domain. */
export function callFields(caller: string, password: string, domain: string, callee: string): string[] {
  return [caller, `[authentication username=${caller} password=${password}]`, domain, callee];
}

/**
 * A UDP port in `[min, max]` free on 127.0.0.1 right now, so that parallel test runs given different
 * ranges never meet.
 */
export async function allocateUdpPort(min: number, max: number): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = min + Math.floor(Math.random() * (max - min + 1));
    const free = await new Promise<boolean>((resolve) => {
      const socket = createSocket('udp4');
      socket.once('error', () => resolve(false));
      socket.bind(port, '127.0.0.1', () => socket.close(() => resolve(true)));
    });
    if (free) return port;
  }
  throw new Error(`no free UDP port in ${min}-${max}`);
}

/**
 * Resolves once some process listens on UDP `port` on 127.0.0.1 (a sipp UAS that is ready for its call).
 * It reads the kernel's socket table instead of trying to bind the port, which could take the port away from
 * the sipp that is about to bind it. Linux only, bounded by `timeoutMs`.
 */
export async function waitForUdpListener(port: number, timeoutMs = 10_000): Promise<void> {
  const wanted = `0100007F:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const table = readFileSync('/proc/net/udp', 'utf8');
    if (table.split('\n').some((line) => line.trim().split(/\s+/)[1] === wanted)) return;
    if (Date.now() > deadline) throw new Error(`nothing listens on UDP 127.0.0.1:${port}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
