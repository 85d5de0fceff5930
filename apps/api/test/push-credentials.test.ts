import { randomBytes } from 'node:crypto';
import { FakeApns, makeApnsKey, makeServiceAccount, makeTestCertificate } from '@switchboard/push/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWorld, type World } from './support/world.ts';

/**
 * Push credentials per domain (sealed, never returned, tenant-isolated) and per-binding push state
 * with a test push through a local APNs stand-in.
 */
const TEAM = 'ABCDE12345';
const BUNDLE = 'com.example.phone';
const certificate = makeTestCertificate();
const apnsKey = makeApnsKey();
let apns: FakeApns;
let world: World;

beforeAll(async () => {
  apns = await new FakeApns(certificate, {
    publicKey: apnsKey.publicKey,
    teamId: TEAM,
    keyId: 'KEY1234567',
    topic: `${BUNDLE}.voip`,
  }).listen();
  world = await createWorld('push', {
    push: { credentialsKey: randomBytes(32), endpoints: { apnsUrl: apns.url }, ca: certificate.cert },
  });
});

afterAll(async () => {
  await world?.close();
  await apns?.close();
});

const apnsUpload = (domainId: string, keyId = 'KEY1234567') => ({
  domainId,
  provider: 'apns',
  teamId: TEAM,
  keyId,
  bundleId: BUNDLE,
  privateKey: apnsKey.privateKey,
});

describe('push credentials', () => {
  let credentialId: string;

  it('stores an upload sealed and never returns the key', async () => {
    const created = await world.request(
      'resellerA',
      'POST',
      '/api/v1/push-credentials',
      apnsUpload(world.ids.dA),
    );
    expect(created.statusCode, created.body).toBe(201);
    const body = created.json();
    credentialId = body.id;
    expect(body).toMatchObject({
      domainId: world.ids.dA,
      provider: 'apns',
      settings: { teamId: TEAM, keyId: 'KEY1234567', bundleId: BUNDLE, environment: 'production' },
    });
    expect(created.body).not.toContain('PRIVATE KEY');
    expect(created.body).not.toContain('sealed');
    const read = await world.request('resellerA', 'GET', `/api/v1/push-credentials/${credentialId}`);
    expect(read.statusCode).toBe(200);
    expect(read.body).not.toContain('PRIVATE KEY');
    const row = await world.prisma.pushCredential.findUniqueOrThrow({ where: { id: credentialId } });
    expect(row.sealedSecret).toMatch(/^v1\./);
    expect(row.sealedSecret).not.toContain('PRIVATE');
    const audit = await world.prisma.auditEntry.findMany({ where: { entityId: credentialId } });
    expect(JSON.stringify(audit)).not.toContain(row.sealedSecret);
  });

  it('answers a bad upload with 400 naming the field', async () => {
    const badTeam = await world.request('resellerA', 'POST', '/api/v1/push-credentials', {
      ...apnsUpload(world.ids.dA),
      teamId: 'nope',
    });
    expect(badTeam.statusCode).toBe(400);
    expect(badTeam.json().errors).toEqual([{ field: '/body/teamId', message: expect.any(String) }]);
    const mixed = await world.request('resellerA', 'POST', '/api/v1/push-credentials', {
      domainId: world.ids.dA,
      provider: 'fcm',
      teamId: TEAM,
    });
    expect(mixed.statusCode).toBe(400);
    expect(mixed.json().errors[0].field).toBe('/body/teamId');
    const missing = await world.request('resellerA', 'POST', '/api/v1/push-credentials', {
      domainId: world.ids.dA,
      provider: 'fcm',
    });
    expect(missing.json().errors[0].field).toBe('/body/serviceAccount');
  });

  it('refuses a second upload for the same domain and provider with 409, replaces with PATCH', async () => {
    const again = await world.request(
      'resellerA',
      'POST',
      '/api/v1/push-credentials',
      apnsUpload(world.ids.dA),
    );
    expect(again.statusCode).toBe(409);
    const before = await world.prisma.pushCredential.findUniqueOrThrow({ where: { id: credentialId } });
    const { domainId: _d, provider: _p, ...replacement } = apnsUpload(world.ids.dA, 'KEY7654321');
    const replaced = await world.request(
      'resellerA',
      'PATCH',
      `/api/v1/push-credentials/${credentialId}`,
      replacement,
    );
    expect(replaced.statusCode, replaced.body).toBe(200);
    expect(replaced.json().settings.keyId).toBe('KEY7654321');
    const sandbox = await world.request('resellerA', 'PATCH', `/api/v1/push-credentials/${credentialId}`, {
      ...replacement,
      environment: 'sandbox',
    });
    expect(sandbox.json().settings.environment).toBe('sandbox');
    const badEnvironment = await world.request(
      'resellerA',
      'PATCH',
      `/api/v1/push-credentials/${credentialId}`,
      { ...replacement, environment: 'staging' },
    );
    expect(badEnvironment.statusCode).toBe(400);
    expect(badEnvironment.body).toContain('environment');
    const after = await world.prisma.pushCredential.findUniqueOrThrow({ where: { id: credentialId } });
    expect(after.sealedSecret).not.toBe(before.sealedSecret);
    // Back to the key id the fake APNs knows.
    const { domainId: _d2, provider: _p2, ...original } = apnsUpload(world.ids.dA);
    await world.request('resellerA', 'PATCH', `/api/v1/push-credentials/${credentialId}`, original);
  });

  it('keeps tenants apart: another reseller cannot see, change or add credentials of the domain', async () => {
    const path = `/api/v1/push-credentials/${credentialId}`;
    expect((await world.request('resellerB', 'GET', path)).statusCode).toBe(404);
    expect((await world.request('resellerB', 'DELETE', path)).statusCode).toBe(404);
    const { domainId: _d, provider: _p, ...replacement } = apnsUpload(world.ids.dA);
    expect((await world.request('resellerB', 'PATCH', path, replacement)).statusCode).toBe(404);
    const list = await world.request('resellerB', 'GET', '/api/v1/push-credentials');
    expect(list.json().items).toEqual([]);
    const cross = await world.request(
      'resellerB',
      'POST',
      '/api/v1/push-credentials',
      apnsUpload(world.ids.dA),
    );
    expect(cross.statusCode).toBe(404);
    expect(cross.json().errors[0].field).toBe('/body/domainId');
    // Customers do not own domains.
    expect((await world.request('customerA', 'GET', '/api/v1/push-credentials')).statusCode).toBe(403);
    expect(
      (await world.request('customerA', 'POST', '/api/v1/push-credentials', apnsUpload(world.ids.dA)))
        .statusCode,
    ).toBe(403);
    expect((await world.request('customerA', 'PATCH', path, replacement)).statusCode).toBe(403);
    expect((await world.request('operator', 'PATCH', path, replacement)).statusCode).toBe(200);
    expect((await world.request('operator', 'GET', path)).statusCode).toBe(200);
  });

  it('accepts an FCM service account', async () => {
    const account = makeServiceAccount('tenant-a-app');
    const created = await world.request('operator', 'POST', '/api/v1/push-credentials', {
      domainId: world.ids.dA,
      provider: 'fcm',
      serviceAccount: account.json,
    });
    expect(created.statusCode, created.body).toBe(201);
    expect(created.json().settings).toEqual({
      projectId: 'tenant-a-app',
      clientEmail: account.clientEmail,
      privateKeyId: 'test-key-1',
    });
    expect(created.body).not.toContain('PRIVATE KEY');
  });
});

describe('push bindings', () => {
  const token = 'ab'.repeat(32);

  beforeAll(async () => {
    await world.prisma.registration.update({
      where: { id: world.ids.regA },
      data: { pnProvider: 'apns', pnPrid: token, pnParam: `${TEAM}.${BUNDLE}.voip`, pnRefresh: 120 },
    });
  });

  it("lists the bindings with push parameters of the caller's subscribers only", async () => {
    const own = await world.request('customerA', 'GET', '/api/v1/push-bindings');
    expect(own.json().items).toEqual([
      expect.objectContaining({
        id: world.ids.regA,
        pnProvider: 'apns',
        deviceTokenEnd: token.slice(-8),
        lastPushAt: null,
      }),
    ]);
    expect(own.body).not.toContain(token);
    expect(
      (await world.request('customerB', 'GET', `/api/v1/push-bindings/${world.ids.regA}`)).statusCode,
    ).toBe(404);
    expect(
      (await world.request('customerB', 'POST', `/api/v1/push-bindings/${world.ids.regA}/test`)).statusCode,
    ).toBe(404);
  });

  it('sends a test push and records its result with the binding', async () => {
    const before = apns.received.length;
    const sent = await world.request('customerA', 'POST', `/api/v1/push-bindings/${world.ids.regA}/test`);
    expect(sent.statusCode, sent.body).toBe(200);
    expect(sent.json()).toMatchObject({ outcome: 'delivered', provider: 'apns', status: 200 });
    const push = apns.received[before]!;
    expect(push.problem).toBeUndefined();
    expect(JSON.parse(push.body)).toEqual({ type: 'test' });
    const read = await world.request('customerA', 'GET', `/api/v1/push-bindings/${world.ids.regA}`);
    expect(read.json()).toMatchObject({ lastPushResult: 'delivered', lastPushAt: expect.any(String) });
  });

  it('removes the binding when APNs answers 410 Unregistered', async () => {
    apns.answers.set(token, { status: 410, body: { reason: 'Unregistered' } });
    const sent = await world.request('operator', 'POST', `/api/v1/push-bindings/${world.ids.regA}/test`);
    expect(sent.json()).toMatchObject({ outcome: 'unregistered', status: 410, reason: 'Unregistered' });
    expect(await world.prisma.registration.findUnique({ where: { id: world.ids.regA } })).toBeNull();
  });

  it("counts the test pushes on the API's /metrics by provider and result", async () => {
    // Loopback scrapes need no credential.
    const scraped = await world.app.inject({ method: 'GET', url: '/metrics' });
    expect(scraped.statusCode).toBe(200);
    expect(scraped.body).toMatch(
      /^switchboard_push_notifications_total\{provider="apns",purpose="test",result="ok"\} 1$/m,
    );
    expect(scraped.body).toMatch(
      /^switchboard_push_notifications_total\{provider="apns",purpose="test",result="unregistered"\} 1$/m,
    );
  });
});
