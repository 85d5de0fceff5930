import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureOperator, startApi } from '@switchboard/api';
import type { PrismaClient } from '@switchboard/db';
import { openTestDatabase } from '@switchboard/db/testing';
import { pino } from 'pino';
import { type BrowserContext, chromium, type Page } from 'playwright-core';

export const OPERATOR = { email: 'ops@example.com', password: 'operator password 1' };
export const WEB_ROOT = fileURLToPath(new URL('../dist', import.meta.url));
export const ARTIFACTS = fileURLToPath(new URL('../test-artifacts', import.meta.url));

const CHROMIUM_FLAGS = [
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
  prisma: PrismaClient;
  browser: BrowserContext;
  page: Page;
  screenshot(page: Page, name: string): Promise<void>;
  close(): Promise<void>;
}

/**
 * The built web app served by the real API over a freshly migrated PostgreSQL database, and a headless
 * chromium with a fresh profile. Everything listens on loopback, on ephemeral ports.
 */
export async function startPlatform(label: string): Promise<Platform> {
  if (!existsSync(join(WEB_ROOT, 'index.html')))
    throw new Error('run `vite build` first (pnpm test:e2e does)');
  const db = await openTestDatabase('postgres', `web_${label}`);
  await ensureOperator(db.prisma, OPERATOR);
  const api = await startApi(
    { port: 0, host: '127.0.0.1' },
    {
      prisma: db.prisma,
      logger: pino({ level: 'silent' }),
      health: async () => ({ database: { status: 'up' } }),
      webRoot: WEB_ROOT,
    },
  );
  const profile = await mkdtemp(join(tmpdir(), 'sb-web-chromium-'));
  const browser = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    headless: true,
    args: CHROMIUM_FLAGS,
    viewport: { width: 1280, height: 800 },
  });
  const page = browser.pages()[0] ?? (await browser.newPage());
  await mkdir(ARTIFACTS, { recursive: true });
  return {
    baseUrl: `http://127.0.0.1:${api.port}`,
    prisma: db.prisma,
    browser,
    page,
    async screenshot(target, name) {
      await target.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
    },
    async close() {
      await browser.close().catch(() => undefined);
      await rm(profile, { recursive: true, force: true });
      await api.close();
      await db.close();
    },
  };
}
