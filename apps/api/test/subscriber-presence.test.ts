import { sipHa1 } from '@switchboard/db';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ActiveCall } from '../src/types.ts';
import { type Actor, createWorld, type World } from './support/world.ts';

/** GET /subscribers/:id/presence: offline, online or in a call, and only within the principal's tenant. */

let world: World;

beforeAll(async () => {
  world = await createWorld('subscriber_presence');
});
afterAll(async () => {
  await world?.close();
});

const presence = (actor: Actor, id: string) =>
  world.request(actor, 'GET', `/api/v1/subscribers/${id}/presence`);

function callOf(subscriberId: string, customerId: string, as: 'caller' | 'callee'): ActiveCall {
  return {
    id: 'call-1',
    callId: 'call-1',
    direction: 'internal',
    state: 'ringing',
    caller: 'alice',
    callee: 'carol',
    startedAt: new Date(world.now()),
    answeredAt: null,
    [`${as}SubscriberId`]: subscriberId,
    [`${as}CustomerId`]: customerId,
  } as ActiveCall;
}

describe('subscriber presence', () => {
  it('online with an unexpired registration, in a call while one is live, offline without either', async () => {
    world.calls.length = 0;
    const online = await presence('customerA', world.ids.sA);
    expect(online.statusCode).toBe(200);
    expect(online.json()).toEqual({
      subscriberId: world.ids.sA,
      status: 'online',
      registrations: 1,
      calls: 0,
    });

    const carol = await world.prisma.subscriber.create({
      data: {
        customerId: world.ids.cA,
        domainId: world.ids.dA,
        username: 'carol',
        ...sipHa1('carol', 'a.example.com', 'carol-secret-1'),
      },
    });
    expect((await presence('customerA', carol.id)).json()).toMatchObject({
      status: 'offline',
      registrations: 0,
    });

    world.calls.push(callOf(carol.id, world.ids.cA, 'callee'));
    expect((await presence('customerA', carol.id)).json()).toMatchObject({ status: 'in-call', calls: 1 });
    world.calls.length = 0;
  });

  it("another tenant's subscriber is not found; its reseller and the operator see it", async () => {
    expect((await presence('customerB', world.ids.sA)).statusCode).toBe(404);
    expect((await presence('resellerB', world.ids.sA)).statusCode).toBe(404);
    expect((await presence('resellerA', world.ids.sA)).statusCode).toBe(200);
    expect((await presence('operator', world.ids.sA)).statusCode).toBe(200);
    expect((await presence('customerA', 'not-a-uuid')).statusCode).toBe(400);
  });
});
