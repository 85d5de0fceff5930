import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_NAT } from '../src/config.ts';
import type { Binding } from '../src/location/binding.ts';
import { LocationService } from '../src/location/location-service.ts';
import { NatKeepalive } from '../src/nat/keepalive.ts';
import { makeBinding } from './support/bindings.ts';
import { createSubscriber, createTenant, createTestDatabase, type TestDatabase } from './support/database.ts';

const log = pino({ level: 'silent' });
const AOR = 'sip:alice@example.test';
let testDb: TestDatabase;
let subscriberId: string;

beforeAll(async () => {
  testDb = await createTestDatabase();
  subscriberId = await createSubscriber(testDb.db, await createTenant(testDb.db), 'alice', 'pw');
});
afterAll(async () => {
  await testDb?.drop();
});

describe('NatKeepalive', () => {
  it('pings only NATed UDP bindings of this node and drops one after N unanswered pings', async () => {
    const location = new LocationService(testDb.db.prisma, { nodeName: 'node-a', log });
    await location.load();
    const natted = (key: string, address: string, extra: Partial<Binding> = {}): Binding =>
      makeBinding({
        aor: AOR,
        subscriberId,
        bindingKey: key,
        contactUri: `sip:alice@192.168.1.${key.length}:5060`,
        receivedAddress: address,
        receivedPort: 40000,
        ...extra,
      });
    await location.update(AOR, () => ({
      upserts: [
        natted('alive', '198.51.100.1'),
        natted('gone!', '198.51.100.2'),
        natted('tcp-one', '198.51.100.3', { transport: 'tcp' }),
        natted('other-node', '198.51.100.4', { node: 'node-b' }),
        makeBinding({ aor: AOR, subscriberId, bindingKey: 'public' }),
      ],
      removals: [],
    }));
    const pinged: string[] = [];
    const keepalive = new NatKeepalive(
      location,
      async (binding) => {
        pinged.push(binding.bindingKey);
        return binding.bindingKey === 'alive';
      },
      { ...DEFAULT_NAT, keepaliveMaxFailures: 2 },
      'node-a',
      log,
    );
    await keepalive.tick();
    expect(pinged.sort()).toEqual(['alive', 'gone!']);
    expect(location.lookup(AOR)).toHaveLength(5);
    await keepalive.tick();
    expect(
      location
        .lookup(AOR)
        .map((b) => b.bindingKey)
        .sort(),
    ).toEqual(['alive', 'other-node', 'public', 'tcp-one']);
    await location.flush();
    expect(await testDb.db.prisma.registration.count()).toBe(4);
    await location.close();
  });
});
