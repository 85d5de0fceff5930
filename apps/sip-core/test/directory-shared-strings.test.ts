import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Directory } from '../src/directory/directory.ts';
import { createSubscriber, createTenant, createTestDatabase, type TestDatabase } from './support/database.ts';

const log = pino({ level: 'silent' });
let testDb: TestDatabase;
let aliceId: string;
let bobId: string;

beforeAll(async () => {
  testDb = await createTestDatabase();
  const tenant = await createTenant(testDb.db);
  aliceId = await createSubscriber(testDb.db, tenant, 'alice', 'secret');
  bobId = await createSubscriber(testDb.db, tenant, 'bob', 'secret');
});

afterAll(async () => {
  await testDb?.drop();
});

describe('Directory sharing strings with another index', () => {
  it('asks the other index for each subscriber and keeps the database username when the other is stale', async () => {
    const asked: string[] = [];
    // The other index knows alice under a name she has since changed, and bob not at all.
    const directory = new Directory(testDb.db.prisma, log, (id) => {
      asked.push(id);
      return id === aliceId ? { id: aliceId, username: 'alice-before-rename' } : undefined;
    });
    await directory.load();
    expect(asked.sort()).toEqual([aliceId, bobId].sort());
    expect(directory.findSubscriber('alice', 'example.test')?.id).toBe(aliceId);
    expect(directory.findSubscriber('alice-before-rename', 'example.test')).toBeUndefined();
    expect(directory.subscriberById(aliceId)?.username).toBe('alice');
    expect(directory.findSubscriber('bob', 'example.test')?.id).toBe(bobId);
  });
});
