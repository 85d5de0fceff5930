import { type ChildProcess, spawn } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, isAbsolute, join } from 'node:path';
import { allocatePort } from './ports.ts';
import { waitForListener } from './scenarios.ts';

/**
 * sipp (Debian sip-tester 3.6) as a far end: always bounded in calls and run time, control socket on
 * loopback, no stdin. Every process started here is tracked so that a test's afterAll can stop it.
 */

const running = new Set<ChildProcess>();

export interface SippOptions {
  /** Scenario XML: an absolute path, or a file name inside `scenarioDir`. */
  scenario: string;
  scenarioDir?: string;
  /** Local SIP port; sipp cannot be given port 0, so take it from allocatePort() (runSipp does). */
  port: number;
  /** Local address (default 127.0.0.1); another loopback address stands for another host. */
  localAddress?: string;
  /** `host:port` to send to (UAC scenarios). */
  remote?: string;
  transport?: 'udp' | 'tcp';
  /** Calls before sipp stops (default 1). */
  calls?: number;
  /** Calls per second. */
  rate?: number;
  /** Whole run limit in seconds (default 30); running out is an error. */
  timeoutS?: number;
  /** Lines of the injection file; `SEQUENTIAL` is prepended. */
  csv?: string[];
  /** The fields of a single call: shorthand for a one-line `csv` of them joined by `;`. */
  fields?: string[];
  /** Digest `uri` without `sip:`; sipp's default, `remote_ip:remote_port`, is not the Request-URI. */
  authUri?: string;
  /** The `[service]` keyword. */
  service?: string;
  /** Control (UDP) port; default: sipp picks one from 8888 upwards. */
  controlPort?: number;
  /** Append sipp's error file (unexpected messages) to the output. */
  traceErrors?: boolean;
  extraArgs?: string[];
  /**
   * Audio captures the scenario plays: each file is linked into `pcap/` of sipp's working directory,
   * so a scenario names it `play_pcap_audio="pcap/<file name>"` (see `sippPcap`).
   */
  pcaps?: string[];
}

/** Where sipp's packages put their pcap audio (Debian's sip-tester, a source build); SIPP_PCAP_DIR first. */
const PCAP_DIRS = ['/usr/share/sip-tester', '/usr/share/sipp/pcap', '/usr/local/share/sipp/pcap'];

/**
 * The path of one of sipp's pcap audio files (`g711a.pcap`, `dtmf_2833_1.pcap`, ...), looked up in
 * SIPP_PCAP_DIR and the packages' directories; throws naming the places looked at.
 */
export function sippPcap(name: string, env: NodeJS.ProcessEnv = process.env): string {
  const dirs = [...(env.SIPP_PCAP_DIR ? [env.SIPP_PCAP_DIR] : []), ...PCAP_DIRS];
  for (const dir of dirs) {
    const path = join(dir, name);
    if (existsSync(path)) return path;
  }
  throw new Error(`sipp pcap ${name} not found in ${dirs.join(', ')} (set SIPP_PCAP_DIR)`);
}

export interface SippResult {
  code: number | null;
  stdout: string;
  stderr: string;
  /** stdout, stderr and, with traceErrors, the error file: the tail to print when a run fails. */
  output: string;
  /** The local SIP port sipp used. */
  port: number;
}

export interface SippRun {
  port: number;
  /** Resolves when sipp has exited. */
  done: Promise<SippResult>;
  /**
   * Resolves once sipp listens on its port (a UAS is then ready for its call); rejects if it has not
   * after `timeoutMs`. Waiting on this, not on time, keeps a loaded machine from failing a call.
   */
  listening(timeoutMs?: number): Promise<void>;
  /** SIGKILL if still running. */
  stop(): void;
}

const TAIL = 20_000;

export function startSipp(options: SippOptions): SippRun {
  const local = options.localAddress ?? '127.0.0.1';
  const dir = mkdtempSync(join(tmpdir(), 'sipp-'));
  const scenario =
    isAbsolute(options.scenario) || !options.scenarioDir
      ? options.scenario
      : join(options.scenarioDir, options.scenario);
  const args = ['-sf', scenario, '-i', local, '-mi', local, '-p', String(options.port), '-ci', local];
  if (options.controlPort !== undefined) args.push('-cp', String(options.controlPort));
  args.push('-nostdin', '-m', String(options.calls ?? 1), '-t', options.transport === 'tcp' ? 't1' : 'u1');
  args.push('-timeout', `${options.timeoutS ?? 30}s`, '-timeout_error', '-max_recv_loops', '1000');
  if (options.rate !== undefined) args.push('-r', String(options.rate));
  if (options.service !== undefined) args.push('-s', options.service);
  const csv = options.csv ?? (options.fields ? [options.fields.join(';')] : undefined);
  if (csv) {
    const file = join(dir, 'fields.csv');
    writeFileSync(file, `${['SEQUENTIAL', ...csv].join('\n')}\n`);
    args.push('-inf', file);
  }
  if (options.pcaps?.length) {
    mkdirSync(join(dir, 'pcap'));
    for (const file of options.pcaps) symlinkSync(file, join(dir, 'pcap', basename(file)));
  }
  const errorFile = join(dir, 'errors.log');
  if (options.traceErrors) args.push('-trace_err', '-error_file', errorFile);
  if (options.authUri) args.push('-auth_uri', options.authUri);
  args.push(...(options.extraArgs ?? []));
  if (options.remote) args.push(options.remote);

  const child = spawn('sipp', args, { stdio: ['ignore', 'pipe', 'pipe'], cwd: dir });
  running.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (data: Buffer) => {
    stdout = (stdout + data.toString()).slice(-TAIL);
  });
  child.stderr?.on('data', (data: Buffer) => {
    stderr = (stderr + data.toString()).slice(-TAIL);
  });
  const finish = (code: number | null, error?: unknown): SippResult => {
    running.delete(child);
    let errors = '';
    try {
      if (options.traceErrors) errors = readFileSync(errorFile, 'utf8').slice(-5000);
    } catch {
      // sipp writes no error file when nothing went wrong.
    }
    rmSync(dir, { recursive: true, force: true });
    if (error !== undefined) stderr += String(error);
    return { code, stdout, stderr, output: `${stdout}${stderr}${errors}`.slice(-TAIL), port: options.port };
  };
  const done = new Promise<SippResult>((resolve) => {
    child.once('exit', (code) => resolve(finish(code)));
    child.once('error', (error) => resolve(finish(-1, error)));
  });
  return {
    port: options.port,
    done,
    listening: (timeoutMs = 10_000) =>
      waitForListener(options.port, { address: local, protocol: options.transport ?? 'udp', timeoutMs }),
    stop() {
      if (child.exitCode === null) child.kill('SIGKILL');
    },
  };
}

/** Runs sipp to its end on a fresh port (unless one is given); exit code 0 means every call passed. */
export async function runSipp(options: Omit<SippOptions, 'port'> & { port?: number }): Promise<SippResult> {
  if (options.port !== undefined) return startSipp({ ...options, port: options.port }).done;
  // Two ports: SIP and, next to it, sipp's control socket, which otherwise hunts upwards from 8888.
  const port = await allocatePort({
    address: options.localAddress,
    tcp: options.transport === 'tcp',
    count: 2,
  });
  return startSipp({ controlPort: port + 1, ...options, port }).done;
}

/** Throws with sipp's output when a run did not pass. */
export function expectSippOk(result: SippResult, what: string): void {
  expectSippsOk({ [what]: result });
}

/**
 * Throws with the output of every run that did not pass, not only the first: when two sipps talk
 * through the platform, the other side's view tells where a message went missing. `context`, when
 * given, is added to the message (what else the test saw).
 */
export function expectSippsOk(runs: Record<string, SippResult>, context?: () => string): void {
  const failed = Object.entries(runs).filter(([, result]) => result.code !== 0);
  if (failed.length === 0) return;
  const reports = Object.entries(runs).map(
    ([what, result]) => `sipp ${what} exited ${result.code}\n${result.output.slice(-4000)}`,
  );
  const names = failed.map(([what]) => what).join(' and ');
  throw new Error([`sipp ${names} failed`, ...reports, ...(context ? [context()] : [])].join('\n\n'));
}

/** Kills every sipp this process started that still runs. */
export function stopAllSipp(): void {
  for (const child of running) if (child.exitCode === null) child.kill('SIGKILL');
}
