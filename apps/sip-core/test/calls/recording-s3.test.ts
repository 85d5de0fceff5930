import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { S3Settings } from '@switchboard/config';
import { findCallCaptures } from '@switchboard/media';
import {
  type CallingSoftphone,
  S3_TEST_CREDENTIALS,
  type S3TestServer,
  startBaresip,
  startS3Server,
  writeToneWav,
} from '@switchboard/testkit';
import { pino } from 'pino';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { operatorApi, type TestApi } from '../support/api.ts';
import { describeOnEngine, onEngine } from '../support/engine.ts';
import { expectTone } from './support/audio.ts';
import {
  type CallStack,
  closeCallStack,
  completedCdr,
  DOMAIN,
  startCallStack,
  untilBound,
} from './support/stack.ts';

/**
 * Call recording with object storage set (S3_*), through engine + sip-core + a real rtpengine + PostgreSQL
 * and a real S3-compatible server (s3rver, verifying SigV4): baresip alice (440 Hz) calls baresip bob
 * (1000 Hz); their customer records every call. The stereo WAV lands in the bucket under
 * `recordings/calls/` (not in the local recordings folder), rtpengine's capture is removed, and the API's
 * audio route serves it from the bucket: caller left, callee right.
 */

const ALICE_TONE = 440;
const BOB_TONE = 1000;
const TALK_SECONDS = 4;
const OPERATOR = { email: 'operator@example.test', password: 'operator-password-1' };

let stack: CallStack;
let server: S3TestServer;
let s3: S3Settings;
let work: string;
let api: TestApi;
let token: string;
const phones: CallingSoftphone[] = [];

beforeAll(async () => {
  server = await startS3Server();
  s3 = {
    endpoint: server.endpoint,
    region: 'us-east-1',
    bucket: server.bucket,
    ...S3_TEST_CREDENTIALS,
    prefix: '',
    forcePathStyle: true,
  };
  work = mkdtempSync(join(tmpdir(), 'sipcore-recording-s3-'));
  writeToneWav(join(work, 'alice.wav'), ALICE_TONE, 60);
  writeToneWav(join(work, 'bob.wav'), BOB_TONE, 60);
  stack = await startCallStack(
    { alice: 'alice-secret', bob: 'bob-secret' },
    {},
    async (db, tenant) => {
      await db.db.prisma.customer.update({
        where: { id: tenant.customerId },
        data: { recordingMode: 'always' },
      });
    },
    { recording: { dataDir: work, objectStorage: s3 } },
  );
  ({ api, token } = await operatorApi(stack.testDb.db.prisma, pino({ level: 'silent' }), OPERATOR, {
    recordingsDir: join(work, 'recordings', 'calls'),
    objectStorage: s3,
  }));
}, 60_000);

afterAll(async () => {
  for (const phone of phones.splice(0)) phone.stop();
  await api?.close();
  await closeCallStack(stack);
  await server?.close();
  if (work) rmSync(work, { recursive: true, force: true });
}, 30_000);

describeOnEngine(onEngine('call recording into object storage'), { timeout: 90_000 }, () => {
  it('the stereo WAV of a recorded call lands in the bucket and the API serves it from there', async () => {
    const registrar = stack.sipAddress;
    const alice = await startBaresip(
      { user: 'alice', domain: DOMAIN, password: 'alice-secret', registrar },
      { play: join(work, 'alice.wav') },
    );
    phones.push(alice);
    const bob = await startBaresip(
      { user: 'bob', domain: DOMAIN, password: 'bob-secret', registrar },
      { play: join(work, 'bob.wav') },
    );
    phones.push(bob);
    await untilBound(stack, 'alice', alice);
    await untilBound(stack, 'bob', bob);

    const before = await stack.testDb.db.prisma.cdr.count();
    alice.dial(`sip:bob@${DOMAIN}`);
    await Promise.all([alice.waitFor('established'), bob.waitFor('established')]);
    await new Promise((resolve) => setTimeout(resolve, TALK_SECONDS * 1000));
    alice.hangup();
    await Promise.all([alice.waitFor('closed'), bob.waitFor('closed')]);
    const cdr = await completedCdr(stack, before);

    let recording: { id: string; filePath: string; sizeBytes: number } | undefined;
    for (let attempt = 0; attempt < 100 && !recording; attempt++) {
      recording =
        (await stack.testDb.db.prisma.callRecording.findFirst({ where: { cdrId: cdr.id } })) ?? undefined;
      if (!recording) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    if (!recording) throw new Error(`no recording for CDR ${cdr.id}`);
    expect(await server.keys()).toEqual([`recordings/calls/${recording.filePath}`]);
    // Nothing in the local recordings folder; rtpengine's capture is gone once the WAV is stored.
    const local = join(work, 'recordings', 'calls');
    expect(existsSync(local) ? readdirSync(local, { recursive: true }) : []).toEqual([]);
    expect(await findCallCaptures(join(work, 'recordings'), cdr.callId)).toEqual([]);

    const audio = await api.inject({
      method: 'GET',
      url: `/api/v1/recordings/${recording.id}/audio`,
      headers: { authorization: `Bearer ${token}` },
    });
    expect(audio.statusCode, audio.body).toBe(200);
    expect(audio.rawPayload.length).toBe(recording.sizeBytes);
    const served = join(work, 'served.wav');
    writeFileSync(served, audio.rawPayload);
    expectTone(served, ALICE_TONE, BOB_TONE, { channel: 0 });
    expectTone(served, BOB_TONE, ALICE_TONE, { channel: 1 });
  });
});
