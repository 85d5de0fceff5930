import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { fileURLToPath } from 'node:url';
import { selfSignedCertificate } from '@switchboard/testkit';
import { afterAll, describe, expect, it } from 'vitest';
import { waitFor } from './helpers.ts';
import { Srf } from './srf.ts';

/** The standalone daemon: configuration from the environment, JSON logs, clean stop on SIGTERM. */

const children: ChildProcess[] = [];
const certDir = mkdtempSync(join(tmpdir(), 'engine-main-'));
afterAll(() => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  rmSync(certDir, { recursive: true, force: true });
});

/** A throwaway self-signed certificate, written as PEM files for the daemon's SIP_TLS_* variables. */
function certificateFiles(): { cert: string; key: string } {
  const files = { cert: join(certDir, 'cert.pem'), key: join(certDir, 'key.pem') };
  const { cert, key } = selfSignedCertificate();
  writeFileSync(files.cert, cert);
  writeFileSync(files.key, key);
  return files;
}

async function exitOf(out: { exit: number | null | undefined }): Promise<number | null | undefined> {
  await waitFor(() => out.exit !== undefined, 'exit', 30_000);
  return out.exit;
}

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
  it('starts from the environment, accepts drachtio-srf, serves metrics, and stops on SIGTERM', async () => {
    const port = await freePort();
    const metricsPort = await freePort();
    const { child, out } = runMain({
      ENGINE_SECRET: 'main-test-secret',
      ENGINE_ADMIN: `127.0.0.1:${port}`,
      SIP_LISTEN: 'udp:127.0.0.1:0',
      METRICS_LISTEN: `127.0.0.1:${metricsPort}`,
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
    // METRICS_LISTEN: the engine's Prometheus listener counts the app just connected.
    const scrape = await fetch(`http://127.0.0.1:${metricsPort}/metrics`);
    expect(scrape.status).toBe(200);
    const text = await scrape.text();
    expect(text).toContain('switchboard_engine_apps 1');
    expect(text).toContain('nodejs_eventloop_lag_seconds');
    srf.disconnect();

    child.kill('SIGTERM');
    await waitFor(() => out.exit !== undefined, 'exit', 15_000);
    expect(out.exit).toBe(0);
  }, 60_000);

  it('refuses to start with a bad configuration and names the variable', async () => {
    // A short secret is refused on an admin listener other hosts can reach (accepted on loopback).
    const { out } = runMain({ ENGINE_SECRET: 'short', ENGINE_ADMIN: '0.0.0.0:0', SIP_LISTEN: 'udp:nowhere' });
    expect(await exitOf(out)).toBe(1);
    expect(out.stdout).toMatch(/ENGINE_SECRET: expected at least 16 characters/);
    expect(out.stdout).toContain('SIP_LISTEN');
  }, 60_000);

  it('refuses to start without ENGINE_SECRET instead of generating one', async () => {
    const { out } = runMain({ SIP_LISTEN: 'udp:127.0.0.1:0', ENGINE_ADMIN: '127.0.0.1:0' });
    expect(await exitOf(out)).toBe(1);
    expect(out.stdout).toMatch(/ENGINE_SECRET: required/);
    expect(out.stdout).not.toContain('engine started');
  }, 60_000);

  it('refuses a tls listener without SIP_TLS_CERT', async () => {
    const { out } = runMain({
      ENGINE_SECRET: 'main-test-secret',
      SIP_LISTEN: 'tls:127.0.0.1:0',
      ENGINE_ADMIN: '127.0.0.1:0',
    });
    expect(await exitOf(out)).toBe(1);
    expect(out.stdout).toMatch(/SIP_TLS_CERT: required/);
  }, 60_000);

  it('refuses a certificate file it cannot read, naming the variable', async () => {
    const { out } = runMain({
      ENGINE_SECRET: 'main-test-secret',
      SIP_LISTEN: 'tls:127.0.0.1:0',
      ENGINE_ADMIN: '127.0.0.1:0',
      SIP_TLS_CERT: join(certDir, 'absent-cert.pem'),
      SIP_TLS_KEY: join(certDir, 'absent-key.pem'),
    });
    expect(await exitOf(out)).toBe(1);
    expect(out.stdout).toMatch(/SIP_TLS_CERT: cannot read/);
    expect(out.stdout).toMatch(/SIP_TLS_KEY: cannot read/);
  }, 60_000);

  it('reads the certificate files and serves a tls listener', async () => {
    const files = certificateFiles();
    const { child, out } = runMain({
      ENGINE_SECRET: 'main-test-secret',
      SIP_LISTEN: 'tls:127.0.0.1:0',
      ENGINE_ADMIN: '127.0.0.1:0',
      SIP_TLS_CERT: files.cert,
      SIP_TLS_KEY: files.key,
    });
    await waitFor(() => out.stdout.includes('engine started') || out.exit !== undefined, 'start', 30_000);
    expect(out.exit).toBeUndefined();
    const started = JSON.parse(out.stdout.split('\n').find((l) => l.includes('engine started'))!);
    expect(started.listeners).toEqual([expect.objectContaining({ transport: 'tls', host: '127.0.0.1' })]);
    // The listener presents the certificate from SIP_TLS_CERT.
    const verified = await new Promise<boolean>((resolve, reject) => {
      const socket = tlsConnect(
        { host: '127.0.0.1', port: started.listeners[0].port, ca: readFileSync(files.cert, 'utf8') },
        () => {
          resolve(socket.authorized);
          socket.end();
        },
      );
      socket.on('error', reject);
    });
    expect(verified).toBe(true);
    child.kill('SIGTERM');
    expect(await exitOf(out)).toBe(0);
  }, 60_000);
});
