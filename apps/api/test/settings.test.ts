import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWorld, type World } from './support/world.ts';

/**
 * `/api/v1/settings`: the operator's view and change of the SIP side's settings. The API here runs as
 * with `SIP_AUTH_STRICT_URI=true` in its environment, so that setting is fixed.
 */
let world: World;

beforeAll(async () => {
  world = await createWorld('settings', { environmentSettings: new Map([['auth.strictUri', true]]) });
});

afterAll(async () => {
  await world?.close();
});

interface Shown {
  key: string;
  default: unknown;
  value: unknown;
  source: string;
  variable?: string;
}

const byKey = (settings: Shown[]) => new Map(settings.map((s) => [s.key, s]));

describe('GET /api/v1/settings', () => {
  it('shows each setting with its default, current value and source', async () => {
    const res = await world.request('operator', 'GET', '/api/v1/settings');
    expect(res.statusCode, res.body).toBe(200);
    const settings = byKey(res.json<{ settings: Shown[] }>().settings);
    expect(settings.get('access.rateLimitPerSecond')).toMatchObject({
      default: 50,
      value: 50,
      source: 'default',
      variable: 'SIP_RATE_LIMIT',
    });
    expect(settings.get('access.trustedSources')).toMatchObject({
      default: [],
      value: [],
      source: 'default',
    });
    expect(settings.get('auth.strictUri')).toMatchObject({
      default: false,
      value: true,
      source: 'environment',
      variable: 'SIP_AUTH_STRICT_URI',
    });
    for (const key of [
      'access.rateLimitBurst',
      'access.maxFailuresPerAddress',
      'access.banDuration',
      'registrar.minExpires',
      'registrar.maxExpires',
      'calls.ringTimeout',
      'calls.maxCallDuration',
      'calls.pushWaitTimeout',
    ])
      expect(settings.has(key), key).toBe(true);
  });

  it('is for operators only', async () => {
    for (const actor of ['resellerA', 'customerA'] as const) {
      const res = await world.request(actor, 'GET', '/api/v1/settings');
      expect(res.statusCode, actor).toBe(403);
      const patch = await world.request(actor, 'PATCH', '/api/v1/settings', {
        'access.rateLimitPerSecond': 0,
      });
      expect(patch.statusCode, actor).toBe(403);
    }
  });
});

describe('PATCH /api/v1/settings', () => {
  it('stores a change, shows it with source database and audits it; null goes back to the default', async () => {
    const res = await world.request('operator', 'PATCH', '/api/v1/settings', {
      'access.rateLimitPerSecond': 0,
      'access.trustedSources': ['127.0.0.0/8', '2001:db8::/32'],
    });
    expect(res.statusCode, res.body).toBe(200);
    const settings = byKey(res.json<{ settings: Shown[] }>().settings);
    expect(settings.get('access.rateLimitPerSecond')).toMatchObject({ value: 0, source: 'database' });
    expect(settings.get('access.trustedSources')).toMatchObject({
      value: ['127.0.0.0/8', '2001:db8::/32'],
      source: 'database',
    });
    const row = await world.prisma.setting.findUnique({ where: { id: 'access.rateLimitPerSecond' } });
    expect(row?.value).toBe(0);
    const audit = await world.prisma.auditEntry.findFirst({
      where: { entity: 'settings', entityId: 'access.rateLimitPerSecond' },
    });
    expect(audit).toMatchObject({ action: 'update', before: { value: 50 }, after: { value: 0 } });

    const reset = await world.request('operator', 'PATCH', '/api/v1/settings', {
      'access.rateLimitPerSecond': null,
    });
    expect(reset.statusCode, reset.body).toBe(200);
    expect(
      byKey(reset.json<{ settings: Shown[] }>().settings).get('access.rateLimitPerSecond'),
    ).toMatchObject({
      value: 50,
      source: 'default',
    });
    expect(await world.prisma.setting.count({ where: { id: 'access.rateLimitPerSecond' } })).toBe(0);
  });

  it('answers a bad value with 400 problem+json naming the setting', async () => {
    for (const [body, field] of [
      [{ 'access.rateLimitPerSecond': -1 }, '/body/access.rateLimitPerSecond'],
      [{ 'access.rateLimitBurst': 'lots' }, '/body/access.rateLimitBurst'],
      [{ 'access.trustedSources': ['10.0.0.0/33'] }, '/body/access.trustedSources'],
      [{ 'registrar.minExpires': 7200 }, '/body/registrar.minExpires'],
      [{ 'access.noSuchSetting': 1 }, '/body/access.noSuchSetting'],
    ] as const) {
      const res = await world.request('operator', 'PATCH', '/api/v1/settings', body);
      expect(res.statusCode, JSON.stringify(body)).toBe(400);
      expect(res.headers['content-type']).toContain('application/problem+json');
      const fields = (res.json<{ errors?: { field: string }[] }>().errors ?? []).map((e) => e.field);
      expect(fields, `${JSON.stringify(body)}: ${res.body}`).toContain(field);
    }
    expect(await world.prisma.setting.count()).toBe(1);
  });

  it('refuses to change a setting the environment fixes (409 naming the variable) and stores nothing', async () => {
    const res = await world.request('operator', 'PATCH', '/api/v1/settings', {
      'auth.strictUri': false,
      'calls.ringTimeout': 30,
    });
    expect(res.statusCode, res.body).toBe(409);
    expect(res.json()).toMatchObject({
      errors: [{ field: '/body/auth.strictUri', message: 'fixed by SIP_AUTH_STRICT_URI' }],
    });
    expect(await world.prisma.setting.findUnique({ where: { id: 'calls.ringTimeout' } })).toBeNull();
  });
});
