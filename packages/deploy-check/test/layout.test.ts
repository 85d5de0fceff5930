import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { waitForUdpListener } from '@switchboard/testkit';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { type ComposeFile, dockerCompose, INFRA, parseEnvFile, ROOT, readInfra } from './support/files.ts';
import {
  type Child,
  freeEphemeralPort,
  freePortIn,
  freeTcpPort,
  spawnChild,
  spawnMain,
  waitHealthy,
} from './support/processes.ts';
import { expectSippOk, runSipp, type SippResult, stopAllSipp } from './support/sipp.ts';

/**
 * The production layout without containers: every component a separate process started from its
 * standalone main, given exactly the variables its compose service is given (names from
 * docker-compose.yml, values from an env file like the operator's .env, resolved by docker-compose
 * itself), health-checked with the compose health checks. PostgreSQL is the machine's server (a fresh
 * database), rtpengine runs with the compose flags on loopback. Subscribers are created over REST,
 * then two sipp endpoints register and call each other through it.
 */

const TEST_DATABASE_URL =
  process.env.TEST_DATABASE_URL ?? 'postgresql://switchboard:switchboard@127.0.0.1:5432/switchboard_test';
const DOMAIN = 'deploy.example.test';
const ADMIN_EMAIL = 'operator@deploy.example.test';
const ADMIN_PASSWORD = `Op-${randomBytes(12).toString('hex')}`;
const dbName = `deploy_${Date.now()}_${randomBytes(3).toString('hex')}`;

let resolved: ComposeFile;
let env: Record<string, string>;
const children: Child[] = [];
let apiBase: string;
let token: string;
let sipPort: number;
let tlsPort: number;
const sippPorts = new Set<number>();

function adminUrl(database: string): string {
  const url = new URL(TEST_DATABASE_URL);
  url.pathname = `/${database}`;
  return url.toString();
}

async function admin(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl(new URL(TEST_DATABASE_URL).pathname.slice(1)) });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/** The environment a compose service gets: the names it lists, the values docker-compose resolved. */
function serviceEnv(service: string): Record<string, string> {
  const environment = resolved.services[service]?.environment ?? {};
  return Object.fromEntries(Object.entries(environment).map(([k, v]) => [k, String(v)]));
}

/** A compose health check as argv on this host (the mounted script is infra/healthcheck.mjs here). */
function healthCheck(service: string): string[] {
  const test = resolved.services[service]?.healthcheck?.test ?? [];
  expect(test[0]).toBe('CMD');
  return test
    .slice(1)
    .map((a) =>
      a === 'node'
        ? process.execPath
        : a.replace('/opt/switchboard/healthcheck.mjs', `${INFRA}healthcheck.mjs`),
    );
}

async function rest<T>(method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(`${apiBase}${path}`, {
    method,
    headers: {
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`);
  return JSON.parse(text) as T;
}

beforeAll(async () => {
  await admin(`CREATE DATABASE "${dbName}"`);
  const work = mkdtempSync(join(tmpdir(), 'deploy-layout-'));
  // Certificates as an operator trying it out would make them.
  const certs = spawnSync(`${INFRA}gen-certs.sh`, ['sip.deploy.example.test', '127.0.0.1'], {
    env: { ...process.env, TLS_DIR: join(work, 'tls'), DAYS: '2' },
    encoding: 'utf8',
  });
  expect(certs.status, certs.stderr).toBe(0);

  sipPort = await freePortIn(19000, 19999, sippPorts);
  tlsPort = await freePortIn(19000, 19999, sippPorts);
  const engineAdminPort = await freeTcpPort();
  const ngPort = await freeEphemeralPort();
  const rtpMin = 42000 + 100 * Math.floor(Math.random() * 9);
  const secret = randomBytes(18).toString('base64url');
  const enumPort = await freeEphemeralPort();
  // The operator's .env with this host's values: only loopback, small port ranges, fresh database.
  const changes: Record<string, string> = {
    ENGINE_SECRET: secret,
    ADMIN_EMAIL,
    ADMIN_PASSWORD,
    DATABASE_URL: adminUrl(dbName),
    SIP_LISTEN: `udp:127.0.0.1:${sipPort},tcp:127.0.0.1:${sipPort},tls:127.0.0.1:${tlsPort}`,
    SIP_ADVERTISED_ADDRESS: '127.0.0.1',
    SIP_TLS_CERT: join(work, 'tls/sip.crt'),
    SIP_TLS_KEY: join(work, 'tls/sip.key'),
    SIP_DOMAIN: DOMAIN,
    ENGINE_ADMIN: `127.0.0.1:${engineAdminPort}`,
    ENGINE_ADMIN_PORT: String(engineAdminPort),
    DRACHTIO_URL: `drachtio://${secret}@127.0.0.1:${engineAdminPort}`,
    RTPENGINE_INTERFACE: '127.0.0.1',
    RTPENGINE_NG: `127.0.0.1:${ngPort}`,
    RTPENGINE_NG_PORT: String(ngPort),
    RTPENGINE_CLI_PORT: String(await freeTcpPort()),
    RTP_PORT_MIN: String(rtpMin),
    RTP_PORT_MAX: String(rtpMin + 99),
    API_PORT: String(await freeTcpPort()),
    API_HOST: '127.0.0.1',
    NUMBERING_PORT: String(await freeTcpPort()),
    NUMBERING_HOST: '127.0.0.1',
    ENUM_LISTEN: `udp:127.0.0.1:${enumPort},tcp:127.0.0.1:${enumPort}`,
    LOG_LEVEL: 'info',
  };
  env = { ...parseEnvFile(readInfra('.env.example')), ...changes };
  const envFile = join(work, '.env');
  writeFileSync(
    envFile,
    `${Object.entries(env)
      .map(([k, v]) => `${k}=${v}`)
      .join('\n')}\n`,
    { mode: 0o600 },
  );
  const config = dockerCompose(envFile, ['config']);
  expect(config.status, config.stderr).toBe(0);
  resolved = parse(config.stdout) as ComposeFile;

  // rtpengine: the image's entry point plus the compose command.
  const entrypoint = ['--config-file=none', '--foreground', '--log-stderr', '--table=-1'];
  const rtpengine = spawnChild(
    'rtpengine',
    'rtpengine',
    [...entrypoint, ...(resolved.services.rtpengine?.command ?? [])],
    work,
    {},
  );
  children.push(rtpengine);
  await waitHealthy(rtpengine, healthCheck('rtpengine').slice(0));

  // The API migrates the schema; numbering and sip-core wait for it, as their depends_on says.
  const dataDir = join(work, 'data');
  const api = spawnMain('api', `${ROOT}apps/api`, 'src/main.ts', { ...serviceEnv('api'), DATA_DIR: dataDir });
  children.push(api);
  await waitHealthy(api, healthCheck('api'));
  apiBase = `http://127.0.0.1:${env.API_PORT}`;

  const engine = spawnMain('engine', `${ROOT}apps/engine`, 'src/main.ts', serviceEnv('engine'));
  const numbering = spawnMain('numbering', `${ROOT}packages/numbering`, 'src/main.ts', {
    ...serviceEnv('numbering'),
    DATA_DIR: dataDir,
  });
  children.push(engine, numbering);
  await Promise.all([
    waitHealthy(engine, healthCheck('engine')),
    waitHealthy(numbering, healthCheck('numbering')),
  ]);
  const sipCore = spawnMain('sip-core', `${ROOT}apps/sip-core`, 'src/main.ts', {
    ...serviceEnv('sip-core'),
    DATA_DIR: dataDir,
  });
  children.push(sipCore);
  await waitHealthy(sipCore, healthCheck('sip-core'));
}, 240_000);

afterAll(async () => {
  stopAllSipp();
  for (const child of children.reverse()) await child.stop();
  await admin(`DROP DATABASE IF EXISTS "${dbName}" WITH (FORCE)`);
}, 60_000);

describe('the production layout as separate processes', () => {
  it('wires each process only with the variables its compose service lists', () => {
    expect(Object.keys(serviceEnv('sip-core')).sort()).toEqual(
      [
        'DATABASE_URL',
        'DRACHTIO_URL',
        'LOG_LEVEL',
        'METRICS_LISTEN',
        'RTPENGINE_NG',
        'SIP_ADVERTISED_ADDRESS',
        'SIP_CORE_NODE_NAME',
        'SIP_CLUSTER_NODES',
        'SIP_NONCE_SECRET',
        'PUSH_CREDENTIALS_KEY',
        'SIP_CORE_WORKERS',
        'REDIS_URL',
        'RECORDING_CAPTURE_DIR',
        'RECORDINGS_DIR',
        'RECORDING_ANNOUNCEMENT',
        'RTPENGINE_DTMF_LISTEN',
        'RECORDING_DTMF_CODE',
        'S3_BUCKET',
        'S3_ENDPOINT',
        'S3_REGION',
        'S3_ACCESS_KEY_ID',
        'S3_SECRET_ACCESS_KEY',
        'S3_PREFIX',
        'S3_FORCE_PATH_STYLE',
      ].sort(),
    );
    expect(serviceEnv('engine').ENGINE_SECRET).toBe(env.ENGINE_SECRET);
    expect(serviceEnv('sip-core').DRACHTIO_URL).toBe(env.DRACHTIO_URL);
  });

  it('serves SIP over TLS with the operator certificate', async () => {
    const peer = await new Promise<string>((resolve, reject) => {
      const socket = tlsConnect({
        host: '127.0.0.1',
        port: tlsPort,
        ca: readFileSync(env.SIP_TLS_CERT!),
        servername: 'sip.deploy.example.test',
      });
      socket.once('secureConnect', () => {
        const cn = socket.getPeerCertificate().subject?.CN ?? '';
        const subject = Array.isArray(cn) ? cn.join(',') : cn;
        socket.destroy();
        resolve(subject);
      });
      socket.once('error', reject);
      socket.setTimeout(10_000, () => reject(new Error('TLS handshake timed out')));
    });
    expect(peer).toBe('sip.deploy.example.test');
  });

  it('provisions subscribers over REST, registers two sipp endpoints and connects a call between them', async () => {
    token = (
      await rest<{ token: string }>('POST', '/api/v1/auth/login', {
        email: ADMIN_EMAIL,
        password: ADMIN_PASSWORD,
      })
    ).token;
    const reseller = await rest<{ id: string }>('POST', '/api/v1/resellers', { name: 'Deploy reseller' });
    const customer = await rest<{ id: string }>('POST', '/api/v1/customers', {
      name: 'Deploy customer',
      resellerId: reseller.id,
    });
    const domain = await rest<{ id: string }>('POST', '/api/v1/domains', {
      name: DOMAIN,
      resellerId: reseller.id,
    });
    const passwords: Record<string, string> = {};
    for (const username of ['alice', 'bob']) {
      const created = await rest<{ password: string }>('POST', '/api/v1/subscribers', {
        customerId: customer.id,
        domainId: domain.id,
        username,
      });
      passwords[username] = created.password;
    }

    const remote = `127.0.0.1:${sipPort}`;
    const credentials = (user: string) => `[authentication username=${user} password=${passwords[user]}]`;
    const ports: Record<string, number> = {};
    // sip-core learns new subscribers through the database change feed; allow it a moment.
    for (const user of ['alice', 'bob']) {
      ports[user] = await freePortIn(19000, 19999, sippPorts);
      let result: SippResult | undefined;
      for (let attempt = 0; attempt < 10; attempt++) {
        result = await runSipp({
          scenario: 'register.xml',
          port: ports[user]!,
          remote,
          fields: [user, credentials(user), DOMAIN],
          authUri: DOMAIN,
          timeoutS: 10,
        });
        if (result.code === 0) break;
        await new Promise((resolve) => setTimeout(resolve, 1000));
      }
      if (!result) throw new Error(`register ${user}: sipp never ran`);
      expectSippOk(result, `register ${user}`);
    }
    // sip-core answers REGISTER from memory and writes the binding behind (within its write-behind
    // window); the API, another process, reads the table, so the bindings show up shortly after.
    let registrations: unknown;
    for (let attempt = 0; attempt < 50; attempt++) {
      registrations = await rest<{ items: Array<{ aor?: string; username?: string }> }>(
        'GET',
        '/api/v1/registrations',
      );
      const text = JSON.stringify(registrations);
      if (text.includes('alice') && text.includes('bob')) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(JSON.stringify(registrations)).toContain('alice');
    expect(JSON.stringify(registrations)).toContain('bob');

    const callee = runSipp({ scenario: 'uas-answer.xml', port: ports.bob!, timeoutS: 30 });
    await waitForUdpListener(ports.bob!);
    const caller = runSipp({
      scenario: 'uac-call-bye.xml',
      port: ports.alice!,
      remote,
      fields: [...['alice', credentials('alice'), DOMAIN], 'bob'],
      authUri: `bob@${DOMAIN}`,
      timeoutS: 30,
    });
    const [uac, uas] = await Promise.all([caller, callee]);
    expectSippOk(uac, 'alice calls bob');
    expectSippOk(uas, 'bob answers');

    // The call shows up in the CDRs the API serves, answered.
    let cdrs: string = '';
    for (let attempt = 0; attempt < 40; attempt++) {
      cdrs = JSON.stringify(await rest('GET', '/api/v1/cdrs'));
      if (cdrs.includes('"answered"')) break;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    expect(cdrs).toContain('"answered"');
  }, 180_000);
});
