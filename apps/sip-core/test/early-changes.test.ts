import type { PrismaClient } from '@switchboard/db';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { EarlyChanges } from '../src/early-changes.ts';
import { type RunningSipCore, startSipCore } from '../src/start.ts';
import { createSubscriber, createTenant, createTestDatabase, type TestDatabase } from './support/database.ts';
import { describeOnEngine, onEngine, startTestEngine, type TestEngine } from './support/engine.ts';

const log = pino({ level: process.env.SIPCORE_TEST_LOG ?? 'silent' });

describe('changes that arrive before the caches have loaded', () => {
  it('are kept and handed over in order once the handler is attached, then passed straight on', () => {
    const early = new EarlyChanges();
    const seen: string[] = [];
    let reloads = 0;
    early.take('subscriber:1');
    early.take('domain:2');
    expect(seen).toEqual([]);
    early.attach(
      (payload) => seen.push(payload),
      () => reloads++,
    );
    early.take('subscriber:3');
    expect(seen).toEqual(['subscriber:1', 'domain:2', 'subscriber:3']);
    early.reconnected();
    expect(reloads).toBe(1);
  });

  it('become one reload when the feed reconnected meanwhile or more arrived than are kept', () => {
    for (const [burst, reconnect] of [
      [1, true],
      [10_001, false],
    ] as const) {
      const early = new EarlyChanges();
      const seen: string[] = [];
      let reloads = 0;
      for (let i = 0; i < burst; i++) early.take(`subscriber:${i}`);
      if (reconnect) early.reconnected();
      early.attach(
        (payload) => seen.push(payload),
        () => reloads++,
      );
      expect({ seen: seen.length, reloads }).toEqual({ seen: 0, reloads: 1 });
    }
  });
});

let testDb: TestDatabase | undefined;
let engine: TestEngine | undefined;
let sipCore: RunningSipCore | undefined;
afterAll(async () => {
  await sipCore?.close();
  await engine?.close();
  await testDb?.drop();
});

/**
 * The Prisma client sip-core is given, except that the directory's first page of subscribers is
 * followed, before it is returned, by `meanwhile`: a change committed after the load read its rows.
 */
function withChangeDuringLoad(prisma: PrismaClient, meanwhile: () => Promise<unknown>): PrismaClient {
  let done = false;
  const subscriber = new Proxy(prisma.subscriber, {
    get(target, name, receiver) {
      if (name !== 'findMany' || done) return Reflect.get(target, name, receiver);
      return async (args: Parameters<PrismaClient['subscriber']['findMany']>[0]) => {
        const rows = await target.findMany(args);
        done = true;
        await meanwhile();
        return rows;
      };
    },
  });
  return new Proxy(prisma, {
    get: (target, name, receiver) =>
      name === 'subscriber' ? subscriber : Reflect.get(target, name, receiver),
  });
}

describeOnEngine(onEngine('sip-core starting while the database changes'), { timeout: 60_000 }, () => {
  it('knows a subscriber created after the directory read its rows, without a registration', async () => {
    const DOMAIN = 'early-changes.test';
    testDb = await createTestDatabase();
    const db = testDb.db;
    const tenant = await createTenant(db, DOMAIN);
    const alice = await createSubscriber(db, tenant, 'alice', 'alice-secret');
    let carol = '';
    engine = await startTestEngine({ secret: 'early-changes-secret', logger: log });
    sipCore = await startSipCore(
      { drachtio: engine.drachtio, nodeName: 'early-changes', nat: { keepaliveInterval: 0 } },
      {
        prisma: withChangeDuringLoad(db.prisma, async () => {
          carol = await createSubscriber(db, tenant, 'carol', 'carol-secret');
        }),
        db,
        logger: log,
      },
    );
    const directory = sipCore.caches.directory;
    expect(directory.subscriberById(alice)?.username).toBe('alice');
    // Routing (a call's or a message's callee) reads the directory only: carol must be in it.
    for (let attempt = 0; attempt < 50 && !directory.subscriberById(carol); attempt++)
      await new Promise((resolve) => setTimeout(resolve, 100));
    expect(directory.subscriberById(carol)?.username).toBe('carol');
  });
});
