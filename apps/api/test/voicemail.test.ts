import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { verifyPassword } from '@switchboard/db';
import { readWavFile } from '@switchboard/media-endpoint';
import { writeToneWav } from '@switchboard/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWorld, type World } from './support/world.ts';

/**
 * /api/v1/subscribers/{id}/voicemail and /api/v1/voicemails against a real database and a data
 * directory laid out as sip-core writes it: customer A manages its subscriber's box and messages
 * (settings, PIN hashed, unavailable and busy greeting uploads converted by sox, list, play, mark
 * heard, delete); customer B
 * and reseller B get 404 for every one of them; bad bodies get problem+json naming the field.
 */

let world: World;
let dataDir: string;
let messageA: string;
const file = 'message-a.wav';

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'api-voicemail-'));
  world = await createWorld('voicemail', { dataDir });
  mkdirSync(join(dataDir, 'voicemail', 'messages'), { recursive: true });
  writeToneWav(join(dataDir, 'voicemail', 'messages', file), 440, 2);
  messageA = (
    await world.prisma.voicemailMessage.create({
      data: {
        subscriberId: world.ids.sA,
        customerId: world.ids.cA,
        caller: 'sip:carol@x',
        durationMs: 2000,
        file,
      },
    })
  ).id;
});
afterAll(async () => {
  await world?.close();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

const api = (
  actor: Parameters<World['request']>[0],
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE' | 'PUT',
  url: string,
  body?: unknown,
) => world.request(actor, method, `/api/v1${url}`, body);

describe('voicemail settings', () => {
  it('are off until set; a customer turns them on with a PIN that is stored hashed', async () => {
    const before = await api('customerA', 'GET', `/subscribers/${world.ids.sA}/voicemail`);
    expect(before.json()).toMatchObject({ enabled: false, pinSet: false, greeting: 'default' });
    const res = await api('customerA', 'PATCH', `/subscribers/${world.ids.sA}/voicemail`, {
      enabled: true,
      pin: '4321',
      email: 'a@example.com',
      maxMessageSeconds: 60,
    });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({
      enabled: true,
      pinSet: true,
      email: 'a@example.com',
      maxMessageSeconds: 60,
    });
    expect(res.body).not.toContain('4321');
    const row = await world.prisma.voicemailBox.findUniqueOrThrow({ where: { subscriberId: world.ids.sA } });
    expect(row.pinHash).not.toContain('4321');
    expect(await verifyPassword('4321', row.pinHash ?? '')).toBe(true);
  });

  it("switch on unsolicited MWI; the domain's own access code is set by its reseller, checked, and not by others", async () => {
    const mwi = await api('customerA', 'PATCH', `/subscribers/${world.ids.sA}/voicemail`, {
      unsolicitedMwi: true,
    });
    expect(mwi.statusCode, mwi.body).toBe(200);
    expect(mwi.json()).toMatchObject({ unsolicitedMwi: true });
    const code = await api('resellerA', 'PATCH', `/domains/${world.ids.dA}`, { voicemailAccessCode: '*555' });
    expect(code.statusCode, code.body).toBe(200);
    expect(code.json()).toMatchObject({ voicemailAccessCode: '*555' });
    const bad = await api('resellerA', 'PATCH', `/domains/${world.ids.dA}`, { voicemailAccessCode: '*5a' });
    expect(bad.statusCode).toBe(400);
    expect(bad.headers['content-type']).toContain('application/problem+json');
    expect(bad.body).toContain('voicemailAccessCode');
    const other = await api('resellerB', 'PATCH', `/domains/${world.ids.dA}`, { voicemailAccessCode: '*1' });
    expect(other.statusCode).toBe(404);
    const customer = await api('customerA', 'PATCH', `/domains/${world.ids.dA}`, {
      voicemailAccessCode: '*1',
    });
    expect(customer.statusCode).toBe(403);
    const row = await world.prisma.domain.findUniqueOrThrow({ where: { id: world.ids.dA } });
    expect(row.voicemailAccessCode).toBe('*555');
    await api('resellerA', 'PATCH', `/domains/${world.ids.dA}`, { voicemailAccessCode: null });
  });

  it('refuse a bad PIN and length with problem+json naming the field', async () => {
    const pin = await api('customerA', 'PATCH', `/subscribers/${world.ids.sA}/voicemail`, { pin: '12a' });
    expect(pin.statusCode).toBe(400);
    expect(pin.headers['content-type']).toContain('application/problem+json');
    expect(pin.body).toContain('/body/pin');
    const length = await api('customerA', 'PATCH', `/subscribers/${world.ids.sA}/voicemail`, {
      maxMessageSeconds: 5,
    });
    expect(length.statusCode).toBe(400);
    expect(length.body).toContain('maxMessageSeconds');
  });

  it('take an uploaded greeting, converted to 8 kHz mono WAV, and go back to the default', async () => {
    const source = join(dataDir, 'greeting-44k.wav');
    writeToneWav(source, 500, 1, 44_100);
    const res = await world.app.inject({
      method: 'PUT',
      url: `/api/v1/subscribers/${world.ids.sA}/voicemail/greeting`,
      headers: { authorization: `Bearer ${world.tokens.customerA}`, 'content-type': 'audio/wav' },
      payload: readFileSync(source),
    });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json().greeting).toBe('uploaded');
    const row = await world.prisma.voicemailBox.findUniqueOrThrow({ where: { subscriberId: world.ids.sA } });
    const samples = await readWavFile(join(dataDir, 'voicemail', 'greetings', row.greeting ?? ''));
    expect(Math.abs(samples.length - 8000)).toBeLessThan(100);
    const bad = await world.app.inject({
      method: 'PUT',
      url: `/api/v1/subscribers/${world.ids.sA}/voicemail/greeting`,
      headers: { authorization: `Bearer ${world.tokens.customerA}`, 'content-type': 'audio/wav' },
      payload: Buffer.alloc(200, 7),
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.headers['content-type']).toContain('application/problem+json');
    expect(
      (await api('customerA', 'DELETE', `/subscribers/${world.ids.sA}/voicemail/greeting`)).statusCode,
    ).toBe(204);
    expect((await api('customerA', 'GET', `/subscribers/${world.ids.sA}/voicemail`)).json().greeting).toBe(
      'default',
    );
  });

  it('keep an unavailable and a busy greeting apart (?kind=), and refuse another kind naming the field', async () => {
    const source = join(dataDir, 'greeting-8k.wav');
    writeToneWav(source, 700, 1);
    const put = (kind: string | undefined, token = world.tokens.customerA) =>
      world.app.inject({
        method: 'PUT',
        url: `/api/v1/subscribers/${world.ids.sA}/voicemail/greeting${kind ? `?kind=${kind}` : ''}`,
        headers: { authorization: `Bearer ${token}`, 'content-type': 'audio/wav' },
        payload: readFileSync(source),
      });
    const busy = await put('busy');
    expect(busy.statusCode, busy.body).toBe(200);
    expect(busy.json()).toMatchObject({
      greeting: 'default',
      greetings: { unavailable: 'default', busy: 'uploaded' },
    });
    const unavailable = await put('unavailable');
    expect(unavailable.json().greetings).toEqual({ unavailable: 'uploaded', busy: 'uploaded' });
    const row = await world.prisma.voicemailBox.findUniqueOrThrow({ where: { subscriberId: world.ids.sA } });
    expect(row.greeting).not.toBe(row.busyGreeting);
    const greetings = join(dataDir, 'voicemail', 'greetings');
    expect((await readWavFile(join(greetings, row.busyGreeting ?? ''))).length).toBeGreaterThan(7900);

    // Without ?kind the old route replaces the unavailable greeting, and its old file goes.
    expect((await put(undefined)).statusCode).toBe(200);
    const after = await world.prisma.voicemailBox.findUniqueOrThrow({
      where: { subscriberId: world.ids.sA },
    });
    expect(after.busyGreeting).toBe(row.busyGreeting);
    expect(after.greeting).not.toBe(row.greeting);
    expect(() => readFileSync(join(greetings, row.greeting ?? ''))).toThrow();

    const bad = await put('weekend');
    expect(bad.statusCode).toBe(400);
    expect(bad.headers['content-type']).toContain('application/problem+json');
    expect(bad.body).toContain('/query/kind');
    const badDelete = await api(
      'customerA',
      'DELETE',
      `/subscribers/${world.ids.sA}/voicemail/greeting?kind=x`,
    );
    expect(badDelete.statusCode).toBe(400);
    expect(badDelete.body).toContain('/query/kind');

    // Another customer can neither set nor remove either greeting.
    expect((await put('busy', world.tokens.customerB)).statusCode).toBe(404);
    expect(
      (await api('customerB', 'DELETE', `/subscribers/${world.ids.sA}/voicemail/greeting?kind=busy`))
        .statusCode,
    ).toBe(404);
    const kept = await world.prisma.voicemailBox.findUniqueOrThrow({ where: { subscriberId: world.ids.sA } });
    expect(kept.busyGreeting).toBe(row.busyGreeting);

    expect(
      (await api('customerA', 'DELETE', `/subscribers/${world.ids.sA}/voicemail/greeting?kind=busy`))
        .statusCode,
    ).toBe(204);
    const settings = (await api('customerA', 'GET', `/subscribers/${world.ids.sA}/voicemail`)).json();
    expect(settings.greetings).toEqual({ unavailable: 'uploaded', busy: 'default' });
    expect(() => readFileSync(join(greetings, row.busyGreeting ?? ''))).toThrow();
    expect(
      (await api('customerA', 'DELETE', `/subscribers/${world.ids.sA}/voicemail/greeting`)).statusCode,
    ).toBe(204);
  });
});

describe('voicemail messages', () => {
  it('a customer lists, plays and marks its messages', async () => {
    const list = await api('customerA', 'GET', `/voicemails?subscriberId=${world.ids.sA}`);
    expect(list.statusCode).toBe(200);
    expect(list.json().items.map((m: { id: string }) => m.id)).toEqual([messageA]);
    const audio = await api('customerA', 'GET', `/voicemails/${messageA}/audio`);
    expect(audio.statusCode).toBe(200);
    expect(audio.headers['content-type']).toBe('audio/wav');
    expect(audio.rawPayload.subarray(0, 4).toString()).toBe('RIFF');
    const download = await api('customerA', 'GET', `/voicemails/${messageA}/audio?download=true`);
    expect(download.headers['content-disposition']).toMatch(/^attachment/);
    const heard = await api('customerA', 'PATCH', `/voicemails/${messageA}`, { heard: true });
    expect(heard.json().heard).toBe(true);
    expect((await api(null, 'GET', `/voicemails/${messageA}/audio`)).statusCode).toBe(401);
  });

  it('another customer and another reseller see none of it', async () => {
    for (const actor of ['customerB', 'resellerB'] as const) {
      expect((await api(actor, 'GET', `/voicemails?subscriberId=${world.ids.sA}`)).json().items).toEqual([]);
      expect((await api(actor, 'GET', `/voicemails/${messageA}/audio`)).statusCode).toBe(404);
      expect((await api(actor, 'PATCH', `/voicemails/${messageA}`, { heard: false })).statusCode).toBe(404);
      expect((await api(actor, 'DELETE', `/voicemails/${messageA}`)).statusCode).toBe(404);
      expect((await api(actor, 'GET', `/subscribers/${world.ids.sA}/voicemail`)).statusCode).toBe(404);
      expect(
        (await api(actor, 'PATCH', `/subscribers/${world.ids.sA}/voicemail`, { enabled: false })).statusCode,
      ).toBe(404);
      expect((await api(actor, 'DELETE', `/subscribers/${world.ids.sA}/voicemail/greeting`)).statusCode).toBe(
        404,
      );
    }
    expect(await world.prisma.voicemailMessage.count({ where: { id: messageA } })).toBe(1);
  });

  it('a call forward and a hunt group may send calls to voicemail', async () => {
    await world.prisma.callForward.deleteMany({ where: { subscriberId: world.ids.sA } });
    const forward = await api('customerA', 'POST', '/call-forwards', {
      subscriberId: world.ids.sA,
      type: 'cfb',
      destinations: [{ kind: 'voicemail', destination: '' }],
    });
    expect(forward.statusCode, forward.body).toBe(201);
    const bad = await api('customerA', 'POST', '/call-forwards', {
      subscriberId: world.ids.sA,
      type: 'cfu',
      destinations: [{ kind: 'voicemail', destination: 'x' }],
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.body).toContain('/body/destinations/0/destination');
    const group = await api('customerA', 'POST', '/hunt-groups', {
      domainId: world.ids.dA,
      username: 'support',
      name: 'Support',
      members: [world.ids.sA],
      noAnswerKind: 'voicemail',
      noAnswerDestination: 'alice',
    });
    expect(group.statusCode, group.body).toBe(201);
    expect(group.json()).toMatchObject({ noAnswerKind: 'voicemail', noAnswerDestination: 'alice' });
  });

  it('a customer deletes a message and its recording', async () => {
    expect((await api('customerA', 'DELETE', `/voicemails/${messageA}`)).statusCode).toBe(204);
    expect(await world.prisma.voicemailMessage.count({ where: { id: messageA } })).toBe(0);
    expect(() => readFileSync(join(dataDir, 'voicemail', 'messages', file))).toThrow();
  });
});
