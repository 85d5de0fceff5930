import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { waitFor } from './helpers.ts';
import { Srf } from './srf.ts';

/** The standalone daemon: configuration from the environment, JSON logs, clean stop on SIGTERM. */

const children: ChildProcess[] = [];
afterAll(() => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
});

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  await new Promise((r) => server.close(r));
  return port;
}

function runMain(env: Record<string, string>) {
  const cwd = fileURLToPath(new URL('..', import.meta.url));
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd,
    env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  const out = { stdout: '', stderr: '', exit: undefined as number | null | undefined };
  child.stdout!.on('data', (d: Buffer) => {
    out.stdout += d.toString();
  });
  child.stderr!.on('data', (d: Buffer) => {
    out.stderr += d.toString();
  });
  child.on('exit', (code) => {
    out.exit = code;
  });
  return { child, out };
}

describe('standalone engine (src/main.ts)', () => {
  it('starts from the environment, accepts drachtio-srf, and stops on SIGTERM', async () => {
    const port = await freePort();
    const { child, out } = runMain({
      ENGINE_SECRET: 'main-test-secret',
      ENGINE_ADMIN: `127.0.0.1:${port}`,
      SIP_LISTEN: 'udp:127.0.0.1:0',
    });
    await waitFor(() => out.stdout.includes('engine started') || out.exit !== undefined, 'start', 30_000);
    expect(out.exit).toBeUndefined();
    const started = out.stdout.split('\n').find((l) => l.includes('engine started'))!;
    expect(JSON.parse(started).admin.port).toBe(port);

    const srf = new Srf();
    srf.on('error', () => {});
    const connected = new Promise<Error | null>((resolve) =>
      srf.on('connect', (err: Error | null) => resolve(err)),
    );
    srf.connect({ host: '127.0.0.1', port, secret: 'main-test-secret' });
    expect(await connected).toBeFalsy();
    srf.disconnect();

    child.kill('SIGTERM');
    await waitFor(() => out.exit !== undefined, 'exit', 15_000);
    expect(out.exit).toBe(0);
  }, 60_000);

  it('refuses to start with a bad configuration and names the variable', async () => {
    const { out } = runMain({ ENGINE_SECRET: 'short', SIP_LISTEN: 'udp:nowhere' });
    await waitFor(() => out.exit !== undefined, 'exit', 30_000);
    expect(out.exit).toBe(1);
    expect(out.stdout).toContain('ENGINE_SECRET');
    expect(out.stdout).toContain('SIP_LISTEN');
  }, 60_000);
});
