import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWorld, type World } from './support/world.ts';

/**
 * /api/v1/auto-attendants against a real database: customer A manages its own attendant; customer B
 * and reseller B never see or touch it (404), neither can point a menu entry at another customer's
 * subscriber or hunt group; bad bodies get problem+json naming the field; a greeting upload is
 * converted to 8 kHz.
 */

let world: World;
let dataDir: string;
let attendantA: string;
let groupA: string;
let groupB: string;

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'api-attendants-'));
  world = await createWorld('auto_attendants', { dataDir });
  const group = (customerId: string, domainId: string, username: string) =>
    world.prisma.huntGroup.create({ data: { customerId, domainId, username, name: username } });
  groupA = (await group(world.ids.cA, world.ids.dA, 'sales')).id;
  groupB = (await group(world.ids.cB, world.ids.dB, 'sales')).id;
});
afterAll(async () => {
  await world?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

const api = (
  actor: Parameters<World['request']>[0],
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE',
  url: string,
  body?: unknown,
) => world.request(actor, method, `/api/v1${url}`, body);

describe('auto-attendants', () => {
  it('a customer creates an attendant whose menu reaches its own group and subscriber', async () => {
    const res = await api('customerA', 'POST', '/auto-attendants', {
      domainId: world.ids.dA,
      username: 'Main',
      name: 'Main line',
      greetingText: 'Welcome. For sales press one.',
      digitTimeout: 4,
      menu: [
        { digit: '1', kind: 'hunt_group', target: groupA },
        { digit: '2', kind: 'subscriber', target: world.ids.sA },
        { digit: '9', kind: 'voicemail', target: world.ids.sA },
        { digit: '#', kind: 'number', target: '+4930123456' },
      ],
      timeoutKind: 'subscriber',
      timeoutTarget: world.ids.sA,
    });
    expect(res.statusCode, res.body).toBe(201);
    const body = res.json();
    attendantA = body.id;
    expect(body).toMatchObject({
      customerId: world.ids.cA,
      username: 'main',
      sipUri: 'sip:main@a.example.com',
      digitTimeout: 4,
      maxReplays: 2,
      greeting: 'generated',
      timeoutKind: 'subscriber',
    });
    expect(body.menu.map((o: { digit: string }) => o.digit).sort()).toEqual(['#', '1', '2', '9']);
  });

  it('the menu is replaced as a whole; the timeout destination can be removed', async () => {
    const res = await api('customerA', 'PATCH', `/auto-attendants/${attendantA}`, {
      menu: [{ digit: '1', kind: 'hunt_group', target: groupA }],
      timeoutKind: null,
      timeoutTarget: null,
    });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({ menu: [{ digit: '1' }], timeoutKind: null, timeoutTarget: null });
  });

  it("another customer and another reseller neither list, read, change nor delete customer A's attendant", async () => {
    for (const actor of ['customerB', 'resellerB'] as const) {
      const list = await api(actor, 'GET', '/auto-attendants');
      expect(list.statusCode).toBe(200);
      expect(JSON.stringify(list.json())).not.toContain(attendantA);
      expect((await api(actor, 'GET', `/auto-attendants/${attendantA}`)).statusCode).toBe(404);
      expect(
        (await api(actor, 'PATCH', `/auto-attendants/${attendantA}`, { name: 'taken' })).statusCode,
      ).toBe(404);
      expect((await api(actor, 'DELETE', `/auto-attendants/${attendantA}`)).statusCode).toBe(404);
    }
    const reseller = await api('resellerA', 'GET', `/auto-attendants/${attendantA}`);
    expect(reseller.statusCode).toBe(200);
  });

  it("a menu entry or timeout cannot point at another customer's subscriber or group", async () => {
    const cases: Array<[string, Record<string, unknown>, string]> = [
      ['POST', { menu: [{ digit: '1', kind: 'subscriber', target: world.ids.sB }] }, '/body/menu/0/target'],
      ['POST', { menu: [{ digit: '1', kind: 'hunt_group', target: groupB }] }, '/body/menu/0/target'],
      ['POST', { menu: [], timeoutKind: 'voicemail', timeoutTarget: world.ids.sB }, '/body/timeoutTarget'],
    ];
    for (const [, extra, field] of cases) {
      const res = await api('customerA', 'POST', '/auto-attendants', {
        domainId: world.ids.dA,
        username: 'stolen',
        name: 'Stolen',
        ...extra,
      });
      expect(res.statusCode, res.body).toBe(400);
      expect(res.json().errors[0].field).toBe(field);
    }
    const updated = await api('customerA', 'PATCH', `/auto-attendants/${attendantA}`, {
      menu: [{ digit: '3', kind: 'hunt_group', target: groupB }],
    });
    expect(updated.statusCode).toBe(400);
    expect(updated.json().errors[0].field).toBe('/body/menu/0/target');
  });

  it('bad input gets problem+json naming the field', async () => {
    const base = { domainId: world.ids.dA, name: 'x', menu: [] };
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ ...base, username: 'a b' }, '/body/username'],
      [
        { ...base, username: 'ok1', menu: [{ digit: '12', kind: 'number', target: '1' }] },
        '/body/menu/0/digit',
      ],
      [{ ...base, username: 'ok2', menu: [{ digit: '1', kind: 'queue', target: '1' }] }, '/body/menu/0/kind'],
      [
        { ...base, username: 'ok3', menu: [{ digit: '1', kind: 'number', target: 'abc' }] },
        '/body/menu/0/target',
      ],
      [
        {
          ...base,
          username: 'ok4',
          menu: [
            { digit: '1', kind: 'number', target: '1' },
            { digit: '1', kind: 'number', target: '2' },
          ],
        },
        '/body/menu/1/digit',
      ],
      [{ ...base, username: 'ok5', digitTimeout: 0 }, '/body/digitTimeout'],
      [{ ...base, username: 'ok6', timeoutKind: 'number' }, '/body/timeoutTarget'],
    ];
    for (const [body, field] of cases) {
      const res = await api('customerA', 'POST', '/auto-attendants', body);
      expect(res.statusCode, res.body).toBe(400);
      expect(res.headers['content-type']).toContain('application/problem+json');
      expect(JSON.stringify(res.json().errors), JSON.stringify(body)).toContain(field);
    }
  });

  it("the user name may not be a subscriber's or a hunt group's (409)", async () => {
    for (const username of ['alice', 'sales']) {
      const res = await api('customerA', 'POST', '/auto-attendants', {
        domainId: world.ids.dA,
        username,
        name: 'clash',
        menu: [],
      });
      expect(res.statusCode, res.body).toBe(409);
      expect(res.json().errors[0].field).toBe('/body/username');
    }
  });

  it('an uploaded greeting is converted to 8 kHz and replaces the spoken text; DELETE goes back', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'attendant-greeting-'));
    try {
      const source = join(dir, 'hello.wav');
      execFileSync('sox', [
        '-n',
        '-r',
        '44100',
        '-c',
        '1',
        '-b',
        '16',
        source,
        'synth',
        '0.5',
        'sine',
        '440',
      ]);
      const upload = await world.app.inject({
        method: 'PUT',
        url: `/api/v1/auto-attendants/${attendantA}/greeting`,
        headers: { ...{ authorization: `Bearer ${world.tokens.customerA}` }, 'content-type': 'audio/wav' },
        payload: readFileSync(source),
      });
      expect(upload.statusCode, upload.body).toBe(204);
      const row = await world.prisma.autoAttendant.findUniqueOrThrow({ where: { id: attendantA } });
      expect(row.greetingFile).toMatch(/\.wav$/);
      const path = join(dataDir, 'attendants', 'greetings', row.greetingFile ?? '');
      expect(execFileSync('soxi', ['-r', path]).toString().trim()).toBe('8000');
      expect((await api('customerA', 'GET', `/auto-attendants/${attendantA}`)).json().greeting).toBe(
        'uploaded',
      );
      const foreign = await world.app.inject({
        method: 'PUT',
        url: `/api/v1/auto-attendants/${attendantA}/greeting`,
        headers: { ...{ authorization: `Bearer ${world.tokens.customerB}` }, 'content-type': 'audio/wav' },
        payload: readFileSync(source),
      });
      expect(foreign.statusCode).toBe(404);
      expect((await api('customerA', 'DELETE', `/auto-attendants/${attendantA}/greeting`)).statusCode).toBe(
        204,
      );
      expect((await api('customerA', 'GET', `/auto-attendants/${attendantA}`)).json().greeting).toBe(
        'generated',
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('the customer deletes its attendant, its menu goes with it', async () => {
    expect((await api('customerA', 'DELETE', `/auto-attendants/${attendantA}`)).statusCode).toBe(204);
    expect(await world.prisma.autoAttendantOption.count({ where: { autoAttendantId: attendantA } })).toBe(0);
  });
});
