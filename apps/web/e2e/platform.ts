import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openDatabase, type PrismaClient } from '@switchboard/db';
import { createTestDatabase } from '@switchboard/db/testing';
import { startSmtpServer, type TestSmtpServer } from '@switchboard/testkit';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';

export const OPERATOR = { email: 'ops@example.com', password: 'operator password 1' };
export const WEB_ROOT = fileURLToPath(new URL('../dist', import.meta.url));
export const ARTIFACTS = fileURLToPath(new URL('../test-artifacts', import.meta.url));
/**
 * The all-in-one launcher, run as its own process the way `switchboard start` runs. It is started by path,
 * not imported: the launcher depends on this package (it serves the built app), so a dependency back would
 * be a cycle.
 */
const LAUNCHER = fileURLToPath(new URL('../../switchboard/bin/switchboard.mjs', import.meta.url));

/** This suite's port range: rtpengine relays in the lower part, sipp peers take the upper part. */
export const RTP_PORTS = { min: 47100, max: 47159 };
export const SIPP_PORTS = { min: 47160, max: 47199 };

export const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export interface Platform {
  baseUrl: string;
  /** `127.0.0.1:port` of the engine's UDP SIP listener. */
  sipAddress: string;
  /** How the launcher anchors media: `local` (an rtpengine child) or `none` (not installed). */
  mediaMode: string;
  /** A connection of the test's own to the platform's database, for checks. */
  prisma: PrismaClient;
  /** The SMTP server the platform sends its e-mail to (SMTP_URL). */
  smtp: TestSmtpServer;
  browser: BrowserContext;
  page: Page;
  /** The launcher's JSON log events so far (with SIP_TRACE=true: every SIP message, component sip-trace). */
  logEvents(): readonly Record<string, unknown>[];
  screenshot(page: Page, name: string): Promise<void>;
  close(): Promise<void>;
}

interface Launched {
  child: ChildProcess;
  events: readonly Record<string, unknown>[];
  waitForLog(msg: string, timeoutMs: number): Promise<Record<string, unknown>>;
  stop(): Promise<void>;
}

/** Starts the launcher and reads its JSON log lines (one pino event per line) for the listeners it opened. */
function launch(env: Record<string, string>): Launched {
  const child = spawn(process.execPath, [LAUNCHER, 'start'], {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const events: Record<string, unknown>[] = [];
  let tail = '';
  let partial = '';
  const listeners = new Set<() => void>();
  child.stdout?.on('data', (d: Buffer) => {
    const lines = (partial + d.toString()).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) {
      tail = `${tail}${line}\n`.slice(-8000);
      if (!line.startsWith('{')) continue;
      try {
        events.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        // a line of the human-readable banner
      }
    }
    for (const l of listeners) l();
  });
  child.stderr?.on('data', (d: Buffer) => {
    tail = (tail + d.toString()).slice(-8000);
  });
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  return {
    child,
    events,
    waitForLog(msg, timeoutMs) {
      return new Promise((resolve, reject) => {
        const check = (): void => {
          const found = events.find((e) => e.msg === msg);
          if (!found) return;
          done();
          resolve(found);
        };
        const timer = setTimeout(() => {
          done();
          reject(new Error(`launcher: no '${msg}' within ${timeoutMs} ms\n${tail}`));
        }, timeoutMs);
        const done = (): void => {
          clearTimeout(timer);
          listeners.delete(check);
        };
        listeners.add(check);
        exited.then(() => {
          done();
          reject(new Error(`launcher exited before '${msg}'\n${tail}`));
        });
        check();
      });
    },
    async stop() {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      const killed = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(killed);
    },
  };
}

/**
 * Another headless chromium, as its own browser process (not a tab of the platform's), with a fresh
 * temporary profile: a second person at another computer. `args` as for `startPlatform`'s browser.
 */
export function launchChromium(args: string[] = []): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    headless: true,
    args: [...CHROMIUM_FLAGS, ...args],
  });
}

/**
 * The whole platform as `switchboard start` runs it (engine, sip-core, rtpengine, numbering, API serving
 * the built web app) over a freshly migrated PostgreSQL database, and a headless chromium with a fresh
 * profile. Everything listens on loopback: ephemeral ports, RTP in `rtpPorts` (this suite's range unless a
 * file running alongside needs its own); `env` adds or overrides the launcher's variables. The platform sends
 * its e-mail to a local SMTP server of its own (`smtp`).
 */
export async function startPlatform(
  label: string,
  env: Record<string, string> = {},
  /** Suites that may run side by side each take their own relay range. */
  rtpPorts: { min: number; max: number } = RTP_PORTS,
  /** More chromium flags (fake media devices, certificate handling). */
  browserArgs: string[] = [],
): Promise<Platform> {
  if (!existsSync(join(WEB_ROOT, 'index.html')))
    throw new Error('run `vite build` first (pnpm test:e2e does)');
  // An empty database: the launcher applies the migrations, as on a first start.
  const created = await createTestDatabase(`web_${label}`);
  const dataDir = await mkdtemp(join(tmpdir(), 'sb-web-data-'));
  const smtp = await startSmtpServer();
  const launched = launch({
    SMTP_URL: smtp.url,
    DATABASE_URL: created.url,
    DATA_DIR: dataDir,
    API_PORT: '0',
    NUMBERING_PORT: '0',
    SIP_LISTEN: 'udp:127.0.0.1:0',
    SIP_ADVERTISED_ADDRESS: '127.0.0.1',
    ENGINE_ADMIN: '127.0.0.1:0',
    ENUM_LISTEN: 'udp:127.0.0.1:0',
    RTP_PORTS: `${rtpPorts.min}-${rtpPorts.max}`,
    ADMIN_EMAIL: OPERATOR.email,
    ADMIN_PASSWORD: OPERATOR.password,
    LOG_LEVEL: 'info',
    ...env,
  });
  let browser: BrowserContext | undefined;
  let db: Awaited<ReturnType<typeof openDatabase>> | undefined;
  const profile = await mkdtemp(join(tmpdir(), 'sb-web-chromium-'));
  const close = async (): Promise<void> => {
    await browser?.close().catch(() => undefined);
    await rm(profile, { recursive: true, force: true });
    await launched.stop();
    await rm(dataDir, { recursive: true, force: true });
    await db?.close();
    await created.drop();
    await smtp.close();
  };
  try {
    const media = await launched.waitForLog('media relay ready', 60_000);
    const engine = await launched.waitForLog('SIP engine listening', 60_000);
    const api = await launched.waitForLog('web admin and API listening', 90_000);
    const udp = (engine.sip as string[]).find((l) => l.startsWith('udp:'));
    if (!udp) throw new Error(`no UDP listener in ${JSON.stringify(engine.sip)}`);
    const apiPort = new URL(String(api.url)).port;
    db = await openDatabase({ databaseUrl: created.url, dataDir: '' });
    browser = await chromium.launchPersistentContext(profile, {
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      headless: true,
      args: [...CHROMIUM_FLAGS, ...browserArgs],
      viewport: { width: 1280, height: 800 },
    });
    const page = browser.pages()[0] ?? (await browser.newPage());
    await mkdir(ARTIFACTS, { recursive: true });
    return {
      baseUrl: `http://127.0.0.1:${apiPort}`,
      sipAddress: udp.slice('udp:'.length),
      mediaMode: String(media.mode),
      prisma: db.prisma,
      smtp,
      browser,
      page,
      logEvents: () => launched.events,
      async screenshot(target, name) {
        await target.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
      },
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}
