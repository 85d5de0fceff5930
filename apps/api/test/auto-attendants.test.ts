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

  it("a subscriber or a hunt group may not take an attendant's user name (409)", async () => {
    const subscriber = await api('operator', 'POST', '/subscribers', {
      customerId: world.ids.cA,
      domainId: world.ids.dA,
      username: 'MAIN',
    });
    expect(subscriber.statusCode, subscriber.body).toBe(409);
    expect(subscriber.json().errors[0]).toMatchObject({
      field: '/body/username',
      message: 'taken by an auto-attendant',
    });
    const group = await api('operator', 'POST', '/hunt-groups', {
      customerId: world.ids.cA,
      domainId: world.ids.dA,
      username: 'main',
      name: 'Main group',
      members: [],
    });
    expect(group.statusCode, group.body).toBe(409);
    expect(group.json().errors[0]).toMatchObject({
      field: '/body/username',
      message: 'taken by an auto-attendant',
    });
    // The name is free in another domain.
    const elsewhere = await api('operator', 'POST', '/subscribers', {
      customerId: world.ids.cB,
      domainId: world.ids.dB,
      username: 'main',
    });
    expect(elsewhere.statusCode, elsewhere.body).toBe(201);
  });

  it("a number (DID) points at the customer's own attendant only, never as primary", async () => {
    const number = (subscriberNumber: string, target: Record<string, unknown>) => ({
      countryCode: '49',
      areaCode: '30',
      subscriberNumber,
      ...target,
    });
    // The customer's reseller points a new number at it; the customer sees it, customer B does not.
    const created = await api(
      'resellerA',
      'POST',
      '/numbers',
      number('555100', { autoAttendantId: attendantA }),
    );
    expect(created.statusCode, created.body).toBe(201);
    expect(created.json()).toMatchObject({
      autoAttendantId: attendantA,
      subscriberId: null,
      huntGroupId: null,
      e164: '+4930555100',
      isPrimary: false,
    });
    const numberId = created.json().id;
    const own = await api('customerA', 'GET', `/numbers?autoAttendantId=${attendantA}`);
    expect(own.statusCode).toBe(200);
    expect(own.json().items.map((n: { id: string }) => n.id)).toEqual([numberId]);
    expect((await api('customerB', 'GET', `/numbers/${numberId}`)).statusCode).toBe(404);
    expect(JSON.stringify((await api('resellerB', 'GET', '/numbers')).json())).not.toContain(numberId);
    // Reseller B can neither point a number at A's attendant nor move A's number.
    const foreign = await api(
      'resellerB',
      'POST',
      '/numbers',
      number('555101', { autoAttendantId: attendantA }),
    );
    expect(foreign.statusCode, foreign.body).toBe(404);
    expect(foreign.json().errors[0].field).toBe('/body/autoAttendantId');
    expect((await api('resellerB', 'PATCH', `/numbers/${numberId}`, { isPrimary: false })).statusCode).toBe(
      404,
    );
    const bNumber = await api(
      'resellerB',
      'POST',
      '/numbers',
      number('555102', { subscriberId: world.ids.sB }),
    );
    expect(bNumber.statusCode, bNumber.body).toBe(201);
    const moved = await api('resellerB', 'PATCH', `/numbers/${bNumber.json().id}`, {
      autoAttendantId: attendantA,
    });
    expect(moved.statusCode, moved.body).toBe(404);
    expect(moved.json().errors[0].field).toBe('/body/autoAttendantId');
    // The customer itself does not assign numbers.
    expect(
      (await api('customerA', 'POST', '/numbers', number('555103', { autoAttendantId: attendantA })))
        .statusCode,
    ).toBe(403);
    // Field-named 400s: two targets, a primary attendant number.
    const two = await api(
      'operator',
      'POST',
      '/numbers',
      number('555104', { subscriberId: world.ids.sA, autoAttendantId: attendantA }),
    );
    expect(two.statusCode, two.body).toBe(400);
    expect(two.json().errors[0].field).toBe('/body/autoAttendantId');
    const primary = await api(
      'operator',
      'POST',
      '/numbers',
      number('555105', { autoAttendantId: attendantA, isPrimary: true }),
    );
    expect(primary.statusCode, primary.body).toBe(400);
    expect(primary.json().errors[0].field).toBe('/body/isPrimary');
    // Moved to a subscriber, the number leaves the attendant.
    const toSubscriber = await api('operator', 'PATCH', `/numbers/${bNumber.json().id}`, {
      subscriberId: world.ids.sB,
    });
    expect(toSubscriber.json()).toMatchObject({ subscriberId: world.ids.sB, autoAttendantId: null });
    const back = await api('operator', 'PATCH', `/numbers/${numberId}`, { subscriberId: world.ids.sA });
    expect(back.statusCode, back.body).toBe(200);
    expect(back.json()).toMatchObject({ subscriberId: world.ids.sA, autoAttendantId: null });
    const again = await api('operator', 'PATCH', `/numbers/${numberId}`, { autoAttendantId: attendantA });
    expect(again.json()).toMatchObject({ subscriberId: null, autoAttendantId: attendantA, isPrimary: false });
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
    // Its numbers go with it (they would answer nothing).
    expect(await world.prisma.phoneNumber.count({ where: { autoAttendantId: attendantA } })).toBe(0);
  });
});
