import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureOperator } from '../src/bootstrap.ts';
import { testMail } from './support/mail.ts';
import { createWorld, PASSWORD, type World } from './support/world.ts';

let world: World;
let mail: Awaited<ReturnType<typeof testMail>> | undefined;
beforeAll(async () => {
  mail = await testMail();
  world = await createWorld('auth', {
    mailer: mail.mailer,
    sessionTtlMs: 60 * 60_000,
    limits: { loginFailuresPerAccount: 3, loginFailuresPerIp: 6, loginMaxDelayMs: 20, signupsPerIp: 2 },
  });
});
afterAll(async () => {
  await world?.close();
  await mail?.smtp.close();
});

const login = (email: string, password: string, ip = '127.0.0.1') =>
  world.app.inject({
    method: 'POST',
    url: '/api/v1/auth/login',
    payload: { email, password },
    remoteAddress: ip,
  });
const asBearer = (token: string, url = '/api/v1/auth/me', method: 'GET' | 'POST' = 'GET') =>
  world.app.inject({ method, url, headers: { authorization: `Bearer ${token}` } });

describe('login and bearer tokens', () => {
  it('logs in with e-mail and password and the token works', async () => {
    const res = await login('Customer-A@test.example', PASSWORD);
    expect(res.statusCode).toBe(200);
    const { token, user } = res.json();
    expect(token).toMatch(/^sbt_/);
    expect(user).toMatchObject({
      email: 'customer-a@test.example',
      role: 'customer',
      customerId: world.ids.cA,
    });
    const me = await asBearer(token);
    expect(me.statusCode).toBe(200);
    expect(me.json()).toMatchObject({ role: 'customer', resellerId: world.ids.rA, via: 'session' });
    // Only the hash is stored.
    const sessions = await world.prisma.session.findMany({ where: { userId: world.users.customerA.id } });
    expect(sessions.some((s) => s.tokenHash.includes(token))).toBe(false);
    expect(JSON.stringify(sessions)).not.toContain(token);
  });

  it('refuses a wrong password with 401 problem+json', async () => {
    const res = await login('reseller-b@test.example', 'wrong password', '127.0.0.50');
    expect(res.statusCode).toBe(401);
    expect(res.headers['content-type']).toContain('application/problem+json');
    expect(res.json().status).toBe(401);
  });

  it('rejects missing, malformed and unknown credentials', async () => {
    expect((await world.app.inject({ method: 'GET', url: '/api/v1/subscribers' })).statusCode).toBe(401);
    expect((await asBearer('not-a-token')).statusCode).toBe(401);
    expect((await asBearer('sbt_unknownunknownunknown')).statusCode).toBe(401);
    const basic = await world.app.inject({
      method: 'GET',
      url: '/api/v1/auth/me',
      headers: { authorization: 'Basic Zm9vOmJhcg==' },
    });
    expect(basic.statusCode).toBe(401);
    expect(basic.headers['www-authenticate']).toBe('Bearer');
  });

  it('validates the login body and names the bad field', async () => {
    const res = await world.app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: { email: 'x' },
    });
    expect(res.statusCode).toBe(400);
    const fields = res.json().errors.map((e: { field: string }) => e.field);
    expect(fields).toEqual(expect.arrayContaining(['/body/email', '/body/password']));
  });

  it('expires tokens after their lifetime', async () => {
    const { token } = (await login('reseller-a@test.example', PASSWORD, '127.0.0.2')).json();
    expect((await asBearer(token)).statusCode).toBe(200);
    world.advance(60 * 60_000 + 1000);
    try {
      expect((await asBearer(token)).statusCode).toBe(401);
    } finally {
      world.advance(-(60 * 60_000 + 1000));
    }
  });

  it('revokes the token on logout', async () => {
    const { token } = (await login('reseller-a@test.example', PASSWORD, '127.0.0.3')).json();
    const out = await asBearer(token, '/api/v1/auth/logout', 'POST');
    expect(out.statusCode).toBe(204);
    expect((await asBearer(token)).statusCode).toBe(401);
    const entry = await world.prisma.auditEntry.findFirst({ where: { action: 'logout' } });
    expect(entry?.actor).toBe('reseller-a@test.example');
  });

  it('refuses a disabled user', async () => {
    const user = await world.prisma.user.create({
      data: { email: 'gone@test.example', role: 'operator', passwordHash: 'scrypt$x', enabled: false },
    });
    expect((await login(user.email, 'anything', '127.0.0.4')).statusCode).toBe(401);
  });
});

describe('terminated contracts', () => {
  it('end the logins and keys of their users', async () => {
    const customer = await world.prisma.customer.create({
      data: { name: 'Leaving', resellerId: world.ids.rA },
    });
    const { hashPassword } = await import('@switchboard/db');
    await world.prisma.user.create({
      data: {
        email: 'leaving@test.example',
        role: 'customer',
        customerId: customer.id,
        passwordHash: await hashPassword(PASSWORD),
      },
    });
    const { token } = (await login('leaving@test.example', PASSWORD, '127.0.0.5')).json();
    expect((await asBearer(token)).statusCode).toBe(200);
    const locked = await world.request('resellerA', 'PATCH', `/api/v1/customers/${customer.id}`, {
      status: 'locked',
    });
    expect(locked.statusCode).toBe(200);
    expect((await asBearer(token)).statusCode).toBe(200);
    await world.request('resellerA', 'PATCH', `/api/v1/customers/${customer.id}`, { status: 'terminated' });
    expect((await asBearer(token)).statusCode).toBe(401);
    expect((await login('leaving@test.example', PASSWORD, '127.0.0.5')).statusCode).toBe(401);
  });
});

describe('brute-force limiting (more in sign-in.test.ts)', () => {
  it('limits one client address across accounts', async () => {
    const ip = '127.0.2.1';
    for (let i = 0; i < 6; i++)
      expect((await login(`nobody${i}@test.example`, 'bad', ip)).statusCode).toBe(401);
    const res = await login('operator@test.example', PASSWORD, ip);
    expect(res.statusCode).toBe(429);
    expect(res.headers['retry-after']).toBeDefined();
    expect((await login('operator@test.example', PASSWORD, '127.0.2.2')).statusCode).toBe(200);
  });
});

describe('API keys', () => {
  it('creates a key shown once, authenticates with it, lists it without the secret, revokes it', async () => {
    const created = await world.request('resellerA', 'POST', '/api/v1/api-keys', { name: 'provisioning' });
    expect(created.statusCode).toBe(201);
    const { key, id, prefix } = created.json();
    expect(key).toMatch(/^sbk_/);
    expect(key.startsWith(prefix)).toBe(true);

    const me = await asBearer(key);
    expect(me.statusCode).toBe(200);
    expect(me.json()).toMatchObject({ role: 'reseller', via: 'apiKey' });
    const customers = await asBearer(key, '/api/v1/customers');
    const customerIds = customers.json().items.map((c: { id: string }) => c.id);
    expect(customerIds).toContain(world.ids.cA);
    expect(customerIds).not.toContain(world.ids.cB);

    const list = await world.request('resellerA', 'GET', '/api/v1/api-keys');
    expect(list.statusCode).toBe(200);
    expect(list.json().total).toBe(1);
    expect(JSON.stringify(list.json())).not.toContain(key);
    // Other users do not see or revoke it.
    expect((await world.request('resellerB', 'GET', '/api/v1/api-keys')).json().total).toBe(0);
    expect((await world.request('resellerB', 'DELETE', `/api/v1/api-keys/${id}`)).statusCode).toBe(404);

    expect((await world.request('resellerA', 'DELETE', `/api/v1/api-keys/${id}`)).statusCode).toBe(204);
    expect((await asBearer(key)).statusCode).toBe(401);
    const stored = await world.prisma.apiKey.findUniqueOrThrow({ where: { id } });
    expect(stored.revokedAt).not.toBeNull();
    expect(stored.keyHash).not.toContain(key);
  });

  it('honours key expiry and refuses logout with a key', async () => {
    const expiresAt = new Date(world.now() + 60_000).toISOString();
    const { key } = (
      await world.request('operator', 'POST', '/api/v1/api-keys', { name: 'short', expiresAt })
    ).json();
    expect((await asBearer(key)).statusCode).toBe(200);
    expect((await asBearer(key, '/api/v1/auth/logout', 'POST')).statusCode).toBe(400);
    world.advance(61_000);
    try {
      expect((await asBearer(key)).statusCode).toBe(401);
    } finally {
      world.advance(-61_000);
    }
    const past = await world.request('operator', 'POST', '/api/v1/api-keys', {
      name: 'past',
      expiresAt: new Date(world.now() - 1000).toISOString(),
    });
    expect(past.statusCode).toBe(400);
    expect(past.json().errors[0].field).toBe('/body/expiresAt');
  });
});

describe('self sign-up', () => {
  it('creates customer, login and first subscriber in a domain that allows it', async () => {
    const res = await world.app.inject({
      method: 'POST',
      url: '/api/v1/signup',
      remoteAddress: '127.0.3.1',
      payload: {
        domain: 'a.example.com',
        email: 'new@test.example',
        password: 'a long password',
        username: 'Carol',
      },
    });
    expect(res.statusCode).toBe(201);
    const body = res.json();
    expect(body.sipUri).toBe('sip:carol@a.example.com');
    expect(body.sipPassword.length).toBeGreaterThanOrEqual(16);
    const customer = await world.prisma.customer.findUniqueOrThrow({ where: { id: body.customerId } });
    expect(customer.resellerId).toBe(world.ids.rA);
    const sub = await world.prisma.subscriber.findUniqueOrThrow({ where: { id: body.subscriberId } });
    expect(JSON.stringify(sub)).not.toContain(body.sipPassword);
    // The token works and sees only the new subscriber.
    const subs = await asBearer(body.token, '/api/v1/subscribers');
    expect(subs.json().items.map((s: { id: string }) => s.id)).toEqual([body.subscriberId]);
    // The password login works too.
    expect((await login('new@test.example', 'a long password', '127.0.3.2')).statusCode).toBe(200);
  });

  it('refuses domains without self sign-up, duplicates, and floods', async () => {
    const closed = await world.app.inject({
      method: 'POST',
      url: '/api/v1/signup',
      remoteAddress: '127.0.3.3',
      payload: {
        domain: 'b.example.com',
        email: 'x@test.example',
        password: 'a long password',
        username: 'x',
      },
    });
    expect(closed.statusCode).toBe(422);
    expect(closed.json().errors[0].field).toBe('/body/domain');
    const dup = await world.app.inject({
      method: 'POST',
      url: '/api/v1/signup',
      remoteAddress: '127.0.3.3',
      payload: {
        domain: 'a.example.com',
        email: 'new@test.example',
        password: 'a long password',
        username: 'dave',
      },
    });
    expect(dup.statusCode).toBe(409);
    expect(dup.json().errors).toEqual([{ field: '/body/email', message: 'already in use' }]);
    const flood = await world.app.inject({
      method: 'POST',
      url: '/api/v1/signup',
      remoteAddress: '127.0.3.3',
      payload: {
        domain: 'a.example.com',
        email: 'y@test.example',
        password: 'a long password',
        username: 'y',
      },
    });
    expect(flood.statusCode).toBe(429);
    expect(flood.headers['retry-after']).toBeDefined();
  });
});

describe('ensureOperator', () => {
  it('does nothing when an operator exists', async () => {
    const r = await ensureOperator(world.prisma);
    expect(r).toEqual({ email: 'operator@test.example', created: false });
  });

  it('creates the first operator with a generated password, once', async () => {
    await world.prisma.user.deleteMany({ where: { role: 'operator' } });
    const r = await ensureOperator(world.prisma);
    expect(r.created).toBe(true);
    expect(r.email).toBe('admin@switchboard.local');
    expect(r.password?.length).toBeGreaterThanOrEqual(16);
    expect((await login(r.email, r.password!, '127.0.4.1')).statusCode).toBe(200);
    const again = await ensureOperator(world.prisma, {
      email: 'other@test.example',
      password: 'x'.repeat(12),
    });
    expect(again).toEqual({ email: 'admin@switchboard.local', created: false });
  });
});
