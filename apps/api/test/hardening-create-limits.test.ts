import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Actor, createWorld, type World } from './support/world.ts';

/**
 * Create requests tell whether a name is taken (409) or free (201) in any tenant, so they are rate-limited
 * per principal and per client address. Small limits here; the defaults are in DEFAULT_LIMITS.
 */

const WINDOW_MS = 60_000;
let world: World;
beforeAll(async () => {
  world = await createWorld('hardening_create_limits', {
    limits: { createsPerPrincipal: 3, createsPerAddress: 5, createWindowMs: WINDOW_MS },
  });
});
afterAll(async () => {
  await world?.close();
});

let seq = 0;
/** A probe: a subscriber create in the actor's tenant, usually answered 201, or 409 for a taken name. */
const probe = (actor: Actor, username = `probe${++seq}`) => {
  const customer = actor.startsWith('customer') ? {} : { customerId: world.ids.cA };
  const domainId = actor === 'customerB' ? world.ids.dB : world.ids.dA;
  return world.request(actor, 'POST', '/api/v1/subscribers', { ...customer, domainId, username });
};

describe('create rate limits', () => {
  it('per principal: 429 problem+json with Retry-After once the budget is used, taken names included', async () => {
    expect((await probe('customerA', 'alice')).statusCode).toBe(409);
    expect((await probe('customerA')).statusCode).toBe(201);
    expect((await probe('customerA')).statusCode).toBe(201);
    const limited = await probe('customerA', 'bob');
    expect(limited.statusCode, limited.body).toBe(429);
    expect(limited.headers['content-type']).toContain('application/problem+json');
    const retryAfter = Number(limited.headers['retry-after']);
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(WINDOW_MS / 1000);
    expect(limited.json()).toMatchObject({ status: 429, title: 'Too many requests' });
    // Other creates of the same principal count too: it is one budget for every resource.
    const forward = await world.request('customerA', 'POST', '/api/v1/call-forwards', {
      subscriberId: world.ids.sA,
      type: 'cfna',
      destinations: [{ kind: 'number', destination: '1' }],
    });
    expect(forward.statusCode).toBe(429);
  });

  it('per address: another principal from the same address shares the address budget', async () => {
    // customerA made 3 counted creates from this address; the address allows 5.
    expect((await probe('customerB')).statusCode).toBe(201);
    expect((await probe('customerB')).statusCode).toBe(201);
    const limited = await probe('customerB');
    expect(limited.statusCode).toBe(429);
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
  });

  it('operators are not counted, and reads are never limited', async () => {
    for (let i = 0; i < 6; i++) expect((await probe('operator')).statusCode).toBe(201);
    expect((await world.request('customerA', 'GET', '/api/v1/subscribers')).statusCode).toBe(200);
    expect(
      (await world.request('customerA', 'PATCH', `/api/v1/subscribers/${world.ids.sA}`, { displayName: 'A' }))
        .statusCode,
    ).toBe(200);
  });

  it('the budget comes back after the window; malformed creates are not counted', async () => {
    world.advance(WINDOW_MS + 1000);
    for (let i = 0; i < 3; i++) {
      const bad = await world.request('resellerA', 'POST', '/api/v1/subscribers', { username: '' });
      expect(bad.statusCode).toBe(400);
    }
    for (let i = 0; i < 3; i++) expect((await probe('resellerA')).statusCode).toBe(201);
    expect((await probe('resellerA')).statusCode).toBe(429);
    expect((await probe('customerA')).statusCode).toBe(201);
    expect((await probe('customerB')).statusCode).toBe(201);
    expect((await probe('customerB')).statusCode).toBe(429);
  });
});
