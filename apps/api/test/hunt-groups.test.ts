import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWorld, type World } from './support/world.ts';

/**
 * /api/v1/hunt-groups against a real database: customer A manages its own groups; customer B and
 * reseller B never see or touch them (404), and neither can put another customer's subscriber in a
 * group; bad bodies get problem+json naming the field.
 */

let world: World;
let groupA: string;

beforeAll(async () => {
  world = await createWorld('hunt_groups');
});
afterAll(async () => {
  await world?.close();
});

const api = (
  actor: Parameters<World['request']>[0],
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE',
  url: string,
  body?: unknown,
) => world.request(actor, method, `/api/v1${url}`, body);

describe('hunt groups', () => {
  it('a customer creates a group of its own subscribers in its domain', async () => {
    const second = await world.prisma.subscriber.create({
      data: {
        customerId: world.ids.cA,
        domainId: world.ids.dA,
        username: 'anna',
        ha1Md5: '0'.repeat(32),
        ha1Sha256: '0'.repeat(64),
      },
    });
    const res = await api('customerA', 'POST', '/hunt-groups', {
      domainId: world.ids.dA,
      username: 'Sales',
      name: 'Sales',
      strategy: 'sequential',
      ringTimeout: 15,
      noAnswerKind: 'uri',
      noAnswerDestination: 'sip:alice@a.example.com',
      members: [second.id, world.ids.sA],
    });
    expect(res.statusCode, res.body).toBe(201);
    const body = res.json();
    groupA = body.id;
    expect(body).toMatchObject({
      customerId: world.ids.cA,
      username: 'sales',
      sipUri: 'sip:sales@a.example.com',
      strategy: 'sequential',
      ringTimeout: 15,
      members: [
        { subscriberId: second.id, position: 0 },
        { subscriberId: world.ids.sA, position: 1 },
      ],
    });
  });

  it('the members are replaced in the order given; the no-answer destination can be removed', async () => {
    const res = await api('customerA', 'PATCH', `/hunt-groups/${groupA}`, {
      members: [world.ids.sA],
      strategy: 'round_robin',
      noAnswerKind: null,
      noAnswerDestination: null,
    });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({
      strategy: 'round_robin',
      noAnswerKind: null,
      members: [{ subscriberId: world.ids.sA, position: 0 }],
    });
    const rows = await world.prisma.huntGroupMember.findMany({ where: { huntGroupId: groupA } });
    expect(rows).toHaveLength(1);
  });

  it("another customer and another reseller neither list, read, change nor delete customer A's group", async () => {
    for (const actor of ['customerB', 'resellerB'] as const) {
      const list = await api(actor, 'GET', '/hunt-groups');
      expect(list.statusCode).toBe(200);
      expect(JSON.stringify(list.json())).not.toContain(groupA);
      expect((await api(actor, 'GET', `/hunt-groups/${groupA}`)).statusCode).toBe(404);
      expect((await api(actor, 'PATCH', `/hunt-groups/${groupA}`, { name: 'taken over' })).statusCode).toBe(
        404,
      );
      expect((await api(actor, 'DELETE', `/hunt-groups/${groupA}`)).statusCode).toBe(404);
    }
    const own = await api('customerA', 'GET', '/hunt-groups');
    expect(JSON.stringify(own.json())).toContain(groupA);
    const reseller = await api('resellerA', 'GET', `/hunt-groups/${groupA}`);
    expect(reseller.statusCode).toBe(200);
    expect((await world.prisma.huntGroup.findUniqueOrThrow({ where: { id: groupA } })).name).toBe('Sales');
  });

  it("another customer's subscriber cannot become a member, on create or on update", async () => {
    const created = await api('customerB', 'POST', '/hunt-groups', {
      domainId: world.ids.dB,
      username: 'stolen',
      name: 'Stolen',
      members: [world.ids.sA],
    });
    expect(created.statusCode).toBe(400);
    expect(created.json().errors[0].field).toBe('/body/members/0');
    const updated = await api('customerA', 'PATCH', `/hunt-groups/${groupA}`, { members: [world.ids.sB] });
    expect(updated.statusCode).toBe(400);
    expect(updated.json().errors[0].field).toBe('/body/members/0');
  });

  it('a customer cannot create a group for another customer or in a foreign domain', async () => {
    const foreignDomain = await api('customerA', 'POST', '/hunt-groups', {
      domainId: world.ids.dB,
      username: 'x',
      name: 'X',
      members: [],
    });
    expect(foreignDomain.statusCode).toBe(404);
    expect(foreignDomain.json().errors[0].field).toBe('/body/domainId');
    // A customer's own customer id is implied: naming another one is ignored, not obeyed.
    const res = await api('customerA', 'POST', '/hunt-groups', {
      customerId: world.ids.cB,
      domainId: world.ids.dA,
      username: 'mine',
      name: 'Mine',
      members: [],
    });
    expect(res.statusCode, res.body).toBe(201);
    expect(res.json().customerId).toBe(world.ids.cA);
  });

  it('bad input gets problem+json naming the field', async () => {
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ domainId: world.ids.dA, username: 'a b', name: 'x', members: [] }, '/body/username'],
      [
        { domainId: world.ids.dA, username: 'ok1', name: 'x', members: [], strategy: 'random' },
        '/body/strategy',
      ],
      [
        { domainId: world.ids.dA, username: 'ok2', name: 'x', members: [], ringTimeout: 0 },
        '/body/ringTimeout',
      ],
      [
        { domainId: world.ids.dA, username: 'ok3', name: 'x', members: [], noAnswerKind: 'uri' },
        '/body/noAnswerDestination',
      ],
      [
        {
          domainId: world.ids.dA,
          username: 'ok4',
          name: 'x',
          members: [],
          noAnswerKind: 'number',
          noAnswerDestination: 'abc',
        },
        '/body/noAnswerDestination',
      ],
    ];
    for (const [body, field] of cases) {
      const res = await api('customerA', 'POST', '/hunt-groups', body);
      expect(res.statusCode, res.body).toBe(400);
      expect(res.headers['content-type']).toContain('application/problem+json');
      expect(JSON.stringify(res.json().errors), JSON.stringify(body)).toContain(field);
    }
  });

  it("a group's user name may not be a subscriber's, nor a new subscriber's a group's", async () => {
    const group = await api('customerA', 'POST', '/hunt-groups', {
      domainId: world.ids.dA,
      username: 'alice',
      name: 'Alice',
      members: [],
    });
    expect(group.statusCode).toBe(409);
    const subscriber = await api('customerA', 'POST', '/subscribers', {
      domainId: world.ids.dA,
      username: 'sales',
    });
    expect(subscriber.statusCode).toBe(409);
    expect(subscriber.json().errors[0].field).toBe('/body/username');
  });

  it('a domain with a hunt group is deleted only when forced, and the group goes with it', async () => {
    const domain = await world.prisma.domain.create({ data: { name: 'pbx.example.com' } });
    const group = await api('operator', 'POST', '/hunt-groups', {
      customerId: world.ids.cA,
      domainId: domain.id,
      username: 'front',
      name: 'Front desk',
      members: [world.ids.sA],
    });
    expect(group.statusCode, group.body).toBe(201);
    const refused = await api('operator', 'DELETE', `/domains/${domain.id}`);
    expect(refused.statusCode).toBe(409);
    expect(refused.body).toContain('hunt-groups');
    expect((await api('operator', 'DELETE', `/domains/${domain.id}?force=true`)).statusCode).toBe(204);
    expect(await world.prisma.huntGroup.count({ where: { id: group.json().id } })).toBe(0);
  });

  it('the customer deletes its group, members go with it', async () => {
    expect((await api('customerA', 'DELETE', `/hunt-groups/${groupA}`)).statusCode).toBe(204);
    expect(await world.prisma.huntGroupMember.count({ where: { huntGroupId: groupA } })).toBe(0);
  });
});
