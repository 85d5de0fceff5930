import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Actor, createWorld, type World } from './support/world.ts';

/**
 * Fraud screening over the API (docs/billing.md, "Fraud limits"): the operator's high-risk prefix list
 * (only the operator writes it, resellers read it, customers do not see it; a prefix is E.164 digits),
 * and a customer's screening settings on its credit account (`highRiskAction`, the burst alert), which
 * only its provider sets.
 */

let world: World;
const api = (actor: Actor, method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, body?: unknown) =>
  world.request(actor, method, `/api/v1${url}`, body);

beforeAll(async () => {
  world = await createWorld('fraud_screening');
});
afterAll(async () => {
  await world?.close();
});

describe('high-risk prefixes', () => {
  it('the operator adds, notes, lists and removes a prefix; a leading + is dropped', async () => {
    const created = await api('operator', 'POST', '/high-risk-prefixes', {
      prefix: '+882',
      note: 'satellite',
    });
    expect(created.statusCode, created.body).toBe(201);
    expect(created.json()).toMatchObject({ prefix: '882', note: 'satellite' });
    await api('operator', 'POST', '/high-risk-prefixes', { prefix: '53' });

    const changed = await api('operator', 'PATCH', '/high-risk-prefixes/882', { note: 'Inmarsat' });
    expect(changed.statusCode, changed.body).toBe(200);
    expect(changed.json().note).toBe('Inmarsat');

    const list = await api('resellerA', 'GET', '/high-risk-prefixes');
    expect(list.statusCode).toBe(200);
    expect(list.json().items.map((p: { prefix: string }) => p.prefix)).toEqual(['53', '882']);
    const filtered = await api('operator', 'GET', '/high-risk-prefixes?prefix=88');
    expect(filtered.json().items.map((p: { prefix: string }) => p.prefix)).toEqual(['882']);

    expect((await api('operator', 'DELETE', '/high-risk-prefixes/53')).statusCode).toBe(204);
    expect((await api('operator', 'DELETE', '/high-risk-prefixes/53')).statusCode).toBe(404);
    const after = await api('operator', 'GET', '/high-risk-prefixes');
    expect(after.json().items.map((p: { prefix: string }) => p.prefix)).toEqual(['882']);
  });

  it('refuses a prefix that is not 1-15 digits, naming the field, and a duplicate with 409', async () => {
    for (const prefix of ['', '12a', '0049 30', '1234567890123456', '++1']) {
      const res = await api('operator', 'POST', '/high-risk-prefixes', { prefix });
      expect(res.statusCode, prefix).toBe(400);
      expect(res.headers['content-type']).toContain('application/problem+json');
      expect(res.json().errors[0].field).toBe('/body/prefix');
    }
    await api('operator', 'POST', '/high-risk-prefixes', { prefix: '9999' });
    const dup = await api('operator', 'POST', '/high-risk-prefixes', { prefix: '+9999' });
    expect(dup.statusCode).toBe(409);
    expect(dup.json().errors[0].field).toBe('/body/prefix');
    const badPath = await api('operator', 'PATCH', '/high-risk-prefixes/abc', { note: null });
    expect(badPath.statusCode).toBe(400);
    expect(badPath.json().errors[0].field).toContain('prefix');
  });

  it('only the operator writes the list; customers do not read it', async () => {
    await api('operator', 'POST', '/high-risk-prefixes', { prefix: '7777', note: 'kept' });
    for (const actor of ['resellerA', 'customerA'] as const) {
      expect((await api(actor, 'POST', '/high-risk-prefixes', { prefix: '4242' })).statusCode).toBe(403);
      expect((await api(actor, 'PATCH', '/high-risk-prefixes/7777', { note: 'x' })).statusCode).toBe(403);
      expect((await api(actor, 'DELETE', '/high-risk-prefixes/7777')).statusCode).toBe(403);
    }
    expect((await api('customerA', 'GET', '/high-risk-prefixes')).statusCode).toBe(403);
    const kept = await api('operator', 'GET', '/high-risk-prefixes?prefix=7777');
    expect(kept.json().items).toEqual([expect.objectContaining({ prefix: '7777', note: 'kept' })]);
    expect((await api('operator', 'GET', '/high-risk-prefixes?prefix=4242')).json().items).toEqual([]);
  });
});

describe('screening settings of a customer', () => {
  it('default alert and no burst alert; the reseller sets block and a burst window', async () => {
    const { cA } = world.ids;
    const before = await api('customerA', 'GET', `/customers/${cA}/credit`);
    expect(before.json()).toMatchObject({ highRiskAction: 'alert', burstCalls: null, burstSeconds: null });
    const set = await api('resellerA', 'PATCH', `/customers/${cA}/credit`, {
      highRiskAction: 'block',
      burstCalls: 20,
      burstSeconds: 60,
    });
    expect(set.statusCode, set.body).toBe(200);
    expect(set.json()).toMatchObject({ highRiskAction: 'block', burstCalls: 20, burstSeconds: 60 });
    const off = await api('operator', 'PATCH', `/customers/${cA}/credit`, {
      burstCalls: null,
      burstSeconds: null,
    });
    expect(off.json()).toMatchObject({ highRiskAction: 'block', burstCalls: null, burstSeconds: null });
  });

  it('refuses bad settings naming the field, and a customer setting its own screening', async () => {
    const { cA } = world.ids;
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ highRiskAction: 'drop' }, '/body/highRiskAction'],
      [{ burstCalls: 0, burstSeconds: 10 }, '/body/burstCalls'],
      [{ burstCalls: 5, burstSeconds: 86_401 }, '/body/burstSeconds'],
      [{ burstCalls: 5 }, '/body/burstSeconds'],
    ];
    for (const [body, field] of cases) {
      const res = await api('operator', 'PATCH', `/customers/${cA}/credit`, body);
      expect(res.statusCode, JSON.stringify(body)).toBe(400);
      expect(res.headers['content-type']).toContain('application/problem+json');
      expect(res.json().errors[0].field).toBe(field);
    }
    const own = await api('customerA', 'PATCH', `/customers/${cA}/credit`, { highRiskAction: 'alert' });
    expect(own.statusCode).toBe(403);
    expect(own.json().errors[0].field).toBe('/body/highRiskAction');
    const other = await api('resellerB', 'PATCH', `/customers/${cA}/credit`, { highRiskAction: 'alert' });
    expect(other.statusCode).toBe(404);
    expect((await api('operator', 'GET', `/customers/${cA}/credit`)).json().highRiskAction).toBe('block');
  });
});
