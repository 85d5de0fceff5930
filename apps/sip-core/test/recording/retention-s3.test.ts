import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { S3_TEST_CREDENTIALS, type S3TestServer, startS3Server } from '@switchboard/testkit';
import { pino } from 'pino';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { recordingStorage } from '../../src/recording/call-recorder.ts';
import { deleteExpiredRecordings } from '../../src/recording/retention.ts';
import { createTenant, createTestDatabase, type TestDatabase } from '../support/database.ts';

/**
 * Call recordings in object storage (S3_*), against a real S3-compatible server (s3rver, verifying SigV4)
 * and PostgreSQL: the recorder's storage puts the WAV into the bucket under `recordings/calls/` (nothing
 * in the local folder), and the retention deletes the object with its row once the customer's days are
 * over, not before.
 */

let server: S3TestServer;
let testDb: TestDatabase;
let dir: string;

beforeAll(async () => {
  server = await startS3Server();
  testDb = await createTestDatabase();
  dir = mkdtempSync(join(tmpdir(), 'sipcore-retention-s3-'));
}, 60_000);
afterAll(async () => {
  await testDb?.drop();
  await server?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

it('a recording put into the bucket is deleted with its row when its retention is over', async () => {
  const prisma = testDb.db.prisma;
  const tenant = await createTenant(testDb.db);
  await prisma.customer.update({ where: { id: tenant.customerId }, data: { recordingRetentionDays: 30 } });
  const cdr = await prisma.cdr.create({
    data: {
      callId: 'retention-s3',
      direction: 'outbound',
      callerDialled: '+4311001',
      calleeDialled: '0800111',
      startedAt: new Date(),
      endedAt: new Date(),
      durationMs: 1000,
      disposition: 'answered',
      sipCode: 200,
      callerCustomerId: tenant.customerId,
    },
  });
  const storage = recordingStorage({
    storageDir: join(dir, 'calls'),
    objectStorage: {
      endpoint: server.endpoint,
      region: 'us-east-1',
      bucket: server.bucket,
      ...S3_TEST_CREDENTIALS,
      prefix: '',
      forcePathStyle: true,
    },
  });
  const filePath = `${tenant.customerId}/2026-12/one.wav`;
  await storage.put(filePath, Buffer.from('RIFF....WAVE'));
  await prisma.callRecording.create({
    data: { cdrId: cdr.id, customerId: tenant.customerId, filePath, durationMs: 1000, sizeBytes: 12 },
  });
  expect(await server.keys()).toEqual([`recordings/calls/${filePath}`]);
  expect(readdirSync(dir)).toEqual([]);

  const log = pino({ level: 'silent' });
  expect(await deleteExpiredRecordings(prisma, storage, log)).toBe(0);
  expect(await server.keys()).toEqual([`recordings/calls/${filePath}`]);
  const later = new Date(Date.now() + 31 * 86_400_000);
  expect(await deleteExpiredRecordings(prisma, storage, log, later)).toBe(1);
  expect(await server.keys()).toEqual([]);
  expect(await prisma.callRecording.count()).toBe(0);
});
