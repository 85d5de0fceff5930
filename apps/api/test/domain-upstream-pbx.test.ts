import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWorld, type World } from './support/world.ts';

/** A domain's upstream PBX (docs/sbc.md, "Fronting a PBX"): an operator's setting naming a peer gateway. */

let world: World;
let gatewayId: string;
beforeAll(async () => {
  world = await createWorld('upstream_pbx');
  const group = await world.prisma.peeringGroup.create({ data: { name: 'office pbx' } });
  gatewayId = (
    await world.prisma.peerGateway.create({ data: { groupId: group.id, name: 'pbx', host: '192.0.2.7' } })
  ).id;
});
afterAll(async () => {
  await world?.close();
});

describe('domain upstream PBX', () => {
  it('an operator points a domain at a gateway and back; the domain shows it', async () => {
    const set = await world.request('operator', 'PATCH', `/api/v1/domains/${world.ids.dA}`, {
      upstreamGatewayId: gatewayId,
    });
    expect(set.statusCode, set.body).toBe(200);
    expect(set.json().upstreamGatewayId).toBe(gatewayId);
    const row = await world.prisma.domain.findUniqueOrThrow({ where: { id: world.ids.dA } });
    expect(row.upstreamGatewayId).toBe(gatewayId);
    const cleared = await world.request('operator', 'PATCH', `/api/v1/domains/${world.ids.dA}`, {
      upstreamGatewayId: null,
    });
    expect(cleared.json().upstreamGatewayId).toBeNull();
  });

  it('refuses an unknown gateway or a malformed id with problem+json naming the field', async () => {
    const unknown = await world.request('operator', 'PATCH', `/api/v1/domains/${world.ids.dA}`, {
      upstreamGatewayId: '01930000-0000-7000-8000-000000000000',
    });
    expect(unknown.statusCode).toBe(404);
    expect(unknown.headers['content-type']).toContain('application/problem+json');
    expect(unknown.body).toContain('upstreamGatewayId');
    const malformed = await world.request('operator', 'PATCH', `/api/v1/domains/${world.ids.dA}`, {
      upstreamGatewayId: 'pbx.example.com',
    });
    expect(malformed.statusCode).toBe(400);
    expect(malformed.headers['content-type']).toContain('application/problem+json');
    expect(malformed.body).toContain('upstreamGatewayId');
  });

  it('a reseller may not set it on its own domain (403 naming the field); a customer sees no other tenant', async () => {
    const reseller = await world.request('resellerA', 'PATCH', `/api/v1/domains/${world.ids.dA}`, {
      upstreamGatewayId: gatewayId,
    });
    expect(reseller.statusCode).toBe(403);
    expect(reseller.body).toContain('upstreamGatewayId');
    const other = await world.request('resellerB', 'PATCH', `/api/v1/domains/${world.ids.dA}`, {
      upstreamGatewayId: null,
    });
    expect(other.statusCode).toBe(404);
    const customer = await world.request('customerB', 'GET', `/api/v1/domains/${world.ids.dA}`);
    expect(customer.statusCode).toBe(404);
  });
});
