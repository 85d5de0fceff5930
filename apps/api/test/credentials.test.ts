import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testMail } from './support/mail.ts';
import { createWorld, PASSWORD, type World } from './support/world.ts';

// What a password change or a disable/enable does to a user's sessions and API keys, and which passwords
// the API refuses.
let world: World;
let mail: Awaited<ReturnType<typeof testMail>> | undefined;
beforeAll(async () => {
  mail = await testMail();
  world = await createWorld('credentials', {
    mailer: mail.mailer,
    limits: { loginMaxDelayMs: 20 },
  });
});
afterAll(async () => {
  await world?.close();
  await mail?.smtp.close();
});

const asBearer = (token: string, method: 'GET' | 'POST' = 'GET', url = '/api/v1/auth/me', payload?: object) =>
  world.app.inject({
    method,
    url,
    headers: { authorization: `Bearer ${token}` },
    ...(payload ? { payload } : {}),
  });
const login = (email: string, password: string) =>
  world.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email, password } });
const newKey = async (token: string) => {
  const res = await asBearer(token, 'POST', '/api/v1/api-keys', { name: 'automation' });
  expect(res.statusCode).toBe(201);
  return res.json().key as string;
};

describe('a password reset by an admin', () => {
  it('revokes the user’s sessions and API keys', async () => {
    const { token } = (await login('customer-a@test.example', PASSWORD)).json();
    const key = await newKey(token);
    expect((await asBearer(key)).statusCode).toBe(200);
    const reset = await world.request('operator', 'PATCH', `/api/v1/users/${world.users.customerA.id}`, {
      password: 'a fresh reset password',
    });
    expect(reset.statusCode).toBe(200);
    expect((await asBearer(key)).statusCode).toBe(401);
    expect((await asBearer(token)).statusCode).toBe(401);
    expect((await asBearer(world.tokens.customerA)).statusCode).toBe(401);
    expect((await login('customer-a@test.example', 'a fresh reset password')).statusCode).toBe(200);
  });
});

describe('disabling and re-enabling a user', () => {
  it('does not bring back the API keys it had', async () => {
    const key = await newKey(world.tokens.resellerB);
    const url = `/api/v1/users/${world.users.resellerB.id}`;
    expect((await world.request('operator', 'PATCH', url, { enabled: false })).statusCode).toBe(200);
    expect((await asBearer(key)).statusCode).toBe(401);
    expect((await world.request('operator', 'PATCH', url, { enabled: true })).statusCode).toBe(200);
    expect((await asBearer(key)).statusCode).toBe(401);
    const stored = await world.prisma.apiKey.findMany({ where: { userId: world.users.resellerB.id } });
    expect(stored.every((k) => k.revokedAt !== null)).toBe(true);
    // The user itself signs in again and makes new keys.
    const { token } = (await login('reseller-b@test.example', PASSWORD)).json();
    expect((await asBearer(await newKey(token))).statusCode).toBe(200);
  });
});

describe('changing one’s own password', () => {
  it('needs the current password, then revokes every session and key of the user', async () => {
    const { token } = (await login('reseller-a@test.example', PASSWORD)).json();
    const key = await newKey(token);
    const change = (body: object) => asBearer(token, 'POST', '/api/v1/auth/password', body);

    const missing = await change({ newPassword: 'my new password 42' });
    expect(missing.statusCode).toBe(400);
    expect(missing.json().errors.map((e: { field: string }) => e.field)).toContain('/body/currentPassword');
    const wrong = await change({ currentPassword: 'not my password', newPassword: 'my new password 42' });
    expect(wrong.statusCode).toBe(403);
    expect(wrong.json().errors[0].field).toBe('/body/currentPassword');
    // Through the users resource, one's own password cannot be set without the current one.
    const viaUsers = await world.app.inject({
      method: 'PATCH',
      url: `/api/v1/users/${world.users.resellerA.id}`,
      headers: { authorization: `Bearer ${token}` },
      payload: { password: 'my new password 42' },
    });
    expect(viaUsers.statusCode).toBe(403);
    expect((await login('reseller-a@test.example', PASSWORD)).statusCode).toBe(200);

    const ok = await change({ currentPassword: PASSWORD, newPassword: 'my new password 42' });
    expect(ok.statusCode).toBe(204);
    expect((await asBearer(token)).statusCode).toBe(401);
    expect((await asBearer(key)).statusCode).toBe(401);
    expect((await asBearer(world.tokens.resellerA)).statusCode).toBe(401);
    expect((await login('reseller-a@test.example', PASSWORD)).statusCode).toBe(401);
    expect((await login('reseller-a@test.example', 'my new password 42')).statusCode).toBe(200);
  });
});

describe('password policy', () => {
  const field = (res: { json(): { errors?: { field: string }[] } }) => res.json().errors?.[0]?.field;

  it('refuses common passwords and the e-mail address for web logins', async () => {
    const create = (email: string, password: string) =>
      world.request('operator', 'POST', '/api/v1/users', { email, password, role: 'operator' });
    const common = await create('ops2@test.example', 'password1234');
    expect(common.statusCode).toBe(400);
    expect(field(common)).toBe('/body/password');
    expect(common.json().errors[0].message).toContain('common');
    const ownName = await create('longname99@test.example', 'LongName99@test.example');
    expect(ownName.statusCode).toBe(400);
    expect(field(ownName)).toBe('/body/password');
    const localPart = await create('helpdesk-one@test.example', 'helpdesk-one');
    expect(localPart.statusCode).toBe(400);
    expect((await create('ops3@test.example', 'a sound passphrase 7')).statusCode).toBe(201);

    const reset = await world.request('operator', 'PATCH', `/api/v1/users/${world.users.customerB.id}`, {
      password: 'qwertyuiop',
    });
    expect(reset.statusCode).toBe(400);
    expect(field(reset)).toBe('/body/password');

    const { token } = (await login('customer-b@test.example', PASSWORD)).json();
    const own = await asBearer(token, 'POST', '/api/v1/auth/password', {
      currentPassword: PASSWORD,
      newPassword: '1234567890',
    });
    expect(own.statusCode).toBe(400);
    expect(field(own)).toBe('/body/newPassword');

    const signup = await world.app.inject({
      method: 'POST',
      url: '/api/v1/signup',
      remoteAddress: '127.0.20.1',
      payload: {
        domain: 'a.example.com',
        email: 'newbie@test.example',
        password: 'iloveyou12',
        username: 'newbie',
      },
    });
    expect(signup.statusCode).toBe(400);
    expect(field(signup)).toBe('/body/password');
    const sameAsSipUser = await world.app.inject({
      method: 'POST',
      url: '/api/v1/signup',
      remoteAddress: '127.0.20.2',
      payload: {
        domain: 'a.example.com',
        email: 'n2@test.example',
        password: 'newbie-sip-1',
        username: 'Newbie-SIP-1',
      },
    });
    expect(sameAsSipUser.statusCode).toBe(400);
    expect(field(sameAsSipUser)).toBe('/body/password');
  });

  it('refuses common SIP passwords and the username, and still generates one when none is given', async () => {
    const create = (username: string, password?: string) =>
      world.request('operator', 'POST', '/api/v1/subscribers', {
        customerId: world.ids.cA,
        domainId: world.ids.dA,
        username,
        ...(password === undefined ? {} : { password }),
      });
    const common = await create('frank', 'password1');
    expect(common.statusCode).toBe(400);
    expect(field(common)).toBe('/body/password');
    const ownName = await create('frankfurt', 'frankfurt');
    expect(ownName.statusCode).toBe(400);
    const aor = await create('frankfurt', 'frankfurt@a.example.com');
    expect(aor.statusCode).toBe(400);
    const generated = await create('frank');
    expect(generated.statusCode).toBe(201);
    expect(generated.json().password).toMatch(/^[A-Za-z0-9]{20}$/);

    const update = await world.request('operator', 'PATCH', `/api/v1/subscribers/${generated.json().id}`, {
      password: 'sunshine1',
    });
    expect(update.statusCode).toBe(400);
    expect(field(update)).toBe('/body/password');
    const good = await world.request('operator', 'PATCH', `/api/v1/subscribers/${generated.json().id}`, {
      password: 'Tq8-vinyl-orbit',
    });
    expect(good.statusCode).toBe(200);
  });
});
