import { pino } from 'pino';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { AUTO_BAN_CREATOR, BanService } from '../src/access/ban-service.ts';
import { type AccessConfig, DEFAULT_ACCESS } from '../src/config.ts';
import { createTestDatabase, type TestDatabase } from './support/database.ts';

const log = pino({ level: 'silent' });
let testDb: TestDatabase;
let clock: number;
const config: AccessConfig = {
  ...DEFAULT_ACCESS,
  maxFailuresPerAddress: 3,
  maxFailuresPerUser: 2,
  failureWindow: 60,
  banDuration: 300,
  userDelayMax: 8,
  trustedSources: ['203.0.113.0/24'],
};

beforeAll(async () => {
  testDb = await createTestDatabase();
});
afterAll(async () => {
  await testDb?.drop();
});
beforeEach(async () => {
  clock = Date.now();
  await testDb.db.prisma.ipBan.deleteMany({});
});

function service(): BanService {
  return new BanService(testDb.db.prisma, config, log, () => clock);
}

describe('BanService', () => {
  it('bans an address after N failures, stores the ban, and lifts it when it expires', async () => {
    const bans = service();
    await bans.load();
    expect((await bans.recordFailure('192.0.2.9', 'u1')).addressBanned).toBe(false);
    expect((await bans.recordFailure('192.0.2.9', 'u2')).addressBanned).toBe(false);
    expect(bans.isBanned('192.0.2.9')).toBe(false);
    expect((await bans.recordFailure('192.0.2.9', 'u3')).addressBanned).toBe(true);
    expect(bans.isBanned('192.0.2.9')).toBe(true);
    expect(bans.isBanned('192.0.2.10')).toBe(false);

    const row = await testDb.db.prisma.ipBan.findUniqueOrThrow({ where: { address: '192.0.2.9' } });
    expect(row.createdBy).toBe(AUTO_BAN_CREATOR);
    expect(row.expiresAt?.getTime()).toBe(clock + 300_000);

    // Another node (or a restart) sees the same ban.
    const other = service();
    await other.load();
    expect(other.isBanned('192.0.2.9')).toBe(true);

    clock += 300_001;
    expect(bans.isBanned('192.0.2.9')).toBe(false);
  });

  it('counts failures inside the window only, and forgets them after a success', async () => {
    const bans = service();
    await bans.load();
    await bans.recordFailure('192.0.2.20', undefined);
    await bans.recordFailure('192.0.2.20', undefined);
    clock += 61_000;
    expect((await bans.recordFailure('192.0.2.20', undefined)).addressBanned).toBe(false);
    await bans.recordFailure('192.0.2.20', undefined);
    bans.recordSuccess('192.0.2.20', 'x');
    expect((await bans.recordFailure('192.0.2.20', undefined)).addressBanned).toBe(false);
  });

  it('never locks a username: failures beyond its limit are only answered later, doubling to a cap', async () => {
    const bans = service();
    await bans.load();
    const delays: number[] = [];
    // Each failure from its own address: no address reaches its ban limit.
    for (let i = 0; i < 7; i++) delays.push((await bans.recordFailure(`192.0.2.${30 + i}`, 'carol')).delayMs);
    expect(delays).toEqual([0, 0, 1000, 2000, 4000, 8000, 8000]);
    expect(await testDb.db.prisma.ipBan.count()).toBe(0);
    // The window over, carol's failures are answered at once again.
    clock += 61_000;
    expect((await bans.recordFailure('192.0.2.40', 'carol')).delayMs).toBe(0);
  });

  it('never bans trusted sources', async () => {
    const bans = service();
    await bans.load();
    for (let i = 0; i < 5; i++) await bans.recordFailure('203.0.113.5', undefined);
    expect(bans.isBanned('203.0.113.5')).toBe(false);
    expect(bans.isTrusted('203.0.113.5')).toBe(true);
  });

  it('follows bans added and removed by operators through the change feed', async () => {
    const bans = service();
    await bans.load();
    const stop = await testDb.db.onChange('switchboard_changes', (payload) => {
      const change = JSON.parse(payload) as { table: string; id: string | null };
      if (change.table === 'ip_bans') void bans.onBanChanged(change.id);
    });
    try {
      const row = await testDb.db.prisma.ipBan.create({
        data: { address: '198.51.100.0/24', createdBy: 'operator@example.test' },
      });
      await vi.waitFor(() => expect(bans.isBanned('198.51.100.77')).toBe(true), { timeout: 10_000 });
      await testDb.db.prisma.ipBan.delete({ where: { id: row.id } });
      await vi.waitFor(() => expect(bans.isBanned('198.51.100.77')).toBe(false), { timeout: 10_000 });
    } finally {
      await stop();
    }
  });
});
