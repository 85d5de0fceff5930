import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import type { Database } from '@switchboard/db';
import { openDatabase } from '@switchboard/db';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { IndexFollower } from '../src/follow.ts';
import { followDatabase } from '../src/follow.ts';
import { NumberingIndex } from '../src/numbering-index.ts';
import type { NumberingService } from '../src/service.ts';
import { startNumberingService } from '../src/service.ts';

const run = promisify(execFile);
const BASE_URL =
  process.env.TEST_DATABASE_URL ?? 'postgresql://switchboard:switchboard@127.0.0.1:5432/switchboard_test';
const DB_NAME = `numbering_${process.pid}_${randomBytes(4).toString('hex')}`;
const TEST_URL = (() => {
  const url = new URL(BASE_URL);
  url.pathname = `/${DB_NAME}`;
  return url.toString();
})();

async function admin(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: BASE_URL });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

describe('the index follows the database (real PostgreSQL)', () => {
  let db: Database;
  let follower: IndexFollower;
  let service: NumberingService;
  const index = new NumberingIndex(undefined, { rng: () => 0 });
  let subscriberId: string;
  let domainId: string;

  beforeAll(async () => {
    await admin(`CREATE DATABASE "${DB_NAME}"`);
    db = await openDatabase({ databaseUrl: TEST_URL, dataDir: '/nonexistent' });
    await db.migrate();
    const customer = await db.prisma.customer.create({ data: { name: 'ACME' } });
    const domain = await db.prisma.domain.create({
      data: { name: 'example.com', countryCode: '43', areaCode: '1' },
    });
    domainId = domain.id;
    const subscriber = await db.prisma.subscriber.create({
      data: { customerId: customer.id, domainId: domain.id, username: 'bob', ha1Md5: 'x', ha1Sha256: 'y' },
    });
    subscriberId = subscriber.id;
    await db.prisma.phoneNumber.create({
      data: {
        subscriberId,
        e164: '+4311001',
        countryCode: '43',
        areaCode: '1',
        subscriberNumber: '1001',
        isPrimary: true,
      },
    });
    follower = await followDatabase({ db, index, debounceMs: 20 });
    await follower.ready;
    service = await startNumberingService({ port: 0, enumListen: 'udp:127.0.0.1:0,tcp:127.0.0.1:0', index });
  });

  afterAll(async () => {
    await service?.close();
    await follower?.close();
    await db?.close();
    await admin(`DROP DATABASE IF EXISTS "${DB_NAME}" WITH (FORCE)`);
  });

  it('loads what is there at start, with the domain dial plan completed from metadata', () => {
    expect(index.lookupNumber('+4311001')?.uri).toBe('sip:bob@example.com');
    // national and international prefixes were left unset: Austria's come from the metadata
    expect(index.normalise('example.com', '0660 1234567')).toMatchObject({ e164: '+436601234567' });
    expect(index.normalise('example.com', '1002')).toMatchObject({ e164: '+4311002', via: 'local' });
  });

  it('answers a number inserted after start, without a restart', async () => {
    expect(index.lookupNumber('+4311050')).toBeNull();
    await db.prisma.phoneNumber.create({
      data: { subscriberId, e164: '+4311050', countryCode: '43', areaCode: '1', subscriberNumber: '1050' },
    });
    await vi.waitFor(() => expect(index.lookupNumber('+4311050')?.uri).toBe('sip:bob@example.com'), {
      timeout: 15_000,
      interval: 50,
    });
    // and the ENUM responder serves it right away
    const port = service.enumAddresses.find((address) => address.transport === 'udp')!.port;
    const { stdout } = await run(
      'dig',
      ['@127.0.0.1', '-p', String(port), '+time=3', '+tries=2', '+short', 'NAPTR', '0.5.0.1.1.3.4.e164.arpa'],
      {
        timeout: 20_000,
      },
    );
    expect(stdout.trim()).toBe('100 10 "u" "E2U+sip" "!^.*$!sip:bob@example.com!" .');
  });

  it('forgets a deleted number and follows a renamed subscriber', async () => {
    await db.prisma.phoneNumber.deleteMany({ where: { e164: '+4311050' } });
    await db.prisma.subscriber.update({
      where: { id: subscriberId },
      data: { username: 'robert', clir: true },
    });
    await vi.waitFor(
      () => {
        expect(index.lookupNumber('+4311050')).toBeNull();
        expect(index.lookupNumber('+4311001')?.uri).toBe('sip:robert@example.com');
        expect(index.presentCaller('sip:robert@example.com')?.presented).toBe('anonymous');
      },
      { timeout: 15_000, interval: 50 },
    );
  });

  it('follows peering, gateways and rewrite rules', async () => {
    expect(() => index.routeCall({ callee: '+4930123456' })).toThrow(/no peering rule/);
    const group = await db.prisma.peeringGroup.create({ data: { name: 'carrier', priority: 1 } });
    await db.prisma.peerGateway.create({
      data: { groupId: group.id, name: 'gw1', host: '192.0.2.1', weight: 1 },
    });
    await db.prisma.peeringRule.create({ data: { groupId: group.id, calleePrefix: '49' } });
    const set = await db.prisma.rewriteRuleSet.create({ data: { name: 'AT' } });
    await db.prisma.rewriteRule.create({
      data: {
        ruleSetId: set.id,
        direction: 'from_subscriber',
        field: 'callee',
        matchPattern: '^0(\\d+)$',
        replacement: '43$1',
      },
    });
    await db.prisma.domain.update({ where: { id: domainId }, data: { rewriteRuleSetId: set.id } });
    // The carrier wants national format: its rule set is attached to the peering group.
    const carrierSet = await db.prisma.rewriteRuleSet.create({ data: { name: 'carrier national' } });
    await db.prisma.rewriteRule.create({
      data: {
        ruleSetId: carrierSet.id,
        direction: 'outbound_to_peer',
        field: 'callee',
        matchPattern: '^\\+49(\\d+)$',
        replacement: '0$1',
      },
    });
    await db.prisma.peeringGroup.update({
      where: { id: group.id },
      data: { rewriteRuleSetId: carrierSet.id },
    });
    await vi.waitFor(
      () => {
        expect(index.routeCall({ callee: '+4930123456' }).gateways.map((gateway) => gateway.host)).toEqual([
          '192.0.2.1',
        ]);
        expect(index.rewriteForSubscriber(subscriberId, 'from_subscriber', 'callee', '01234').output).toBe(
          '431234',
        );
        expect(index.rewriteForPeer(group.id, 'outbound_to_peer', 'callee', '+4930123456').output).toBe(
          '030123456',
        );
      },
      { timeout: 15_000, interval: 50 },
    );
  });

  it('leaves out a rule that was written past the API validation, and says so', async () => {
    const reloads: number[] = [];
    const set = await db.prisma.rewriteRuleSet.create({ data: { name: 'bad' } });
    const local = new NumberingIndex();
    const second = await followDatabase({
      db,
      index: local,
      onReload: (info) => reloads.push(info.problems.length),
    });
    try {
      await second.ready;
      await db.prisma.rewriteRule.create({
        data: {
          ruleSetId: set.id,
          direction: 'from_subscriber',
          field: 'callee',
          matchPattern: '(a+)+$',
          replacement: '',
        },
      });
      await vi.waitFor(() => expect(reloads.at(-1)).toBe(1), { timeout: 15_000, interval: 50 });
      expect(local.ruleSet(set.id)).toBeNull();
      expect(local.lookupNumber('+4311001')).not.toBeNull();
    } finally {
      await second.close();
    }
  });
});
