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
    const location = new LocationService(testDb.db, { nodeName: 'node-a', log });
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

  it('does not let a device that never answers hold up the next rounds', async () => {
    const location = new LocationService(testDb.db, { nodeName: 'node-a', log, writeBehindMs: 0 });
    await location.load();
    const aor = 'sip:bob@example.test';
    const natted = (key: string): Binding =>
      makeBinding({
        aor,
        subscriberId,
        bindingKey: key,
        contactUri: `sip:bob@192.168.1.${key.length}:5060`,
        receivedAddress: '198.51.100.9',
        receivedPort: 40000 + key.length,
      });
    await location.update(aor, () => ({ upserts: [natted('mute'), natted('alive!')], removals: [] }));
    let answerMute: (answered: boolean) => void = () => undefined;
    const pinged: string[] = [];
    const keepalive = new NatKeepalive(
      location,
      (binding) => {
        pinged.push(binding.bindingKey);
        if (binding.bindingKey !== 'mute') return Promise.resolve(true);
        // Like an OPTIONS to a device that is gone: no answer until the transaction times out.
        return new Promise<boolean>((resolve) => {
          answerMute = resolve;
        });
      },
      { ...DEFAULT_NAT, keepaliveConcurrency: 2 },
      'node-a',
      log,
    );
    const first = keepalive.tick();
    await keepalive.tick();
    await keepalive.tick();
    // The second and third rounds finished while the first ping to 'mute' still waits, and did
    // not ping it again.
    expect(pinged.filter((key) => key === 'mute')).toHaveLength(1);
    expect(pinged.filter((key) => key === 'alive!')).toHaveLength(3);
    answerMute(false);
    await first;
    await location.close();
  });
});
