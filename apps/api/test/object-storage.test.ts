import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buffer } from 'node:stream/consumers';
import type { S3Settings } from '@switchboard/config';
import { readWavFile } from '@switchboard/media-endpoint';
import { S3Storage, STORAGE_AREAS } from '@switchboard/storage';
import { S3_TEST_CREDENTIALS, type S3TestServer, startS3Server, writeToneWav } from '@switchboard/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWorld, type World } from './support/world.ts';

/**
 * Voicemail and recordings with object storage set (S3_*), against a real S3-compatible server on
 * loopback (s3rver, verifying every request's SigV4): audio that sip-core put into the bucket is served by
 * the audio routes, an uploaded greeting is converted and lands in the bucket, deleting a message or a
 * greeting deletes its object; nothing is written under DATA_DIR's voicemail and recording folders.
 * Another customer still gets 404 for the audio.
 */

let server: S3TestServer;
let world: World;
let dataDir: string;
let s3: S3Settings;
let messageId: string;
let recordingId: string;
const messageFile = 'sub-a-1.wav';
const recordingAudio = Buffer.concat([Buffer.from('RIFF'), randomBytes(200)]);
let recordingKey: string;
let messageAudio: Buffer;

beforeAll(async () => {
  server = await startS3Server();
  s3 = {
    endpoint: server.endpoint,
    region: 'us-east-1',
    bucket: server.bucket,
    ...S3_TEST_CREDENTIALS,
    prefix: 'pbx/',
    forcePathStyle: true,
  };
  dataDir = mkdtempSync(join(tmpdir(), 'api-objstore-'));
  world = await createWorld('objstore', {
    dataDir,
    recordingsDir: join(dataDir, 'recordings', 'calls'),
    objectStorage: s3,
  });
  // What sip-core leaves in the bucket: a message's WAV and a call recording, each next to its row.
  const tone = join(dataDir, 'tone.wav');
  writeToneWav(tone, 440, 1);
  messageAudio = readFileSync(tone);
  rmSync(tone);
  await new S3Storage(s3, STORAGE_AREAS.voicemailMessages).put(messageFile, messageAudio);
  messageId = (
    await world.prisma.voicemailMessage.create({
      data: {
        subscriberId: world.ids.sA,
        customerId: world.ids.cA,
        caller: 'sip:carol@x',
        durationMs: 1000,
        file: messageFile,
      },
    })
  ).id;
  recordingKey = `${world.ids.cA}/2026-12/${randomBytes(8).toString('hex')}.wav`;
  await new S3Storage(s3, STORAGE_AREAS.callRecordings).put(recordingKey, recordingAudio);
  recordingId = (
    await world.prisma.callRecording.create({
      data: {
        cdrId: world.ids.cdrA,
        customerId: world.ids.cA,
        subscriberId: world.ids.sA,
        filePath: recordingKey,
        durationMs: 4000,
        sizeBytes: recordingAudio.length,
      },
    })
  ).id;
});
afterAll(async () => {
  await world?.close();
  await server?.close();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

const api = (actor: Parameters<World['request']>[0], method: 'GET' | 'DELETE', url: string) =>
  world.request(actor, method, `/api/v1${url}`);

/** Files under DATA_DIR/voicemail and DATA_DIR/recordings (none: everything went to the bucket). */
const localAudio = () =>
  ['voicemail', 'recordings']
    .filter((dir) => existsSync(join(dataDir, dir)))
    .flatMap((dir) =>
      readdirSync(join(dataDir, dir), { recursive: true, withFileTypes: true })
        .filter((entry) => entry.isFile())
        .map((entry) => entry.name),
    );

describe('audio in object storage', () => {
  it("serves a voicemail message's audio from the bucket, to its owner only", async () => {
    const audio = await api('customerA', 'GET', `/voicemails/${messageId}/audio`);
    expect(audio.statusCode, audio.body).toBe(200);
    expect(audio.headers['content-type']).toBe('audio/wav');
    expect(audio.headers['content-length']).toBe(String(messageAudio.length));
    expect(audio.rawPayload.equals(messageAudio)).toBe(true);
    expect((await api('customerB', 'GET', `/voicemails/${messageId}/audio`)).statusCode).toBe(404);
  });

  it("serves a call recording's audio from the bucket, to its customer only", async () => {
    const audio = await api('customerA', 'GET', `/recordings/${recordingId}/audio`);
    expect(audio.statusCode, audio.body).toBe(200);
    expect(audio.rawPayload.equals(recordingAudio)).toBe(true);
    expect((await api('customerB', 'GET', `/recordings/${recordingId}/audio`)).statusCode).toBe(404);
  });

  it('converts an uploaded greeting into the bucket, replaces and deletes it there', async () => {
    const source = join(dataDir, 'greeting-44k.wav');
    writeToneWav(source, 500, 1, 44_100);
    const upload = (payload: Buffer) =>
      world.app.inject({
        method: 'PUT',
        url: `/api/v1/subscribers/${world.ids.sA}/voicemail/greeting`,
        headers: { authorization: `Bearer ${world.tokens.customerA}`, 'content-type': 'audio/wav' },
        payload,
      });
    const greetingKeys = async () =>
      (await server.keys()).filter((key) => key.startsWith('pbx/voicemail/greetings/'));
    const first = await upload(readFileSync(source));
    expect(first.statusCode, first.body).toBe(200);
    expect(first.json()).toMatchObject({ greeting: 'uploaded' });
    const box = await world.prisma.voicemailBox.findUniqueOrThrow({ where: { subscriberId: world.ids.sA } });
    expect(await greetingKeys()).toEqual([`pbx/voicemail/greetings/${box.greeting}`]);
    // What the bucket holds is the converted greeting: 8 kHz, one second.
    const stored = await new S3Storage(s3, STORAGE_AREAS.voicemailGreetings).get(box.greeting ?? '');
    if (!stored) throw new Error('the greeting is not in the bucket');
    const copy = join(dataDir, 'greeting-copy.wav');
    writeFileSync(copy, await buffer(stored.body));
    expect(Math.abs((await readWavFile(copy)).length - 8000)).toBeLessThan(100);
    rmSync(copy);

    // Not audio: 400, and nothing new in the bucket.
    expect((await upload(Buffer.alloc(200, 7))).statusCode).toBe(400);
    expect(await greetingKeys()).toEqual([`pbx/voicemail/greetings/${box.greeting}`]);

    // A second upload replaces the first object; deleting goes back to the default and removes it.
    expect((await upload(readFileSync(source))).statusCode).toBe(200);
    const second = await greetingKeys();
    expect(second).toHaveLength(1);
    expect(second).not.toContain(`pbx/voicemail/greetings/${box.greeting}`);
    const deleted = await api('customerA', 'DELETE', `/subscribers/${world.ids.sA}/voicemail/greeting`);
    expect(deleted.statusCode).toBe(204);
    expect(await greetingKeys()).toEqual([]);
    rmSync(source);
  });

  it('deleting a message deletes its object; nothing was written under DATA_DIR', async () => {
    expect((await api('customerB', 'DELETE', `/voicemails/${messageId}`)).statusCode).toBe(404);
    expect(await server.keys()).toContain(`pbx/voicemail/messages/${messageFile}`);
    expect((await api('customerA', 'DELETE', `/voicemails/${messageId}`)).statusCode).toBe(204);
    expect(await server.keys()).not.toContain(`pbx/voicemail/messages/${messageFile}`);
    expect(localAudio()).toEqual([]);
  });
});
