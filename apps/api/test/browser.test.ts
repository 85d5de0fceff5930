import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LightMyRequestResponse } from 'fastify';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp, startApi } from '../src/app.ts';
import { CSRF_COOKIE, SESSION_COOKIE } from '../src/auth/cookies.ts';
import { createWorld, PASSWORD, type World } from './support/world.ts';

// What the API does for browsers: security headers, the HttpOnly session cookie, CSRF on cookie requests.
let world: World;
beforeAll(async () => {
  world = await createWorld('browser', { limits: { loginMaxDelayMs: 20 } });
});
afterAll(async () => {
  await world?.close();
});

interface Cookie {
  name: string;
  value: string;
  attributes: string[];
}
function cookiesOf(res: LightMyRequestResponse): Cookie[] {
  const raw = res.headers['set-cookie'];
  const lines = raw === undefined ? [] : Array.isArray(raw) ? raw : [raw];
  return lines.map((line) => {
    const [pair = '', ...attributes] = line.split(';').map((s) => s.trim());
    const eq = pair.indexOf('=');
    return {
      name: pair.slice(0, eq),
      value: pair.slice(eq + 1),
      attributes: attributes.map((a) => a.toLowerCase()),
    };
  });
}

async function browserLogin(email = 'customer-a@test.example') {
  const res = await world.app.inject({
    method: 'POST',
    url: '/api/v1/auth/login',
    payload: { email, password: PASSWORD },
  });
  expect(res.statusCode).toBe(200);
  const cookies = cookiesOf(res);
  const session = cookies.find((c) => c.name === SESSION_COOKIE);
  const csrf = cookies.find((c) => c.name === CSRF_COOKIE);
  if (!session || !csrf) throw new Error('login set no session cookies');
  return { res, session, csrf, cookie: `${SESSION_COOKIE}=${session.value}; ${CSRF_COOKIE}=${csrf.value}` };
}

function expectHardened(headers: Record<string, unknown> | Headers) {
  const get = (name: string) =>
    headers instanceof Headers ? headers.get(name) : (headers[name] as string | undefined);
  const csp = get('content-security-policy') ?? '';
  expect(csp).toContain("frame-ancestors 'none'");
  expect(csp).toContain("default-src 'self'");
  expect(csp).toContain("script-src 'self'");
  expect(csp).toContain("object-src 'none'");
  expect(get('x-frame-options')).toBe('DENY');
  expect(get('x-content-type-options')).toBe('nosniff');
  expect(get('referrer-policy')).toBe('same-origin');
}

describe('security headers', () => {
  it('are on API answers, errors included', async () => {
    expectHardened((await world.app.inject({ method: 'GET', url: '/api/health' })).headers);
    expectHardened((await world.app.inject({ method: 'GET', url: '/api/v1/auth/me' })).headers);
    expectHardened((await world.app.inject({ method: 'GET', url: '/api/v1/nope' })).headers);
  });

  it('are on the web app’s pages', async () => {
    const root = await mkdtemp(join(tmpdir(), 'sb-web-'));
    await writeFile(join(root, 'index.html'), '<!doctype html><title>Switchboard</title>');
    const api = await startApi(
      { port: 0, host: '127.0.0.1' },
      { prisma: world.prisma, logger: pino({ level: 'silent' }), health: async () => ({}), webRoot: root },
    );
    try {
      const index = await fetch(`http://127.0.0.1:${api.port}/`);
      expect(index.status).toBe(200);
      expectHardened(index.headers);
      const deep = await fetch(`http://127.0.0.1:${api.port}/admin/subscribers`);
      expectHardened(deep.headers);
    } finally {
      await api.close();
      await rm(root, { recursive: true, force: true });
    }
  });
});

describe('the session cookie', () => {
  it('is set by the same login that answers the token, HttpOnly and SameSite=Strict', async () => {
    const { res, session, csrf } = await browserLogin();
    expect(session.value).toBe(res.json().token);
    expect(session.attributes).toEqual(expect.arrayContaining(['httponly', 'samesite=strict', 'path=/api']));
    // Plain HTTP here: a Secure cookie would never come back.
    expect(session.attributes).not.toContain('secure');
    expect(csrf.attributes).toEqual(expect.arrayContaining(['samesite=strict', 'path=/']));
    expect(csrf.attributes).not.toContain('httponly');
    expect(csrf.value).not.toContain(session.value);
  });

  it('is marked Secure when the API is told it sits behind HTTPS', async () => {
    const app = await buildApp({
      prisma: world.prisma,
      logger: pino({ level: 'silent' }),
      health: async () => ({}),
      cookieSecure: true,
    });
    try {
      const res = await app.inject({
        method: 'POST',
        url: '/api/v1/auth/login',
        payload: { email: 'customer-b@test.example', password: PASSWORD },
      });
      expect(res.statusCode).toBe(200);
      for (const c of cookiesOf(res)) expect(c.attributes).toContain('secure');
    } finally {
      await app.close();
    }
  });

  it('authenticates reads, and changes only with the matching CSRF token', async () => {
    const { cookie, csrf } = await browserLogin();
    const me = await world.app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: { cookie } });
    expect(me.statusCode).toBe(200);
    expect(me.json()).toMatchObject({ email: 'customer-a@test.example', via: 'session' });

    const createKey = (headers: Record<string, string>) =>
      world.app.inject({
        method: 'POST',
        url: '/api/v1/api-keys',
        headers,
        payload: { name: 'from the browser' },
      });
    const noToken = await createKey({ cookie });
    expect(noToken.statusCode).toBe(403);
    expect(noToken.json().detail).toContain('CSRF');
    expect((await createKey({ cookie, 'x-csrf-token': 'forged' })).statusCode).toBe(403);
    // The CSRF token of another session does not fit this one.
    const other = await browserLogin('customer-b@test.example');
    expect((await createKey({ cookie, 'x-csrf-token': other.csrf.value })).statusCode).toBe(403);
    expect((await createKey({ cookie, 'x-csrf-token': csrf.value })).statusCode).toBe(201);
    expect(await world.prisma.apiKey.count({ where: { name: 'from the browser' } })).toBe(1);
  });

  it('is not needed, nor a CSRF token, with a bearer token; an API key never works as a cookie', async () => {
    const created = await world.request('customerA', 'POST', '/api/v1/api-keys', { name: 'script' });
    expect(created.statusCode).toBe(201);
    const key = created.json().key as string;
    const asCookie = await world.app.inject({
      method: 'GET',
      url: '/api/v1/auth/me',
      headers: { cookie: `${SESSION_COOKIE}=${key}` },
    });
    expect(asCookie.statusCode).toBe(401);
    // The bearer header wins over a cookie: a stale cookie does not spoil a script's request.
    const both = await world.app.inject({
      method: 'GET',
      url: '/api/v1/auth/me',
      headers: { authorization: `Bearer ${key}`, cookie: `${SESSION_COOKIE}=sbt_stale` },
    });
    expect(both.statusCode).toBe(200);
    expect(both.json().via).toBe('apiKey');
  });

  it('is cleared by logout, which also revokes the session', async () => {
    const { cookie, csrf } = await browserLogin();
    const forged = await world.app.inject({
      method: 'POST',
      url: '/api/v1/auth/logout',
      headers: { cookie },
    });
    expect(forged.statusCode).toBe(403);
    const out = await world.app.inject({
      method: 'POST',
      url: '/api/v1/auth/logout',
      headers: { cookie, 'x-csrf-token': csrf.value },
    });
    expect(out.statusCode).toBe(204);
    const cleared = cookiesOf(out);
    expect(cleared.map((c) => c.name).sort()).toEqual([CSRF_COOKIE, SESSION_COOKIE].sort());
    for (const c of cleared) {
      expect(c.value).toBe('');
      expect(c.attributes.some((a) => a === 'max-age=0' || a.startsWith('expires=thu, 01 jan 1970'))).toBe(
        true,
      );
    }
    expect(
      (await world.app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: { cookie } })).statusCode,
    ).toBe(401);
  });
});
