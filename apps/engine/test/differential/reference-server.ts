import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * The C++ drachtio-server as the reference the engine is compared with. Never needed by `pnpm test`: its
 * binary is found only through DRACHTIO_SERVER_BIN, and the differential runs are started by hand.
 */

export const REFERENCE_BIN_VARIABLE = 'DRACHTIO_SERVER_BIN';

export function referenceBinary(): string | undefined {
  const bin = process.env[REFERENCE_BIN_VARIABLE];
  return bin && bin.length > 0 ? bin : undefined;
}

export interface ReferenceServerOptions {
  bin: string;
  /** SIP address and port; one port serves UDP and TCP. */
  sipAddress: string;
  sipPort: number;
  transports?: Array<'udp' | 'tcp'>;
  /** Address written into Via/Contact instead of sipAddress (`--external-ip`). */
  externalIp?: string;
  adminPort: number;
  secret: string;
}

export interface ReferenceServer {
  adminPort: number;
  /** What drachtio-server printed (its log goes to the console), for a failing run's explanation. */
  output(): string;
  close(): Promise<void>;
}

export async function startReferenceServer(options: ReferenceServerOptions): Promise<ReferenceServer> {
  const dir = mkdtempSync(join(tmpdir(), 'drachtio-reference-'));
  const configFile = join(dir, 'drachtio.conf.xml');
  // drachtio-server needs an <admin> element in its file; the command line gives the rest.
  writeFileSync(
    configFile,
    `<drachtio>\n  <admin port="${options.adminPort}" secret="${options.secret}">127.0.0.1</admin>\n` +
      '  <logging><console/><loglevel>info</loglevel></logging>\n</drachtio>\n',
  );
  const transports = (options.transports ?? ['udp', 'tcp']).join(',');
  const args = [
    '-f',
    configFile,
    '--contact',
    `sip:${options.sipAddress}:${options.sipPort};transport=${transports}`,
  ];
  if (options.externalIp) args.push('--external-ip', options.externalIp);
  args.push('--address', '127.0.0.1', '--port', String(options.adminPort), '--secret', options.secret);
  args.push('--loglevel', 'info');
  const child: ChildProcess = spawn(options.bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const collect = (data: Buffer) => {
    output = (output + data.toString()).slice(-100_000);
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const close = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    const killer = setTimeout(() => child.kill('SIGKILL'), 3000);
    await exited;
    clearTimeout(killer);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitForTcp(options.adminPort, 10_000);
  } catch (error) {
    await close();
    throw new Error(`drachtio-server did not start: ${(error as Error).message}\n${output.slice(-3000)}`);
  }
  return { adminPort: options.adminPort, output: () => output, close };
}

async function waitForTcp(port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = connect({ host: '127.0.0.1', port });
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`nothing listens on 127.0.0.1:${port} after ${timeoutMs} ms`);
}
