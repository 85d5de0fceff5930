import { randomBytes } from 'node:crypto';
import { gatewaySecretContext, unseal } from '@switchboard/push';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWorld, type World } from './support/world.ts';

/** Trunk registration and health check settings of peer gateways, their sealed secrets and status. */

const credentialsKey = randomBytes(32);
let world: World;
let groupId: string;
beforeAll(async () => {
  world = await createWorld('trunks', { push: { credentialsKey } });
  groupId = (await world.prisma.peeringGroup.create({ data: { name: 'trunk carrier' } })).id;
});
afterAll(async () => {
  await world?.close();
});

const op = (method: 'GET' | 'POST' | 'PATCH', url: string, body?: unknown) =>
  world.request('operator', method, `/api/v1${url}`, body);

describe('peer gateway trunk registration', () => {
  it('stores the registration and outbound passwords sealed, never plain, and returns neither', async () => {
    const res = await op('POST', `/peering-groups/${groupId}/gateways`, {
      name: 'registered',
      host: 'sbc.carrier.example',
      authUsername: 'out-user',
      authPassword: 'out-secret',
      authRealm: 'carrier.example',
      registerEnabled: true,
      registrarUri: 'sip:reg.carrier.example',
      registerUsername: 'acme',
      registerPassword: 'reg-secret',
      registerExpires: 600,
      registerTransport: 'tcp',
      healthCheck: true,
      healthInterval: 10,
      healthThreshold: 2,
    });
    expect(res.statusCode, res.body).toBe(201);
    const gw = res.json();
    expect(res.body).not.toContain('secret');
    expect(res.body).not.toMatch(/sealed|ha1/i);
    expect(gw).toMatchObject({
      hasAuthPassword: true,
      hasRegisterPassword: true,
      registerEnabled: true,
      registerTransport: 'tcp',
      status: { registration: 'registering', health: 'unknown' },
    });
    // A random contact user: a request to it is trusted as the carrier's.
    expect(gw.registerContactUser).toMatch(/^tr-[0-9a-f]{24}$/);
    const row = await world.prisma.peerGateway.findUniqueOrThrow({ where: { id: gw.id } });
    expect(row.authPassword).toBeNull();
    expect(row.authHa1Md5).toBeNull();
    expect(row.authPasswordSealed).not.toContain('out-secret');
    expect(row.registerPasswordSealed).not.toContain('reg-secret');
    expect(unseal(credentialsKey, row.authPasswordSealed ?? '', gatewaySecretContext('auth'))).toBe(
      'out-secret',
    );
    expect(unseal(credentialsKey, row.registerPasswordSealed ?? '', gatewaySecretContext('register'))).toBe(
      'reg-secret',
    );
    // A secret sealed for one purpose does not open for the other.
    expect(() =>
      unseal(credentialsKey, row.registerPasswordSealed ?? '', gatewaySecretContext('auth')),
    ).toThrow();
    // The audit log keeps no sealed secret either.
    const audit = await world.prisma.auditEntry.findFirstOrThrow({ where: { entityId: gw.id } });
    expect(JSON.stringify(audit.after)).not.toContain(row.registerPasswordSealed ?? 'x');
  });

  it('names the missing or bad field', async () => {
    const noUri = await op('POST', `/peering-groups/${groupId}/gateways`, {
      name: 'no-uri',
      host: 'a.carrier.example',
      registerEnabled: true,
      registerUsername: 'acme',
    });
    expect(noUri.statusCode).toBe(400);
    expect(noUri.json().errors[0].field).toBe('/body/registrarUri');
    const noUser = await op('POST', `/peering-groups/${groupId}/gateways`, {
      name: 'no-user',
      host: 'a.carrier.example',
      registerEnabled: true,
      registrarUri: 'sip:reg.carrier.example',
    });
    expect(noUser.statusCode).toBe(400);
    expect(noUser.json().errors[0].field).toBe('/body/registerUsername');
    const badTransport = await op('POST', `/peering-groups/${groupId}/gateways`, {
      name: 'ws',
      host: 'a.carrier.example',
      registerTransport: 'ws',
    });
    expect(badTransport.statusCode).toBe(400);
    expect(badTransport.json().errors[0].field).toBe('/body/registerTransport');
    const badUri = await op('POST', `/peering-groups/${groupId}/gateways`, {
      name: 'bad-uri',
      host: 'a.carrier.example',
      registrarUri: 'http://reg.carrier.example',
    });
    expect(badUri.statusCode).toBe(400);
    expect(badUri.json().errors[0].field).toBe('/body/registrarUri');
    const badInterval = await op('POST', `/peering-groups/${groupId}/gateways`, {
      name: 'bad-interval',
      host: 'a.carrier.example',
      healthInterval: 0,
    });
    expect(badInterval.statusCode).toBe(400);
    expect(badInterval.json().errors[0].field).toBe('/body/healthInterval');
  });

  it('shows the status sip-core wrote, with the recent history, to operators only', async () => {
    const gw = (
      await op('POST', `/peering-groups/${groupId}/gateways`, {
        name: 'with-status',
        host: 'b.carrier.example',
        registerEnabled: true,
        registrarUri: 'sip:reg.carrier.example',
        registerUsername: 'acme',
        registerPassword: 'reg-secret',
        healthCheck: true,
      })
    ).json();
    const expiresAt = new Date(Date.now() + 600_000);
    await world.prisma.peerGatewayStatus.create({
      data: {
        gatewayId: gw.id,
        leaseNode: 'node-a',
        registration: 'registered',
        registeredAt: new Date(),
        expiresAt,
        health: 'down',
        healthError: 'no answer to OPTIONS',
      },
    });
    await world.prisma.peerGatewayEvent.createMany({
      data: [
        { gatewayId: gw.id, kind: 'health', state: 'up', at: new Date(Date.now() - 2000) },
        { gatewayId: gw.id, kind: 'health', state: 'down', detail: 'no answer to OPTIONS', at: new Date() },
      ],
    });
    const status = await op('GET', `/peering-groups/${groupId}/gateways/${gw.id}/status`);
    expect(status.statusCode, status.body).toBe(200);
    expect(status.json()).toMatchObject({
      gatewayId: gw.id,
      registration: 'registered',
      expiresAt: expiresAt.toISOString(),
      health: 'down',
      healthError: 'no answer to OPTIONS',
      node: 'node-a',
      history: [
        { kind: 'health', state: 'down' },
        { kind: 'health', state: 'up' },
      ],
    });
    const listed = await op('GET', `/peering-groups/${groupId}/gateways?name=with-status`);
    expect(listed.json().items[0].status).toMatchObject({ registration: 'registered', health: 'down' });
    // Another group's path does not reach it; a customer sees nothing of the peering.
    const other = (await world.prisma.peeringGroup.create({ data: { name: 'other carrier' } })).id;
    expect((await op('GET', `/peering-groups/${other}/gateways/${gw.id}/status`)).statusCode).toBe(404);
    const customer = await world.request(
      'customerA',
      'GET',
      `/api/v1/peering-groups/${groupId}/gateways/${gw.id}/status`,
    );
    expect(customer.statusCode).toBe(403);
  });
});
