import { randomBytes } from 'node:crypto';
import { linkIn, startSmtpServer, type TestSmtpServer } from '@switchboard/testkit';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { base32Decode, hotp, totpStep } from '../src/auth/totp.ts';
import { smtpMailer } from '../src/mail.ts';
import { createWorld, PASSWORD, type World } from './support/world.ts';

let world: World;
let smtp: TestSmtpServer;

beforeAll(async () => {
  smtp = await startSmtpServer();
  world = await createWorld('portal_accounts', {
    mailer: smtpMailer(smtp.url, 'Switchboard <noreply@test.example>', pino({ level: 'silent' })),
    push: { credentialsKey: randomBytes(32) },
    sipConnection: () => ({
      host: '192.0.2.10',
      listeners: [
        { transport: 'udp', port: 5070 },
        { transport: 'tcp', port: 5070 },
        { transport: 'ws', port: 5066 },
      ],
    }),
    limits: { loginFailuresPerAccount: 3, loginFailuresPerIp: 50, loginMaxDelayMs: 0 },
  });
});
afterAll(async () => {
  await world?.close();
  await smtp?.close();
});

const post = (url: string, payload: object, ip = '127.0.8.1') =>
  world.app.inject({ method: 'POST', url, payload, remoteAddress: ip });
const login = (email: string, password: string, code?: string) =>
  post('/api/v1/auth/login', { email, password, ...(code === undefined ? {} : { code }) });
const bearer = (token: string, method: 'GET' | 'POST' | 'DELETE', url: string, payload?: object) =>
  world.app.inject({
    method,
    url,
    headers: { authorization: `Bearer ${token}` },
    ...(payload ? { payload } : {}),
  });
/** The code an authenticator app shows `offset` steps from the API's clock. */
const codeFor = (secret: string, offset = 0) => hotp(base32Decode(secret), totpStep(world.now()) + offset);

describe('password reset by e-mail', () => {
  it('mails a single-use link; following it sets the password and ends the old sessions', async () => {
    const before = (await login('customer-b@test.example', PASSWORD)).json().token as string;
    const asked = await post('/api/v1/auth/password-reset', { email: 'Customer-B@test.example' });
    expect(asked.statusCode).toBe(202);
    const mail = await smtp.waitFor('customer-b@test.example', 'new Switchboard password');
    const link = linkIn(mail, '/reset-password');
    const token = link.searchParams.get('token') ?? '';
    expect(token.length).toBeGreaterThan(30);
    // Stored hashed only.
    const rows = await world.prisma.oneTimeToken.findMany({ where: { purpose: 'password_reset' } });
    expect(JSON.stringify(rows)).not.toContain(token);

    const weak = await post('/api/v1/auth/password-reset/completion', { token, newPassword: 'password123' });
    expect(weak.statusCode).toBe(400);
    expect(weak.json().errors[0].field).toBe('/body/newPassword');
    const done = await post('/api/v1/auth/password-reset/completion', {
      token,
      newPassword: 'a fresh password 9',
    });
    expect(done.statusCode).toBe(204);
    expect((await bearer(before, 'GET', '/api/v1/auth/me')).statusCode).toBe(401);
    expect((await login('customer-b@test.example', 'a fresh password 9')).statusCode).toBe(200);
    const again = await post('/api/v1/auth/password-reset/completion', {
      token,
      newPassword: 'another password 10',
    });
    expect(again.statusCode).toBe(400);
    expect(again.json().errors[0].field).toBe('/body/token');
  });

  it('answers an unknown address exactly like a known one, and sends nothing', async () => {
    const count = smtp.messages.length;
    const unknown = await post('/api/v1/auth/password-reset', { email: 'nobody@test.example' });
    const known = await post('/api/v1/auth/password-reset', { email: 'reseller-b@test.example' });
    expect(unknown.statusCode).toBe(known.statusCode);
    expect(unknown.body).toBe(known.body);
    await smtp.waitFor('reseller-b@test.example', 'password');
    expect(smtp.messages.slice(count).flatMap((m) => m.to)).toEqual(['reseller-b@test.example']);
  });

  it('refuses a link after 30 minutes', async () => {
    await post('/api/v1/auth/password-reset', { email: 'reseller-a@test.example' });
    const mail = await smtp.waitFor('reseller-a@test.example', 'password');
    const token = linkIn(mail, '/reset-password').searchParams.get('token') ?? '';
    world.advance(31 * 60_000);
    const late = await post('/api/v1/auth/password-reset/completion', {
      token,
      newPassword: 'too late password 1',
    });
    expect(late.statusCode).toBe(400);
  });
});

describe('TOTP two-factor sign-in', () => {
  let secret = '';
  let recovery: string[] = [];
  const email = 'customer-a@test.example';

  it('enrols with a QR URI and needs one valid code to switch on', async () => {
    const token = world.tokens.customerA;
    const enrol = await bearer(token, 'POST', '/api/v1/auth/two-factor/enrolment');
    expect(enrol.statusCode).toBe(200);
    secret = enrol.json().secret;
    expect(enrol.json().otpauthUri).toMatch(
      /^otpauth:\/\/totp\/Switchboard:customer-a%40test\.example\?secret=/,
    );
    const stored = await world.prisma.user.findUniqueOrThrow({ where: { email } });
    expect(stored.totpSecretSealed).not.toContain(secret);
    // Not on yet: the password alone still signs in.
    expect((await login(email, PASSWORD)).statusCode).toBe(200);
    const wrong = await bearer(token, 'POST', '/api/v1/auth/two-factor/confirmation', { code: '000000' });
    expect(wrong.statusCode).toBe(400);
    const ok = await bearer(token, 'POST', '/api/v1/auth/two-factor/confirmation', {
      code: codeFor(secret),
    });
    expect(ok.statusCode).toBe(200);
    recovery = ok.json().recoveryCodes;
    expect(recovery).toHaveLength(10);
  });

  it('asks for the code after the password, accepts each code once, and a recovery code once', async () => {
    const bare = await login(email, PASSWORD);
    expect(bare.statusCode).toBe(401);
    expect(bare.json().errors[0].field).toBe('/body/code');
    // The code confirmed at enrolment cannot be replayed; the next step's code works once.
    expect((await login(email, PASSWORD, codeFor(secret))).statusCode).toBe(401);
    const next = codeFor(secret, 1);
    const good = await login(email, PASSWORD, next);
    expect(good.statusCode).toBe(200);
    expect(good.json().user.twoFactor).toEqual({ enabled: true, mustEnrol: false });
    expect((await login(email, PASSWORD, next)).statusCode).toBe(401);
    const first = recovery[0]!;
    expect((await login(email, PASSWORD, first.toUpperCase())).statusCode).toBe(200);
    expect((await login(email, PASSWORD, first)).statusCode).toBe(401);
  });

  it('slows wrong codes down like wrong passwords', async () => {
    // The replays above counted; a new window starts clean.
    world.advance(16 * 60_000);
    for (let i = 0; i < 3; i++) {
      expect((await login(email, PASSWORD, '123456')).statusCode).toBe(401);
    }
    const blocked = await login(email, PASSWORD, codeFor(secret));
    expect(blocked.statusCode).toBe(429);
    // The window ends: a good code signs in again.
    world.advance(16 * 60_000);
    expect((await login(email, PASSWORD, codeFor(secret))).statusCode).toBe(200);
  });

  it('lets the operator require it of operators and resellers, who can then only enrol', async () => {
    const set = await world.request('operator', 'PATCH', '/api/v1/settings', {
      'web.requireTwoFactor': true,
    });
    expect(set.statusCode).toBe(200);
    world.advance(10_000);
    const token = world.tokens.resellerA;
    expect((await bearer(token, 'GET', '/api/v1/customers')).statusCode).toBe(403);
    const me = await bearer(token, 'GET', '/api/v1/auth/me');
    expect(me.json().twoFactor).toEqual({ enabled: false, mustEnrol: true });
    // Customers are not concerned.
    expect((await world.request('customerA', 'GET', '/api/v1/subscribers')).statusCode).toBe(200);
    const enrol = await bearer(token, 'POST', '/api/v1/auth/two-factor/enrolment');
    const resellerSecret = enrol.json().secret as string;
    const confirm = await bearer(token, 'POST', '/api/v1/auth/two-factor/confirmation', {
      code: codeFor(resellerSecret),
    });
    expect(confirm.statusCode).toBe(200);
    expect((await bearer(token, 'GET', '/api/v1/customers')).statusCode).toBe(200);
    await world.request('operator', 'PATCH', '/api/v1/settings', { 'web.requireTwoFactor': null });
    world.advance(10_000);
  });
});

describe('softphone provisioning', () => {
  it('gives the connection details from the advertised address and listeners', async () => {
    const res = await world.request('customerA', 'GET', '/api/v1/sip-connection');
    expect(res.json()).toEqual({
      host: '192.0.2.10',
      listeners: [
        { transport: 'udp', port: 5070 },
        { transport: 'tcp', port: 5070 },
        { transport: 'ws', port: 5066 },
      ],
      registrar: 'sip:192.0.2.10:5070;transport=udp',
    });
  });

  it('serves the Linphone XML once through a single-use link of the own subscriber only', async () => {
    const other = await world.request(
      'customerA',
      'POST',
      `/api/v1/subscribers/${world.ids.sB}/provisioning`,
    );
    expect(other.statusCode).toBe(404);
    const created = await world.request(
      'customerA',
      'POST',
      `/api/v1/subscribers/${world.ids.sA}/provisioning`,
    );
    expect(created.statusCode).toBe(201);
    const url = new URL(created.json().url);
    const fetch = () => world.app.inject({ method: 'GET', url: url.pathname, remoteAddress: '127.0.9.1' });
    const xml = await fetch();
    expect(xml.statusCode).toBe(200);
    expect(xml.headers['content-type']).toMatch(/^application\/xml/);
    const alice = await world.prisma.subscriber.findUniqueOrThrow({ where: { id: world.ids.sA } });
    expect(xml.body).toContain('<config xmlns="http://www.linphone.org/xsds/lpconfig.xsd"');
    expect(xml.body).toContain(
      '<entry name="reg_identity" overwrite="true">&lt;sip:alice@a.example.com&gt;</entry>',
    );
    expect(xml.body).toContain(
      '<entry name="reg_proxy" overwrite="true">&lt;sip:192.0.2.10:5070;transport=udp&gt;</entry>',
    );
    expect(xml.body).toContain(`<entry name="ha1" overwrite="true">${alice.ha1Md5}</entry>`);
    expect(xml.body).toContain('<entry name="algorithm" overwrite="true">MD5</entry>');
    expect((await fetch()).statusCode).toBe(404);
  });

  it('lets a link expire after 15 minutes', async () => {
    const created = await world.request(
      'customerA',
      'POST',
      `/api/v1/subscribers/${world.ids.sA}/provisioning`,
    );
    world.advance(16 * 60_000);
    const late = await world.app.inject({ method: 'GET', url: new URL(created.json().url).pathname });
    expect(late.statusCode).toBe(404);
  });
});

describe('self sign-up with e-mail verification', () => {
  it('lists only the domains open for sign-up', async () => {
    const res = await world.app.inject({ method: 'GET', url: '/api/v1/signup/domains' });
    expect(res.json().domains).toEqual(['a.example.com']);
  });

  it('answers a closed and an unknown domain alike', async () => {
    const attempt = (domain: string, ip: string) =>
      post(
        '/api/v1/signup',
        { domain, email: `x-${ip}@test.example`, password: 'a long password', username: 'xy' },
        ip,
      );
    const closed = await attempt('b.example.com', '127.0.10.1');
    const unknown = await attempt('nowhere.example.com', '127.0.10.2');
    expect(closed.statusCode).toBe(422);
    expect(unknown.statusCode).toBe(closed.statusCode);
    expect(unknown.body).toBe(closed.body);
  });

  it('keeps the SIP service off until the e-mailed link is followed', async () => {
    const res = await post(
      '/api/v1/signup',
      { domain: 'a.example.com', email: 'dora@test.example', password: 'a long password', username: 'dora' },
      '127.0.10.3',
    );
    expect(res.statusCode).toBe(201);
    expect(res.json().emailVerification).toBe('sent');
    const customerId = res.json().customerId as string;
    expect((await world.prisma.customer.findUniqueOrThrow({ where: { id: customerId } })).status).toBe(
      'locked',
    );
    const mail = await smtp.waitFor('dora@test.example', 'Confirm');
    const token = linkIn(mail, '/verify-email').searchParams.get('token') ?? '';
    const verified = await post('/api/v1/signup/verification', { token });
    expect(verified.statusCode).toBe(200);
    expect(verified.json()).toEqual({ email: 'dora@test.example' });
    expect((await world.prisma.customer.findUniqueOrThrow({ where: { id: customerId } })).status).toBe(
      'active',
    );
    expect((await post('/api/v1/signup/verification', { token })).statusCode).toBe(400);
  });
});
