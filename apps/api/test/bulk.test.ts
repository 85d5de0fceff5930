import { sipHa1 } from '@switchboard/db';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Actor, createWorld, type World } from './support/world.ts';

/**
 * Bulk CSV export/import of subscribers and numbers: tenant-scoped both ways, dry run before apply, row
 * errors named by line and column, passwords stored only as HA1 digests.
 */

let world: World;
beforeAll(async () => {
  world = await createWorld('bulk', {
    limits: { createsPerPrincipal: 1000, createsPerAddress: 1000, createWindowMs: 60_000 },
  });
});
afterAll(async () => {
  await world?.close();
});

const exportCsv = async (actor: Actor, what: 'subscribers' | 'numbers') => {
  const res = await world.request(actor, 'GET', `/api/v1/bulk/${what}`);
  expect(res.statusCode, res.body).toBe(200);
  expect(res.headers['content-type']).toContain('text/csv');
  return res.body;
};
const importCsv = (actor: Actor, what: 'subscribers' | 'numbers', csv: string, apply = false) =>
  world.request(actor, 'POST', `/api/v1/bulk/${what}`, { csv, apply });

describe('export', () => {
  it('holds only the caller tenant’s records, never a password or digest', async () => {
    const a = await exportCsv('resellerA', 'subscribers');
    expect(a.split('\n')[0]).toBe(
      'username,domain,customerId,customer,displayName,status,maxConcurrentCalls,clir,password',
    );
    expect(a).toContain('alice,a.example.com');
    expect(a).not.toContain('bob');
    expect(a).not.toMatch(/[0-9a-f]{32}/);
    const b = await exportCsv('customerB', 'subscribers');
    expect(b).toContain('bob,b.example.com');
    expect(b).not.toContain('alice');
    const op = await exportCsv('operator', 'subscribers');
    expect(op).toContain('alice');
    expect(op).toContain('bob');
    const numbersA = await exportCsv('customerA', 'numbers');
    expect(numbersA).toContain('43,1,1001,alice@a.example.com,true');
    expect(numbersA).not.toContain('1002');
  });
});

describe('subscriber import', () => {
  it('a re-imported export changes nothing', async () => {
    const csv = await exportCsv('resellerA', 'subscribers');
    const res = await importCsv('resellerA', 'subscribers', csv);
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({
      applied: false,
      counts: { unchanged: 1, create: 0, update: 0, error: 0 },
    });
  });

  it('dry run reports create/update/unchanged per row and writes nothing; apply writes HA1 only', async () => {
    const csv = [
      'username,domain,customerId,displayName,password',
      `carol,a.example.com,${world.ids.cA},Carol,carol-secret-99`,
      `alice,a.example.com,${world.ids.cA},Alice A.,`,
    ].join('\n');
    const dry = await importCsv('resellerA', 'subscribers', csv);
    expect(dry.json()).toMatchObject({
      applied: false,
      counts: { create: 1, update: 1, unchanged: 0, error: 0 },
      rows: [
        { row: 2, key: 'carol@a.example.com', action: 'create' },
        { row: 3, key: 'alice@a.example.com', action: 'update', changes: ['displayName'] },
      ],
    });
    expect(await world.prisma.subscriber.count({ where: { username: 'carol' } })).toBe(0);

    const applied = await importCsv('resellerA', 'subscribers', csv, true);
    expect(applied.json()).toMatchObject({ applied: true, counts: { create: 1, update: 1 } });
    const carol = await world.prisma.subscriber.findFirstOrThrow({ where: { username: 'carol' } });
    expect(carol).toMatchObject(sipHa1('carol', 'a.example.com', 'carol-secret-99'));
    expect(JSON.stringify(carol)).not.toContain('carol-secret-99');
    const audit = await world.prisma.auditEntry.findMany({ where: { entityId: carol.id } });
    expect(audit).toHaveLength(1);
    expect(JSON.stringify(audit)).not.toMatch(/carol-secret-99|ha1/i);
    // Same password again: the digests match, so the row is unchanged.
    const again = await importCsv('resellerA', 'subscribers', csv.replace('Alice A.', 'Alice A.'));
    expect(again.json().counts).toMatchObject({ unchanged: 2 });
  });

  it('an empty cell or a missing column keeps the current value', async () => {
    await world.prisma.subscriber.update({
      where: { id: world.ids.sA },
      data: { maxConcurrentCalls: 3, clir: true },
    });
    const csv = 'username,domain,displayName,maxConcurrentCalls\nalice,a.example.com,Alice Partial,';
    const body = (await importCsv('resellerA', 'subscribers', csv, true)).json();
    expect(body.rows).toEqual([
      { row: 2, key: 'alice@a.example.com', action: 'update', changes: ['displayName'] },
    ]);
    const alice = await world.prisma.subscriber.findUniqueOrThrow({ where: { id: world.ids.sA } });
    expect(alice).toMatchObject({ displayName: 'Alice Partial', maxConcurrentCalls: 3, clir: true });
  });

  it('names row errors by line and column and applies nothing when any row fails', async () => {
    const csv = [
      'username,domain,customerId,status,password',
      `dave,a.example.com,${world.ids.cA},active,dave-secret-99`,
      `erin,a.example.com,${world.ids.cA},sleeping,erin-secret-99`,
      `frank,a.example.com,${world.ids.cA},,password`,
      `gina,nowhere.example.com,${world.ids.cA},,gina-secret-99`,
      `hank,a.example.com,${world.ids.cA},,`,
    ].join('\n');
    const res = await importCsv('resellerA', 'subscribers', csv, true);
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.applied).toBe(false);
    expect(body.errors).toEqual([
      { row: 3, column: 'status', message: 'expected active, locked, terminated' },
      { row: 4, column: 'password', message: expect.stringContaining('commonly used') },
      { row: 5, column: 'domain', message: 'unknown domain' },
      { row: 6, column: 'password', message: 'required for a new subscriber' },
    ]);
    expect(await world.prisma.subscriber.count({ where: { username: 'dave' } })).toBe(0);
  });

  it('a reseller never imports into another tenant: foreign domain, customer or taken name', async () => {
    const csv = [
      'username,domain,customerId,password',
      `bob,b.example.com,${world.ids.cB},bob-secret-999`,
      `ivan,a.example.com,${world.ids.cB},ivan-secret-99`,
      `jack,b.example.com,${world.ids.cA},jack-secret-99`,
    ].join('\n');
    const body = (await importCsv('resellerA', 'subscribers', csv, true)).json();
    expect(body.applied).toBe(false);
    expect(body.errors.map((e: { row: number; column: string }) => [e.row, e.column])).toEqual([
      [2, 'domain'],
      [3, 'customerId'],
      [4, 'domain'],
    ]);
    const bob = await world.prisma.subscriber.findUniqueOrThrow({ where: { id: world.ids.sB } });
    expect(bob.ha1Md5).toBe(sipHa1('bob', 'b.example.com', 'sip-secret-1').ha1Md5);
  });

  it('a customer imports only into its own customer and may not set provider fields', async () => {
    const csv = [
      'username,domain,customerId,status,password',
      `kim,a.example.com,${world.ids.cB},,kim-secret-999`,
      `alice,a.example.com,,locked,`,
    ].join('\n');
    const body = (await importCsv('customerA', 'subscribers', csv)).json();
    expect(body.errors).toEqual([
      { row: 2, column: 'customerId', message: 'not found' },
      { row: 3, column: 'status', message: 'a customer may not set this field' },
    ]);
    // A name taken by another customer of the same reseller is refused, not updated.
    await world.prisma.subscriber.create({
      data: {
        customerId: world.ids.cA,
        domainId: world.ids.dA,
        username: 'shared',
        ...sipHa1('shared', 'a.example.com', 'x'),
      },
    });
    const other = (
      await importCsv(
        'customerB',
        'subscribers',
        'username,domain,password\nshared,a.example.com,shared-secret-9',
      )
    ).json();
    expect(other.errors).toEqual([{ row: 2, column: 'domain', message: 'unknown domain' }]);
  });

  it('refuses unknown columns, bad CSV and too many rows as a whole (400 naming the field)', async () => {
    const unknown = await importCsv('operator', 'subscribers', 'username,domain,colour\na,b,c');
    expect(unknown.statusCode).toBe(400);
    expect(unknown.json().detail).toContain('unknown column(s) colour');
    const broken = await importCsv('operator', 'subscribers', 'username,domain\n"a,b\n');
    expect(broken.statusCode).toBe(400);
    expect(broken.json().errors[0].field).toBe('/body/csv');
    const many = ['username,domain', ...Array.from({ length: 2001 }, (_, i) => `u${i},a.example.com`)].join(
      '\n',
    );
    const big = await importCsv('operator', 'subscribers', many);
    expect(big.statusCode).toBe(400);
    expect(big.json().detail).toContain('At most 2000 rows');
  });
});

describe('number import', () => {
  it('creates and moves numbers within the tenant; refuses foreign subscribers and taken numbers', async () => {
    const csv = [
      'countryCode,areaCode,subscriberNumber,subscriber,isPrimary',
      '43,1,1009,carol@a.example.com,',
      '43,1,1002,alice@a.example.com,',
      '43,1,1010,bob@b.example.com,',
    ].join('\n');
    const dry = (await importCsv('resellerA', 'numbers', csv)).json();
    expect(dry.errors).toEqual([
      { row: 3, column: 'subscriberNumber', message: 'already in use' },
      { row: 4, column: 'subscriber', message: 'no such subscriber (user@domain)' },
    ]);
    const ok = await importCsv('resellerA', 'numbers', csv.split('\n').slice(0, 2).join('\n'), true);
    expect(ok.json()).toMatchObject({ applied: true, counts: { create: 1 } });
    const n = await world.prisma.phoneNumber.findUniqueOrThrow({ where: { e164: '+4311009' } });
    expect(n.isPrimary).toBe(true);
  });

  it('customers may export but not import numbers', async () => {
    const res = await importCsv(
      'customerA',
      'numbers',
      'countryCode,subscriberNumber,subscriber\n43,1011,alice@a.example.com',
    );
    expect(res.statusCode).toBe(403);
  });
});
