import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWorld, type World } from './support/world.ts';

/** The subscriber list as the admin shows it: customer name, online state, one search box. */

let world: World;
beforeAll(async () => {
  world = await createWorld('subscriber_list');
});
afterAll(async () => {
  await world?.close();
});

const search = async (q: string) => {
  const res = await world.request('operator', 'GET', `/api/v1/subscribers?q=${encodeURIComponent(q)}`);
  expect(res.statusCode, res.body).toBe(200);
  return (res.json().items as { username: string }[]).map((s) => s.username).sort();
};

describe('subscriber list', () => {
  it('carries the customer name and whether a binding is live', async () => {
    await world.prisma.subscriber.update({
      where: { id: world.ids.sB },
      data: { displayName: 'Bob Builder' },
    });
    await world.prisma.registration.update({
      where: { id: world.ids.regB },
      data: { expiresAt: new Date(Date.now() - 1000) },
    });
    const res = await world.request('operator', 'GET', '/api/v1/subscribers?sort=username');
    const items = res.json().items;
    expect(items.map((s: Record<string, unknown>) => [s.username, s.customerName, s.online])).toEqual([
      ['alice', 'Customer A', true],
      ['bob', 'Customer B', false],
    ]);
  });

  it('q searches user name, display name and numbers, case-insensitively', async () => {
    expect(await search('ALI')).toEqual(['alice']);
    expect(await search('builder')).toEqual(['bob']);
    expect(await search('+4311002')).toEqual(['bob']);
    expect(await search('1100')).toEqual(['alice', 'bob']);
    expect(await search('%')).toEqual([]);
  });

  it('q never widens the tenant scope', async () => {
    const res = await world.request('customerA', 'GET', '/api/v1/subscribers?q=b');
    expect(res.json().items.map((s: { username: string }) => s.username)).not.toContain('bob');
  });
});
