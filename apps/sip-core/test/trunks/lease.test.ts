import { afterAll, beforeAll, expect, it } from 'vitest';
import { GatewayStatusStore } from '../../src/trunks/status-store.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';

/** One node per gateway: the lease row in PostgreSQL, as two sip-core nodes sharing it see it. */

let testDb: TestDatabase;
let gatewayId: string;

beforeAll(async () => {
  testDb = await createTestDatabase();
  const prisma = testDb.db.prisma;
  const group = await prisma.peeringGroup.create({ data: { name: 'carrier' } });
  gatewayId = (
    await prisma.peerGateway.create({ data: { groupId: group.id, name: 'gw', host: '192.0.2.1' } })
  ).id;
}, 60_000);

afterAll(() => testDb?.drop());

it('one node holds a gateway until it releases it or its lease runs out', async () => {
  const a = new GatewayStatusStore(testDb.db.prisma, 'node-a');
  const b = new GatewayStatusStore(testDb.db.prisma, 'node-b');
  expect(await a.lease(gatewayId, 60_000)).toBe(true);
  expect(await b.lease(gatewayId, 60_000)).toBe(false);
  // The holder renews.
  expect(await a.lease(gatewayId, 60_000)).toBe(true);
  await a.release(gatewayId);
  expect(await b.lease(gatewayId, 200)).toBe(true);
  expect(await a.lease(gatewayId, 60_000)).toBe(false);
  // b stops renewing (it died): once its lease has run out, a takes over.
  await new Promise((resolve) => setTimeout(resolve, 300));
  expect(await a.lease(gatewayId, 60_000)).toBe(true);
  const row = await testDb.db.prisma.peerGatewayStatus.findUniqueOrThrow({ where: { gatewayId } });
  expect(row.leaseNode).toBe('node-a');
});

it('two nodes racing for a free gateway: exactly one wins', async () => {
  const prisma = testDb.db.prisma;
  const group = await prisma.peeringGroup.create({ data: { name: 'race' } });
  const id = (await prisma.peerGateway.create({ data: { groupId: group.id, name: 'gw', host: '192.0.2.2' } }))
    .id;
  const nodes = ['n1', 'n2', 'n3', 'n4'].map((node) => new GatewayStatusStore(prisma, node));
  const won = await Promise.all(nodes.map((node) => node.lease(id, 60_000)));
  expect(won.filter(Boolean)).toHaveLength(1);
});

it('keeps the newest state changes only', async () => {
  const store = new GatewayStatusStore(testDb.db.prisma, 'node-a');
  for (let i = 0; i < 55; i++) await store.writeHealth(gatewayId, i % 2 ? 'down' : 'up', null);
  expect(await testDb.db.prisma.peerGatewayEvent.count({ where: { gatewayId } })).toBe(50);
});
