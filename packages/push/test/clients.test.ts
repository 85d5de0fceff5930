import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ApnsClient } from '../src/apns.ts';
import { FcmClient } from '../src/fcm.ts';
import { Http2Pool } from '../src/http2-pool.ts';
import { FCM_UNREGISTERED } from '../src/testing.ts';
import { BUNDLE, deviceToken, log, PROJECT, type Services, startServices, TEAM } from './support.ts';

let services: Services;
let pool: Http2Pool;
let clock = Date.now();
const now = (): number => clock;

beforeAll(async () => {
  services = await startServices();
  services.apns.now = now;
  services.fcm.now = now;
});

afterAll(async () => {
  await services?.close();
});

afterEach(() => {
  pool?.close();
});

function apnsClient(tokenLifetimeMs?: number): ApnsClient {
  pool = new Http2Pool({ ca: services.certificate.cert });
  return new ApnsClient({
    url: services.apns.url,
    pool,
    log,
    now,
    ...(tokenLifetimeMs ? { tokenLifetimeMs } : {}),
  });
}

function fcmClient(): FcmClient {
  pool = new Http2Pool({ ca: services.certificate.cert });
  return new FcmClient({ url: services.fcm.url, tokenUrl: services.fcm.tokenUrl, pool, log, now });
}

const apnsParam = `${TEAM}.${BUNDLE}.voip`;

describe('APNs client', () => {
  it('delivers a VoIP push the fake APNs accepts: ES256 provider token, voip headers, path, JSON body', async () => {
    const client = apnsClient();
    const before = services.apns.received.length;
    const result = await client.send(services.apnsCredentials, {
      deviceToken: deviceToken(1),
      param: apnsParam,
      data: { type: 'call', callId: 'abc' },
    });
    expect(result).toMatchObject({ outcome: 'delivered', provider: 'apns', status: 200 });
    const push = services.apns.received[before]!;
    expect(push.problem).toBeUndefined();
    expect(push.path).toBe(`/3/device/${deviceToken(1)}`);
    expect(push.headers['apns-topic']).toBe(`${BUNDLE}.voip`);
    expect(push.claims?.iss).toBe(TEAM);
    expect(JSON.parse(push.body)).toEqual({ type: 'call', callId: 'abc' });
  });

  it('reuses one connection and one provider token, and signs a new token after its lifetime', async () => {
    const client = apnsClient(30 * 60_000);
    const sessionsBefore = services.apns.sessions;
    const before = services.apns.received.length;
    const message = { deviceToken: deviceToken(2), param: apnsParam, data: { type: 'test' } };
    for (let i = 0; i < 3; i++)
      expect((await client.send(services.apnsCredentials, message)).outcome).toBe('delivered');
    clock += 31 * 60_000;
    expect((await client.send(services.apnsCredentials, message)).outcome).toBe('delivered');
    const auth = services.apns.received.slice(before).map((r) => r.headers.authorization);
    expect(new Set(auth.slice(0, 3)).size).toBe(1);
    expect(auth[3]).not.toBe(auth[0]);
    expect(services.apns.sessions - sessionsBefore).toBe(1);
  });

  it('reports 410 Unregistered as unregistered', async () => {
    const client = apnsClient();
    services.apns.answers.set(deviceToken(3), {
      status: 410,
      body: { reason: 'Unregistered', timestamp: 1 },
    });
    const result = await client.send(services.apnsCredentials, {
      deviceToken: deviceToken(3),
      param: null,
      data: {},
    });
    expect(result).toMatchObject({ outcome: 'unregistered', status: 410, reason: 'Unregistered' });
  });

  it('honours Retry-After of a 429: nothing is sent to that device until the time has passed', async () => {
    const client = apnsClient();
    const token = deviceToken(4);
    services.apns.answers.set(token, {
      status: 429,
      headers: { 'retry-after': '30' },
      body: { reason: 'TooManyRequests' },
    });
    const message = { deviceToken: token, param: null, data: {} };
    expect(await client.send(services.apnsCredentials, message)).toMatchObject({
      outcome: 'rate_limited',
      status: 429,
      retryAfterMs: 30_000,
    });
    services.apns.answers.delete(token);
    const sent = services.apns.received.length;
    clock += 10_000;
    expect(await client.send(services.apnsCredentials, message)).toMatchObject({
      outcome: 'rate_limited',
      retryAfterMs: 20_000,
    });
    expect(services.apns.received.length).toBe(sent);
    // Other devices are not held back.
    expect(
      (await client.send(services.apnsCredentials, { ...message, deviceToken: deviceToken(5) })).outcome,
    ).toBe('delivered');
    clock += 21_000;
    expect((await client.send(services.apnsCredentials, message)).outcome).toBe('delivered');
  });

  it('refuses a pn-param naming another app without contacting APNs', async () => {
    const client = apnsClient();
    const sent = services.apns.received.length;
    const result = await client.send(services.apnsCredentials, {
      deviceToken: deviceToken(6),
      param: `${TEAM}.com.other.app.voip`,
      data: {},
    });
    expect(result.outcome).toBe('rejected');
    expect(services.apns.received.length).toBe(sent);
  });
});

describe('FCM client', () => {
  it('exchanges a signed JWT for an access token once and sends data-only high-priority messages', async () => {
    const client = fcmClient();
    const exchanges = services.fcm.exchanges.length;
    const sends = services.fcm.sends.length;
    for (const token of ['fcm-token-1', 'fcm-token-2']) {
      const result = await client.send(services.fcmCredentials, {
        deviceToken: token,
        param: PROJECT,
        data: { type: 'call', callId: 'c1' },
      });
      expect(result).toMatchObject({ outcome: 'delivered', provider: 'fcm', status: 200 });
    }
    expect(services.fcm.exchanges.length - exchanges).toBe(1);
    const exchange = services.fcm.exchanges.at(-1)!;
    expect(exchange.problem).toBeUndefined();
    expect(exchange.claims).toMatchObject({
      iss: services.fcmCredentials.clientEmail,
      aud: services.fcm.tokenUrl,
    });
    const sent = services.fcm.sends.slice(sends);
    expect(sent).toHaveLength(2);
    expect(sent.every((s) => s.problem === undefined)).toBe(true);
    expect(JSON.parse(sent[0]!.body)).toEqual({
      message: {
        token: 'fcm-token-1',
        data: { type: 'call', callId: 'c1' },
        android: { priority: 'HIGH', ttl: '0s' },
      },
    });
  });

  it('renews the access token before it expires', async () => {
    const client = fcmClient();
    const message = { deviceToken: 'fcm-token-3', param: null, data: { type: 'test' } };
    await client.send(services.fcmCredentials, message);
    const exchanges = services.fcm.exchanges.length;
    clock += 3599_000;
    expect((await client.send(services.fcmCredentials, message)).outcome).toBe('delivered');
    expect(services.fcm.exchanges.length).toBe(exchanges + 1);
  });

  it('reports 404 UNREGISTERED as unregistered', async () => {
    const client = fcmClient();
    services.fcm.answers.set('fcm-dead', FCM_UNREGISTERED);
    const result = await client.send(services.fcmCredentials, {
      deviceToken: 'fcm-dead',
      param: null,
      data: {},
    });
    expect(result).toMatchObject({ outcome: 'unregistered', status: 404, reason: 'UNREGISTERED' });
  });

  it('honours Retry-After of a 429', async () => {
    const client = fcmClient();
    services.fcm.answers.set('fcm-busy', {
      status: 429,
      headers: { 'retry-after': '5' },
      body: {
        error: { code: 429, status: 'RESOURCE_EXHAUSTED', details: [{ errorCode: 'QUOTA_EXCEEDED' }] },
      },
    });
    const message = { deviceToken: 'fcm-busy', param: null, data: {} };
    expect(await client.send(services.fcmCredentials, message)).toMatchObject({
      outcome: 'rate_limited',
      reason: 'QUOTA_EXCEEDED',
      retryAfterMs: 5000,
    });
    services.fcm.answers.delete('fcm-busy');
    const sends = services.fcm.sends.length;
    expect((await client.send(services.fcmCredentials, message)).outcome).toBe('rate_limited');
    expect(services.fcm.sends.length).toBe(sends);
    clock += 5001;
    expect((await client.send(services.fcmCredentials, message)).outcome).toBe('delivered');
  });

  it('fails cleanly when the token endpoint refuses the assertion', async () => {
    pool = new Http2Pool({ ca: services.certificate.cert });
    // The assertion's audience is this URL, which the fake does not accept as its own.
    const client = new FcmClient({
      url: services.fcm.url,
      tokenUrl: `${services.fcm.url}/token?x=1`,
      pool,
      log,
      now,
    });
    const result = await client.send(services.fcmCredentials, {
      deviceToken: 'fcm-x',
      param: null,
      data: {},
    });
    expect(result).toMatchObject({ outcome: 'failed', provider: 'fcm', status: 404 });
  });
});
