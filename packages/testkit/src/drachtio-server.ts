import { type ChildProcess, spawn } from 'node:child_process';
import { appendFileSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { allocatePort } from './ports.ts';
import { waitForListener } from './scenarios.ts';

/**
 * The C++ drachtio-server, for tests and benchmarks that prove an app runs on the original engine too.
 * It is never installed by this repository: its path comes from `DRACHTIO_SERVER_BIN`, and whatever
 * needs it must skip by name when that is unset or not a file.
 */
export const DRACHTIO_SERVER_BIN_ENV = 'DRACHTIO_SERVER_BIN';

/** The binary named by `DRACHTIO_SERVER_BIN`, or why there is none (the reason a skipped test gives). */
export function drachtioServerBinary(): { path: string } | { missing: string } {
  const path = process.env[DRACHTIO_SERVER_BIN_ENV];
  if (!path) return { missing: `${DRACHTIO_SERVER_BIN_ENV} is not set` };
  if (!existsSync(path)) return { missing: `${DRACHTIO_SERVER_BIN_ENV}=${path} does not exist` };
  return { path };
}

export interface DrachtioServerOptions {
  secret: string;
  /** SIP transports to listen on, all on one port of 127.0.0.1 (default: UDP only). */
  transports?: ('udp' | 'tcp')[];
  /** drachtio's own log level (default `notice`; `info` and `debug` print every message). */
  logLevel?: string;
  /** Seconds after which the server is killed even if nobody stopped it (default 1800). */
  maxLifetimeS?: number;
  /**
   * Listener options in place of the driver's own `--contact`s (a deployment's command line, moved to
   * loopback ports by the caller, who then waits for those listeners). The admin options stay the driver's.
   */
  listenerArgs?: string[];
}

export interface DrachtioServer {
  /** Where drachtio-srf apps connect. */
  admin: { host: string; port: number };
  /** The SIP port on 127.0.0.1, for every transport asked for. */
  sipPort: number;
  pid: number;
  /** The last 20,000 characters it printed. */
  output(): string;
  close(): Promise<void>;
}

/**
 * Starts drachtio-server on loopback ports drawn from the testkit's allocation, retrying with other
 * ports when one was taken between the draw and the bind. Resolves once its admin and SIP sockets listen.
 */
export async function startDrachtioServer(
  binary: string,
  options: DrachtioServerOptions,
): Promise<DrachtioServer> {
  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    const sipPort = await allocatePort({ tcp: true, min: 24000, max: 24499 });
    const adminPort = await allocatePort({ tcp: true, min: 24500, max: 24999 });
    try {
      return await launch(binary, options, sipPort, adminPort);
    } catch (error) {
      lastError = error;
    }
  }
  throw lastError;
}

async function launch(
  binary: string,
  options: DrachtioServerOptions,
  sipPort: number,
  adminPort: number,
): Promise<DrachtioServer> {
  const dir = mkdtempSync(join(tmpdir(), 'drachtio-server-'));
  // The server refuses to start without an <admin> element; the command line overrides its values.
  const config = join(dir, 'drachtio.conf.xml');
  writeFileSync(
    config,
    `<drachtio>\n  <admin port="${adminPort}" secret="${options.secret}">127.0.0.1</admin>\n` +
      '  <logging><console/></logging>\n</drachtio>\n',
  );
  const transports = options.transports ?? ['udp'];
  const args = ['-f', config, '--address', '127.0.0.1', '--port', String(adminPort)];
  args.push('--secret', options.secret, '--loglevel', options.logLevel ?? 'notice');
  if (options.listenerArgs) args.push(...options.listenerArgs);
  else
    for (const transport of transports)
      args.push('--contact', `sip:127.0.0.1:${sipPort};transport=${transport}`);
  const child: ChildProcess = spawn(
    'timeout',
    ['-s', 'KILL', String(options.maxLifetimeS ?? 1800), binary, ...args],
    { stdio: ['ignore', 'pipe', 'pipe'], cwd: dir, detached: true },
  );
  let output = '';
  // DRACHTIO_SERVER_OUTPUT=<file> keeps everything it prints, for finding out why a test failed.
  const keep = process.env.DRACHTIO_SERVER_OUTPUT;
  const collect = (data: Buffer): void => {
    output = (output + data.toString()).slice(-20_000);
    if (keep) appendFileSync(keep, data);
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let running = true;
  void exited.then(() => {
    running = false;
  });
  const close = async (): Promise<void> => {
    if (running && child.pid) {
      try {
        process.kill(-child.pid, 'SIGTERM');
      } catch {
        // Already gone.
      }
      const killed = setTimeout(() => {
        if (running && child.pid) process.kill(-child.pid, 'SIGKILL');
      }, 3_000);
      await exited;
      clearTimeout(killed);
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    // Fails early when the process dies (a port taken, a bad option) instead of waiting out the bound.
    await Promise.race([
      Promise.all([
        waitForListener(adminPort, { protocol: 'tcp', timeoutMs: 10_000 }),
        ...(options.listenerArgs ? [] : transports).map((protocol) =>
          waitForListener(sipPort, { protocol, timeoutMs: 10_000 }),
        ),
      ]),
      exited.then(() => {
        throw new Error(`drachtio-server exited at start:\n${output.slice(-3000)}`);
      }),
    ]);
  } catch (error) {
    await close();
    throw error;
  }
  return {
    admin: { host: '127.0.0.1', port: adminPort },
    sipPort,
    pid: child.pid ?? 0,
    output: () => output,
    close,
  };
}
