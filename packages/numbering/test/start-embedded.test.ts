import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Database } from '@switchboard/db';
import { openDatabase } from '@switchboard/db';
import { createMetricsRegistry } from '@switchboard/metrics';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { RunningNumbering } from '../src/start.ts';
import { start } from '../src/start.ts';

describe('numbering on the embedded database (PGlite)', () => {
  let dataDir: string;
  let db: Database;
  let numbering: RunningNumbering;
  let subscriberId: string;
  const metrics = createMetricsRegistry();

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'numbering-'));
    db = await openDatabase({ dataDir });
    await db.migrate();
    const customer = await db.prisma.customer.create({ data: { name: 'ACME' } });
    const domain = await db.prisma.domain.create({
      data: { name: 'example.com', countryCode: '43', areaCode: '1' },
    });
    const subscriber = await db.prisma.subscriber.create({
      data: { customerId: customer.id, domainId: domain.id, username: 'alice', ha1Md5: 'x', ha1Sha256: 'y' },
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
    numbering = await start({ port: 0, enumListen: 'udp:127.0.0.1:0' }, { db, metrics });
  }, 120_000);

  afterAll(async () => {
    await numbering?.close();
    await db?.close();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  const lookup = async (number: string) => {
    const response = await fetch(
      `http://127.0.0.1:${numbering.service.httpPort}/v1/lookup?number=${encodeURIComponent(number)}`,
    );
    return { status: response.status, body: (await response.json()) as { uri?: string } };
  };

  it('serves what was in the database at start', async () => {
    expect(await lookup('+4311001')).toEqual({
      status: 200,
      body: expect.objectContaining({ uri: 'sip:alice@example.com' }),
    });
  });

  it('answers a number inserted while running', async () => {
    expect((await lookup('+4311002')).status).toBe(404);
    await db.prisma.phoneNumber.create({
      data: { subscriberId, e164: '+4311002', countryCode: '43', areaCode: '1', subscriberNumber: '1002' },
    });
    await vi.waitFor(async () => expect((await lookup('+4311002')).body.uri).toBe('sip:alice@example.com'), {
      timeout: 20_000,
      interval: 100,
    });
  });

  it('reports its index size and reload times as metrics', async () => {
    const text = await metrics.metrics();
    expect(text).toMatch(/switchboard_numbering_entries\{kind="numbers"\} [12]\n/);
    expect(text).toContain('switchboard_numbering_entries{kind="subscribers"} 1');
    expect(text).toMatch(/switchboard_numbering_reload_seconds_count [1-9]/);
  });
});
