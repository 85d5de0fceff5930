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

  it("takes a customer's subscribers in a domain it has not heard of", async () => {
    const directory = new Directory(testDb.db.prisma, log);
    await directory.load();
    const tenant = await createTenant(testDb.db, 'customer-change.test');
    const dave = await createSubscriber(testDb.db, tenant, 'dave', 'secret');
    await directory.onCustomerChanged(tenant.customerId);
    expect(directory.findSubscriber('dave', 'customer-change.test')?.id).toBe(dave);
  });
});
