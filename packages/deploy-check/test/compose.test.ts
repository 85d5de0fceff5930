import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import {
  type ComposeFile,
  composeAsWritten,
  dockerCompose,
  INFRA,
  parseEnvFile,
  readInfra,
} from './support/files.ts';

const EXAMPLE = `${INFRA}.env.example`;
const example = parseEnvFile(readInfra('.env.example'));
const compose = composeAsWritten();
const SECRET_NAME = /PASSWORD|SECRET|TOKEN|PRIVATE/;

function envFileWith(changes: Record<string, string | undefined>): string {
  const env = { ...example, ...changes };
  const lines = Object.entries(env)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}=${v}`);
  const file = join(mkdtempSync(join(tmpdir(), 'deploy-env-')), '.env');
  writeFileSync(file, `${lines.join('\n')}\n`);
  return file;
}

describe('docker-compose.yml', () => {
  it('is valid for docker-compose with the documented example settings', () => {
    const run = dockerCompose(EXAMPLE, ['config', '-q']);
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
  });

  it('refuses to start without a secret instead of using an empty one', () => {
    const run = dockerCompose(envFileWith({ ENGINE_SECRET: undefined }), ['config', '-q']);
    expect(run.status).not.toBe(0);
    expect(run.stderr).toContain('set ENGINE_SECRET in .env');
  });

  it('runs every component of the platform', () => {
    expect(Object.keys(compose.services).sort()).toEqual(
      [
        'api',
        'drachtio',
        'engine',
        'https',
        'numbering',
        'postgres',
        'redis',
        'rtpengine',
        'sip-core',
      ].sort(),
    );
  });

  it('gives every service a restart policy and a health check', () => {
    for (const [name, service] of Object.entries(compose.services)) {
      expect(service.restart, name).toMatch(/^(always|unless-stopped)$/);
      expect(service.healthcheck?.test?.length, name).toBeGreaterThan(1);
    }
  });

  it('pins every image to a version, never latest', () => {
    for (const [name, service] of Object.entries(compose.services)) {
      expect(service.image, name).toMatch(/^[\w./-]+:[\w.-]+$/);
      expect(service.image, name).not.toMatch(/:latest$/);
      // Our own images are built from this repository; the others name a released version.
      if (service.build === undefined) expect(service.image, name).toMatch(/:\d+\.\d+/);
    }
  });

  it('writes no secret literal: secrets come from .env as required variables', () => {
    const text = readInfra('docker-compose.yml');
    for (const [name, value] of Object.entries(example)) {
      // An empty example (an optional secret such as S3_SECRET_ACCESS_KEY) is no literal to leak.
      if (SECRET_NAME.test(name) && value !== '') expect(text, name).not.toContain(value);
    }
    for (const [service, { environment = {} }] of Object.entries(compose.services)) {
      for (const [name, value] of Object.entries(environment)) {
        if (SECRET_NAME.test(name) || name.endsWith('_URL')) {
          expect(value, `${service} ${name}`).toMatch(/^\$\{[A-Z][A-Z0-9_]*(:\?[^}]*)?\}$/);
        }
      }
    }
    // The drachtio-server profile passes the secret on its command line, from .env too.
    expect(compose.services.drachtio?.command?.join(' ')).toContain('${ENGINE_SECRET:?');
  });

  it('keeps data in named volumes and mounts only read-only files from infra/', () => {
    const declared = Object.keys(compose.volumes);
    expect(declared).toEqual(expect.arrayContaining(['pgdata', 'api-data']));
    for (const [name, { volumes = [] }] of Object.entries(compose.services)) {
      for (const mount of volumes) {
        // source:target[:mode]; a source may be `${VAR:-default}`, which holds a colon itself.
        const m = /^(\$\{[^}]*\}|[^:]+):([^:]+)(?::(ro|rw))?$/.exec(mount);
        const source = m?.[1] ?? '';
        const mode = m?.[3];
        if (source.startsWith('.') || source.startsWith('$')) {
          expect(mode, `${name}: ${mount}`).toBe('ro');
        } else {
          expect(declared, `${name}: ${mount}`).toContain(source);
        }
      }
    }
    expect(compose.services.postgres?.volumes).toContain('pgdata:/var/lib/postgresql/data');
  });

  it('uses host networking for SIP and RTP and the same loopback links as the systemd layout', () => {
    for (const [name, service] of Object.entries(compose.services)) {
      expect(service.network_mode, name).toBe('host');
    }
    expect(example.DATABASE_URL).toMatch(/@127\.0\.0\.1:/);
    expect(example.DRACHTIO_URL).toMatch(/@127\.0\.0\.1:9022$/);
    expect(example.RTPENGINE_NG).toBe(`127.0.0.1:${example.RTPENGINE_NG_PORT}`);
  });

  it('runs exactly one SIP engine: ours by default, drachtio-server as the alternative profile', () => {
    expect(compose.services.engine?.profiles).toEqual(['engine']);
    expect(compose.services.drachtio?.profiles).toEqual(['drachtio']);
    expect(compose.services.drachtio?.image).toMatch(/^drachtio\/drachtio-server:/);
    expect(example.COMPOSE_PROFILES).toBe('engine');
    for (const [name, service] of Object.entries(compose.services)) {
      if (name === 'engine' || name === 'drachtio') continue;
      expect(service.profiles, name).toBeUndefined();
      expect(Object.keys(service.depends_on ?? {}), name).not.toContain('engine');
    }
  });

  it('takes the RTP port range and the media interface from .env', () => {
    const run = dockerCompose(
      envFileWith({
        RTP_PORT_MIN: '42000',
        RTP_PORT_MAX: '42100',
        RTPENGINE_INTERFACE: '10.0.0.5!203.0.113.10',
      }),
      ['config'],
    );
    expect(run.status, run.stderr).toBe(0);
    const resolved = parse(run.stdout) as ComposeFile;
    expect(resolved.services.rtpengine?.command).toEqual(
      expect.arrayContaining(['--port-min=42000', '--port-max=42100', '--interface=10.0.0.5!203.0.113.10']),
    );
  });

  it('defines every variable it references in .env.example', () => {
    const referenced = new Set(
      [...readInfra('docker-compose.yml').matchAll(/\$\{([A-Z_][A-Z0-9_]*)/g)].map((m) => m[1]!),
    );
    for (const name of referenced) expect(Object.keys(example), name).toContain(name);
  });
});
