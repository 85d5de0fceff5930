import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Actor, createWorld, type World } from './support/world.ts';

/**
 * A withheld caller (CLIR, a peer's Privacy header) in the CDRs: alice (customer A, reseller A) calls
 * bob (customer B, reseller B) once with CLIR and once without. The operator and alice's side see her
 * on both; bob's side sees the CLIR call as bob's phone did, and cannot find her through a filter.
 */

let world: World;
let withheld: string;
let shown: string;

beforeAll(async () => {
  world = await createWorld('cdr_privacy');
  const call = (callId: string, callerWithheld: boolean) =>
    world.prisma.cdr.create({
      data: {
        callId,
        direction: 'internal',
        callerDialled: 'sip:alice@a.example.com',
        calleeDialled: 'sip:bob@b.example.com',
        callerRouted: '+4311001',
        calleeRouted: 'sip:bob@b.example.com',
        callerWithheld,
        startedAt: new Date('2026-02-01T10:00:00Z'),
        answeredAt: new Date('2026-02-01T10:00:02Z'),
        endedAt: new Date('2026-02-01T10:00:12Z'),
        durationMs: 10_000,
        disposition: 'answered',
        sipCode: 200,
        callerSubscriberId: world.ids.sA,
        callerCustomerId: world.ids.cA,
        calleeSubscriberId: world.ids.sB,
        calleeCustomerId: world.ids.cB,
      },
      select: { id: true },
    });
  withheld = (await call('clir-call', true)).id;
  shown = (await call('shown-call', false)).id;
});
afterAll(async () => {
  await world?.close();
});

const get = (actor: Actor, url: string) => world.request(actor, 'GET', `/api/v1${url}`);
const FEB = 'from=2026-02-01T00:00:00Z&to=2026-02-02T00:00:00Z';

const real = {
  callerDialled: 'sip:alice@a.example.com',
  callerRouted: '+4311001',
  callerSubscriberId: () => world.ids.sA,
  callerCustomerId: () => world.ids.cA,
};

/** The four caller fields of a CDR as they should read when the caller is shown. */
function expectCaller(cdr: Record<string, unknown>): void {
  expect(cdr).toMatchObject({
    callerDialled: real.callerDialled,
    callerRouted: real.callerRouted,
    callerSubscriberId: real.callerSubscriberId(),
    callerCustomerId: real.callerCustomerId(),
  });
}

function expectMasked(cdr: Record<string, unknown>): void {
  expect(cdr).toMatchObject({
    callerWithheld: true,
    callerDialled: 'anonymous',
    callerRouted: 'anonymous',
    callerSubscriberId: null,
    callerCustomerId: null,
    // The callee's end stays as it is.
    calleeSubscriberId: world.ids.sB,
    calleeCustomerId: world.ids.cB,
  });
}

describe("a withheld caller seen from the callee's side", () => {
  for (const actor of ['customerB', 'resellerB'] as const) {
    it(`${actor}: list and get show the CLIR call anonymous, the other call with its caller`, async () => {
      const list = await get(actor, `/cdrs?${FEB}`);
      expect(list.statusCode).toBe(200);
      const items = list.json().items as Record<string, unknown>[];
      expect(items.map((i) => i.id).sort()).toEqual([withheld, shown].sort());
      expectMasked(items.find((i) => i.id === withheld)!);
      const other = items.find((i) => i.id === shown)!;
      expect(other.callerWithheld).toBe(false);
      expectCaller(other);

      const one = await get(actor, `/cdrs/${withheld}`);
      expect(one.statusCode).toBe(200);
      expectMasked(one.json());
      expect(JSON.stringify(one.json())).not.toContain('alice');
    });

    it(`${actor}: the CSV export masks the CLIR call`, async () => {
      const csv = await get(actor, `/cdrs?${FEB}&format=csv`);
      expect(csv.statusCode).toBe(200);
      const lines = csv.body.trim().split('\r\n');
      const header = lines[0]!.split(',');
      const rows = lines.slice(1).map((l) => Object.fromEntries(l.split(',').map((v, i) => [header[i], v])));
      const clir = rows.find((r) => r.id === withheld)!;
      expect(clir).toMatchObject({
        callerWithheld: 'true',
        callerDialled: 'anonymous',
        callerRouted: 'anonymous',
        callerSubscriberId: '',
        callerCustomerId: '',
        calleeCustomerId: world.ids.cB,
      });
      expect(lines.find((l) => l.startsWith(withheld))).not.toContain('alice');
      expect(rows.find((r) => r.id === shown)).toMatchObject({ callerDialled: real.callerDialled });
    });

    it(`${actor}: filters on the caller do not find the CLIR call`, async () => {
      const ids = async (query: string) => {
        const res = await get(actor, `/cdrs?${FEB}&${query}`);
        expect(res.statusCode).toBe(200);
        return (res.json().items as { id: string }[]).map((i) => i.id);
      };
      // The caller's number, user name, subscriber and customer each find only the shown call.
      expect(await ids('number=4311001')).toEqual([shown]);
      expect(await ids('number=alice')).toEqual([shown]);
      expect(await ids(`subscriberId=${world.ids.sA}`)).toEqual([shown]);
      expect(await ids(`customerId=${world.ids.cA}`)).toEqual([shown]);
      // Nor does the masked value itself.
      expect(await ids('number=anonymous')).toEqual([]);
      // Its own end still finds both.
      expect((await ids(`subscriberId=${world.ids.sB}`)).sort()).toEqual([withheld, shown].sort());
      const summary = await get(
        actor,
        `/cdrs/summary?from=2026-02-01T00:00:00Z&to=2026-02-02T00:00:00Z&customerId=${world.ids.cA}`,
      );
      expect(summary.json()).toMatchObject({ calls: 1 });
      const csv = await get(actor, `/cdrs?${FEB}&format=csv&number=alice`);
      expect(csv.body).not.toContain(withheld);
    });
  }
});

describe("a withheld caller seen by the operator and the caller's side", () => {
  for (const actor of ['operator', 'customerA', 'resellerA'] as const) {
    it(`${actor}: sees the caller in list, get, CSV and filters`, async () => {
      const one = await get(actor, `/cdrs/${withheld}`);
      expect(one.statusCode).toBe(200);
      expect(one.json().callerWithheld).toBe(true);
      expectCaller(one.json());

      const list = await get(actor, `/cdrs?${FEB}&number=alice`);
      const items = list.json().items as Record<string, unknown>[];
      expect(items.map((i) => i.id).sort()).toEqual([withheld, shown].sort());
      for (const item of items) expectCaller(item);

      const csv = await get(actor, `/cdrs?${FEB}&format=csv&customerId=${world.ids.cA}`);
      expect(csv.body.split('\r\n').find((l) => l.startsWith(withheld))).toContain(real.callerDialled);
    });
  }
});

describe('a withheld caller in the live calls list', () => {
  it("is anonymous to the callee's side and shown to the operator and the caller's side", async () => {
    const live = (callerWithheld: boolean) => ({
      id: `live-${callerWithheld}`,
      callId: `live-${callerWithheld}`,
      direction: 'internal' as const,
      state: 'answered' as const,
      caller: 'sip:alice@a.example.com',
      callee: 'sip:bob@b.example.com',
      startedAt: new Date(),
      callerSubscriberId: world.ids.sA,
      calleeSubscriberId: world.ids.sB,
      callerCustomerId: world.ids.cA,
      calleeCustomerId: world.ids.cB,
      callerWithheld,
    });
    world.calls.push(live(true), live(false));
    try {
      const calls = async (actor: Actor) => {
        const res = await get(actor, '/calls');
        expect(res.statusCode).toBe(200);
        const items = res.json().items as Record<string, unknown>[];
        expect(items).toHaveLength(2);
        return new Map(items.map((i) => [i.id, i]));
      };
      for (const actor of ['customerB', 'resellerB'] as const) {
        const items = await calls(actor);
        expect(items.get('live-true')).toMatchObject({
          callerWithheld: true,
          caller: 'anonymous',
          callerSubscriberId: null,
          callerCustomerId: null,
          calleeCustomerId: world.ids.cB,
        });
        expect(items.get('live-false')).toMatchObject({
          callerWithheld: false,
          caller: 'sip:alice@a.example.com',
          callerCustomerId: world.ids.cA,
        });
      }
      for (const actor of ['operator', 'customerA', 'resellerA'] as const) {
        const items = await calls(actor);
        expect(items.get('live-true')).toMatchObject({
          callerWithheld: true,
          caller: 'sip:alice@a.example.com',
          callerSubscriberId: world.ids.sA,
          callerCustomerId: world.ids.cA,
        });
      }
    } finally {
      world.calls.length = 0;
    }
  });
});
