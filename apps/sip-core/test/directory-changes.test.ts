import type { PrismaClient } from '@switchboard/db';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Directory } from '../src/directory/directory.ts';
import { createSubscriber, createTenant, createTestDatabase, type TestDatabase } from './support/database.ts';

const log = pino({ level: 'silent' });
let testDb: TestDatabase;

beforeAll(async () => {
  testDb = await createTestDatabase();
  await createTenant(testDb.db, 'before-start.test');
});

afterAll(async () => {
  await testDb?.drop();
});

type Query = (args: unknown) => Promise<unknown>;

/** `prisma` with one model's `method` replaced by `wrap` around the real one. */
function intercept(
  prisma: PrismaClient,
  model: 'domain' | 'subscriber',
  method: string,
  wrap: (real: Query, args: unknown) => Promise<unknown>,
): PrismaClient {
  return new Proxy(prisma, {
    get(target, key, receiver) {
      const delegate: unknown = Reflect.get(target, key, receiver);
      if (key !== model) return delegate;
      return new Proxy(delegate as object, {
        get(real, name, realReceiver) {
          const original: unknown = Reflect.get(real, name, realReceiver);
          if (name !== method) return original;
          return (args: unknown) => wrap((a) => (original as Query).call(real, a), args);
        },
      });
    },
  });
}

describe('Directory following the change feed', () => {
  it("takes a new subscriber whose new domain's change has not been applied yet", async () => {
    const directory = new Directory(testDb.db.prisma, log);
    await directory.load();
    // A domain and a subscriber in it created after the load: the feed announces both, and their
    // changes are applied side by side, so the subscriber's can finish first.
    const tenant = await createTenant(testDb.db, 'after-start.test');
    const carol = await createSubscriber(testDb.db, tenant, 'carol', 'secret');
    await directory.onSubscriberChanged(carol);
    expect(directory.findSubscriber('carol', 'after-start.test')?.id).toBe(carol);
    expect(directory.servesDomain('after-start.test')).toBe(true);
  });

  it('finds a domain created after the load with one read, and remembers one nobody has', async () => {
    let reads = 0;
    const counted = intercept(testDb.db.prisma, 'domain', 'findFirst', (findFirst, args) => {
      reads++;
      return findFirst(args);
    });
    const directory = new Directory(counted, log);
    await directory.load();
    await createTenant(testDb.db, 'Lookup-Later.test');
    expect(directory.servesDomain('lookup-later.test')).toBe(false);
    const [first, second] = await Promise.all([
      directory.lookupDomain('LOOKUP-later.test'),
      directory.lookupDomain('lookup-later.test'),
    ]);
    expect([first, second]).toEqual([true, true]);
    expect(reads).toBe(1);
    expect(directory.servesDomain('lookup-later.test')).toBe(true);
    expect(await directory.lookupDomain('nobody.test')).toBe(false);
    expect(await directory.lookupDomain('nobody.test')).toBe(false);
    expect(reads).toBe(2);
  });

  it('answers a domain lookup the database fails as not served, and does not ask again at once', async () => {
    let reads = 0;
    const failing = intercept(testDb.db.prisma, 'domain', 'findFirst', () => {
      reads++;
      return Promise.reject(new Error('connection refused'));
    });
    const directory = new Directory(failing, log);
    await directory.load();
    expect(await directory.lookupDomain('outage.test')).toBe(false);
    expect(await directory.lookupDomain('outage.test')).toBe(false);
    expect(reads).toBe(1);
  });

  it("takes a customer's subscribers in a domain it has not heard of", async () => {
    const directory = new Directory(testDb.db.prisma, log);
    await directory.load();
    const tenant = await createTenant(testDb.db, 'customer-change.test');
    const dave = await createSubscriber(testDb.db, tenant, 'dave', 'secret');
    await directory.onCustomerChanged(tenant.customerId);
    expect(directory.findSubscriber('dave', 'customer-change.test')?.id).toBe(dave);
  });

  it("keeps a subscriber added after a customer change's read, and drops one deleted", async () => {
    // The customer change's read of its subscribers waits at the gate, so that a subscriber
    // created and applied meanwhile is not in what it read.
    let openGate = (): void => undefined;
    const gate = new Promise<void>((resolve) => {
      openGate = resolve;
    });
    const prisma = testDb.db.prisma;
    const gated = intercept(prisma, 'subscriber', 'findMany', async (findMany, args) => {
      const rows = await findMany(args);
      if ((args as { where?: { customerId?: string } } | undefined)?.where?.customerId !== undefined)
        await gate;
      return rows;
    });
    const tenant = await createTenant(testDb.db, 'customer-race.test');
    const erin = await createSubscriber(testDb.db, tenant, 'erin', 'secret');
    const gone = await createSubscriber(testDb.db, tenant, 'gone', 'secret');
    const directory = new Directory(gated, log);
    await directory.load();
    // Deleted before the customer change reads (its own change not applied yet): the read leaves it out.
    await prisma.subscriber.delete({ where: { id: gone } });
    const customerChange = directory.onCustomerChanged(tenant.customerId);
    await new Promise((resolve) => setTimeout(resolve, 100));
    const frank = await createSubscriber(testDb.db, tenant, 'frank', 'secret');
    await directory.onSubscriberChanged(frank);
    openGate();
    await customerChange;
    expect(directory.findSubscriber('frank', 'customer-race.test')?.id).toBe(frank);
    expect(directory.findSubscriber('erin', 'customer-race.test')?.id).toBe(erin);
    expect(directory.findSubscriber('gone', 'customer-race.test')).toBeUndefined();
  });
});
