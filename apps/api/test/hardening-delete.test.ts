import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueCredential } from '../src/auth/tokens.ts';
import { type Actor, createWorld, type World } from './support/world.ts';

/**
 * Deleting a record that others depend on is refused with 409 and the counts, unless forced; a forced delete
 * removes the dependants and audits every removed row.
 */

let world: World;
beforeAll(async () => {
  world = await createWorld('hardening_delete');
});
afterAll(async () => {
  await world?.close();
});

const call = (actor: Actor, method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, body?: unknown) =>
  world.request(actor, method, `/api/v1${url}`, body);
const op = (method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, body?: unknown) =>
  call('operator', method, url, body);

let seq = 0;
async function create(url: string, body: Record<string, unknown>): Promise<string> {
  const res = await op('POST', url, body);
  expect(res.statusCode, res.body).toBe(201);
  return res.json().id;
}

/** A customer with one subscriber, number, call forward, registration and login (with session and key). */
async function customerTree(resellerId: string, domainId: string) {
  const n = ++seq;
  const customer = await create('/customers', { name: `Tree ${n}`, resellerId });
  const subscriber = await create('/subscribers', { customerId: customer, domainId, username: `tree${n}` });
  const number = await create('/numbers', {
    subscriberId: subscriber,
    countryCode: '43',
    areaCode: '6',
    subscriberNumber: String(20000 + n),
  });
  const forward = await create('/call-forwards', {
    subscriberId: subscriber,
    type: 'cfu',
    destinations: [{ kind: 'number', destination: '0664' }],
  });
  const user = await create('/users', {
    email: `tree${n}@test.example`,
    password: 'long enough password',
    role: 'customer',
    customerId: customer,
  });
  const registration = (
    await world.prisma.registration.create({
      data: {
        subscriberId: subscriber,
        aor: `sip:tree${n}@x`,
        bindingKey: 'k',
        contactUri: `sip:tree${n}@127.0.0.1:5070`,
        receivedAddress: '127.0.0.1',
        receivedPort: 5070,
        transport: 'udp',
        expiresAt: new Date(Date.now() + 3600_000),
        callId: `tree${n}`,
        cseq: 1,
        node: 'test',
      },
    })
  ).id;
  const session = (
    await world.prisma.session.create({
      data: {
        userId: user,
        tokenHash: issueCredential('session').hash,
        expiresAt: new Date(Date.now() + 60_000),
      },
    })
  ).id;
  const apiKey = (
    await world.prisma.apiKey.create({
      data: { userId: user, name: 'k', prefix: `k${n}`, keyHash: issueCredential('apiKey').hash },
    })
  ).id;
  return { customer, subscriber, number, forward, user, registration, session, apiKey };
}

async function deletedInAudit(ids: string[]): Promise<Record<string, string>> {
  const entries = await world.prisma.auditEntry.findMany({
    where: { action: 'delete', entityId: { in: ids } },
  });
  return Object.fromEntries(entries.map((e) => [e.entityId!, e.entity]));
}

describe('deleting a customer', () => {
  it('with dependants: 409 with their counts, nothing removed', async () => {
    const t = await customerTree(world.ids.rA, world.ids.dA);
    for (const actor of ['operator', 'resellerA'] as const) {
      const res = await call(actor, 'DELETE', `/customers/${t.customer}`);
      expect(res.statusCode, res.body).toBe(409);
      expect(res.headers['content-type']).toContain('application/problem+json');
      expect(res.json().dependants).toEqual({
        subscribers: 1,
        numbers: 1,
        'call-forwards': 1,
        registrations: 1,
        users: 1,
        sessions: 1,
        'api-keys': 1,
      });
      expect(res.json().detail).toContain('force=true');
    }
    expect((await op('GET', `/subscribers/${t.subscriber}`)).statusCode).toBe(200);
    expect(await world.prisma.user.count({ where: { id: t.user } })).toBe(1);
  });

  it('forced: removes everything below it and audits every removed row', async () => {
    const t = await customerTree(world.ids.rA, world.ids.dA);
    const res = await call('resellerA', 'DELETE', `/customers/${t.customer}?force=true`);
    expect(res.statusCode, res.body).toBe(204);
    expect((await op('GET', `/customers/${t.customer}`)).statusCode).toBe(404);
    expect(await world.prisma.subscriber.count({ where: { id: t.subscriber } })).toBe(0);
    expect(await world.prisma.user.count({ where: { id: t.user } })).toBe(0);
    expect(await deletedInAudit(Object.values(t))).toEqual({
      [t.customer]: 'customers',
      [t.subscriber]: 'subscribers',
      [t.number]: 'numbers',
      [t.forward]: 'call-forwards',
      [t.user]: 'users',
      [t.registration]: 'registrations',
      [t.session]: 'sessions',
      [t.apiKey]: 'api-keys',
    });
    const forward = await world.prisma.auditEntry.findFirstOrThrow({
      where: { entityId: t.forward, action: 'delete' },
    });
    expect(forward.before).toMatchObject({ id: t.forward, destinations: [{ destination: '0664' }] });
    expect(
      JSON.stringify(await world.prisma.auditEntry.findMany({ where: { entityId: t.user } })),
    ).not.toMatch(/passwordHash|keyHash|tokenHash/);
  });

  it('forced by the reseller: refused while it would remove a subscriber the operator locked', async () => {
    const t = await customerTree(world.ids.rA, world.ids.dA);
    expect((await op('PATCH', `/subscribers/${t.subscriber}`, { status: 'locked' })).statusCode).toBe(200);
    const res = await call('resellerA', 'DELETE', `/customers/${t.customer}?force=true`);
    expect(res.statusCode, res.body).toBe(403);
    expect(res.headers['content-type']).toContain('application/problem+json');
    expect((await op('GET', `/subscribers/${t.subscriber}`)).json().status).toBe('locked');
    expect((await op('GET', `/customers/${t.customer}`)).statusCode).toBe(200);
    // The operator may.
    expect((await op('DELETE', `/customers/${t.customer}?force=true`)).statusCode).toBe(204);
  });

  it('without dependants: deleted without force', async () => {
    const id = await create('/customers', { name: 'Empty', resellerId: world.ids.rA });
    expect((await op('DELETE', `/customers/${id}`)).statusCode).toBe(204);
  });
});

describe('the same rule for domains, resellers, peering groups and rule sets', () => {
  it('domains: refused while subscribers use them; forced removes the subscribers', async () => {
    const domain = await create('/domains', { name: 'gone.example.org', resellerId: world.ids.rA });
    const t = await customerTree(world.ids.rA, domain);
    const refused = await op('DELETE', `/domains/${domain}`);
    expect(refused.statusCode).toBe(409);
    expect(refused.json().dependants).toEqual({
      subscribers: 1,
      numbers: 1,
      'call-forwards': 1,
      registrations: 1,
    });
    expect((await op('DELETE', `/domains/${domain}?force=true`)).statusCode).toBe(204);
    expect(await deletedInAudit([domain, t.subscriber, t.number])).toEqual({
      [domain]: 'domains',
      [t.subscriber]: 'subscribers',
      [t.number]: 'numbers',
    });
    expect((await op('GET', `/customers/${t.customer}`)).statusCode).toBe(200);
  });

  it('resellers: refused while they have customers, domains, rule sets or logins; forced removes all', async () => {
    const reseller = await create('/resellers', { name: 'Going away' });
    const domain = await create('/domains', { name: 'away.example.org', resellerId: reseller });
    const t = await customerTree(reseller, domain);
    const ruleSet = await create('/rewrite-rule-sets', { name: 'away rules', resellerId: reseller });
    const rule = await create(`/rewrite-rule-sets/${ruleSet}/rules`, {
      direction: 'from_subscriber',
      field: 'callee',
      matchPattern: '^0(\\d+)$',
      replacement: '43$1',
    });
    const login = await create('/users', {
      email: 'away-reseller@test.example',
      password: 'long enough password',
      role: 'reseller',
      resellerId: reseller,
    });
    const refused = await op('DELETE', `/resellers/${reseller}`);
    expect(refused.statusCode).toBe(409);
    expect(refused.json().dependants).toMatchObject({
      customers: 1,
      domains: 1,
      subscribers: 1,
      users: 2,
      'rewrite-rule-sets': 1,
      'rewrite-rules': 1,
    });
    expect((await op('DELETE', `/resellers/${reseller}?force=true`)).statusCode).toBe(204);
    const audited = await deletedInAudit([reseller, domain, ruleSet, rule, login, ...Object.values(t)]);
    expect(Object.keys(audited).sort()).toEqual(
      [reseller, domain, ruleSet, rule, login, ...Object.values(t)].sort(),
    );
  });

  it('peering groups: refused while they have gateways or rules', async () => {
    const group = await create('/peering-groups', { name: 'old carrier' });
    const gw = await create(`/peering-groups/${group}/gateways`, { name: 'gw', host: 'old.example.net' });
    const rule = await create(`/peering-groups/${group}/rules`, { calleePrefix: '49' });
    const refused = await op('DELETE', `/peering-groups/${group}`);
    expect(refused.statusCode).toBe(409);
    expect(refused.json().dependants).toEqual({ 'peer-gateways': 1, 'peering-rules': 1 });
    expect((await op('DELETE', `/peering-groups/${group}?force=true`)).statusCode).toBe(204);
    expect(await deletedInAudit([group, gw, rule])).toEqual({
      [group]: 'peering-groups',
      [gw]: 'peer-gateways',
      [rule]: 'peering-rules',
    });
  });

  it('rule sets: refused while they have rules or are in use; forced detaches the users, audited', async () => {
    const ruleSet = await create('/rewrite-rule-sets', { name: 'in use', resellerId: world.ids.rA });
    const rule = await create(`/rewrite-rule-sets/${ruleSet}/rules`, {
      direction: 'from_subscriber',
      field: 'callee',
      matchPattern: '^0(\\d+)$',
      replacement: '43$1',
    });
    const domain = await create('/domains', {
      name: 'rules.example.org',
      resellerId: world.ids.rA,
      rewriteRuleSetId: ruleSet,
    });
    const refused = await call('resellerA', 'DELETE', `/rewrite-rule-sets/${ruleSet}`);
    expect(refused.statusCode).toBe(409);
    expect(refused.json().dependants).toEqual({ 'rewrite-rules': 1, domains: 1 });
    expect((await call('resellerA', 'DELETE', `/rewrite-rule-sets/${ruleSet}?force=true`)).statusCode).toBe(
      204,
    );
    expect((await op('GET', `/domains/${domain}`)).json().rewriteRuleSetId).toBeNull();
    expect(await deletedInAudit([ruleSet, rule])).toEqual({
      [ruleSet]: 'rewrite-rule-sets',
      [rule]: 'rewrite-rules',
    });
    const detached = await world.prisma.auditEntry.findFirstOrThrow({
      where: { entityId: domain, action: 'update' },
    });
    expect(detached.before).toMatchObject({ rewriteRuleSetId: ruleSet });
    expect(detached.after).toMatchObject({ rewriteRuleSetId: null });
  });

  it('force is a boolean: anything else is a 400 naming it', async () => {
    const res = await op('DELETE', `/customers/${world.ids.cA}?force=maybe`);
    expect(res.statusCode).toBe(400);
    expect(res.json().errors[0].field).toBe('/query/force');
  });
});
