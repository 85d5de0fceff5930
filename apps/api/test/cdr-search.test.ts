import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Actor, createWorld, type World } from './support/world.ts';

/** Finding calls by number: a subscriber's E.164 finds the calls its phone placed under its user name. */

let world: World;
beforeAll(async () => {
  world = await createWorld('cdr_search');
  // alice's phone dials as `alice`; her number is +4311001 (fixture). bob's is +4311002.
  await world.prisma.cdr.create({
    data: {
      callId: 'by-username',
      direction: 'internal',
      callerDialled: 'alice',
      calleeDialled: 'sip:4311002@a.example.com;transport=udp',
      startedAt: new Date('2026-02-01T09:00:00Z'),
      endedAt: new Date('2026-02-01T09:01:00Z'),
      disposition: 'answered',
      callerSubscriberId: world.ids.sA,
      callerCustomerId: world.ids.cA,
    },
  });
});
afterAll(async () => {
  await world?.close();
});

const callIds = async (actor: Actor, query: string) => {
  const res = await world.request(actor, 'GET', `/api/v1/cdrs?${query}`);
  expect(res.statusCode, res.body).toBe(200);
  return res
    .json()
    .items.map((c: { callId: string }) => c.callId)
    .sort();
};

describe('CDR search', () => {
  it("finds a caller's calls by the caller's E.164, spaced or not", async () => {
    expect(await callIds('operator', `number=${encodeURIComponent('+43 1 1001')}`)).toContain('by-username');
    expect(await callIds('customerA', 'number=4311001')).toContain('by-username');
  });

  it('keeps the search inside the tenant', async () => {
    expect(await callIds('customerB', 'number=4311001')).not.toContain('by-username');
  });

  it('narrows by an until date and by customer', async () => {
    expect(await callIds('operator', 'to=2026-02-01T09:00:00Z&number=4311001')).not.toContain('by-username');
    expect(await callIds('operator', 'to=2026-02-01T10:00:00Z&number=4311001')).toContain('by-username');
    expect(await callIds('operator', `customerId=${world.ids.cB}&number=4311001`)).not.toContain(
      'by-username',
    );
    expect(await callIds('operator', `customerId=${world.ids.cA}`)).toContain('by-username');
  });
});
