import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { createServer } from 'node:net';
import { tcpFree, udpFree } from '@switchboard/testkit';
import { ROOT } from './files.ts';

/** A child of this test with the tail of its output kept for failure messages. */
export interface Child {
  name: string;
  process: ChildProcess;
  output(): string;
  stop(): Promise<void>;
}

const TSX = `${ROOT}node_modules/tsx/dist/cli.mjs`;

export function spawnChild(
  name: string,
  command: string,
  args: string[],
  cwd: string,
  env: Record<string, string>,
): Child {
  // Only what the service is given, as in a container: PATH to find binaries, nothing else inherited.
  const child = spawn(command, args, {
    cwd,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let tail = '';
  const keep = (chunk: Buffer): void => {
    tail = (tail + chunk.toString()).slice(-8000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  return {
    name,
    process: child,
    output: () => tail,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        const kill = setTimeout(() => child.kill('SIGKILL'), 10_000);
        child.once('exit', () => {
          clearTimeout(kill);
          resolve();
        });
        child.kill('SIGTERM');
      }),
  };
}

/** A component's standalone main run with node + tsx, as the image's CMD does. */
export function spawnMain(name: string, cwd: string, entry: string, env: Record<string, string>): Child {
  return spawnChild(name, process.execPath, [TSX, entry], cwd, env);
}

/** Runs a compose health check (its CMD argv) until it succeeds, the child dies, or time runs out. */
export async function waitHealthy(child: Child, check: string[], timeoutMs = 90_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (let attempt = 0; attempt < 400; attempt++) {
    if (child.process.exitCode !== null) {
      throw new Error(`${child.name} exited with ${child.process.exitCode}:\n${child.output()}`);
    }
    const [command = '', ...args] = check;
    const result = spawnSync(command, args, { encoding: 'utf8', timeout: 10_000 });
    if (result.status === 0) return;
    if (Date.now() > deadline) {
      throw new Error(`${child.name} not healthy (${check.join(' ')}: ${result.stderr}):\n${child.output()}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  throw new Error(`${child.name} not healthy after 400 checks`);
}

/** A TCP port free on 127.0.0.1 right now (the kernel's choice). */
export function freeTcpPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** An ephemeral port (the kernel's choice for TCP) that is free for UDP too, on 127.0.0.1 right now. */
export async function freeEphemeralPort(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = await freeTcpPort();
    if (await udpFree(port)) return port;
  }
  throw new Error('no ephemeral port free for both UDP and TCP');
}

/** A port in [min, max] free for both UDP and TCP on 127.0.0.1 right now. */
export async function freePortIn(min: number, max: number, taken: Set<number> = new Set()): Promise<number> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const port = min + Math.floor(Math.random() * (max - min + 1));
    if (taken.has(port)) continue;
    if ((await udpFree(port)) && (await tcpFree(port))) {
      taken.add(port);
      return port;
    }
  }
  throw new Error(`no free port in ${min}-${max}`);
}
