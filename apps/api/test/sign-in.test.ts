import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../src/app.ts';
import { createWorld, PASSWORD, type World } from './support/world.ts';

// Password logins under attack: parallel guessing from one address, and guessing spread over addresses
// against one account (which must not lock its owner out).
let world: World;
beforeAll(async () => {
  world = await createWorld('sign_in', {
    limits: { loginFailuresPerIp: 5, loginFailuresPerAccount: 3, loginMaxDelayMs: 20 },
  });
});
afterAll(async () => {
  await world?.close();
});

const login = (email: string, password: string, ip: string) =>
  world.app.inject({
    method: 'POST',
    url: '/api/v1/auth/login',
    payload: { email, password },
    remoteAddress: ip,
  });

describe('parallel logins from one address', () => {
  it('evaluate no more guesses than the limit, the right password included', async () => {
    const ip = '127.0.9.1';
    const email = 'reseller-b@test.example';
    const guesses = Array.from({ length: 39 }, (_, i) => `wrong guess ${i}`);
    const answers = await Promise.all([...guesses, PASSWORD].map((password) => login(email, password, ip)));
    const codes = answers.map((a) => a.statusCode);
    const evaluated = codes.filter((c) => c !== 429);
    expect(evaluated.length).toBeLessThanOrEqual(5);
    expect(codes.filter((c) => c === 429).length).toBeGreaterThanOrEqual(35);
    expect(codes.at(-1)).toBe(429);
    const failures = await world.prisma.auditEntry.count({ where: { action: 'login-failed', sourceIp: ip } });
    expect(failures).toBeLessThanOrEqual(5);
  });
});

describe('guessing one account from many addresses', () => {
  it('never refuses the right password from an address within its budget', async () => {
    const email = 'customer-b@test.example';
    for (let i = 0; i < 12; i++) expect((await login(email, 'bad', `127.0.10.${i}`)).statusCode).toBe(401);
    const owner = await login(email, PASSWORD, '127.0.10.200');
    expect(owner.statusCode).toBe(200);
    expect(owner.json().token).toMatch(/^sbt_/);
  });

  it('still answers 429 to an address that used its own budget', async () => {
    const ip = '127.0.11.1';
    for (let i = 0; i < 5; i++)
      expect((await login(`nobody${i}@test.example`, 'bad', ip)).statusCode).toBe(401);
    const res = await login('customer-a@test.example', PASSWORD, ip);
    expect(res.statusCode).toBe(429);
    expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
  });
});

describe('lifting a block', () => {
  it('lets the operator see and lift blocked addresses and slowed accounts', async () => {
    const ip = '127.0.12.1';
    for (let i = 0; i < 5; i++) await login('customer-a@test.example', `bad ${i}`, ip);
    expect((await login('customer-a@test.example', PASSWORD, ip)).statusCode).toBe(429);

    const view = await world.request('operator', 'GET', '/api/v1/auth/login-limits');
    expect(view.statusCode).toBe(200);
    expect(view.json().addresses).toEqual(
      expect.arrayContaining([expect.objectContaining({ key: ip, attempts: 5 })]),
    );
    expect(view.json().accounts).toEqual(
      expect.arrayContaining([expect.objectContaining({ key: 'customer-a@test.example' })]),
    );
    expect((await world.request('customerA', 'GET', '/api/v1/auth/login-limits')).statusCode).toBe(403);
    expect(
      (await world.request('resellerA', 'DELETE', `/api/v1/auth/login-limits?address=${ip}`)).statusCode,
    ).toBe(403);
    const missing = await world.request('operator', 'DELETE', '/api/v1/auth/login-limits');
    expect(missing.statusCode).toBe(400);

    const lift = await world.request('operator', 'DELETE', `/api/v1/auth/login-limits?address=${ip}`);
    expect(lift.statusCode).toBe(204);
    expect((await login('customer-a@test.example', PASSWORD, ip)).statusCode).toBe(200);
    const audit = await world.prisma.auditEntry.findFirst({ where: { action: 'lift-login-limit' } });
    expect(audit?.actor).toBe('operator@test.example');
  });
});

describe('behind a reverse proxy', () => {
  const viaProxy = (
    app: Awaited<ReturnType<typeof buildApp>>,
    client: string,
    password: string,
    proto = 'http',
  ) =>
    app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      remoteAddress: '127.0.0.1',
      headers: { 'x-forwarded-for': client, 'x-forwarded-proto': proto },
      payload: { email: 'operator@test.example', password },
    });

  it('counts each forwarded client on its own when the proxy is trusted, and sees HTTPS', async () => {
    const app = await buildApp({
      prisma: world.prisma,
      logger: pino({ level: 'silent' }),
      health: async () => ({}),
      limits: { loginFailuresPerIp: 5, loginMaxDelayMs: 20 },
      trustedProxies: ['127.0.0.1'],
    });
    try {
      for (let i = 0; i < 5; i++)
        expect((await viaProxy(app, '198.51.100.1', `bad ${i}`)).statusCode).toBe(401);
      expect((await viaProxy(app, '198.51.100.1', PASSWORD)).statusCode).toBe(429);
      // Another client behind the same proxy is not blocked by the first one's guesses.
      const other = await viaProxy(app, '198.51.100.2', PASSWORD, 'https');
      expect(other.statusCode).toBe(200);
      const cookies = [other.headers['set-cookie'] ?? []].flat();
      expect(cookies.length).toBe(2);
      for (const c of cookies) expect(c.toLowerCase()).toContain('; secure');
    } finally {
      await app.close();
    }
  });

  it('ignores forwarded headers from anyone not named as a proxy', async () => {
    const spoofed = (client: string, password: string) =>
      world.app.inject({
        method: 'POST',
        url: '/api/v1/auth/login',
        remoteAddress: '127.0.13.1',
        headers: { 'x-forwarded-for': client, 'x-forwarded-proto': 'https' },
        payload: { email: 'operator@test.example', password },
      });
    for (let i = 0; i < 5; i++) expect((await spoofed(`203.0.113.${i}`, 'bad')).statusCode).toBe(401);
    expect((await spoofed('203.0.113.99', PASSWORD)).statusCode).toBe(429);
  });
});
