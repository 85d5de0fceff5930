import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Actor, createWorld, type World } from './support/world.ts';

/**
 * Wholesale settings over the API: a customer's credit limit, carrier flag, margin protection and
 * routing plan (its provider sets them, it reads them, nobody else sees them), its IP-authenticated
 * trunks, and ASR/ACD/NER per gateway and peering group from the CDRs.
 */

let world: World;
const api = (
  actor: Actor,
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE',
  url: string,
  body?: unknown,
) => world.request(actor, method, `/api/v1${url}`, body);

beforeAll(async () => {
  world = await createWorld('wholesale');
});
afterAll(async () => {
  await world?.close();
});

describe('customer billing settings', () => {
  const settings = () => ({
    creditLimit: '150.5',
    carrier: true,
    marginProtection: null,
    peeringGroupIds: [world.ids.pg],
  });

  it('defaults, set by the provider, read by the customer, hidden from other tenants', async () => {
    const url = `/customers/${world.ids.cA}/billing-settings`;
    expect((await api('customerA', 'GET', url)).json()).toEqual({
      customerId: world.ids.cA,
      creditLimit: null,
      carrier: false,
      marginProtection: null,
      peeringGroupIds: [],
      taxRate: null,
      taxId: null,
    });
    expect((await api('customerA', 'PUT', url, settings())).statusCode).toBe(403);
    expect((await api('resellerB', 'PUT', url, settings())).statusCode).toBe(404);
    expect((await api('customerB', 'GET', url)).statusCode).toBe(404);
    const set = await api('resellerA', 'PUT', url, settings());
    expect(set.statusCode).toBe(200);
    expect(set.json()).toMatchObject({
      creditLimit: '150.500000',
      carrier: true,
      peeringGroupIds: [world.ids.pg],
    });
    expect((await api('customerA', 'GET', url)).json().creditLimit).toBe('150.500000');
  });

  it('names the bad field', async () => {
    const url = `/customers/${world.ids.cA}/billing-settings`;
    const badLimit = await api('operator', 'PUT', url, { ...settings(), creditLimit: '-3' });
    expect(badLimit.statusCode).toBe(400);
    expect(badLimit.json().errors[0].field).toBe('/body/creditLimit');
    const badGroup = await api('operator', 'PUT', url, {
      ...settings(),
      peeringGroupIds: ['00000000-0000-7000-8000-000000000000'],
    });
    expect(badGroup.statusCode).toBe(400);
    expect(badGroup.json().errors[0].field).toBe('/body/peeringGroupIds');
  });
});

describe('customer trunks', () => {
  it("a provider adds a trunk for its customer's subscriber; other tenants neither see nor remove it", async () => {
    const bad = await api('resellerA', 'POST', '/customer-trunks', {
      subscriberId: world.ids.sA,
      name: 'pbx',
      trustedSources: ['not-an-ip'],
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().errors[0].field).toBe('/body/trustedSources/0');
    const foreign = await api('resellerA', 'POST', '/customer-trunks', {
      subscriberId: world.ids.sB,
      name: 'pbx',
      trustedSources: ['192.0.2.10'],
    });
    expect(foreign.statusCode).toBe(400);
    expect(foreign.json().errors[0].field).toBe('/body/subscriberId');
    expect(
      (
        await api('customerA', 'POST', '/customer-trunks', {
          subscriberId: world.ids.sA,
          name: 'pbx',
          trustedSources: ['192.0.2.10'],
        })
      ).statusCode,
    ).toBe(403);
    const created = await api('resellerA', 'POST', '/customer-trunks', {
      subscriberId: world.ids.sA,
      name: 'pbx',
      trustedSources: ['192.0.2.10', '198.51.100.0/24'],
    });
    expect(created.statusCode).toBe(201);
    expect(created.json()).toMatchObject({ customerId: world.ids.cA, enabled: true });
    const id = created.json().id;
    expect((await api('customerA', 'GET', '/customer-trunks')).json().items).toHaveLength(1);
    expect((await api('customerB', 'GET', '/customer-trunks')).json().items).toEqual([]);
    expect((await api('resellerB', 'GET', '/customer-trunks')).json().items).toEqual([]);
    expect((await api('resellerB', 'DELETE', `/customer-trunks/${id}`)).statusCode).toBe(404);
    expect((await api('resellerA', 'DELETE', `/customer-trunks/${id}`)).statusCode).toBe(204);
  });
});

describe('route statistics', () => {
  it('ASR, ACD and NER per gateway and per peering group, operator only', async () => {
    const at = new Date('2026-11-10T10:00:00Z');
    const cdr = (disposition: 'answered' | 'busy' | 'failed', durationMs: number, sipCode: number) =>
      world.prisma.cdr.create({
        data: {
          callId: `stats-${Math.random()}`,
          direction: 'outbound',
          callerDialled: 'x',
          calleeDialled: '4930123',
          startedAt: at,
          endedAt: at,
          durationMs,
          disposition,
          sipCode,
          peerGatewayId: world.ids.gw,
        },
      });
    await cdr('answered', 60_000, 200);
    await cdr('answered', 30_000, 200);
    await cdr('busy', 0, 486);
    await cdr('failed', 0, 503);
    const q = '?from=2026-11-01T00:00:00Z&to=2026-12-01T00:00:00Z';
    expect((await api('resellerA', 'GET', `/route-stats${q}`)).statusCode).toBe(403);
    const byGateway = (await api('operator', 'GET', `/route-stats${q}`)).json().items;
    expect(byGateway).toEqual([
      {
        id: world.ids.gw,
        name: expect.any(String),
        groupId: world.ids.pg,
        attempts: 4,
        answered: 2,
        asr: 0.5,
        acdSeconds: 45,
        ner: 0.75,
        minutes: 1.5,
      },
    ]);
    const byGroup = (await api('operator', 'GET', `/route-stats${q}&by=group`)).json().items;
    expect(byGroup).toMatchObject([{ id: world.ids.pg, attempts: 4, asr: 0.5, ner: 0.75 }]);
    const bad = await api(
      'operator',
      'GET',
      '/route-stats?from=2026-11-01T00:00:00Z&to=2026-10-01T00:00:00Z',
    );
    expect(bad.statusCode).toBe(400);
    expect(bad.json().errors[0].field).toBe('/querystring/to');
  });
});
