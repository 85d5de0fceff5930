import { type ChildProcess, spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { accessSync, constants, mkdirSync } from 'node:fs';
import { readdir, readFile, readlink } from 'node:fs/promises';
import { networkInterfaces } from 'node:os';
import { delimiter, join } from 'node:path';
import type { Logger } from 'pino';
import { parseRtpengineNg } from './config.ts';
import { MediaError } from './errors.ts';
import type { MediaRelay } from './media-relay.ts';
import { NgClient } from './ng-client.ts';
import { NullMedia } from './null-media.ts';
import { removePidFile, rtpenginePidFile, stopOrphanedRtpengine, writePidFile } from './orphan.ts';
import { RtpengineMedia, type RtpengineMediaOptions } from './rtpengine-media.ts';

/** Path of the `rtpengine` binary on PATH, or null when it is not installed. */
export function detectRtpengine(pathEnv: string | undefined = process.env.PATH): string | null {
  for (const dir of (pathEnv ?? '').split(delimiter)) {
    if (dir === '') continue;
    const candidate = join(dir, 'rtpengine');
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not in this directory
    }
  }
  return null;
}

export interface LocalRtpengineOptions {
  /**
   * When set, recordings go to `<dataDir>/recordings` (pcap), and `<dataDir>/rtpengine.pid` names the
   * child, so that the next start stops it if this process dies without stopping it (SIGKILL, a crash).
   */
  dataDir?: string;
  /** NG port on 127.0.0.1; default: a free port. */
  ngPort?: number;
  portMin: number;
  portMax: number;
  /** rtpengine `--interface` value(s): `IP`, `NAME/IP` or `NAME/IP!ADVERTISED_IP`. */
  interface: string | string[];
  logger: Logger;
  /** Binary to run; default: `rtpengine` found on PATH. */
  binary?: string;
  /** `host:port` rtpengine sends the DTMF events it sees to (`--dtmf-log-dest`, JSON over UDP). */
  dtmfLogDest?: string;
  /** Bound on waiting for the first pong (default 10 s). */
  startTimeoutMs?: number;
  /** Bound on waiting for exit after SIGTERM before SIGKILL (default 5 s). */
  stopTimeoutMs?: number;
}

export interface LocalRtpengine {
  /** `127.0.0.1:<port>`, the value RTPENGINE_NG would hold. */
  ngAddress: string;
  host: string;
  port: number;
  pid: number;
  /** SIGTERM, then SIGKILL after the bounded wait; idempotent. */
  stop(): Promise<void>;
}

/** The command-line flags of a local rtpengine: userspace forwarding, NG on loopback, no config file. */
export function localRtpengineArgs(options: LocalRtpengineOptions & { ngPort: number }): string[] {
  const interfaces = Array.isArray(options.interface) ? options.interface : [options.interface];
  if (interfaces.length === 0)
    throw new MediaError('invalid-config', 'rtpengine needs at least one interface');
  if (!(options.portMin > 0 && options.portMin < options.portMax && options.portMax <= 65535)) {
    throw new MediaError('invalid-config', `invalid RTP port range ${options.portMin}-${options.portMax}`);
  }
  const args = [
    // Without it rtpengine reads the system configuration (extra listeners, other interfaces).
    '--config-file=none',
    ...interfaces.map((i) => `--interface=${i}`),
    `--listen-ng=127.0.0.1:${options.ngPort}`,
    `--port-min=${options.portMin}`,
    `--port-max=${options.portMax}`,
    // Userspace forwarding: no kernel module needed.
    '--table=-1',
    // Deleted calls disappear at once (the default keeps them ~30 s).
    '--delete-delay=0',
    '--foreground',
    '--log-stderr',
    '--no-log-timestamps',
    '--log-level=5',
  ];
  if (options.dtmfLogDest !== undefined) args.push(`--dtmf-log-dest=${options.dtmfLogDest}`);
  if (options.dataDir !== undefined) {
    args.push(`--recording-dir=${join(options.dataDir, 'recordings')}`, '--recording-method=pcap');
  }
  return args;
}

/** Ports tried for the NG control socket when we choose it (see startLocalRtpengine). */
const NG_PORT_ATTEMPTS = 3;

/**
 * Runs a local rtpengine child and resolves once its NG port answers ping. A port we chose ourselves
 * (no `ngPort`) can be taken by another program between our check and rtpengine's bind: then a new
 * one is tried, a bounded number of times. A port the operator chose is never replaced.
 */
export async function startLocalRtpengine(options: LocalRtpengineOptions): Promise<LocalRtpengine> {
  const binary = options.binary ?? detectRtpengine();
  if (binary === null)
    throw new MediaError('invalid-config', 'rtpengine is not installed (not found on PATH)');
  if (options.dataDir !== undefined) mkdirSync(join(options.dataDir, 'recordings'), { recursive: true });
  for (let attempt = 1; ; attempt++) {
    const ngPort = options.ngPort ?? (await freeUdpPort());
    try {
      return await launchLocalRtpengine(binary, options, ngPort);
    } catch (err) {
      if (options.ngPort !== undefined || attempt >= NG_PORT_ATTEMPTS || !ngPortTaken(err)) throw err;
      options.logger.warn(
        { ngPort, attempt },
        'the NG port chosen for rtpengine was taken meanwhile: trying another',
      );
    }
  }
}

/** The start failed because the NG control port was in use (before or at rtpengine's own bind). */
function ngPortTaken(err: unknown): boolean {
  return (
    err instanceof MediaError &&
    /NG port \S+ is already in use|NG control connection port .*Address already in use/.test(err.message)
  );
}

async function launchLocalRtpengine(
  binary: string,
  options: LocalRtpengineOptions,
  ngPort: number,
): Promise<LocalRtpengine> {
  // A busy port would make us talk to someone else's rtpengine while ours fails to start.
  await assertUdpPortFree(ngPort);

  const args = localRtpengineArgs({ ...options, ngPort });
  const logger = options.logger.child({ component: 'rtpengine', ngPort });
  const pidFile = options.dataDir !== undefined ? rtpenginePidFile(options.dataDir) : undefined;
  // The RTP ports of the previous run's calls are still held by its rtpengine if that run was killed.
  if (pidFile !== undefined) await stopOrphanedRtpengine(pidFile, logger, options.stopTimeoutMs ?? 5000);
  const child = spawn(binary, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  if (pidFile !== undefined && child.pid !== undefined) {
    await writePidFile(pidFile, { pid: child.pid, argv: [binary, ...args] });
  }
  const stderrTail: string[] = [];
  child.stderr?.setEncoding('utf8');
  let partial = '';
  child.stderr?.on('data', (chunk: string) => {
    const lines = (partial + chunk).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) {
      if (line === '') continue;
      stderrTail.push(line);
      if (stderrTail.length > 30) stderrTail.shift();
      if (/\b(ERR|CRIT|ALERT|EMERG|WARNING)\b/.test(line)) logger.warn({ line }, 'rtpengine');
      else logger.debug({ line }, 'rtpengine');
    }
  });

  const exited = new Promise<number | null>((resolve) => {
    child.once('exit', (code) => resolve(code));
    child.once('error', (err) => {
      stderrTail.push(String(err));
      resolve(null);
    });
  });
  // A parent that exits without calling stop() must not leave rtpengine holding its ports.
  const killOnExit = (): void => {
    child.kill('SIGKILL');
  };
  process.once('exit', killOnExit);

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= stopChild(child, exited, options.stopTimeoutMs ?? 5000).finally(async () => {
      process.removeListener('exit', killOnExit);
      if (pidFile !== undefined && child.pid !== undefined) await removePidFile(pidFile, child.pid);
    });
    return stopping;
  };

  try {
    await waitForPong(ngPort, exited, options.startTimeoutMs ?? 10_000, logger);
    // Two launchers may choose the same free port at once: the pong may come from the other's rtpengine
    // while ours is still failing to bind it.
    if (child.pid !== undefined && (await udpPortOwner(ngPort, child.pid)) === 'another') {
      throw new MediaError(
        'invalid-config',
        `NG port 127.0.0.1:${ngPort} is already in use by another process`,
      );
    }
  } catch (err) {
    await stop();
    const detail = stderrTail.slice(-5).join(' | ');
    throw new MediaError(
      'unavailable',
      `local rtpengine did not start: ${err instanceof Error ? err.message : String(err)}${detail ? ` (${detail})` : ''}`,
      { cause: err },
    );
  }
  logger.info({ pid: child.pid, args }, 'local rtpengine started');
  return {
    ngAddress: `127.0.0.1:${ngPort}`,
    host: '127.0.0.1',
    port: ngPort,
    pid: child.pid ?? 0,
    stop,
  };
}

export interface ResolvedMedia {
  /** `pool`: RTPENGINE_NG; `local`: a child rtpengine we started; `none`: no anchoring. */
  mode: 'pool' | 'local' | 'none';
  media: MediaRelay;
  /** The NG addresses in use. */
  ngAddresses: string[];
  /** Closes the relay and stops the local rtpengine, if any. */
  stop(): Promise<void>;
}

export interface ResolveMediaOptions {
  /** Settings for a local rtpengine; defaults: ports 30000-40000 on the first non-loopback IPv4. */
  local?: Partial<Omit<LocalRtpengineOptions, 'logger'>>;
  /** Pool tuning (timeouts, health interval). */
  pool?: Partial<Omit<RtpengineMediaOptions, 'instances' | 'logger'>>;
  /** PATH to look for the binary in (tests). */
  pathEnv?: string;
}

/**
 * Chooses the media relay from RTPENGINE_NG: set -> a pool over the listed instances; unset and rtpengine
 * installed -> a local child; unset and not installed -> NullMedia (no anchoring, warned once).
 */
export async function resolveMediaConfig(
  rtpengineNg: string | undefined,
  logger: Logger,
  options: ResolveMediaOptions = {},
): Promise<ResolvedMedia> {
  if (rtpengineNg !== undefined && rtpengineNg.trim() !== '') {
    const instances = parseRtpengineNg(rtpengineNg);
    const media = new RtpengineMedia({ ...options.pool, instances, logger });
    return {
      mode: 'pool',
      media,
      ngAddresses: instances.map((i) => `${i.host}:${i.port}`),
      stop: () => media.close(),
    };
  }
  const binary = options.local?.binary ?? detectRtpengine(options.pathEnv ?? process.env.PATH);
  if (binary === null) {
    return { mode: 'none', media: new NullMedia(logger), ngAddresses: [], stop: async () => {} };
  }
  const local = await startLocalRtpengine({
    portMin: 30000,
    portMax: 40000,
    interface: firstPublicIpv4() ?? '127.0.0.1',
    ...options.local,
    binary,
    logger,
  });
  const media = new RtpengineMedia({
    ...options.pool,
    instances: [{ host: local.host, port: local.port, weight: 1 }],
    logger,
  });
  return {
    mode: 'local',
    media,
    ngAddresses: [local.ngAddress],
    stop: async () => {
      await media.close();
      await local.stop();
    },
  };
}

function firstPublicIpv4(): string | undefined {
  for (const addresses of Object.values(networkInterfaces())) {
    for (const a of addresses ?? []) {
      if (a.family === 'IPv4' && !a.internal) return a.address;
    }
  }
  return undefined;
}

async function waitForPong(
  port: number,
  exited: Promise<number | null>,
  timeoutMs: number,
  logger: Logger,
): Promise<void> {
  const client = new NgClient({ host: '127.0.0.1', port, timeoutMs: 300, logger });
  let exitCode: number | null | undefined;
  void exited.then((code) => {
    exitCode = code;
  });
  const deadline = Date.now() + timeoutMs;
  try {
    while (Date.now() < deadline) {
      if (exitCode !== undefined) throw new Error(`rtpengine exited with code ${exitCode}`);
      try {
        await client.ping();
        return;
      } catch {
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    throw new Error(`no pong on 127.0.0.1:${port} within ${timeoutMs} ms`);
  } finally {
    client.close();
  }
}

async function stopChild(
  child: ChildProcess,
  exited: Promise<number | null>,
  timeoutMs: number,
): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), timeoutMs);
  });
  const outcome = await Promise.race([exited, timedOut]);
  clearTimeout(timer);
  if (outcome === 'timeout') {
    child.kill('SIGKILL');
    await exited;
  }
}

function freeUdpPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = createSocket('udp4');
    socket.once('error', reject);
    socket.bind(0, '127.0.0.1', () => {
      const { port } = socket.address();
      socket.close(() => resolve(port));
    });
  });
}

function assertUdpPortFree(port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = createSocket('udp4');
    socket.once('error', () => {
      socket.close();
      reject(new MediaError('invalid-config', `NG port 127.0.0.1:${port} is already in use`));
    });
    socket.bind(port, '127.0.0.1', () => socket.close(() => resolve()));
  });
}

/**
 * Whether the UDP socket bound to 127.0.0.1:`port` is one of process `pid`'s, read from Linux's /proc
 * (the socket's inode in /proc/net/udp, then the process's descriptors); 'unknown' without /proc.
 */
export async function udpPortOwner(port: number, pid: number): Promise<'process' | 'another' | 'unknown'> {
  let table: string;
  try {
    table = await readFile('/proc/net/udp', 'utf8');
  } catch {
    return 'unknown';
  }
  // local_address is the address as the kernel stores it, printed in hex (0100007F for 127.0.0.1 on a
  // little-endian machine, 7F000001 on a big-endian one), then the port.
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  const local = new Set([`0100007F:${hexPort}`, `7F000001:${hexPort}`]);
  const inodes = new Set<string>();
  for (const line of table.split('\n').slice(1)) {
    const fields = line.trim().split(/\s+/);
    if (local.has(fields[1] ?? '') && fields[9] !== undefined) inodes.add(fields[9]);
  }
  if (inodes.size === 0) return 'unknown';
  let descriptors: string[];
  try {
    descriptors = await readdir(`/proc/${pid}/fd`);
  } catch {
    return 'unknown';
  }
  for (const fd of descriptors) {
    const target = await readlink(`/proc/${pid}/fd/${fd}`).catch(() => '');
    const inode = /^socket:\[(\d+)\]$/.exec(target)?.[1];
    if (inode !== undefined && inodes.has(inode)) return 'process';
  }
  return 'another';
}
