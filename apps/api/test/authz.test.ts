import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Actor, createWorld, type World } from './support/world.ts';

/**
 * The authorisation matrix: every role against every resource and verb. Each acting role belongs to tenant A
 * (or is the operator); tenant B's records must stay invisible to A's users (404, never 403 or 200).
 */

let world: World;
beforeAll(async () => {
  world = await createWorld('authz');
});
afterAll(async () => {
  await world?.close();
});

type ActorRole = 'operator' | 'reseller' | 'customer';
const ACTORS: [Actor, ActorRole][] = [
  ['operator', 'operator'],
  ['resellerA', 'reseller'],
  ['customerA', 'customer'],
];

let seq = 0;
const unique = (s: string) => `${s}${++seq}`;

interface MatrixResource {
  name: string;
  /** Collection path under tenant A's parent (or the top level). */
  collection: () => string;
  /** Record paths for tenant A's and tenant B's fixture records. */
  recordA: () => string;
  recordB?: () => string;
  read: ActorRole[];
  write: ActorRole[];
  /** Writable resources: a valid body for this role, in tenant A. */
  create?: (role: ActorRole) => Record<string, unknown>;
  update?: Record<string, unknown>;
  /** A create body for this role that points into tenant B; must answer 404. */
  crossCreate?: (role: ActorRole) => { path?: string; body: Record<string, unknown> } | undefined;
  /** Roles for which crossCreate has a case (a customer's own tenant is often implied by its login). */
  crossFor?: ActorRole[];
  /** The collection is tenant A's parent's, so tenant B's record is not expected in it even for operators. */
  nested?: boolean;
}

const ids = () => world.ids;
const RESOURCES: MatrixResource[] = [
  {
    name: 'resellers',
    collection: () => '/resellers',
    recordA: () => `/resellers/${ids().rA}`,
    recordB: () => `/resellers/${ids().rB}`,
    read: ['operator', 'reseller'],
    write: ['operator'],
    create: () => ({ name: unique('Reseller ') }),
    update: { status: 'active' },
  },
  {
    name: 'customers',
    crossFor: ['reseller'],
    collection: () => '/customers',
    recordA: () => `/customers/${ids().cA}`,
    recordB: () => `/customers/${ids().cB}`,
    read: ['operator', 'reseller', 'customer'],
    write: ['operator', 'reseller'],
    create: (role) => ({
      name: unique('Customer '),
      ...(role === 'operator' ? { resellerId: ids().rA } : {}),
    }),
    update: { externalId: 'crm-1' },
    crossCreate: (role) => (role === 'reseller' ? { body: { name: 'x', resellerId: ids().rB } } : undefined),
  },
  {
    name: 'domains',
    crossFor: ['reseller'],
    collection: () => '/domains',
    recordA: () => `/domains/${ids().dA}`,
    recordB: () => `/domains/${ids().dB}`,
    read: ['operator', 'reseller', 'customer'],
    write: ['operator', 'reseller'],
    create: () => ({ name: `${unique('d')}.example.net` }),
    update: { areaCode: '1' },
    crossCreate: (role) =>
      role === 'reseller' ? { body: { name: 'x.example.net', resellerId: ids().rB } } : undefined,
  },
  {
    name: 'subscribers',
    crossFor: ['reseller', 'customer'],
    collection: () => '/subscribers',
    recordA: () => `/subscribers/${ids().sA}`,
    recordB: () => `/subscribers/${ids().sB}`,
    read: ['operator', 'reseller', 'customer'],
    write: ['operator', 'reseller', 'customer'],
    create: (role) => ({
      ...(role === 'customer' ? {} : { customerId: ids().cA }),
      domainId: ids().dA,
      username: unique('user'),
    }),
    update: { displayName: 'Desk phone' },
    crossCreate: (role) =>
      role === 'operator'
        ? undefined
        : role === 'reseller'
          ? { body: { customerId: ids().cB, domainId: ids().dA, username: 'x' } }
          : { body: { domainId: ids().dB, username: 'x' } },
  },
  {
    name: 'numbers',
    crossFor: ['reseller'],
    collection: () => '/numbers',
    recordA: () => `/numbers/${ids().nA}`,
    recordB: () => `/numbers/${ids().nB}`,
    read: ['operator', 'reseller', 'customer'],
    write: ['operator', 'reseller'],
    create: () => ({
      subscriberId: ids().sA,
      countryCode: '43',
      areaCode: '9',
      subscriberNumber: String(5000 + ++seq),
    }),
    update: { isPrimary: false },
    crossCreate: (role) =>
      role === 'operator'
        ? undefined
        : { body: { subscriberId: ids().sB, countryCode: '43', areaCode: '8', subscriberNumber: '1234' } },
  },
  {
    name: 'call-forwards',
    crossFor: ['reseller', 'customer'],
    collection: () => '/call-forwards',
    recordA: () => `/call-forwards/${ids().cfA}`,
    recordB: () => `/call-forwards/${ids().cfB}`,
    read: ['operator', 'reseller', 'customer'],
    write: ['operator', 'reseller', 'customer'],
    create: () => ({
      subscriberId: ids().sA,
      type: 'cfu',
      destinations: [{ kind: 'number', destination: '0664123' }],
    }),
    update: { enabled: false },
    crossCreate: (role) =>
      role === 'operator'
        ? undefined
        : {
            body: {
              subscriberId: ids().sB,
              type: 'cfna',
              destinations: [{ kind: 'number', destination: '1' }],
            },
          },
  },
  {
    name: 'rewrite-rule-sets',
    crossFor: ['reseller'],
    collection: () => '/rewrite-rule-sets',
    recordA: () => `/rewrite-rule-sets/${ids().rsA}`,
    recordB: () => `/rewrite-rule-sets/${ids().rsB}`,
    read: ['operator', 'reseller'],
    write: ['operator', 'reseller'],
    create: () => ({ name: unique('set ') }),
    update: { description: 'changed' },
    crossCreate: (role) => (role === 'reseller' ? { body: { name: 'x', resellerId: ids().rB } } : undefined),
  },
  {
    name: 'rewrite-rules',
    nested: true,
    crossFor: ['reseller'],
    collection: () => `/rewrite-rule-sets/${ids().rsA}/rules`,
    recordA: () => `/rewrite-rule-sets/${ids().rsA}/rules/${ids().ruleA}`,
    recordB: () => `/rewrite-rule-sets/${ids().rsB}/rules/${ids().ruleB}`,
    read: ['operator', 'reseller'],
    write: ['operator', 'reseller'],
    create: () => ({
      direction: 'to_subscriber',
      field: 'caller',
      matchPattern: '^43(\\d+)$',
      replacement: '0$1',
    }),
    update: { enabled: false },
    crossCreate: (role) =>
      role === 'reseller'
        ? {
            path: `/rewrite-rule-sets/${ids().rsB}/rules`,
            body: { direction: 'to_subscriber', field: 'caller', matchPattern: 'x', replacement: 'y' },
          }
        : undefined,
  },
  {
    name: 'peering-groups',
    collection: () => '/peering-groups',
    recordA: () => `/peering-groups/${ids().pg}`,
    read: ['operator'],
    write: ['operator'],
    create: () => ({ name: unique('group ') }),
    update: { enabled: false },
  },
  {
    name: 'peer-gateways',
    collection: () => `/peering-groups/${ids().pg}/gateways`,
    recordA: () => `/peering-groups/${ids().pg}/gateways/${ids().gw}`,
    read: ['operator'],
    write: ['operator'],
    create: () => ({ name: unique('gw'), host: 'gw.example.net' }),
    update: { priority: 1 },
  },
  {
    name: 'peering-rules',
    collection: () => `/peering-groups/${ids().pg}/rules`,
    recordA: () => `/peering-groups/${ids().pg}/rules/${ids().pr}`,
    read: ['operator'],
    write: ['operator'],
    create: () => ({ calleePrefix: '49' }),
    update: { priority: 1 },
  },
  {
    name: 'ip-bans',
    collection: () => '/ip-bans',
    recordA: () => `/ip-bans/${ids().ban}`,
    read: ['operator'],
    write: ['operator'],
    create: () => ({ address: `198.51.100.${++seq}` }),
    update: { reason: 'abuse' },
  },
  {
    name: 'users',
    crossFor: ['reseller'],
    collection: () => '/users',
    recordA: () => `/users/${world.users.customerA.id}`,
    recordB: () => `/users/${world.users.customerB.id}`,
    read: ['operator', 'reseller', 'customer'],
    write: ['operator', 'reseller', 'customer'],
    create: (role) => ({
      email: `${unique('u')}@test.example`,
      password: 'long enough password',
      role: 'customer',
      ...(role === 'customer' ? {} : { customerId: ids().cA }),
    }),
    update: { displayName: 'Someone' },
    crossCreate: (role) =>
      role === 'reseller'
        ? {
            body: {
              email: 'x@test.example',
              password: 'long enough password',
              role: 'customer',
              customerId: ids().cB,
            },
          }
        : undefined,
  },
  {
    name: 'registrations',
    collection: () => '/registrations',
    recordA: () => `/registrations/${ids().regA}`,
    recordB: () => `/registrations/${ids().regB}`,
    read: ['operator', 'reseller', 'customer'],
    write: [],
  },
  {
    name: 'audit-log',
    collection: () => '/audit-log',
    recordA: () => `/audit-log/${ids().auditA}`,
    recordB: () => `/audit-log/${ids().auditB}`,
    read: ['operator', 'reseller', 'customer'],
    write: [],
  },
];

const call = (actor: Actor, method: 'GET' | 'POST' | 'PATCH' | 'DELETE', path: string, body?: unknown) =>
  world.request(actor, method, `/api/v1${path}`, body);
const idOf = (path: string) => path.split('/').pop()!;

describe.each(ACTORS)('as %s', (actor, role) => {
  describe.each(RESOURCES.map((r) => [r.name, r] as const))('%s', (_name, r) => {
    const canRead = r.read.includes(role);
    const canWrite = r.write.includes(role);

    it(canRead ? 'lists only its own tenant' : 'may not list (403)', async () => {
      const res = await call(actor, 'GET', `${r.collection()}?perPage=500`);
      if (!canRead) {
        expect(res.statusCode).toBe(403);
        expect(res.headers['content-type']).toContain('application/problem+json');
        return;
      }
      expect(res.statusCode).toBe(200);
      const listed = res.json().items.map((i: { id: string }) => i.id);
      expect(res.json().total).toBe(listed.length);
      expect(listed).toContain(idOf(r.recordA()));
      if (r.recordB && !r.nested) {
        if (role === 'operator') expect(listed).toContain(idOf(r.recordB()));
        else expect(listed).not.toContain(idOf(r.recordB()));
      }
    });

    it(canRead ? 'reads its own record' : 'may not read (403)', async () => {
      const res = await call(actor, 'GET', r.recordA());
      expect(res.statusCode).toBe(canRead ? 200 : 403);
    });

    if (r.recordB) {
      const recordB = r.recordB;
      it(
        role === 'operator' ? 'reads the other tenant' : 'cannot see the other tenant (404 or 403)',
        async () => {
          const res = await call(actor, 'GET', recordB());
          expect(res.statusCode).toBe(role === 'operator' ? 200 : canRead ? 404 : 403);
        },
      );
      if (role !== 'operator' && r.update) {
        it('cannot change or delete the other tenant', async () => {
          const upd = await call(actor, 'PATCH', recordB(), r.update);
          expect(upd.statusCode).toBe(canWrite ? 404 : 403);
          const del = await call(actor, 'DELETE', recordB());
          expect(del.statusCode).toBe(canWrite ? 404 : 403);
          expect((await call('operator', 'GET', recordB())).statusCode).toBe(200);
        });
      }
    }

    if (r.create && r.update) {
      const create = r.create;
      const update = r.update;
      it(
        canWrite ? 'creates, changes and deletes in its tenant' : 'may not create, change or delete (403)',
        async () => {
          const created = await call(actor, 'POST', r.collection(), create(role));
          if (!canWrite) {
            expect(created.statusCode).toBe(403);
            expect((await call(actor, 'PATCH', r.recordA(), update)).statusCode).toBe(403);
            expect((await call(actor, 'DELETE', r.recordA())).statusCode).toBe(403);
            expect((await call('operator', 'GET', r.recordA())).statusCode).toBe(200);
            return;
          }
          expect(created.statusCode, created.body).toBe(201);
          const path = `${r.collection()}/${created.json().id}`;
          const changed = await call(actor, 'PATCH', path, update);
          expect(changed.statusCode, changed.body).toBe(200);
          expect(changed.json()).toMatchObject(update);
          expect((await call(actor, 'DELETE', path)).statusCode).toBe(204);
          expect((await call('operator', 'GET', path)).statusCode).toBe(404);
        },
      );

      if (canWrite && r.crossCreate !== undefined && r.crossFor?.includes(role)) {
        const crossCreate = r.crossCreate;
        it('cannot create records that point into the other tenant (404)', async () => {
          const cross = crossCreate(role)!;
          const res = await call(actor, 'POST', cross.path ?? r.collection(), cross.body);
          expect(res.statusCode, res.body).toBe(404);
        });
      }
    }
  });

  it('CDRs: sees only its own calls', async () => {
    const res = await call(actor, 'GET', '/cdrs');
    expect(res.statusCode).toBe(200);
    const listed = res.json().items.map((c: { id: string }) => c.id);
    expect(listed).toContain(ids().cdrA);
    if (role === 'operator') expect(listed).toContain(ids().cdrB);
    else expect(listed).not.toContain(ids().cdrB);
    expect((await call(actor, 'GET', `/cdrs/${ids().cdrA}`)).statusCode).toBe(200);
    expect((await call(actor, 'GET', `/cdrs/${ids().cdrB}`)).statusCode).toBe(
      role === 'operator' ? 200 : 404,
    );
    const filtered = await call(actor, 'GET', `/cdrs?subscriberId=${ids().sB}&format=csv`);
    expect(filtered.statusCode).toBe(200);
    expect(filtered.body.includes(ids().cdrB)).toBe(role === 'operator');
  });

  it('calls: sees only its own live calls', async () => {
    world.calls.length = 0;
    world.calls.push(
      {
        id: 'a',
        callId: 'a@x',
        direction: 'outbound',
        state: 'answered',
        caller: 'a',
        callee: 'b',
        startedAt: new Date(),
        callerCustomerId: ids().cA,
      },
      {
        id: 'b',
        callId: 'b@x',
        direction: 'outbound',
        state: 'ringing',
        caller: 'c',
        callee: 'd',
        startedAt: new Date(),
        callerCustomerId: ids().cB,
      },
    );
    const res = await call(actor, 'GET', '/calls');
    expect(res.statusCode).toBe(200);
    const listed = res
      .json()
      .items.map((c: { id: string }) => c.id)
      .sort();
    expect(listed).toEqual(role === 'operator' ? ['a', 'b'] : ['a']);
    world.calls.length = 0;
  });
});

describe('role boundaries', () => {
  it('a customer cannot set policy fields on its subscribers', async () => {
    const res = await call('customerA', 'PATCH', `/subscribers/${ids().sA}`, { maxConcurrentCalls: 100 });
    expect(res.statusCode).toBe(403);
  });

  it('nobody grants a role above their own', async () => {
    const asCustomer = await call('customerA', 'POST', '/users', {
      email: 'esc@test.example',
      password: 'long enough password',
      role: 'operator',
    });
    expect(asCustomer.statusCode).toBe(403);
    const asReseller = await call('resellerA', 'POST', '/users', {
      email: 'esc2@test.example',
      password: 'long enough password',
      role: 'operator',
    });
    expect(asReseller.statusCode).toBe(403);
  });

  it('a reseller reads the operator’s shared rule sets but cannot change them', async () => {
    expect((await call('resellerA', 'GET', `/rewrite-rule-sets/${ids().rsG}`)).statusCode).toBe(200);
    expect(
      (await call('resellerA', 'GET', `/rewrite-rule-sets/${ids().rsG}/rules/${ids().ruleG}`)).statusCode,
    ).toBe(200);
    expect(
      (await call('resellerA', 'PATCH', `/rewrite-rule-sets/${ids().rsG}`, { name: 'mine' })).statusCode,
    ).toBe(404);
    expect(
      (
        await call('resellerA', 'POST', `/rewrite-rule-sets/${ids().rsG}/rules`, {
          direction: 'to_subscriber',
          field: 'caller',
          matchPattern: 'x',
          replacement: 'y',
        })
      ).statusCode,
    ).toBe(404);
  });

  it('a customer cannot move its subscriber or reset another tenant’s password', async () => {
    expect((await call('customerA', 'POST', `/subscribers/${ids().sB}/reset-password`)).statusCode).toBe(404);
    expect((await call('resellerA', 'POST', `/subscribers/${ids().sB}/reset-password`)).statusCode).toBe(404);
    expect((await call('customerA', 'PATCH', `/customers/${ids().cA}`, { name: 'x' })).statusCode).toBe(403);
    expect(
      (await call('resellerA', 'PATCH', `/customers/${ids().cA}`, { resellerId: ids().rB })).statusCode,
    ).toBe(403);
  });

  it('a customer resets its own subscriber’s SIP password and sees its spending', async () => {
    const reset = await call('customerA', 'POST', `/subscribers/${ids().sA}/reset-password`);
    expect(reset.statusCode).toBe(200);
    expect(reset.json().sipUri).toBe('sip:alice@a.example.com');
    const spending = await call('customerA', 'GET', '/cdrs/summary');
    expect(spending.json()).toMatchObject({ calls: 1, totalDurationMs: 60_000 });
  });

  it('a customer cannot add subscribers beyond its contract limit', async () => {
    await world.prisma.customer.update({ where: { id: ids().cB }, data: { maxSubscribers: 1 } });
    const res = await call('customerB', 'POST', '/subscribers', { domainId: ids().dB, username: 'second' });
    expect(res.statusCode).toBe(409);
    expect(res.json().detail).toContain('limit');
    await world.prisma.customer.update({ where: { id: ids().cB }, data: { maxSubscribers: null } });
  });

  it('audit entries record who did what', async () => {
    const res = await call('resellerA', 'GET', '/audit-log?entity=subscribers&action=create');
    expect(res.statusCode).toBe(200);
    const actors = new Set(res.json().items.map((a: { actor: string }) => a.actor));
    expect([...actors].every((a) => a === 'reseller-a@test.example' || a === 'customer-a@test.example')).toBe(
      true,
    );
  });
});
