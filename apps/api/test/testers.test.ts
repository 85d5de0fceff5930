import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWorld, type World } from './support/world.ts';

let world: World;
beforeAll(async () => {
  world = await createWorld('testers');
});
afterAll(async () => {
  await world?.close();
});

describe('rewrite rules: validation by the number mapper and the tester', () => {
  it('runs a value through a rule set and shows the trace', async () => {
    const set = (
      await world.request('operator', 'POST', '/api/v1/rewrite-rule-sets', { name: 'AT national' })
    ).json();
    const rules = `/api/v1/rewrite-rule-sets/${set.id}/rules`;
    const intl = await world.request('operator', 'POST', rules, {
      direction: 'from_subscriber',
      field: 'callee',
      matchPattern: '^00([1-9][0-9]+)$',
      replacement: '$1',
      priority: 10,
    });
    expect(intl.statusCode, intl.body).toBe(201);
    const national = await world.request('operator', 'POST', rules, {
      direction: 'from_subscriber',
      field: 'callee',
      matchPattern: '^0([1-9][0-9]+)$',
      // biome-ignore lint/suspicious/noTemplateCurlyInString: rewrite-rule syntax, not a template
      replacement: '${cc}$1',
      priority: 20,
    });
    expect(national.statusCode, national.body).toBe(201);

    const res = await world.request('operator', 'POST', `/api/v1/rewrite-rule-sets/${set.id}/test`, {
      direction: 'from_subscriber',
      field: 'callee',
      value: '06641234567',
      variables: { cc: '43' },
    });
    expect(res.statusCode, res.body).toBe(200);
    const body = res.json();
    expect(body).toMatchObject({
      input: '06641234567',
      output: '436641234567',
      matchedRuleId: national.json().id,
    });
    expect(body.trace.map((t: { ruleId: string; matched: boolean }) => [t.ruleId, t.matched])).toEqual([
      [intl.json().id, false],
      [national.json().id, true],
    ]);

    const noMatch = await world.request('operator', 'POST', `/api/v1/rewrite-rule-sets/${set.id}/test`, {
      direction: 'to_subscriber',
      field: 'caller',
      value: '4311001',
    });
    expect(noMatch.json()).toMatchObject({ output: '4311001', matchedRuleId: null });
  });

  it('refuses patterns the SIP path could not run safely, naming the field', async () => {
    const rules = `/api/v1/rewrite-rule-sets/${world.ids.rsA}/rules`;
    const backref = await world.request('operator', 'POST', rules, {
      direction: 'from_subscriber',
      field: 'callee',
      matchPattern: '^(\\d)\\1$',
      replacement: '',
    });
    expect(backref.statusCode).toBe(400);
    expect(backref.json().errors[0].field).toBe('/body/matchPattern');
    const badGroup = await world.request('operator', 'POST', rules, {
      direction: 'from_subscriber',
      field: 'callee',
      matchPattern: '^0(\\d+)$',
      replacement: '$2',
    });
    expect(badGroup.statusCode).toBe(400);
    expect(badGroup.json().errors[0].field).toBe('/body/replacement');
    // A PATCH is checked together with the stored fields.
    const patch = await world.request('operator', 'PATCH', `${rules}/${world.ids.ruleA}`, {
      replacement: '$5',
    });
    expect(patch.statusCode).toBe(400);
  });

  it('is tenant scoped: a reseller tests its own and shared sets only', async () => {
    const body = { direction: 'from_subscriber', field: 'callee', value: '0123' };
    const own = await world.request(
      'resellerA',
      'POST',
      `/api/v1/rewrite-rule-sets/${world.ids.rsA}/test`,
      body,
    );
    expect(own.statusCode).toBe(200);
    expect(own.json().output).toBe('43123');
    const shared = await world.request(
      'resellerA',
      'POST',
      `/api/v1/rewrite-rule-sets/${world.ids.rsG}/test`,
      body,
    );
    expect(shared.statusCode).toBe(200);
    const other = await world.request(
      'resellerA',
      'POST',
      `/api/v1/rewrite-rule-sets/${world.ids.rsB}/test`,
      body,
    );
    expect(other.statusCode).toBe(404);
    const customer = await world.request(
      'customerA',
      'POST',
      `/api/v1/rewrite-rule-sets/${world.ids.rsA}/test`,
      body,
    );
    expect(customer.statusCode).toBe(403);
  });
});

describe('peering: validation and the LCR tester', () => {
  it('picks the longest matching prefix, then priority, and lists gateways in failover order', async () => {
    const op = (method: 'POST' | 'PATCH', url: string, body: unknown) =>
      world.request('operator', method, `/api/v1${url}`, body);
    const mobile = (await op('POST', '/peering-groups', { name: 'mobile carrier', priority: 10 })).json();
    const gwM = (
      await op('POST', `/peering-groups/${mobile.id}/gateways`, { name: 'm1', host: 'm1.example.net' })
    ).json();
    expect(
      (await op('POST', `/peering-groups/${mobile.id}/rules`, { calleePrefix: '43664' })).statusCode,
    ).toBe(201);
    const fallback = (await op('POST', '/peering-groups', { name: 'fallback', priority: 90 })).json();
    const gwF1 = (
      await op('POST', `/peering-groups/${fallback.id}/gateways`, {
        name: 'f1',
        host: 'f1.example.net',
        priority: 1,
      })
    ).json();
    const gwF2 = (
      await op('POST', `/peering-groups/${fallback.id}/gateways`, {
        name: 'f2',
        host: 'f2.example.net',
        priority: 2,
      })
    ).json();
    expect((await op('POST', `/peering-groups/${fallback.id}/rules`, { calleePrefix: '' })).statusCode).toBe(
      201,
    );

    const mobileCall = await op('POST', '/peering-groups/test-route', { callee: '+436641234567' });
    expect(mobileCall.statusCode, mobileCall.body).toBe(200);
    const ids = mobileCall.json().routes.map((r: { gatewayId: string }) => r.gatewayId);
    expect(ids[0]).toBe(gwM.id);
    expect(ids.indexOf(gwF1.id)).toBeLessThan(ids.indexOf(gwF2.id));

    const landline = (await op('POST', '/peering-groups/test-route', { callee: '4912345' })).json();
    expect(landline.routes.map((r: { gatewayName: string }) => r.gatewayName)).not.toContain('m1');
    expect(landline.routes.map((r: { gatewayName: string }) => r.gatewayName)).toEqual(
      expect.arrayContaining(['f1', 'f2']),
    );
    expect((await op('POST', '/peering-groups/test-route', { callee: 'abc' })).statusCode).toBe(400);
  });

  it('refuses unsafe caller patterns', async () => {
    const res = await world.request('operator', 'POST', `/api/v1/peering-groups/${world.ids.pg}/rules`, {
      calleePrefix: '43',
      callerPattern: '(a)\\1',
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().errors[0].field).toBe('/body/callerPattern');
  });

  it('is for operators only', async () => {
    for (const actor of ['resellerA', 'customerA'] as const) {
      const res = await world.request(actor, 'POST', '/api/v1/peering-groups/test-route', { callee: '43' });
      expect(res.statusCode).toBe(403);
    }
  });
});
