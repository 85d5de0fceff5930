import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWorld, type World } from './support/world.ts';

let world: World;
let groupId: string;
let gatewayId: string;
beforeAll(async () => {
  world = await createWorld('sbc');
  const group = await world.request('operator', 'POST', '/api/v1/peering-groups', { name: 'sbc-carrier' });
  groupId = group.json().id;
  const gateway = await world.request('operator', 'POST', `/api/v1/peering-groups/${groupId}/gateways`, {
    name: 'gw1',
    host: '127.0.0.9',
  });
  expect(gateway.statusCode, gateway.body).toBe(201);
  gatewayId = gateway.json().id;
});
afterAll(async () => {
  await world?.close();
});

describe('header rule sets', () => {
  it('saves rules that compile, refuses others naming the field, and shows a sample before and after', async () => {
    const set = await world.request('operator', 'POST', '/api/v1/header-rule-sets', { name: 'to-carrier' });
    expect(set.statusCode, set.body).toBe(201);
    const rules = `/api/v1/header-rule-sets/${set.json().id}/rules`;
    const remove = await world.request('operator', 'POST', rules, {
      action: 'remove_header',
      targetHeader: 'X-Internal',
      priority: 10,
    });
    expect(remove.statusCode, remove.body).toBe(201);
    const add = await world.request('operator', 'POST', rules, {
      action: 'add_header',
      targetHeader: 'X-Trunk',
      value: 'a',
      direction: 'outbound',
      priority: 20,
    });
    expect(add.statusCode, add.body).toBe(201);

    const unsafe = await world.request('operator', 'POST', rules, {
      action: 'replace_header',
      targetHeader: 'X-A',
      matchPattern: '(a+)+$',
      value: 'b',
    });
    expect(unsafe.statusCode).toBe(400);
    expect(unsafe.json().errors).toEqual([expect.objectContaining({ field: '/body/matchPattern' })]);
    const injected = await world.request('operator', 'POST', rules, {
      action: 'add_header',
      targetHeader: 'X-A',
      value: 'a\r\nVia: SIP/2.0/UDP 10.0.0.1',
    });
    expect(injected.statusCode).toBe(400);
    const noTarget = await world.request('operator', 'PATCH', `${rules}/${add.json().id}`, {
      targetHeader: null,
    });
    expect(noTarget.statusCode).toBe(400);
    expect(noTarget.json().errors).toEqual([expect.objectContaining({ field: '/body/targetHeader' })]);

    const message = {
      method: 'INVITE',
      requestUri: 'sip:004930555123@127.0.0.9',
      headers: [
        ['P-Asserted-Identity', '<sip:+4930111111@example.test>'],
        ['X-Internal', 'node-7'],
      ],
    };
    const res = await world.request('operator', 'POST', `/api/v1/header-rule-sets/${set.json().id}/test`, {
      direction: 'outbound',
      message,
    });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toEqual({
      before: message,
      after: { ...message, headers: [message.headers[0], ['X-Trunk', 'a']] },
      steps: [
        { ruleId: remove.json().id, matched: true },
        { ruleId: add.json().id, matched: true },
      ],
    });
    const inbound = await world.request(
      'operator',
      'POST',
      `/api/v1/header-rule-sets/${set.json().id}/test`,
      {
        direction: 'inbound',
        message,
      },
    );
    // The add rule is outbound only.
    expect(inbound.json().after.headers).toEqual([message.headers[0]]);
  });

  it('binds a set to exactly one gateway, group or domain', async () => {
    const set = (
      await world.request('operator', 'POST', '/api/v1/header-rule-sets', { name: 'bound' })
    ).json();
    const both = await world.request('operator', 'POST', '/api/v1/header-rule-bindings', {
      ruleSetId: set.id,
      direction: 'outbound',
      gatewayId,
      peeringGroupId: groupId,
    });
    expect(both.statusCode).toBe(400);
    const unknown = await world.request('operator', 'POST', '/api/v1/header-rule-bindings', {
      ruleSetId: set.id,
      direction: 'outbound',
      gatewayId: '01900000-0000-7000-8000-000000000000',
    });
    expect(unknown.statusCode).toBe(404);
    const ok = await world.request('operator', 'POST', '/api/v1/header-rule-bindings', {
      ruleSetId: set.id,
      direction: 'outbound',
      gatewayId,
    });
    expect(ok.statusCode, ok.body).toBe(201);
  });

  it("is the operator's: resellers and customers get 403", async () => {
    for (const actor of ['resellerA', 'customerA'] as const) {
      const res = await world.request(actor, 'GET', '/api/v1/header-rule-sets');
      expect(res.statusCode).toBe(403);
      const policies = await world.request(actor, 'GET', '/api/v1/peer-policies');
      expect(policies.statusCode).toBe(403);
    }
  });
});

describe('peer policies', () => {
  it('holds topology hiding and limits of one gateway or group', async () => {
    const neither = await world.request('operator', 'POST', '/api/v1/peer-policies', {
      maxConcurrentCalls: 2,
    });
    expect(neither.statusCode).toBe(400);
    expect(neither.json().errors).toEqual([expect.objectContaining({ field: '/body/gatewayId' })]);
    const zero = await world.request('operator', 'POST', '/api/v1/peer-policies', {
      gatewayId,
      maxCallsPerSecond: 0,
    });
    expect(zero.statusCode).toBe(400);
    const ok = await world.request('operator', 'POST', '/api/v1/peer-policies', {
      gatewayId,
      topologyHiding: false,
      maxConcurrentCalls: 2,
      maxCallsPerSecond: 5,
      maxCallDuration: 3600,
    });
    expect(ok.statusCode, ok.body).toBe(201);
    expect(ok.json()).toMatchObject({ gatewayId, topologyHiding: false, maxConcurrentCalls: 2 });
    const again = await world.request('operator', 'POST', '/api/v1/peer-policies', {
      gatewayId,
      maxConcurrentCalls: 3,
    });
    expect(again.statusCode).toBe(409);
  });

  it('holds a codec policy: names as the media relay spells them, order kept, contradictions refused', async () => {
    const group = await world.request('operator', 'POST', '/api/v1/peering-groups', {
      name: 'codec-carrier',
    });
    const peeringGroupId = group.json().id;
    const unknown = await world.request('operator', 'POST', '/api/v1/peer-policies', {
      peeringGroupId,
      codecAllow: ['PCMA', 'G.711'],
    });
    expect(unknown.statusCode).toBe(400);
    expect(unknown.headers['content-type']).toContain('application/problem+json');
    expect(unknown.json().errors).toEqual([expect.objectContaining({ field: '/body/codecAllow/1' })]);
    // Only codecs rtpengine can encode may be added for transcoding (AMR it only decodes).
    const decodeOnly = await world.request('operator', 'POST', '/api/v1/peer-policies', {
      peeringGroupId,
      codecTranscode: ['AMR'],
    });
    expect(decodeOnly.statusCode).toBe(400);
    expect(decodeOnly.json().errors).toEqual([expect.objectContaining({ field: '/body/codecTranscode/0' })]);
    const odd = await world.request('operator', 'POST', '/api/v1/peer-policies', {
      peeringGroupId,
      ptime: 25,
    });
    expect(odd.statusCode).toBe(400);
    expect(odd.json().errors).toEqual([expect.objectContaining({ field: '/body/ptime' })]);
    const both = await world.request('operator', 'POST', '/api/v1/peer-policies', {
      peeringGroupId,
      codecAllow: ['PCMA', 'G729'],
      codecStrip: ['G729'],
    });
    expect(both.statusCode).toBe(400);
    expect(both.json().errors).toEqual([expect.objectContaining({ field: '/body/codecStrip' })]);
    const ok = await world.request('operator', 'POST', '/api/v1/peer-policies', {
      peeringGroupId,
      codecAllow: ['PCMA', 'PCMU', 'G729'],
      codecTranscode: ['PCMA'],
      ptime: 30,
      dtmfEvents: true,
    });
    expect(ok.statusCode, ok.body).toBe(201);
    expect(ok.json()).toMatchObject({
      codecAllow: ['PCMA', 'PCMU', 'G729'],
      codecStrip: [],
      codecTranscode: ['PCMA'],
      ptime: 30,
      dtmfEvents: true,
    });
    // A PATCH stripping an allowed codec contradicts the stored allow-list.
    const strip = await world.request('operator', 'PATCH', `/api/v1/peer-policies/${ok.json().id}`, {
      codecStrip: ['G729'],
    });
    expect(strip.statusCode).toBe(400);
    expect(strip.json().errors).toEqual([expect.objectContaining({ field: '/body/codecStrip' })]);
  });
});
