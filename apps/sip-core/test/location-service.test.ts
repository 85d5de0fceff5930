import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { openDatabase } from '@switchboard/db';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { uuidv7 } from '../src/location/binding-writer.ts';
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
  it('writes and removes bindings on the embedded database too (the driver, not the ORM, runs the batches)', async () => {
    const embedded = await openDatabase({ dataDir: '.', inMemory: true, log });
    try {
      await embedded.migrate();
      const tenant = await createTenant(embedded);
      const owner = await createSubscriber(embedded, tenant, 'alice', 'secret');
      const service = new LocationService(embedded, { nodeName: 'node-a', log, writeBehindMs: 0 });
      await service.load();
      const binding = (key: string, path: string[]) =>
        makeBinding({
          aor: AOR,
          subscriberId: owner,
          contactUri: `sip:alice@192.0.2.${key}:5060`,
          bindingKey: key,
          path,
        });
      await service.update(AOR, () => ({
        upserts: [binding('1', ['<sip:edge;lr>']), binding('2', [])],
        removals: [],
      }));
      await service.update(AOR, () => ({ upserts: [], removals: ['1'] }));
      await service.close();
      const rows = await embedded.prisma.registration.findMany({ where: { aor: AOR } });
      expect(rows.map((row) => [row.bindingKey, row.contactUri, row.path])).toEqual([
        ['2', 'sip:alice@192.0.2.2:5060', []],
      ]);
    } finally {
      await embedded.close();
    }
  });

  it('persists bindings so that a restarted service finds them again', async () => {
    const first = new LocationService(testDb.db, { nodeName: 'node-a', log });
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
    await first.close();

    const restarted = new LocationService(testDb.db, { nodeName: 'node-a', log });
    await restarted.load();
    expect(restarted.lookup(AOR).map((b) => b.contactUri)).toEqual([
      'sip:alice@192.0.2.10:5060',
      'sip:alice@192.0.2.11:5060',
    ]);
    await restarted.close();
  });

  it('writes every field of a binding and reads it back after a restart, unusual values included', async () => {
    const first = new LocationService(testDb.db, { nodeName: 'node-a', log });
    await first.load();
    const full = makeBinding({
      aor: AOR,
      subscriberId,
      bindingKey: '<urn:uuid:00000000-0000-4000-8000-000000000001>;1',
      contactUri: 'sip:alice@192.0.2.12:5062;transport=tcp;ob',
      receivedAddress: '2001:db8::12',
      receivedPort: 50612,
      transport: 'tcp',
      localSocket: 'tcp:192.0.2.1:5060',
      path: ['<sip:edge1.example.test;lr>', '<sip:edge2.example.test;lr;x="a,b {c}">'],
      userAgent: 'Phone "X" 1.0, {beta}',
      instanceId: '<urn:uuid:00000000-0000-4000-8000-000000000001>',
      regId: 1,
      q: 0.7,
      callId: 'call-\u00e9t\u00e9@host',
      cseq: 42,
      pnProvider: 'apns',
      pnPrid: 'token,with,commas',
      pnParam: 'ABCD1234.com.example.voip',
      pnRefresh: 60,
    });
    const bare = makeBinding({
      aor: AOR,
      subscriberId,
      bindingKey: 'bare',
      contactUri: 'sip:alice@192.0.2.13',
    });
    await first.update(AOR, () => ({ upserts: [full, bare], removals: [] }));
    await first.close();

    const restarted = new LocationService(testDb.db, { nodeName: 'node-a', log });
    await restarted.load();
    const byKey = new Map(restarted.lookup(AOR).map((b) => [b.bindingKey, b]));
    const back = byKey.get(full.bindingKey)!;
    for (const field of [
      'contactUri',
      'receivedAddress',
      'receivedPort',
      'transport',
      'localSocket',
      'path',
      'expiresAt',
      'userAgent',
      'instanceId',
      'regId',
      'q',
      'callId',
      'cseq',
      'pnProvider',
      'pnPrid',
      'pnParam',
      'pnRefresh',
    ] as const)
      expect([field, back[field]]).toEqual([field, full[field]]);
    const plain = byKey.get('bare')!;
    expect([plain.path, plain.localSocket, plain.regId, plain.pnRefresh]).toEqual([
      [],
      bare.localSocket,
      bare.regId,
      null,
    ]);
    await restarted.close();
  });

  it('removes bindings and leaves the others', async () => {
    const service = new LocationService(testDb.db, { nodeName: 'node-a', log });
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
    await service.flush();
    expect(await testDb.db.prisma.registration.count()).toBe(1);
    await service.close();
  });

  it('keeps an AOR whole as it goes from one binding to several and back to none', async () => {
    const service = new LocationService(testDb.db, { nodeName: 'node-a', log });
    await service.load();
    // Every binding once, and the gauge's count agreeing with what is visited.
    const keys = () => {
      const found: string[] = [];
      service.forEachBinding((b) => found.push(b.bindingKey));
      expect(service.bindingCount).toBe(found.length);
      return found;
    };
    await service.update(AOR, () => ({
      upserts: [makeBinding({ aor: AOR, subscriberId, bindingKey: 'a' })],
      removals: [],
    }));
    // A refresh of the only binding replaces it rather than adding a second.
    await service.update(AOR, () => ({
      upserts: [makeBinding({ aor: AOR, subscriberId, bindingKey: 'a', cseq: 2 })],
      removals: [],
    }));
    expect(service.lookup(AOR).map((b) => [b.bindingKey, b.cseq])).toEqual([['a', 2]]);
    await service.update(AOR, () => ({
      upserts: [makeBinding({ aor: AOR, subscriberId, bindingKey: 'b' })],
      removals: [],
    }));
    expect(keys()).toEqual(['a', 'b']);
    await service.remove(AOR, 'a');
    expect(keys()).toEqual(['b']);
    await service.update(AOR, () => ({
      upserts: [makeBinding({ aor: AOR, subscriberId, bindingKey: 'c' })],
      removals: [],
    }));
    expect(keys()).toEqual(['b', 'c']);
    await service.update(AOR, () => ({ upserts: [], removals: ['b', 'c'] }));
    expect(service.lookup(AOR)).toEqual([]);
    expect(keys()).toEqual([]);
    expect(service.aorCount).toBe(0);
    await service.close();
  });

  it("a refresh takes the REGISTER's new values, whether the AOR holds one binding or several", async () => {
    const service = new LocationService(testDb.db, { nodeName: 'node-a', log });
    await service.load();
    const first = { contactUri: 'sip:alice@192.0.2.10:5060', receivedAddress: '198.51.100.1', callId: 'c1' };
    const moved = { contactUri: 'sip:alice@192.0.2.20:5070', receivedAddress: '198.51.100.2', callId: 'c2' };
    const seen = () =>
      service.lookup(AOR).map((b) => [b.bindingKey, b.contactUri, b.receivedAddress, b.callId, b.cseq]);
    for (const [keys, label] of [
      [['a'], 'one'],
      [['a', 'b'], 'several'],
    ] as const) {
      await service.update(AOR, () => ({
        upserts: keys.map((bindingKey) => makeBinding({ aor: AOR, subscriberId, bindingKey, ...first })),
        removals: [],
      }));
      // The same values again (the usual refresh), then new ones (the device moved, a new Call-ID).
      await service.update(AOR, () => ({
        upserts: [makeBinding({ aor: AOR, subscriberId, bindingKey: 'a', ...first, cseq: 2 })],
        removals: [],
      }));
      await service.update(AOR, () => ({
        upserts: [makeBinding({ aor: AOR, subscriberId, bindingKey: 'a', ...moved, cseq: 3 })],
        removals: [],
      }));
      expect(seen(), label).toEqual([
        ['a', moved.contactUri, moved.receivedAddress, moved.callId, 3],
        ...keys.slice(1).map((key) => [key, first.contactUri, first.receivedAddress, first.callId, 1]),
      ]);
      // A device without an instance id is keyed by its Contact URI: both read back as that URI.
      await service.update(AOR, () => ({
        upserts: [makeBinding({ aor: AOR, subscriberId, bindingKey: moved.contactUri, ...moved })],
        removals: [],
      }));
      const byContact = service.lookup(AOR).find((b) => b.bindingKey === moved.contactUri);
      expect(byContact?.contactUri).toBe(moved.contactUri);
      await service.update(AOR, () => ({ upserts: [], removals: [...keys, moved.contactUri] }));
      expect(service.lookup(AOR)).toEqual([]);
    }
    await service.close();
  });

  it('refuses a conflicting change without touching anything', async () => {
    const service = new LocationService(testDb.db, { nodeName: 'node-a', log });
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
    await service.close();
  });

  it('keeps at most maxBindingsPerAor, dropping those that expire first', async () => {
    const service = new LocationService(testDb.db, { nodeName: 'node-a', log, maxBindingsPerAor: 2 });
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
    await service.flush();
    expect(await testDb.db.prisma.registration.count()).toBe(2);
    await service.close();
  });

  it('commits many concurrent registrations together, and a duplicated contact once', async () => {
    const service = new LocationService(testDb.db, { nodeName: 'node-a', log });
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
    await service.flush();
    expect(await testDb.db.prisma.registration.count()).toBe(40);
    const row = await testDb.db.prisma.registration.findFirstOrThrow({ where: { aor: aors[7] } });
    expect(row.cseq).toBe(2);
    const restarted = new LocationService(testDb.db, { nodeName: 'node-a', log });
    await restarted.load();
    expect(restarted.lookup(aors[39]!)).toHaveLength(1);
    await restarted.close();
    await service.close();
  });

  it('expires a binding on time, in memory and in the table', async () => {
    let clock = Date.now();
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const service = new LocationService(testDb.db, { nodeName: 'node-a', log, now: () => clock });
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
    // Written behind: the rows must be in before the expiry's conditional DELETE runs.
    await service.flush();
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
    await service.close();
  });

  it('follows changes made by another node through the change feed', async () => {
    const nodeA = new LocationService(testDb.db, { nodeName: 'node-a', log });
    const nodeB = new LocationService(testDb.db, { nodeName: 'node-b', log });
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
      await nodeA.close();
      await nodeB.close();
    }
  });

  it('drops a binding the API removed, on the node that holds it, once its AOR is announced', async () => {
    const node = new LocationService(testDb.db, { nodeName: 'node-a', log });
    await node.load();
    const stop = await testDb.db.onChange(
      REGISTRATIONS_CHANNEL,
      (payload) => void node.onAnnouncement(payload),
    );
    try {
      await node.update(AOR, () => ({
        upserts: [makeBinding({ aor: AOR, subscriberId, bindingKey: 'kicked' })],
        removals: [],
      }));
      await node.flush();
      // What DELETE /api/v1/registrations/{id} does: remove the row, then announce the AOR.
      await testDb.db.prisma.registration.deleteMany({ where: { aor: AOR, bindingKey: 'kicked' } });
      const payload = JSON.stringify({ aors: [AOR], origin: 'api' });
      await testDb.db.prisma.$executeRaw`SELECT pg_notify(${REGISTRATIONS_CHANNEL}, ${payload})`;
      await vi.waitFor(() => expect(node.lookup(AOR)).toEqual([]), { timeout: 10_000 });
    } finally {
      await stop();
      await node.close();
    }
  });

  describe('write-behind (durability rule)', () => {
    const rowOf = (bindingKey: string) =>
      testDb.db.prisma.registration.findUnique({ where: { aor_bindingKey: { aor: AOR, bindingKey } } });

    it('answers from memory and writes the change by itself within the window', async () => {
      const service = new LocationService(testDb.db, { nodeName: 'node-a', log, writeBehindMs: 100 });
      await service.load();
      await service.update(AOR, () => ({
        upserts: [makeBinding({ aor: AOR, subscriberId, bindingKey: 'a' })],
        removals: [],
      }));
      expect(service.lookup(AOR)).toHaveLength(1);
      // No flush, no close: the writer's own timer writes it.
      await vi.waitFor(async () => expect(await rowOf('a')).not.toBeNull(), { timeout: 10_000 });
      expect(service.unwrittenCount).toBe(0);
      await service.close();
    });

    it('has a refresh written behind on disk after a clean shutdown', async () => {
      const service = new LocationService(testDb.db, {
        nodeName: 'node-a',
        log,
        writeBehindMs: 600_000,
      });
      await service.load();
      const first = Date.now() + 600_000;
      await service.update(AOR, () => ({
        upserts: [makeBinding({ aor: AOR, subscriberId, bindingKey: 'a', cseq: 1, expiresAt: first })],
        removals: [],
      }));
      await service.flush();
      const refreshed = first + 1_200_000;
      await service.update(AOR, () => ({
        upserts: [makeBinding({ aor: AOR, subscriberId, bindingKey: 'a', cseq: 2, expiresAt: refreshed })],
        removals: [],
      }));
      // Answered (in memory), not yet in the table: the window is ten minutes.
      expect(service.lookup(AOR)[0]?.cseq).toBe(2);
      expect((await rowOf('a'))?.cseq).toBe(1);
      expect(service.unwrittenCount).toBe(1);

      await service.close();
      const row = await rowOf('a');
      expect(row?.cseq).toBe(2);
      expect(row?.expiresAt.getTime()).toBe(refreshed);
    });

    it('loses on a crash (SIGKILL) only the changes of the current window', async () => {
      const child = spawn(
        process.execPath,
        ['--import', 'tsx', fileURLToPath(new URL('./support/location-crash-child.ts', import.meta.url))],
        {
          stdio: ['ignore', 'pipe', 'pipe'],
          env: { ...process.env, CRASH_DATABASE_URL: testDb.url, CRASH_SUBSCRIBER_ID: subscriberId },
        },
      );
      let output = '';
      child.stderr.on('data', (chunk: Buffer) => {
        output += chunk.toString();
      });
      const exited = new Promise<NodeJS.Signals | null>((resolve) =>
        child.once('exit', (_code, signal) => resolve(signal)),
      );
      await new Promise<void>((resolve, reject) => {
        child.stdout.on('data', (chunk: Buffer) => {
          output += chunk.toString();
          if (output.includes('answered 2')) resolve();
        });
        child.once('exit', (code) =>
          reject(new Error(`child exited (${code}) before answering:\n${output}`)),
        );
      });
      child.kill('SIGKILL');
      expect(await exited).toBe('SIGKILL');

      const restarted = new LocationService(testDb.db, { nodeName: 'node-a', log });
      await restarted.load();
      // The committed window survived; the answered refresh and new binding of the open one did not.
      expect(restarted.lookup(AOR).map((b) => [b.bindingKey, b.cseq])).toEqual([['a', 1]]);
      await restarted.close();
    }, 60_000);

    it('keeps its unwritten changes when another node announces the same AOR', async () => {
      const service = new LocationService(testDb.db, {
        nodeName: 'node-a',
        log,
        writeBehindMs: 600_000,
      });
      await service.load();
      await service.update(AOR, () => ({
        upserts: [makeBinding({ aor: AOR, subscriberId, bindingKey: 'mine' })],
        removals: [],
      }));
      await testDb.db.prisma.registration.create({
        data: {
          ...makeBinding({ aor: AOR, subscriberId, bindingKey: 'theirs', node: 'node-b' }),
          expiresAt: new Date(Date.now() + 600_000),
        },
      });
      await service.onAnnouncement(JSON.stringify({ aors: [AOR], origin: 'node-b-origin' }));
      expect(
        service
          .lookup(AOR)
          .map((b) => b.bindingKey)
          .sort(),
      ).toEqual(['mine', 'theirs']);
      await service.close();
      expect(await rowOf('mine')).not.toBeNull();
    });

    it('retries a failed write until it succeeds, keeping the newest change', async () => {
      const service = new LocationService(testDb.db, { nodeName: 'node-a', log, writeBehindMs: 10 });
      await service.load();
      // A subscriber id that does not exist violates the foreign key: the statement fails.
      const ghost = '01900000-0000-7000-8000-000000000000';
      await service.update(AOR, () => ({
        upserts: [makeBinding({ aor: AOR, subscriberId: ghost, bindingKey: 'a', cseq: 1 })],
        removals: [],
      }));
      await expect(service.flush()).rejects.toThrow(/could not be written/);
      expect(service.unwrittenCount).toBe(1);
      // A newer change to the same binding replaces the failing one and goes through.
      await service.update(AOR, () => ({
        upserts: [makeBinding({ aor: AOR, subscriberId, bindingKey: 'a', cseq: 2 })],
        removals: [],
      }));
      await vi.waitFor(async () => expect((await rowOf('a'))?.cseq).toBe(2), { timeout: 15_000 });
      await service.close();
    });
  });
});

describe('binding row ids', () => {
  it('are version 7 UUIDs (RFC 9562 §5.7) carrying the time they were made, in time order', () => {
    const before = Date.now();
    const ids = Array.from({ length: 50 }, () => uuidv7());
    const after = Date.now();
    for (const id of ids) {
      expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      const ms = Number.parseInt(id.replace(/-/g, '').slice(0, 12), 16);
      expect(ms).toBeGreaterThanOrEqual(before);
      expect(ms).toBeLessThanOrEqual(after);
    }
    expect(new Set(ids).size).toBe(ids.length);
  });
});
