import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWorld, type World } from './support/world.ts';

/** Input that PostgreSQL cannot store or would read as a pattern is answered before any query runs. */

let world: World;
beforeAll(async () => {
  world = await createWorld('hardening_input');
});
afterAll(async () => {
  await world?.close();
});

const op = (method: 'GET' | 'POST' | 'PATCH', url: string, body?: unknown) =>
  world.request('operator', method, `/api/v1${url}`, body);

describe('NUL characters', () => {
  it('in a JSON body string: 400 naming the field, nested ones too', async () => {
    const res = await op('POST', '/customers', { name: 'Acme\u0000Ltd' });
    expect(res.statusCode, res.body).toBe(400);
    expect(res.headers['content-type']).toContain('application/problem+json');
    expect(res.json().errors).toEqual([{ field: '/body/name', message: 'must not contain NUL (\\u0000)' }]);
    const nested = await op('POST', '/call-forwards', {
      subscriberId: world.ids.sA,
      type: 'cfna',
      destinations: [{ kind: 'uri', destination: 'sip:a\u0000@example.com' }],
    });
    expect(nested.statusCode, nested.body).toBe(400);
    expect(nested.json().errors[0].field).toBe('/body/destinations/0/destination');
    const patch = await op('PATCH', `/subscribers/${world.ids.sA}`, { displayName: '\u0000' });
    expect(patch.statusCode, patch.body).toBe(400);
    expect(patch.json().errors[0].field).toBe('/body/displayName');
  });

  it('in a list filter or any query parameter: 400 naming the parameter', async () => {
    for (const url of [
      '/customers?name=a%00b',
      '/subscribers?username=%00',
      '/cdrs?number=1%00',
      '/audit-log?entity=%00',
    ]) {
      const res = await op('GET', url);
      expect(res.statusCode, `${url} ${res.body}`).toBe(400);
      expect(res.json().errors[0].field).toMatch(/^\/query\/(name|username|number|entity)$/);
    }
  });

  it('in a public route body (login): 400, not 500', async () => {
    const res = await world.request(null, 'POST', '/api/v1/auth/login', {
      email: 'operator@test.example\u0000',
      password: 'x',
    });
    expect(res.statusCode, res.body).toBe(400);
    expect(res.json().errors[0].field).toBe('/body/email');
  });
});

describe('contains filters match % and _ literally', () => {
  it('a % or _ in a name filter matches only names that contain it', async () => {
    for (const name of ['Percent 100% Ltd', 'Under_score Ltd', 'Plain Ltd', 'UnderXscore Ltd']) {
      expect((await op('POST', '/customers', { name })).statusCode).toBe(201);
    }
    const names = async (q: string) =>
      (await op('GET', `/customers?perPage=500&name=${encodeURIComponent(q)}`))
        .json()
        .items.map((c: { name: string }) => c.name)
        .sort();
    expect(await names('%')).toEqual(['Percent 100% Ltd']);
    expect(await names('Under_score')).toEqual(['Under_score Ltd']);
    expect(await names('_')).toEqual(['Under_score Ltd']);
    expect(await names('\\')).toEqual([]);
  });

  it('the CDR number search too', async () => {
    const all = (await op('GET', '/cdrs?number=_')).json();
    expect(all.total).toBe(0);
    const pct = (await op('GET', '/cdrs?number=%25')).json();
    expect(pct.total).toBe(0);
    const real = (await op('GET', '/cdrs?number=0800')).json();
    expect(real.total).toBe(2);
  });
});
