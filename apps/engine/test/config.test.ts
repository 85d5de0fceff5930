import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig } from '@switchboard/config';
import { afterAll, describe, expect, it } from 'vitest';
import { checkStandaloneConfig, engineConfigFrom, formatHostport } from '../src/config.ts';

const dir = mkdtempSync(join(tmpdir(), 'engine-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function pemFile(name: string, content: string): string {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}

async function problemsOf(work: () => unknown): Promise<{ variable: string; message: string }[]> {
  try {
    await work();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).problems;
  }
  throw new Error('expected a ConfigError');
}

describe('engineConfigFrom (the runtime contract to EngineConfig)', () => {
  it('maps the contract defaults', async () => {
    const c = await engineConfigFrom(loadConfig({ ENGINE_SECRET: 'long-enough-secret' }));
    expect(c.sipListen).toEqual([
      { transport: 'udp', host: '0.0.0.0', port: 5060 },
      { transport: 'tcp', host: '0.0.0.0', port: 5060 },
      { transport: 'ws', host: '0.0.0.0', port: 5066 },
    ]);
    expect(c.engineAdmin).toEqual({ host: '127.0.0.1', port: 9022 });
    expect(c.engineSecret).toBe('long-enough-secret');
    expect(c.sipTrace).toBe(false);
    expect(c.answerOptions).toBe(true);
    expect(c.limits).toEqual({
      maxMessageBytes: 65535,
      udpReceiveBufferBytes: 4_194_304,
      maxAppConnections: 1000,
      messageTimeoutMs: 10_000,
      maxConnections: 10_000,
      maxConnectionsPerAddress: 100,
    });
    expect(c.sipTls).toBeUndefined();
    expect(c.requestHandlers).toBeUndefined();
    expect(c.adminTls).toBeUndefined();
  });

  it('maps listeners with IPv6 hosts, the advertised address, trace and limits', async () => {
    const c = await engineConfigFrom(
      loadConfig({
        ENGINE_SECRET: 'long-enough-secret',
        SIP_LISTEN: 'udp:[::1]:16060, tcp:127.0.0.1:0',
        SIP_ADVERTISED_ADDRESS: '203.0.113.7',
        ENGINE_ADMIN: '[::1]:9999',
        SIP_TRACE: '1',
        ENGINE_ANSWER_OPTIONS: 'no',
        SIP_MAX_MESSAGE_BYTES: '8192',
        SIP_UDP_RECEIVE_BUFFER_BYTES: '1048576',
        ENGINE_MAX_APPS: '5',
        SIP_MESSAGE_TIMEOUT_MS: '3000',
        SIP_MAX_CONNECTIONS: '50',
        SIP_MAX_CONNECTIONS_PER_ADDRESS: '5',
      }),
    );
    expect(c.sipListen).toEqual([
      { transport: 'udp', host: '::1', port: 16060 },
      { transport: 'tcp', host: '127.0.0.1', port: 0 },
    ]);
    expect(c.sipAdvertisedAddress).toBe('203.0.113.7');
    expect(c.engineAdmin).toEqual({ host: '::1', port: 9999 });
    expect(c.sipTrace).toBe(true);
    expect(c.answerOptions).toBe(false);
    expect(c.limits).toEqual({
      maxMessageBytes: 8192,
      udpReceiveBufferBytes: 1_048_576,
      maxAppConnections: 5,
      messageTimeoutMs: 3000,
      maxConnections: 50,
      maxConnectionsPerAddress: 5,
    });
  });

  it('maps ENGINE_REQUEST_HANDLERS to request handlers', async () => {
    const c = await engineConfigFrom(
      loadConfig({
        ENGINE_SECRET: 'long-enough-secret',
        ENGINE_REQUEST_HANDLERS: 'INVITE=tls://127.0.0.1:3001',
        ENGINE_OUTBOUND_TLS_CA: pemFile('apps-ca.pem', 'APPS CA'),
      }),
    );
    expect(c.requestHandlers).toEqual([{ method: 'INVITE', url: 'tls://127.0.0.1:3001', httpMethod: 'GET' }]);
    expect(c.outboundTlsCa).toBe('APPS CA');
  });

  it('reads the PEM files named by the TLS variables', async () => {
    const c = await engineConfigFrom(
      loadConfig({
        SIP_TLS_CERT: pemFile('sip-cert.pem', 'SIP CERT'),
        SIP_TLS_KEY: pemFile('sip-key.pem', 'SIP KEY'),
        ENGINE_ADMIN_TLS_CERT: pemFile('admin-cert.pem', 'ADMIN CERT'),
        ENGINE_ADMIN_TLS_KEY: pemFile('admin-key.pem', 'ADMIN KEY'),
      }),
    );
    expect(c.sipTls).toEqual({ cert: 'SIP CERT', key: 'SIP KEY' });
    expect(c.adminTls).toEqual({ cert: 'ADMIN CERT', key: 'ADMIN KEY' });
  });

  it('names the variable of every PEM file it cannot read', async () => {
    const config = loadConfig({
      SIP_TLS_CERT: join(dir, 'missing-cert.pem'),
      SIP_TLS_KEY: pemFile('present-key.pem', 'KEY'),
      ENGINE_ADMIN_TLS_CERT: pemFile('present-cert.pem', 'CERT'),
      ENGINE_ADMIN_TLS_KEY: dir, // a directory, not a file
    });
    const problems = await problemsOf(() => engineConfigFrom(config));
    expect(problems.map((p) => p.variable).sort()).toEqual(['ENGINE_ADMIN_TLS_KEY', 'SIP_TLS_CERT']);
    expect(problems.find((p) => p.variable === 'SIP_TLS_CERT')!.message).toMatch(/missing-cert\.pem.*ENOENT/);
  });
});

describe('checkStandaloneConfig (what the standalone engine requires beyond the contract)', () => {
  it('accepts a given secret and no secure listener', () => {
    expect(() => checkStandaloneConfig(loadConfig({ ENGINE_SECRET: 'long-enough-secret' }))).not.toThrow();
  });

  it('refuses a generated ENGINE_SECRET', async () => {
    const problems = await problemsOf(() => checkStandaloneConfig(loadConfig({})));
    expect(problems).toEqual([{ variable: 'ENGINE_SECRET', message: expect.stringMatching(/required/) }]);
  });

  it('refuses tls and wss listeners without SIP_TLS_CERT', async () => {
    const problems = await problemsOf(() =>
      checkStandaloneConfig(
        loadConfig({
          ENGINE_SECRET: 'long-enough-secret',
          SIP_LISTEN: 'tls:127.0.0.1:5061,wss:127.0.0.1:7443',
        }),
      ),
    );
    expect(problems).toEqual([
      { variable: 'SIP_TLS_CERT', message: expect.stringMatching(/SIP_TLS_KEY.*tls and wss/) },
    ]);
  });

  it('accepts tls listeners with a certificate', () => {
    const config = loadConfig({
      ENGINE_SECRET: 'long-enough-secret',
      SIP_LISTEN: 'tls:127.0.0.1:5061',
      SIP_TLS_CERT: 'cert.pem',
      SIP_TLS_KEY: 'key.pem',
    });
    expect(() => checkStandaloneConfig(config)).not.toThrow();
  });
});

describe('formatHostport', () => {
  it('formats listener addresses as drachtio apps receive them', () => {
    expect(formatHostport('udp', '::1', 5060)).toBe('udp/[::1]:5060');
    expect(formatHostport('tcp', '10.0.0.1', 5060)).toBe('tcp/10.0.0.1:5060');
  });
});
