import { randomUUID } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { openDatabase, seedDemo } from '@switchboard/db';
import { computeDigestAuthorization, parseMessage, type SipResponse } from '@switchboard/sip';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiBase, LOOPBACK_ENV, launch, stop } from './support/launcher-process.ts';
import { createScratchDatabase, type ScratchDatabase } from './support/scratch-database.ts';

/** A UDP SIP client on loopback that sends one request at a time and waits for its final answer. */
async function sipClient(serverPort: number) {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  const local = socket.address().port;
  const send = (lines: string[]): Promise<SipResponse> =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no final answer to ${lines[0]}`)), 10_000);
      const onMessage = (msg: Buffer): void => {
        const response = parseMessage(msg) as SipResponse;
        if (response.status < 200) return;
        clearTimeout(timer);
        socket.off('message', onMessage);
        resolve(response);
      };
      socket.on('message', onMessage);
      const via = `Via: SIP/2.0/UDP 127.0.0.1:${local};branch=z9hG4bK${randomUUID()};rport`;
      socket.send(
        [lines[0], via, ...lines.slice(1), 'Content-Length: 0', '', ''].join('\r\n'),
        serverPort,
        '127.0.0.1',
      );
    });
  return { local, send, close: () => socket.close() };
}

/** The command lines of the rtpengine processes running now. */
function rtpengineCommandLines(): string[] {
  const lines: string[] = [];
  for (const pid of readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
    try {
      const line = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
      if (line.includes('rtpengine')) lines.push(line);
    } catch {
      // Ended meanwhile.
    }
  }
  return lines;
}

/** Sends one OPTIONS over UDP and resolves with the status line of the answer. */
async function sipOptions(port: number): Promise<string> {
  const client = await sipClient(port);
  try {
    const response = await client.send([
      `OPTIONS sip:127.0.0.1:${port} SIP/2.0`,
      'Max-Forwards: 70',
      `From: <sip:probe@127.0.0.1>;tag=${randomUUID().slice(0, 8)}`,
      `To: <sip:127.0.0.1:${port}>`,
      `Call-ID: ${randomUUID()}`,
      'CSeq: 1 OPTIONS',
    ]);
    return `SIP/2.0 ${response.status} ${response.reason}`;
  } finally {
    client.close();
  }
}

/** REGISTER with digest authentication, as a softphone does: challenge, then credentials. */
async function sipRegister(
  port: number,
  user: string,
  domain: string,
  password: string,
): Promise<SipResponse> {
  const client = await sipClient(port);
  const callId = randomUUID();
  const uri = `sip:${domain}`;
  const request = (cseq: number, extra: string[]): string[] => [
    `REGISTER ${uri} SIP/2.0`,
    'Max-Forwards: 70',
    `From: <sip:${user}@${domain}>;tag=${callId.slice(0, 8)}`,
    `To: <sip:${user}@${domain}>`,
    `Call-ID: ${callId}`,
    `CSeq: ${cseq} REGISTER`,
    `Contact: <sip:${user}@127.0.0.1:${client.local}>`,
    'Expires: 600',
    ...extra,
  ];
  try {
    const challenge = await client.send(request(1, []));
    // Anything but the challenge (a domain not served yet: 403) is the caller's to judge.
    if (challenge.status !== 401) return challenge;
    const authorization = computeDigestAuthorization({
      challenge: challenge.getHeader('WWW-Authenticate')!,
      method: 'REGISTER',
      uri,
      username: user,
      password,
    });
    return await client.send(request(2, [`Authorization: ${authorization}`]));
  } finally {
    client.close();
  }
}

/** Authenticates on the engine's drachtio admin listener, as a drachtio-srf app would. */
function drachtioAuthenticate(port: number, secret: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error('no answer to authenticate'));
    }, 10_000);
    let received = '';
    socket.on('data', (d) => {
      received += d.toString();
      const hash = received.indexOf('#');
      if (hash < 0 || received.length < hash + 1 + Number(received.slice(0, hash))) return;
      clearTimeout(timer);
      socket.end();
      // The reply is `uuid|response|<our msgId>|OK|...` or `...|NO|reason`.
      resolve(received.slice(hash + 1).split('|')[3] ?? '');
    });
    socket.on('error', reject);
    const payload = `${randomUUID()}|authenticate|${secret}|`;
    socket.write(`${Buffer.byteLength(payload)}#${payload}`);
  });
}

async function login(base: string, email: string, password: string): Promise<number> {
  const res = await fetch(`${base}/api/v1/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email, password }),
  });
  return res.status;
}

describe('switchboard start on the embedded database', () => {
  let dataDir: string;
  // The first start generates the operator's credentials; the restart test logs in with them.
  let generated: { email: string; password: string } | undefined;
  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'switchboard-launcher-'));
  });
  afterAll(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  it('starts, reports health, prints a generated operator password once, and stops on SIGTERM', async () => {
    const run = launch(['start'], { ...LOOPBACK_ENV, DATA_DIR: dataDir });
    try {
      const base = await apiBase(run);
      const health = await fetch(`${base}/api/health`);
      expect(health.status).toBe(200);
      const body = (await health.json()) as {
        components: Record<string, { status: string; detail?: string }>;
      };
      expect(body.components.database).toEqual({ status: 'up', detail: 'pglite' });
      expect(body.components.api?.status).toBe('up');
      expect(body.components.numbering?.status).toBe('up');
      expect(body.components.engine?.status).toBe('up');

      // The embedded engine answers OPTIONS on its SIP port, and accepts drachtio-srf apps on its admin
      // port with the secret it wrote.
      const engine = await run.waitForLog('SIP engine listening');
      const udp = (engine.sip as string[]).find((l) => l.startsWith('udp:'))!;
      expect(await sipOptions(Number(udp.split(':')[2]))).toBe('SIP/2.0 200 OK');
      // The generated secret is in a file only the owner reads; the log names the file, not the secret.
      const attach = await run.waitForLog('engine secret for drachtio-srf apps written to secretFile');
      expect(attach.secretFile).toBe(join(dataDir, 'engine-secret'));
      expect((await stat(join(dataDir, 'engine-secret'))).mode & 0o777).toBe(0o600);
      const secret = (await readFile(join(dataDir, 'engine-secret'), 'utf8')).trim();
      expect(secret.length).toBeGreaterThanOrEqual(16);
      expect(run.output()).not.toContain(secret);
      // sip-core, in the engine's process, talks to it without a socket; the admin port stays open.
      expect((await run.waitForLog('connected to the SIP engine')).via).toBe('in-process link');
      // ... except REGISTER, which the engine in the same process hands over directly (one worker).
      await run.waitForLog('REGISTER answered in the engine process, without the drachtio protocol');
      const adminPort = (engine.admin as { port: number }).port;
      expect(await drachtioAuthenticate(adminPort, secret!)).toBe('OK');
      expect(await drachtioAuthenticate(adminPort, 'wrong-secret')).toBe('NO');
      // rtpengine is installed on test machines, so the launcher runs its own child.
      expect(body.components.media).toEqual({ status: 'up', detail: 'local: 1/1 rtpengine healthy' });
      // With RTPENGINE_DTMF_LISTEN unset, sip-core's DTMF feed takes a free loopback port and the local
      // rtpengine reports its RFC 4733 keys there (on-demand recording codes work out of the box).
      const feed = await run.waitForLog('DTMF feed listening');
      expect(feed.host).toBe('127.0.0.1');
      expect(feed.port).toBeGreaterThan(0);
      expect(rtpengineCommandLines()).toContainEqual(
        expect.stringContaining(`--dtmf-log-dest=127.0.0.1:${feed.port}`),
      );

      const printed = /e-mail:\s+(\S+)\s+password:\s+(\S+)/.exec(run.output());
      expect(printed).not.toBeNull();
      expect(await login(base, printed![1]!, printed![2]!)).toBe(200);
      expect(await login(base, printed![1]!, `${printed![2]!}x`)).toBe(401);
      generated = { email: printed![1]!, password: printed![2]! };
    } finally {
      expect(await stop(run)).toBe(0);
    }
    expect(run.output()).toContain('"msg":"stopped"');
  });

  it('keeps its data across a restart and does not create the operator again', async () => {
    expect(generated).toBeDefined();
    const { email, password } = generated!;
    const run = launch(['start'], { ...LOOPBACK_ENV, DATA_DIR: dataDir });
    try {
      const base = await apiBase(run);
      expect(await login(base, email, password)).toBe(200);
      expect(run.output()).not.toContain('Operator account created');
    } finally {
      expect(await stop(run)).toBe(0);
    }
  });
});

describe('switchboard start on PostgreSQL', () => {
  let database: ScratchDatabase | undefined;
  let dataDir: string;
  beforeAll(async () => {
    database = await createScratchDatabase('launcher');
    dataDir = await mkdtemp(join(tmpdir(), 'switchboard-launcher-pg-'));
  });
  afterAll(async () => {
    await database?.drop();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('applies migrations, uses the given operator credentials and reports postgres', async () => {
    const url = new URL(database!.url);
    const run = launch(['start'], {
      ...LOOPBACK_ENV,
      // A TLS listener without SIP_TLS_CERT gets a self-signed certificate in $DATA_DIR/certs.
      SIP_LISTEN: 'udp:127.0.0.1:0,tls:127.0.0.1:0',
      DATA_DIR: dataDir,
      DATABASE_URL: url.toString(),
      ADMIN_EMAIL: 'ops@example.com',
      ADMIN_PASSWORD: 'a-very-good-password',
      SIP_TRUSTED_SOURCES: '127.0.0.0/8',
      SIP_RATE_LIMIT: '0',
      PUSH_WAIT_TIMEOUT: '15',
    });
    try {
      const base = await apiBase(run);
      const body = (await (await fetch(`${base}/api/health`)).json()) as {
        components: Record<string, { status: string; detail?: string }>;
      };
      expect(body.components.database).toEqual({ status: 'up', detail: 'postgres' });
      expect(await login(base, 'ops@example.com', 'a-very-good-password')).toBe(200);
      // The SIP access variables and the push wait reach the settings the API shows: fixed by the environment.
      const session = (await (
        await fetch(`${base}/api/v1/auth/login`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ email: 'ops@example.com', password: 'a-very-good-password' }),
        })
      ).json()) as { token: string };
      const settings = (await (
        await fetch(`${base}/api/v1/settings`, { headers: { authorization: `Bearer ${session.token}` } })
      ).json()) as { settings: { key: string; value: unknown; source: string }[] };
      expect(settings.settings.filter((s) => s.source === 'environment')).toEqual([
        expect.objectContaining({ key: 'access.trustedSources', value: ['127.0.0.0/8'] }),
        expect.objectContaining({ key: 'access.rateLimitPerSecond', value: 0 }),
        expect.objectContaining({ key: 'calls.pushWaitTimeout', value: 15 }),
      ]);
      const engine = await run.waitForLog('SIP engine listening');
      const tlsListener = (engine.sip as string[]).find((l) => l.startsWith('tls:'))!;
      const subject = await new Promise<string>((resolve, reject) => {
        const socket = tlsConnect(
          { host: '127.0.0.1', port: Number(tlsListener.split(':')[2]), rejectUnauthorized: false },
          () => {
            resolve(String(socket.getPeerCertificate().subject.CN));
            socket.end();
          },
        );
        socket.on('error', reject);
      });
      expect(subject).toBe('127.0.0.1');
      expect(existsSync(join(dataDir, 'certs', 'sip-selfsigned.crt'))).toBe(true);

      // A softphone registers to the all-in-one platform with the seeded demo credentials.
      const seedDb = await openDatabase({ databaseUrl: url.toString(), dataDir });
      const seeded = await seedDemo(seedDb.prisma, { password: 'demo-password-1' });
      await seedDb.close();
      const alice = seeded.subscribers.find((s) => s.username === 'alice')!;
      const udp = Number((engine.sip as string[]).find((l) => l.startsWith('udp:'))!.split(':')[2]);
      // The seed reaches sip-core through the change feed; until it has, the domain is not served (403).
      let registered = await sipRegister(udp, 'alice', alice.domain, 'demo-password-1');
      for (let attempt = 0; attempt < 50 && registered.status === 403; attempt++) {
        await new Promise((resolve) => setTimeout(resolve, 200));
        registered = await sipRegister(udp, 'alice', alice.domain, 'demo-password-1');
      }
      expect(registered.status).toBe(200);
      expect(registered.getHeader('Contact')).toMatch(/expires=600/);
      const health = (await (await fetch(`${base}/api/health`)).json()) as {
        components: Record<string, { status: string; detail?: string }>;
      };
      expect(health.components['sip-core']).toEqual({ status: 'up', detail: '1 bindings' });
      // The password was chosen by the operator: it is never echoed.
      expect(run.output()).not.toContain('a-very-good-password');
      const migrations = await new pg.Client({ connectionString: url.toString() });
      await migrations.connect();
      const { rows } = await migrations.query(
        'SELECT count(*)::int AS n FROM _prisma_migrations WHERE finished_at IS NOT NULL',
      );
      await migrations.end();
      expect(rows[0].n).toBeGreaterThan(0);
    } finally {
      expect(await stop(run)).toBe(0);
    }
  });
});

describe('switchboard start with bad configuration', () => {
  it('exits with status 2 and names each bad variable', async () => {
    const run = launch(['start'], {
      API_PORT: 'eighty',
      SIP_LISTEN: 'sctp:0.0.0.0:5060',
      SIP_TRUSTED_SOURCES: '127.0.0.0/40',
      SIP_RATE_LIMIT: '-1',
      PUSH_WAIT_TIMEOUT: '0',
    });
    expect(await run.exited).toBe(2);
    expect(run.output()).toMatch(/PUSH_WAIT_TIMEOUT: expected an integer 1-120/);
    expect(run.output()).toMatch(/SIP_TRUSTED_SOURCES: expected a prefix length 0-32/);
    expect(run.output()).toMatch(/SIP_RATE_LIMIT: expected an integer 0-1000000/);
    expect(run.output()).toMatch(/API_PORT: expected a port number/);
    expect(run.output()).toMatch(/SIP_LISTEN: expected transport:host:port/);
  });

  it('rejects an unknown command', async () => {
    const run = launch(['strat'], {});
    expect(await run.exited).toBe(2);
    expect(run.output()).toContain("unknown command 'strat'");
  });
});
