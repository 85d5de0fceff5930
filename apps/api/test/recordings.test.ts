import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { recordingWebhookSecretContext, unseal } from '@switchboard/push';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWorld, type World } from './support/world.ts';

/**
 * /api/v1/recordings and /customers/{id}/recording-settings against a real database: customer A lists,
 * reads and downloads its own recording; customer B and reseller B get 404 for all of it (list empty); the
 * webhook secret is stored sealed and never shown; bad settings are 400 naming the field.
 */

let world: World;
let dir: string;
const key = randomBytes(32);
let recordingA: string;
let recordingB: string;
const audioA = Buffer.concat([Buffer.from('RIFF'), randomBytes(60)]);

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'api-recordings-'));
  world = await createWorld('recordings', { recordingsDir: dir, push: { credentialsKey: key } });
  const file = (customerId: string, content: Buffer) => {
    const path = `${customerId}/2026-12/${randomBytes(8).toString('hex')}.wav`;
    mkdirSync(join(dir, customerId, '2026-12'), { recursive: true });
    writeFileSync(join(dir, path), content);
    return path;
  };
  const row = (cdrId: string, customerId: string, subscriberId: string, content: Buffer) =>
    world.prisma.callRecording.create({
      data: {
        cdrId,
        customerId,
        subscriberId,
        filePath: file(customerId, content),
        durationMs: 4000,
        sizeBytes: content.length,
      },
    });
  recordingA = (await row(world.ids.cdrA, world.ids.cA, world.ids.sA, audioA)).id;
  recordingB = (await row(world.ids.cdrB, world.ids.cB, world.ids.sB, Buffer.from('RIFFb'))).id;
});
afterAll(async () => {
  await world?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const api = (actor: Parameters<World['request']>[0], method: 'GET' | 'PATCH', url: string, body?: unknown) =>
  world.request(actor, method, `/api/v1${url}`, body);

describe('recordings', () => {
  it('a customer lists, reads and downloads its own recording', async () => {
    const list = await api('customerA', 'GET', '/recordings');
    expect(list.statusCode, list.body).toBe(200);
    expect(list.json().items.map((r: { id: string }) => r.id)).toEqual([recordingA]);
    const one = await api('customerA', 'GET', `/recordings/${recordingA}`);
    expect(one.json()).toMatchObject({ id: recordingA, cdrId: world.ids.cdrA, durationMs: 4000 });
    const audio = await api('customerA', 'GET', `/recordings/${recordingA}/audio`);
    expect(audio.statusCode).toBe(200);
    expect(audio.headers['content-type']).toBe('audio/wav');
    expect(audio.rawPayload.equals(audioA)).toBe(true);
    const byCdr = await api('customerA', 'GET', `/recordings?cdrId=${world.ids.cdrA}`);
    expect(byCdr.json().items).toHaveLength(1);
  });

  it("another customer and another reseller see nothing of customer A's recordings", async () => {
    for (const actor of ['customerB', 'resellerB'] as const) {
      const list = await api(actor, 'GET', '/recordings');
      expect(list.json().items.map((r: { id: string }) => r.id)).not.toContain(recordingA);
      expect((await api(actor, 'GET', `/recordings/${recordingA}`)).statusCode).toBe(404);
      expect((await api(actor, 'GET', `/recordings/${recordingA}/audio`)).statusCode).toBe(404);
      expect((await api(actor, 'GET', `/customers/${world.ids.cA}/recording-settings`)).statusCode).toBe(404);
      const patch = await api(actor, 'PATCH', `/customers/${world.ids.cA}/recording-settings`, {
        recordingMode: 'always',
      });
      expect(patch.statusCode).toBe(404);
    }
    expect((await api('customerA', 'GET', `/recordings/${recordingB}/audio`)).statusCode).toBe(404);
    const reseller = await api('resellerA', 'GET', '/recordings');
    expect(reseller.json().items.map((r: { id: string }) => r.id)).toEqual([recordingA]);
    const operator = await api('operator', 'GET', '/recordings');
    expect(operator.json().items).toHaveLength(2);
    expect((await world.request(null, 'GET', `/api/v1/recordings/${recordingA}/audio`)).statusCode).toBe(401);
  });

  it('a customer sets its recording settings, its reseller the webhook; the secret is sealed, never shown', async () => {
    const url = `/customers/${world.ids.cA}/recording-settings`;
    const own = await api('customerA', 'PATCH', url, { recordingWebhookUrl: 'http://127.0.0.1:9/x' });
    expect(own.statusCode).toBe(403);
    expect(own.body).toContain('recordingWebhookUrl');
    const res = await api('resellerA', 'PATCH', url, {
      recordingMode: 'always',
      recordingAnnouncement: true,
      recordingRetentionDays: 90,
      recordingWebhookUrl: 'https://hooks.a.example.com/recording',
      recordingWebhookSecret: 'a-long-enough-secret',
    });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toEqual({
      recordingMode: 'always',
      recordingAnnouncement: true,
      recordingRetentionDays: 90,
      recordingWebhookUrl: 'https://hooks.a.example.com/recording',
      recordingWebhookSecretSet: true,
    });
    expect(res.body).not.toContain('a-long-enough-secret');
    const row = await world.prisma.customer.findUniqueOrThrow({ where: { id: world.ids.cA } });
    expect(row.recordingWebhookSecretSealed).not.toContain('a-long-enough-secret');
    expect(
      unseal(key, row.recordingWebhookSecretSealed ?? '', recordingWebhookSecretContext(world.ids.cA)),
    ).toBe('a-long-enough-secret');
    const read = await api('customerA', 'GET', `/customers/${world.ids.cA}/recording-settings`);
    expect(read.json()).toMatchObject({ recordingMode: 'always', recordingWebhookSecretSet: true });
  });

  it('bad settings are refused naming the field', async () => {
    const url = `/customers/${world.ids.cA}/recording-settings`;
    for (const [body, field] of [
      [{ recordingMode: 'sometimes' }, 'recordingMode'],
      [{ recordingRetentionDays: 0 }, 'recordingRetentionDays'],
      [{ recordingWebhookUrl: 'ftp://x.example.com/' }, 'recordingWebhookUrl'],
      [{ recordingWebhookSecret: 'short' }, 'recordingWebhookSecret'],
    ] as const) {
      const res = await api('resellerA', 'PATCH', url, body);
      expect(res.statusCode, res.body).toBe(400);
      expect(res.headers['content-type']).toContain('application/problem+json');
      expect(res.body).toContain(field);
    }
  });

  it("a subscriber's own recording mode overrides its customer's", async () => {
    const res = await api('operator', 'PATCH', `/subscribers/${world.ids.sA}`, { recordingMode: 'off' });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({ recordingMode: 'off' });
  });
});
