import { sipHa1 } from '@switchboard/db';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Actor, createWorld, type World } from './support/world.ts';

/**
 * Instant message history: alice writes to anna (both customer A), bob to bert (both customer B, still
 * queued) and alice to bob (customer A to customer B). Each side sees the messages its subscribers
 * sent or received, never another customer's conversation.
 */

let world: World;
const ids: Record<'inA' | 'inB' | 'across', string> = { inA: '', inB: '', across: '' };
let bert: string;

beforeAll(async () => {
  world = await createWorld('messages');
  const { prisma } = world;
  const sub = (customerId: string, domainId: string, realm: string, username: string) =>
    prisma.subscriber.create({
      data: { customerId, domainId, username, ...sipHa1(username, realm, 'sip-secret-1') },
      select: { id: true },
    });
  const anna = (await sub(world.ids.cA, world.ids.dA, 'a.example.com', 'anna')).id;
  bert = (await sub(world.ids.cB, world.ids.dB, 'b.example.com', 'bert')).id;
  const message = async (
    from: { subscriber: string; customer: string; uri: string },
    to: { subscriber: string; customer: string; uri: string },
    body: string,
    status: 'queued' | 'delivered',
    minute: number,
  ) =>
    (
      await prisma.message.create({
        data: {
          callId: `${body}@test`,
          senderSubscriberId: from.subscriber,
          senderCustomerId: from.customer,
          recipientSubscriberId: to.subscriber,
          recipientCustomerId: to.customer,
          fromUri: from.uri,
          toUri: to.uri,
          contentType: 'text/plain',
          body,
          status,
          createdAt: new Date(Date.UTC(2026, 1, 1, 10, minute)),
          deliveredAt: status === 'delivered' ? new Date(Date.UTC(2026, 1, 1, 10, minute, 1)) : null,
        },
        select: { id: true },
      })
    ).id;
  const alice = { subscriber: world.ids.sA, customer: world.ids.cA, uri: 'sip:alice@a.example.com' };
  const bob = { subscriber: world.ids.sB, customer: world.ids.cB, uri: 'sip:bob@b.example.com' };
  ids.inA = await message(
    alice,
    { subscriber: anna, customer: world.ids.cA, uri: 'sip:anna@a.example.com' },
    'hello anna',
    'delivered',
    1,
  );
  ids.inB = await message(
    bob,
    { subscriber: bert, customer: world.ids.cB, uri: 'sip:bert@b.example.com' },
    'hello bert',
    'queued',
    2,
  );
  ids.across = await message(alice, bob, 'hello bob', 'delivered', 3);
});
afterAll(async () => {
  await world?.close();
});

const list = async (actor: Actor, query = '') => {
  const res = await world.request(actor, 'GET', `/api/v1/messages${query}`);
  expect(res.statusCode, res.body).toBe(200);
  return res.json<{ items: { id: string; body: string; status: string }[]; total: number }>();
};
const idsOf = (page: { items: { id: string }[] }) => page.items.map((m) => m.id).sort();

describe('message history per tenant', () => {
  it('the operator sees every message, newest first', async () => {
    const page = await list('operator');
    expect(page.total).toBe(3);
    expect(page.items.map((m) => m.body)).toEqual(['hello bob', 'hello bert', 'hello anna']);
  });

  it("each customer and reseller sees its own subscribers' messages, both directions", async () => {
    for (const actor of ['customerA', 'resellerA'] as const)
      expect(idsOf(await list(actor)), actor).toEqual([ids.inA, ids.across].sort());
    for (const actor of ['customerB', 'resellerB'] as const)
      expect(idsOf(await list(actor)), actor).toEqual([ids.inB, ids.across].sort());
  });

  it("another customer's message is not found, even by id", async () => {
    const res = await world.request('customerA', 'GET', `/api/v1/messages/${ids.inB}`);
    expect(res.statusCode).toBe(404);
    const own = await world.request('customerB', 'GET', `/api/v1/messages/${ids.inB}`);
    expect(own.statusCode).toBe(200);
    expect(own.json()).toMatchObject({ body: 'hello bert', status: 'queued', deliveredAt: null });
  });

  it("a subscriber filter gives one subscriber's conversations, within what the reader may see", async () => {
    expect(idsOf(await list('operator', `?subscriberId=${world.ids.sB}`))).toEqual(
      [ids.inB, ids.across].sort(),
    );
    // customer A sees bob only where alice wrote to him; bert's messages are none of its business.
    expect(idsOf(await list('customerA', `?subscriberId=${world.ids.sB}`))).toEqual([ids.across]);
    expect((await list('customerA', `?subscriberId=${bert}`)).total).toBe(0);
    expect(idsOf(await list('customerB', '?status=queued'))).toEqual([ids.inB]);
  });

  it('refuses a malformed filter with 400', async () => {
    const res = await world.request('operator', 'GET', '/api/v1/messages?subscriberId=not-a-uuid');
    expect(res.statusCode).toBe(400);
  });
});
