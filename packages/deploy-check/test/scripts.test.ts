import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '@switchboard/config';
import { describe, expect, it } from 'vitest';
import { composeAsWritten, dockerCompose, INFRA, parseEnvFile, readInfra } from './support/files.ts';

const run = (cmd: string, args: string[], env: Record<string, string> = {}) =>
  spawnSync(cmd, args, { encoding: 'utf8', timeout: 60_000, env: { ...process.env, ...env } });

describe('gen-secrets.sh', () => {
  const dir = mkdtempSync(join(tmpdir(), 'deploy-secrets-'));
  const out = join(dir, '.env');
  const first = run(`${INFRA}gen-secrets.sh`, [out]);
  const env = parseEnvFile(readFileSync(out, 'utf8'));
  const example = parseEnvFile(readInfra('.env.example'));

  it('writes strong random secrets, consistent inside the URLs, readable by the owner only', () => {
    expect(first.status, first.stderr).toBe(0);
    for (const name of ['POSTGRES_PASSWORD', 'ENGINE_SECRET', 'ADMIN_PASSWORD', 'SIP_NONCE_SECRET']) {
      expect(env[name], name).not.toBe(example[name]);
      expect(env[name], name).toMatch(/^[A-Za-z0-9]{24,}$/);
    }
    expect(
      new Set([env.POSTGRES_PASSWORD, env.ENGINE_SECRET, env.ADMIN_PASSWORD, env.SIP_NONCE_SECRET]).size,
    ).toBe(4);
    expect(env.PUSH_CREDENTIALS_KEY).toMatch(/^[0-9a-f]{64}$/);
    expect(env.DATABASE_URL).toBe(
      `postgresql://switchboard:${env.POSTGRES_PASSWORD}@127.0.0.1:5432/switchboard`,
    );
    expect(env.DRACHTIO_URL).toBe(`drachtio://${env.ENGINE_SECRET}@127.0.0.1:9022`);
    expect(statSync(out).mode & 0o777).toBe(0o600);
  });

  it('writes a file the runtime contract and docker-compose both accept', () => {
    const config = loadConfig(env);
    expect(config.drachtio).toEqual({ host: '127.0.0.1', port: 9022, secret: env.ENGINE_SECRET });
    expect(config.adminPassword).toBe(env.ADMIN_PASSWORD);
    expect(dockerCompose(out, ['config', '-q']).status).toBe(0);
  });

  it('never overwrites an existing file', () => {
    const again = run(`${INFRA}gen-secrets.sh`, [out]);
    expect(again.status).not.toBe(0);
    expect(parseEnvFile(readFileSync(out, 'utf8')).ENGINE_SECRET).toBe(env.ENGINE_SECRET);
  });
});

describe('gen-certs.sh', () => {
  it('writes self-signed certificates for SIP and HTTPS naming the host and its address', () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'deploy-certs-')), 'tls');
    const result = run(`${INFRA}gen-certs.sh`, ['sip.example.test', '127.0.0.1'], {
      TLS_DIR: dir,
      DAYS: '2',
    });
    expect(result.status, result.stderr).toBe(0);
    expect(readdirSync(dir).sort()).toEqual(['sip.crt', 'sip.key', 'web.crt', 'web.key']);
    for (const which of ['sip', 'web']) {
      const san = run('openssl', [
        'x509',
        '-in',
        join(dir, `${which}.crt`),
        '-noout',
        '-ext',
        'subjectAltName',
      ]);
      expect(san.stdout).toContain('DNS:sip.example.test');
      expect(san.stdout).toContain('IP Address:127.0.0.1');
      const match = run('openssl', ['pkey', '-in', join(dir, `${which}.key`), '-pubout']);
      const fromCert = run('openssl', ['x509', '-in', join(dir, `${which}.crt`), '-noout', '-pubkey']);
      expect(match.stdout).toBe(fromCert.stdout);
      expect(statSync(join(dir, `${which}.key`)).mode & 0o077).toBe(0o040);
    }
  });
});

describe('systemd units', () => {
  const units = readdirSync(`${INFRA}systemd`).filter((f) => f.endsWith('.service'));
  const unit = (name: string) => readFileSync(`${INFRA}systemd/${name}`, 'utf8');
  const compose = composeAsWritten();

  it('run one unit per component, from the shared environment file, restarted on failure', () => {
    expect(units.sort()).toEqual(
      ['api', 'engine', 'numbering', 'rtpengine', 'sip-core'].map((c) => `switchboard-${c}.service`),
    );
    for (const name of units) {
      const text = unit(name);
      expect(text, name).toContain('EnvironmentFile=/etc/switchboard/switchboard.env');
      expect(text, name).toMatch(/^Restart=always$/m);
      expect(text, name).toMatch(/^User=switchboard$/m);
      expect(text, name).toMatch(/^ExecStart=/m);
    }
  });

  it('start the same entry points as the containers', () => {
    for (const service of ['engine', 'api', 'numbering', 'sip-core']) {
      const args = compose.services[service]?.build?.args;
      const dir = {
        engine: 'apps/engine',
        api: 'apps/api',
        numbering: 'packages/numbering',
        'sip-core': 'apps/sip-core',
      }[service];
      expect(args?.PACKAGE).toBe(`@switchboard/${service}`);
      const text = unit(`switchboard-${service}.service`);
      expect(text).toContain(`WorkingDirectory=/opt/switchboard/${dir}`);
      // tsx loads in the service's own process (`--import .../loader.mjs`): one process per unit,
      // and signals such as the engine's SIGHUP reach it.
      expect(text).toMatch(
        new RegExp(`ExecStart=/usr/bin/node --import \\S+tsx/dist/loader\\.mjs ${args?.ENTRY}$`, 'm'),
      );
    }
  });

  it('reload the engine with SIGHUP to the engine process itself (the SIP certificate)', () => {
    const text = unit('switchboard-engine.service');
    expect(text).toMatch(/^ExecStart=\/usr\/bin\/node --import \S+tsx\/dist\/loader\.mjs /m);
    expect(text).toMatch(/^ExecReload=\/bin\/kill -HUP \$MAINPID$/m);
  });

  it('give rtpengine the same flags as the compose service', () => {
    const flags = (list: string[]) => list.map((f) => f.split('=')[0]).sort();
    const fromCompose = flags(compose.services.rtpengine?.command ?? []);
    const text = unit('switchboard-rtpengine.service').replace(/\\\n/g, ' ');
    const fromUnit = flags(
      /^ExecStart=(.*)$/m
        .exec(text)![1]!
        .split(/\s+/)
        .filter((f) => f.startsWith('--')),
    );
    for (const flag of fromCompose) expect(fromUnit).toContain(flag);
  });
});
