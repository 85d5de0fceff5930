import { X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { selfSignedCertificate, type TestCertificate } from '@switchboard/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { reloadSipCertificate, reloadSipCertificateOnSighup } from '../src/certificate-reload.ts';
import { type RunningEngine, startEngine } from '../src/engine.ts';
import { SECRET, silentLogger } from './helpers.ts';

/**
 * A renewed SIP certificate (an ACME client's deploy hook replaced SIP_TLS_CERT/KEY) is taken without a
 * restart: after the reload new TLS and WSS handshakes see the new certificate, a connection opened
 * before keeps working, and a broken file leaves the certificate in use as it was.
 */

const first = selfSignedCertificate();
const renewed = selfSignedCertificate();
let engine: RunningEngine;
let dir: string;
const paths = () => ({ certPath: join(dir, 'sip.crt'), keyPath: join(dir, 'sip.key') });

function install(certificate: TestCertificate): void {
  writeFileSync(paths().certPath, certificate.cert);
  writeFileSync(paths().keyPath, certificate.key);
}

const fingerprint = (pem: string): string => new X509Certificate(pem).fingerprint256;

/** The fingerprint of the certificate a new TLS handshake with `port` shows, and the open socket. */
function handshake(port: number): Promise<{ fingerprint: string; socket: tls.TLSSocket }> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false }, () => {
      resolve({ fingerprint: socket.getPeerX509Certificate()!.fingerprint256, socket });
    });
    socket.once('error', reject);
  });
}

const portOf = (transport: 'tls' | 'wss'): number =>
  engine.listeners.find((l) => l.transport === transport)!.port;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'engine-cert-'));
  install(first);
  engine = await startEngine(
    {
      sipListen: [
        { transport: 'udp', host: '127.0.0.1', port: 0 },
        { transport: 'tls', host: '127.0.0.1', port: 0 },
        { transport: 'wss', host: '127.0.0.1', port: 0 },
      ],
      sipTls: first,
      engineAdmin: { host: '127.0.0.1', port: 0 },
      engineSecret: SECRET,
    },
    { logger: silentLogger },
  );
}, 60_000);

afterAll(async () => {
  await engine?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('reloading the SIP certificate', () => {
  it('new tls and wss handshakes get the renewed certificate, an open connection stays', async () => {
    const before = await handshake(portOf('tls'));
    expect(before.fingerprint).toBe(fingerprint(first.cert));
    install(renewed);
    expect(await reloadSipCertificate(engine, paths(), silentLogger)).toBe(true);
    for (const transport of ['tls', 'wss'] as const) {
      const after = await handshake(portOf(transport));
      expect(after.fingerprint, transport).toBe(fingerprint(renewed.cert));
      after.socket.destroy();
    }
    // The connection made before the reload is still open (phones keep their registration flows).
    expect(before.socket.destroyed).toBe(false);
    expect(before.socket.writable).toBe(true);
    before.socket.destroy();
  });

  it('a key that does not match, or a missing file, keeps the certificate in use', async () => {
    writeFileSync(paths().certPath, first.cert);
    writeFileSync(paths().keyPath, renewed.key);
    expect(await reloadSipCertificate(engine, paths(), silentLogger)).toBe(false);
    rmSync(paths().keyPath);
    expect(await reloadSipCertificate(engine, paths(), silentLogger)).toBe(false);
    const now = await handshake(portOf('tls'));
    expect(now.fingerprint).toBe(fingerprint(renewed.cert));
    now.socket.destroy();
  });

  it('SIGHUP reloads it', async () => {
    install(first);
    const off = reloadSipCertificateOnSighup(engine, paths(), silentLogger);
    try {
      process.emit('SIGHUP', 'SIGHUP');
      let seen = '';
      for (let attempt = 0; attempt < 50 && seen !== fingerprint(first.cert); attempt++) {
        const now = await handshake(portOf('tls'));
        seen = now.fingerprint;
        now.socket.destroy();
        if (seen !== fingerprint(first.cert)) await new Promise((resolve) => setTimeout(resolve, 50));
      }
      expect(seen).toBe(fingerprint(first.cert));
    } finally {
      off();
    }
  });
});
