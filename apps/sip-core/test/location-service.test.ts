import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { BindingConflict, LocationService, REGISTRATIONS_CHANNEL } from '../src/location/location-service.ts';
import { makeBinding } from './support/bindings.ts';
import { createSubscriber, createTenant, createTestDatabase, type TestDatabase } from './support/database.ts';

const log = pino({ level: 'silent' });
const AOR = 'sip:alice@example.test';
let testDb: TestDatabase;
let subscriberId: string;

beforeAll(async () => {
  testDb = await createTestDatabase();
  const tenant = await createTenant(testDb.db);
  subscriberId = await createSubscriber(testDb.db, tenant, 'alice', 'secret');
});

afterAll(async () => {
  await testDb?.drop();
});

afterEach(async () => {
  vi.useRealTimers();
  await testDb.db.prisma.registration.deleteMany({});
});

describe('LocationService', () => {
  it('persists bindings so that a restarted service finds them again', async () => {
    const first = new LocationService(testDb.db.prisma, { nodeName: 'node-a', log });
    await first.load();
    const bindings = await first.update(AOR, () => ({
      upserts: [
        makeBinding({ aor: AOR, subscriberId, contactUri: 'sip:alice@192.0.2.10:5060', bindingKey: 'a' }),
        makeBinding({
          aor: AOR,
          subscriberId,
          contactUri: 'sip:alice@192.0.2.11:5060',
          bindingKey: 'b',
          q: 0.5,
        }),
      ],
      removals: [],
    }));
    expect(bindings.map((b) => b.bindingKey)).toEqual(['a', 'b']);
    first.stop();

    const restarted = new LocationService(testDb.db.prisma, { nodeName: 'node-a', log });
    await restarted.load();
    expect(restarted.lookup(AOR).map((b) => b.contactUri)).toEqual([
      'sip:alice@192.0.2.10:5060',
      'sip:alice@192.0.2.11:5060',
    ]);
    restarted.stop();
  });

  it('removes bindings and leaves the others', async () => {
    const service = new LocationService(testDb.db.prisma, { nodeName: 'node-a', log });
    await service.load();
    await service.update(AOR, () => ({
      upserts: [
        makeBinding({ aor: AOR, subscriberId, bindingKey: 'a' }),
        makeBinding({ aor: AOR, subscriberId, bindingKey: 'b' }),
      ],
      removals: [],
    }));
    await service.remove(AOR, 'a');
    expect(service.lookup(AOR).map((b) => b.bindingKey)).toEqual(['b']);
    expect(await testDb.db.prisma.registration.count()).toBe(1);
    service.stop();
  });

  it('refuses a conflicting change without touching anything', async () => {
    const service = new LocationService(testDb.db.prisma, { nodeName: 'node-a', log });
    await service.load();
    await service.update(AOR, () => ({
      upserts: [makeBinding({ aor: AOR, subscriberId, bindingKey: 'a' })],
      removals: [],
    }));
    await expect(
      service.update(AOR, () => {
        throw new BindingConflict(500, 'out of order');
      }),
    ).rejects.toBeInstanceOf(BindingConflict);
    expect(service.lookup(AOR)).toHaveLength(1);
    service.stop();
  });

  it('keeps at most maxBindingsPerAor, dropping those that expire first', async () => {
    const service = new LocationService(testDb.db.prisma, { nodeName: 'node-a', log, maxBindingsPerAor: 2 });
    await service.load();
    const now = Date.now();
    await service.update(AOR, () => ({
      upserts: [
        makeBinding({ aor: AOR, subscriberId, bindingKey: 'soon', expiresAt: now + 60_000 }),
        makeBinding({ aor: AOR, subscriberId, bindingKey: 'late', expiresAt: now + 600_000 }),
      ],
      removals: [],
    }));
    await service.update(AOR, () => ({
      upserts: [makeBinding({ aor: AOR, subscriberId, bindingKey: 'new' })],
      removals: [],
    }));
    expect(
      service
        .lookup(AOR)
        .map((b) => b.bindingKey)
        .sort(),
    ).toEqual(['late', 'new']);
    expect(await testDb.db.prisma.registration.count()).toBe(2);
    service.stop();
  });

  it('commits many concurrent registrations together, and a duplicated contact once', async () => {
    const service = new LocationService(testDb.db.prisma, { nodeName: 'node-a', log });
    await service.load();
    const aors = Array.from({ length: 40 }, (_, i) => `sip:user${i}@example.test`);
    await Promise.all(
      aors.map((aor) =>
        service.update(aor, () => ({
          upserts: [
            makeBinding({ aor, subscriberId, bindingKey: 'same', cseq: 1 }),
            makeBinding({ aor, subscriberId, bindingKey: 'same', cseq: 2 }),
          ],
          removals: [],
        })),
      ),
    );
    expect(await testDb.db.prisma.registration.count()).toBe(40);
    const row = await testDb.db.prisma.registration.findFirstOrThrow({ where: { aor: aors[7] } });
    expect(row.cseq).toBe(2);
    const restarted = new LocationService(testDb.db.prisma, { nodeName: 'node-a', log });
    await restarted.load();
    expect(restarted.lookup(aors[39]!)).toHaveLength(1);
    restarted.stop();
    service.stop();
  });

  it('expires a binding by its own timer, in memory and in the table', async () => {
    let clock = Date.now();
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const service = new LocationService(testDb.db.prisma, { nodeName: 'node-a', log, now: () => clock });
    await service.load();
    const expired: string[] = [];
    service.onExpired((binding) => expired.push(binding.bindingKey));
    await service.update(AOR, () => ({
      upserts: [
        makeBinding({ aor: AOR, subscriberId, bindingKey: 'short', expiresAt: clock + 60_000 }),
        makeBinding({ aor: AOR, subscriberId, bindingKey: 'long', expiresAt: clock + 3_600_000 }),
      ],
      removals: [],
    }));
    clock += 59_000;
    vi.advanceTimersByTime(59_000);
    expect(expired).toEqual([]);
    clock += 1_000;
    vi.advanceTimersByTime(1_000);
    expect(expired).toEqual(['short']);
    expect(service.lookup(AOR).map((b) => b.bindingKey)).toEqual(['long']);
    vi.useRealTimers();
    await vi.waitFor(async () => expect(await testDb.db.prisma.registration.count()).toBe(1), {
      timeout: 10_000,
    });
    service.stop();
  });

  it('follows changes made by another node through the change feed', async () => {
    const nodeA = new LocationService(testDb.db.prisma, { nodeName: 'node-a', log });
    const nodeB = new LocationService(testDb.db.prisma, { nodeName: 'node-b', log });
    await nodeA.load();
    await nodeB.load();
    const stop = await testDb.db.onChange(
      REGISTRATIONS_CHANNEL,
      (payload) => void nodeB.onAnnouncement(payload),
    );
    try {
      await nodeA.update(AOR, () => ({
        upserts: [makeBinding({ aor: AOR, subscriberId, bindingKey: 'a' })],
        removals: [],
      }));
      await vi.waitFor(() => expect(nodeB.lookup(AOR).map((b) => b.bindingKey)).toEqual(['a']), {
        timeout: 10_000,
      });
      await nodeA.remove(AOR, 'a');
      await vi.waitFor(() => expect(nodeB.lookup(AOR)).toEqual([]), { timeout: 10_000 });
    } finally {
      await stop();
      nodeA.stop();
      nodeB.stop();
    }
  });
});
