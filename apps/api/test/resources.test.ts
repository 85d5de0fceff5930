import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWorld, type World } from './support/world.ts';

let world: World;
beforeAll(async () => {
  world = await createWorld('resources');
});
afterAll(async () => {
  await world?.close();
});

const op = (method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, body?: unknown) =>
  world.request('operator', method, `/api/v1${url}`, body);

/** Create, read, list, update, delete one record and check the audit trail of each change. */
async function crudCycle(opts: {
  path: string;
  create: unknown;
  update: Record<string, unknown>;
  check?: (created: Record<string, unknown>) => void;
}): Promise<Record<string, unknown>> {
  const created = await op('POST', opts.path, opts.create);
  expect(created.statusCode, created.body).toBe(201);
  const item = created.json();
  opts.check?.(item);
  const read = await op('GET', `${opts.path}/${item.id}`);
  expect(read.statusCode).toBe(200);
  expect(read.json().id).toBe(item.id);
  const list = await op('GET', `${opts.path}?perPage=500`);
  expect(list.statusCode).toBe(200);
  expect(list.json().items.map((i: { id: string }) => i.id)).toContain(item.id);
  const updated = await op('PATCH', `${opts.path}/${item.id}`, opts.update);
  expect(updated.statusCode, updated.body).toBe(200);
  expect(updated.json()).toMatchObject(opts.update);
  const deleted = await op('DELETE', `${opts.path}/${item.id}`);
  expect(deleted.statusCode).toBe(204);
  expect((await op('GET', `${opts.path}/${item.id}`)).statusCode).toBe(404);
  const audit = await world.prisma.auditEntry.findMany({
    where: { entityId: item.id },
    orderBy: { at: 'asc' },
  });
  expect(audit.map((a) => a.action)).toEqual(['create', 'update', 'delete']);
  // The update entry holds the record before and after the change.
  const change = audit[1]!;
  expect(change.before).toMatchObject({ id: item.id });
  expect(change.after).toMatchObject({ id: item.id });
  expect(change.before).not.toEqual(change.after);
  expect(audit[2]!.before).toMatchObject({ id: item.id });
  expect(audit.every((a) => a.actor === 'operator@test.example')).toBe(true);
  return item;
}

describe('CRUD on every provisioning resource', () => {
  it('resellers', async () => {
    await crudCycle({ path: '/resellers', create: { name: 'Reseller C' }, update: { status: 'locked' } });
  });

  it('customers', async () => {
    await crudCycle({
      path: '/customers',
      create: { name: 'Acme', resellerId: world.ids.rA, maxSubscribers: 10 },
      update: { name: 'Acme Ltd', maxConcurrentCalls: 4 },
      check: (c) => expect(c.resellerId).toBe(world.ids.rA),
    });
  });

  it('a limit set to null is cleared, not stored as 0 (the validator coerces types)', async () => {
    const created = await op('POST', '/customers', { name: 'Limited', maxConcurrentCalls: 0 });
    expect(created.statusCode, created.body).toBe(201);
    const id = created.json().id as string;
    const cleared = await op('PATCH', `/customers/${id}`, { maxConcurrentCalls: null, maxSubscribers: null });
    expect(cleared.statusCode, cleared.body).toBe(200);
    expect(cleared.json()).toMatchObject({ maxConcurrentCalls: null, maxSubscribers: null });
    const stored = await world.prisma.customer.findUniqueOrThrow({ where: { id } });
    expect(stored.maxConcurrentCalls).toBeNull();
    // Zero stays zero: null in the type list does not swallow it.
    const zero = await op('PATCH', `/customers/${id}`, { maxConcurrentCalls: 0 });
    expect(zero.json().maxConcurrentCalls).toBe(0);
    expect((await op('DELETE', `/customers/${id}`)).statusCode).toBe(204);
  });

  it('domains', async () => {
    await crudCycle({
      path: '/domains',
      create: { name: 'Voip.Example.org', countryCode: '43', areaCode: '1' },
      update: { selfSignup: true, transcodeCodecs: ['PCMA'] },
      // A new domain transcodes browsers' Opus to G.711 unless told otherwise.
      check: (d) => {
        expect(d.name).toBe('voip.example.org');
        expect(d.transcodeCodecs).toEqual(['PCMU', 'PCMA']);
      },
    });
  });

  it('domains: transcoding off is an empty list; unknown or repeated codecs are 400 naming the field', async () => {
    const created = await op('POST', '/domains', { name: 'plain.example.org', transcodeCodecs: [] });
    expect(created.statusCode, created.body).toBe(201);
    expect(created.json().transcodeCodecs).toEqual([]);
    const id = created.json().id;
    for (const bad of [['opus'], ['PCMU', 'PCMU']]) {
      const res = await op('PATCH', `/domains/${id}`, { transcodeCodecs: bad });
      expect(res.statusCode, res.body).toBe(400);
      expect(
        res
          .json()
          .errors.map((e: { field: string }) => e.field)
          .join(' '),
      ).toContain('/body/transcodeCodecs');
    }
    expect((await op('DELETE', `/domains/${id}`)).statusCode).toBe(204);
  });

  it('subscribers: computes HA1s, shows a generated password once, never returns hashes', async () => {
    const created = await op('POST', '/subscribers', {
      customerId: world.ids.cA,
      domainId: world.ids.dA,
      username: 'Dave',
      displayName: 'Dave',
    });
    expect(created.statusCode, created.body).toBe(201);
    const sub = created.json();
    expect(sub.sipUri).toBe('sip:dave@a.example.com');
    expect(sub.password).toMatch(/^[A-Za-z0-9]{20}$/);
    expect(created.body).not.toMatch(/ha1/i);
    const row = await world.prisma.subscriber.findUniqueOrThrow({ where: { id: sub.id } });
    const { sipHa1 } = await import('@switchboard/db');
    expect(row.ha1Md5).toBe(sipHa1('dave', 'a.example.com', sub.password).ha1Md5);
    expect(row.ha1Sha256).toBe(sipHa1('dave', 'a.example.com', sub.password).ha1Sha256);

    const read = await op('GET', `/subscribers/${sub.id}`);
    expect(read.json().password).toBeUndefined();
    expect(read.body).not.toMatch(/ha1/i);

    // Set and reset the password.
    const patched = await op('PATCH', `/subscribers/${sub.id}`, { password: 'my-new-sip-pass', clir: true });
    expect(patched.statusCode).toBe(200);
    expect(patched.json()).toMatchObject({ clir: true });

    // The SRTP policy: optional by default, one of three values, a wrong one named in the problem.
    expect(sub.srtp).toBe('optional');
    const srtp = await op('PATCH', `/subscribers/${sub.id}`, { srtp: 'mandatory' });
    expect(srtp.statusCode, srtp.body).toBe(200);
    expect(srtp.json()).toMatchObject({ srtp: 'mandatory' });
    const badSrtp = await op('PATCH', `/subscribers/${sub.id}`, { srtp: 'always' });
    expect(badSrtp.statusCode).toBe(400);
    expect(badSrtp.json().errors[0].field).toBe('/body/srtp');
    const after = await world.prisma.subscriber.findUniqueOrThrow({ where: { id: sub.id } });
    expect(after.ha1Md5).toBe(sipHa1('dave', 'a.example.com', 'my-new-sip-pass').ha1Md5);
    const reset = await op('POST', `/subscribers/${sub.id}/reset-password`);
    expect(reset.statusCode).toBe(200);
    const again = await world.prisma.subscriber.findUniqueOrThrow({ where: { id: sub.id } });
    expect(again.ha1Md5).toBe(sipHa1('dave', 'a.example.com', reset.json().password).ha1Md5);

    // Renaming needs a password, since the digests contain the username.
    const rename = await op('PATCH', `/subscribers/${sub.id}`, { username: 'david' });
    expect(rename.statusCode).toBe(400);
    expect(rename.json().errors[0].field).toBe('/body/password');

    // Audit entries never hold the password or the digests.
    const audit = await world.prisma.auditEntry.findMany({ where: { entityId: sub.id } });
    expect(audit.map((a) => a.action)).toEqual(
      expect.arrayContaining(['create', 'update', 'reset-password']),
    );
    const dump = JSON.stringify(audit);
    expect(dump).not.toContain(sub.password);
    expect(dump).not.toContain(row.ha1Md5);
    expect(dump).not.toMatch(/ha1|"password"|passwordHash/i);
    expect(dump).not.toContain(reset.json().password);

    expect((await op('DELETE', `/subscribers/${sub.id}`)).statusCode).toBe(204);
  });

  it('subscribers: duplicate username in a domain is 409; unknown domain is 404 naming the field', async () => {
    const dup = await op('POST', '/subscribers', {
      customerId: world.ids.cA,
      domainId: world.ids.dA,
      username: 'alice',
    });
    expect(dup.statusCode).toBe(409);
    expect(dup.headers['content-type']).toContain('application/problem+json');
    expect(dup.json().errors.map((e: { field: string }) => e.field)).toContain('/body/username');
    const missing = await op('POST', '/subscribers', {
      customerId: world.ids.cA,
      domainId: '00000000-0000-7000-8000-000000000000',
      username: 'zed',
    });
    expect(missing.statusCode).toBe(404);
    expect(missing.json().errors).toEqual([{ field: '/body/domainId', message: 'not found' }]);
  });

  it('numbers: builds E.164 and keeps one primary per subscriber', async () => {
    const n = await crudCycle({
      path: '/numbers',
      create: { subscriberId: world.ids.sA, countryCode: '43', areaCode: '1', subscriberNumber: '2002' },
      update: { isPrimary: true },
      check: (num) => {
        expect(num.e164).toBe('+4312002');
        expect(num.isPrimary).toBe(false);
      },
    });
    expect(n.e164).toBe('+4312002');
    const second = await op('POST', '/numbers', {
      subscriberId: world.ids.sA,
      countryCode: '43',
      areaCode: '1',
      subscriberNumber: '3003',
      isPrimary: true,
    });
    expect(second.statusCode).toBe(201);
    const primaries = await world.prisma.phoneNumber.findMany({
      where: { subscriberId: world.ids.sA, isPrimary: true },
    });
    expect(primaries.map((p) => p.e164)).toEqual(['+4313003']);
    const sub = await op('GET', `/subscribers/${world.ids.sA}`);
    expect(sub.json().primaryNumber).toBe('+4313003');
    const tooLong = await op('POST', '/numbers', {
      subscriberId: world.ids.sA,
      countryCode: '43',
      areaCode: '123456',
      subscriberNumber: '12345678',
    });
    expect(tooLong.statusCode).toBe(400);
    const dup = await op('POST', '/numbers', {
      subscriberId: world.ids.sB,
      countryCode: '43',
      areaCode: '1',
      subscriberNumber: '3003',
    });
    expect(dup.statusCode).toBe(409);
  });

  it('call forwards with ordered destinations', async () => {
    await crudCycle({
      path: '/call-forwards',
      create: {
        subscriberId: world.ids.sA,
        type: 'cft',
        ringTimeout: 20,
        destinations: [
          { kind: 'number', destination: '+4366412345' },
          { kind: 'uri', destination: 'sip:voicemail@a.example.com', ringTimeout: 30 },
        ],
      },
      update: { enabled: false },
      check: (cf) => {
        const d = cf.destinations as { position: number; kind: string }[];
        expect(d.map((x) => [x.position, x.kind])).toEqual([
          [0, 'number'],
          [1, 'uri'],
        ]);
      },
    });
    const bad = await op('POST', '/call-forwards', {
      subscriberId: world.ids.sA,
      type: 'cfu',
      destinations: [{ kind: 'uri', destination: 'not a uri' }],
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().errors[0].field).toBe('/body/destinations/0/destination');
  });

  it('rewrite rule sets and their rules', async () => {
    const set = await op('POST', '/rewrite-rule-sets', { name: 'national', description: 'AT dialling' });
    expect(set.statusCode).toBe(201);
    const setId = set.json().id;
    await crudCycle({
      path: `/rewrite-rule-sets/${setId}/rules`,
      create: {
        direction: 'from_subscriber',
        field: 'callee',
        matchPattern: '^00(\\d+)$',
        replacement: '$1',
      },
      update: { priority: 5 },
    });
    const badRegex = await op('POST', `/rewrite-rule-sets/${setId}/rules`, {
      direction: 'from_subscriber',
      field: 'callee',
      matchPattern: '^(unclosed',
      replacement: '',
    });
    expect(badRegex.statusCode).toBe(400);
    expect(badRegex.json().errors[0].field).toBe('/body/matchPattern');
    expect((await op('PATCH', `/rewrite-rule-sets/${setId}`, { name: 'national AT' })).statusCode).toBe(200);
    expect((await op('DELETE', `/rewrite-rule-sets/${setId}`)).statusCode).toBe(204);
  });

  it('peering groups, gateways (credentials write-only) and rules', async () => {
    const group = await crudCycle({
      path: '/peering-groups',
      create: { name: 'backup carrier' },
      update: { priority: 50 },
    });
    expect(group.enabled).toBe(true);
    expect(group.rewriteRuleSetId).toBeNull();
    const carrierFormat = (await op('POST', '/rewrite-rule-sets', { name: 'carrier format' })).json();
    const g = (
      await op('POST', '/peering-groups', { name: 'main carrier', rewriteRuleSetId: carrierFormat.id })
    ).json();
    expect(g.rewriteRuleSetId).toBe(carrierFormat.id);
    const unknownSet = await op('PATCH', `/peering-groups/${g.id}`, {
      rewriteRuleSetId: '0192f0c4-0000-7000-8000-000000000000',
    });
    expect(unknownSet.statusCode).toBe(404);
    expect(unknownSet.json().errors[0].field).toBe('/body/rewriteRuleSetId');
    const gw = await crudCycle({
      path: `/peering-groups/${g.id}/gateways`,
      create: {
        name: 'sbc1',
        host: 'sbc1.carrier.example',
        transport: 'tcp',
        authUsername: 'trunk1',
        authPassword: 'trunk-secret',
        authRealm: 'carrier.example',
        trustedSources: ['198.51.100.0/24'],
      },
      update: { weight: 10 },
      check: (created) => {
        expect(created.hasAuthPassword).toBe(true);
        expect(JSON.stringify(created)).not.toContain('trunk-secret');
        expect(JSON.stringify(created)).not.toMatch(/ha1/i);
      },
    });
    expect(gw.port).toBe(5060);
    const badSource = await op('POST', `/peering-groups/${g.id}/gateways`, {
      name: 'sbc2',
      host: 'sbc2.carrier.example',
      trustedSources: ['not-an-ip'],
    });
    expect(badSource.statusCode).toBe(400);
    expect(badSource.json().errors[0].field).toBe('/body/trustedSources/0');
    await crudCycle({
      path: `/peering-groups/${g.id}/rules`,
      create: { calleePrefix: '4366', description: 'mobile' },
      update: { enabled: false },
    });
    // Children of another group are not found through this group.
    expect((await op('GET', `/peering-groups/${g.id}/gateways/${world.ids.gw}`)).statusCode).toBe(404);
  });

  it('IP bans', async () => {
    await crudCycle({
      path: '/ip-bans',
      create: { address: '2001:DB8::/32', reason: 'scanner' },
      update: { reason: 'SIP scanner' },
      check: (b) => {
        expect(b.address).toBe('2001:db8::/32');
        expect(b.createdBy).toBe('operator@test.example');
      },
    });
    const bad = await op('POST', '/ip-bans', { address: '300.1.1.1' });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().errors[0].field).toBe('/body/address');
  });
});

describe('validation errors', () => {
  it('names every bad field as a JSON pointer', async () => {
    const res = await op('POST', '/customers', { name: '', maxSubscribers: -1, colour: 'red' });
    expect(res.statusCode).toBe(400);
    expect(res.headers['content-type']).toContain('application/problem+json');
    const body = res.json();
    expect(body).toMatchObject({
      type: expect.stringContaining('validation'),
      title: expect.any(String),
      status: 400,
    });
    const fields = body.errors.map((e: { field: string }) => e.field);
    expect(fields).toEqual(expect.arrayContaining(['/body/name', '/body/maxSubscribers', '/body/colour']));
  });

  it('checks numbers and dialling settings with the rules calls are routed by', async () => {
    const wrongCountry = await op('POST', '/numbers', {
      subscriberId: world.ids.sA,
      countryCode: '4',
      areaCode: '31',
      subscriberNumber: '5550',
    });
    expect(wrongCountry.statusCode).toBe(400);
    expect(wrongCountry.json().errors[0]).toMatchObject({
      field: '/body/countryCode',
      message: expect.stringContaining('+43'),
    });
    const notANumber = await op('POST', '/numbers', {
      subscriberId: world.ids.sA,
      countryCode: '999',
      areaCode: '',
      subscriberNumber: '1234',
    });
    expect(notANumber.statusCode).toBe(400);
    expect(notANumber.json().errors[0].field).toBe('/body/subscriberNumber');
    const badPlan = await op('POST', '/domains', { name: 'badplan.example.com', countryCode: '999' });
    expect(badPlan.statusCode).toBe(400);
    expect(badPlan.json().errors[0]).toMatchObject({
      field: '/body/countryCode',
      message: expect.stringContaining('not an assigned country calling code'),
    });
  });

  it('rejects bad ids, bad query parameters and unknown sort fields', async () => {
    const badId = await op('GET', '/subscribers/123');
    expect(badId.statusCode).toBe(400);
    expect(badId.json().errors[0].field).toBe('/params/id');
    const badPage = await op('GET', '/subscribers?perPage=100000');
    expect(badPage.statusCode).toBe(400);
    expect(badPage.json().errors[0].field).toBe('/query/perPage');
    const badSort = await op('GET', '/subscribers?sort=ha1Md5');
    expect(badSort.statusCode).toBe(400);
    expect(badSort.json().errors[0].field).toBe('/query/sort');
  });

  it('an empty PATCH is a validation error', async () => {
    const res = await op('PATCH', `/customers/${world.ids.cA}`, {});
    expect(res.statusCode).toBe(400);
  });

  it('deleting a domain that still has subscribers is a 409', async () => {
    const res = await op('DELETE', `/domains/${world.ids.dB}`);
    expect(res.statusCode).toBe(409);
  });
});

describe('lists: pagination, sorting and filtering the same way everywhere', () => {
  it('pages with totals', async () => {
    for (let i = 0; i < 5; i++) {
      expect((await op('POST', '/resellers', { name: `Page reseller ${i}` })).statusCode).toBe(201);
    }
    const p1 = (await op('GET', '/resellers?perPage=2&page=1&sort=-name&name=page')).json();
    const p3 = (await op('GET', '/resellers?perPage=2&page=3&sort=-name&name=page')).json();
    expect(p1).toMatchObject({ page: 1, perPage: 2, total: 5 });
    expect(p1.items.map((r: { name: string }) => r.name)).toEqual(['Page reseller 4', 'Page reseller 3']);
    expect(p3.items.map((r: { name: string }) => r.name)).toEqual(['Page reseller 0']);
  });

  it('filters by declared fields', async () => {
    const subs = (await op('GET', `/subscribers?customerId=${world.ids.cB}`)).json();
    expect(subs.items.map((s: { username: string }) => s.username)).toEqual(['bob']);
    const byDomain = (await op('GET', '/subscribers?domain=a.example.com&sort=-createdAt')).json();
    expect(byDomain.items.every((s: { domain: string }) => s.domain === 'a.example.com')).toBe(true);
  });
});

describe('read-only resources', () => {
  it('registrations are live only', async () => {
    const regs = (await op('GET', '/registrations')).json();
    expect(regs.total).toBe(2);
    await world.prisma.registration.update({
      where: { id: world.ids.regB },
      data: { expiresAt: new Date(Date.now() - 1000) },
    });
    const live = (await op('GET', '/registrations')).json();
    expect(live.items.map((r: { id: string }) => r.id)).toEqual([world.ids.regA]);
    expect((await op('GET', `/registrations/${world.ids.regB}`)).statusCode).toBe(404);
    expect((await op('POST', '/registrations', {})).statusCode).toBe(404);
    await world.prisma.registration.update({
      where: { id: world.ids.regB },
      data: { expiresAt: new Date(Date.now() + 3600_000) },
    });
  });

  it('calls come from the injected provider', async () => {
    world.calls.push({
      id: 'c1',
      callId: 'abc@host',
      direction: 'internal',
      state: 'answered',
      caller: 'sip:alice@a.example.com',
      callee: 'sip:bob@b.example.com',
      startedAt: new Date(),
      callerCustomerId: world.ids.cA,
      calleeCustomerId: world.ids.cB,
    });
    const calls = (await op('GET', '/calls')).json();
    expect(calls.total).toBe(1);
    expect(calls.items[0]).toMatchObject({ callId: 'abc@host', state: 'answered' });
    world.calls.length = 0;
  });

  it('CDRs filter by time, subscriber, number and disposition, and export CSV', async () => {
    const q = (s: string) => op('GET', `/cdrs?${s}`);
    expect((await q('')).json().total).toBe(2);
    expect((await q(`subscriberId=${world.ids.sA}`)).json().items.map((c: { id: string }) => c.id)).toEqual([
      world.ids.cdrA,
    ]);
    expect((await q('number=0800222')).json().items.map((c: { id: string }) => c.id)).toEqual([
      world.ids.cdrB,
    ]);
    expect((await q('disposition=busy')).json().total).toBe(0);
    expect((await q('from=2026-01-11T00:00:00Z')).json().total).toBe(0);
    expect((await q('from=2026-01-10T00:00:00Z&to=2026-01-11T00:00:00Z')).json().total).toBe(2);
    expect((await q('disposition=sideways')).statusCode).toBe(400);

    const csv = await op('GET', '/cdrs?format=csv&sort=durationMs');
    expect(csv.statusCode).toBe(200);
    expect(csv.headers['content-type']).toContain('text/csv');
    const lines = csv.body.trim().split('\r\n');
    expect(lines[0]).toMatch(/^id,callId,direction,/);
    expect(lines).toHaveLength(3);
    expect(lines[1]).toContain(world.ids.cdrB);
    const viaAccept = await world.app.inject({
      method: 'GET',
      url: '/api/v1/cdrs',
      headers: { authorization: `Bearer ${world.tokens.operator}`, accept: 'text/csv' },
    });
    expect(viaAccept.headers['content-type']).toContain('text/csv');
  });

  it('CDR summary sums talk time', async () => {
    const all = (await op('GET', '/cdrs/summary')).json();
    expect(all).toEqual({ calls: 2, answered: 2, totalDurationMs: 90_000, totalDurationSeconds: 90 });
    const a = (await world.request('customerA', 'GET', '/api/v1/cdrs/summary')).json();
    expect(a).toMatchObject({ calls: 1, totalDurationMs: 60_000 });
  });

  it('audit log lists changes with filters', async () => {
    const res = await op('GET', '/audit-log?entity=subscribers&action=reset-password');
    expect(res.statusCode).toBe(200);
    expect(res.json().total).toBeGreaterThanOrEqual(1);
    expect(res.json().items[0].entity).toBe('subscribers');
  });
});

describe('users', () => {
  it('creates users with hashed passwords and never returns the hash', async () => {
    const res = await op('POST', '/users', {
      email: 'Helpdesk@Test.example',
      password: 'helpdesk password',
      role: 'reseller',
      resellerId: world.ids.rA,
    });
    expect(res.statusCode, res.body).toBe(201);
    expect(res.json()).toMatchObject({
      email: 'helpdesk@test.example',
      role: 'reseller',
      resellerId: world.ids.rA,
    });
    expect(res.body).not.toMatch(/passwordHash|scrypt/);
    const login = await world.app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: { email: 'helpdesk@test.example', password: 'helpdesk password' },
      remoteAddress: '127.0.9.1',
    });
    expect(login.statusCode).toBe(200);
    // Disabling ends the session.
    const id = res.json().id;
    expect((await op('PATCH', `/users/${id}`, { enabled: false })).statusCode).toBe(200);
    const me = await world.app.inject({
      method: 'GET',
      url: '/api/v1/auth/me',
      headers: { authorization: `Bearer ${login.json().token}` },
    });
    expect(me.statusCode).toBe(401);
  });
});
