import { describe, expect, it } from 'vitest';
import { redactForAudit } from '../src/audit-redact.ts';
import { bearerFrom, credentialKind, hashCredential, issueCredential } from '../src/auth/tokens.ts';
import { ApiError, fieldErrors, problem, uniqueFields } from '../src/errors.ts';
import { WindowLimiter } from '../src/limiter.ts';
import { type ListSpec, listArgs, parseSort } from '../src/list.ts';

const spec: ListSpec = {
  sortable: ['name', 'createdAt'],
  defaultSort: 'name',
  filters: {
    name: { type: 'string', op: 'contains' },
    customerId: { type: 'string' },
    resellerId: { type: 'string', field: 'customer.resellerId' },
    from: { type: 'datetime', field: 'startTime', op: 'gte' },
    to: { type: 'datetime', field: 'startTime', op: 'lt' },
  },
};

describe('list helper', () => {
  it('turns page/perPage into skip/take', () => {
    const a = listArgs({ page: 3, perPage: 20 }, spec);
    expect(a).toMatchObject({ skip: 40, take: 20, page: 3, perPage: 20 });
  });

  it('parses multi-field sort with direction', () => {
    expect(parseSort('-createdAt,name', spec)).toEqual([{ createdAt: 'desc' }, { name: 'asc' }]);
  });

  it('rejects sorting by an undeclared field, naming /query/sort', () => {
    try {
      parseSort('ha1Md5', spec);
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(ApiError);
      expect((err as ApiError).status).toBe(400);
      expect((err as ApiError).errors?.[0]?.field).toBe('/query/sort');
    }
  });

  it('builds nested and range filters', () => {
    const a = listArgs(
      { name: 'ac', resellerId: 'r1', from: '2026-01-01T00:00:00Z', to: '2026-02-01T00:00:00Z' },
      spec,
    );
    expect(a.where).toEqual({
      name: { contains: 'ac', mode: 'insensitive' },
      customer: { resellerId: 'r1' },
      startTime: { gte: new Date('2026-01-01T00:00:00Z'), lt: new Date('2026-02-01T00:00:00Z') },
    });
  });
});

describe('problem details', () => {
  it('names missing and unknown properties as JSON pointers', () => {
    const errs = fieldErrors('body', [
      { instancePath: '', keyword: 'required', params: { missingProperty: 'email' }, message: 'x' },
      { instancePath: '', keyword: 'additionalProperties', params: { additionalProperty: 'zz' } },
      { instancePath: '/port', keyword: 'maximum', params: {}, message: 'must be <= 65535' },
    ]);
    expect(errs).toEqual([
      { field: '/body/email', message: 'x' },
      { field: '/body/zz', message: 'unknown property' },
      { field: '/body/port', message: 'must be <= 65535' },
    ]);
  });

  it('names the fields of a unique violation, whichever way the driver reports it', () => {
    expect(uniqueFields({ code: 'P2002', meta: { target: ['domain_id', 'username'] } }, {})).toEqual([
      'domainId',
      'username',
    ]);
    const viaIndex = {
      code: 'P2002',
      meta: {
        driverAdapterError: { cause: { constraint: { index: 'subscribers_domain_id_username_key' } } },
      },
    };
    expect(
      uniqueFields(viaIndex, { customerId: 'x', domainId: 'y', username: 'z', displayName: 'w' }),
    ).toEqual(['domainId', 'username']);
  });

  it('has type, title and status', () => {
    expect(problem(404, 'gone')).toEqual({
      type: 'https://switchboard.dev/problems/not-found',
      title: 'Not found',
      status: 404,
      detail: 'gone',
    });
  });
});

describe('window limiter', () => {
  it('blocks after max events until the window passes', () => {
    let now = 1_000_000;
    const l = new WindowLimiter({ max: 3, windowMs: 60_000 }, () => now);
    for (let i = 0; i < 3; i++) {
      expect(l.retryAfter('ip')).toBe(0);
      l.hit('ip');
    }
    expect(l.retryAfter('ip')).toBe(60);
    expect(l.retryAfter('other')).toBe(0);
    now += 30_000;
    expect(l.retryAfter('ip')).toBe(30);
    now += 30_000;
    expect(l.retryAfter('ip')).toBe(0);
  });

  it('reset forgets a key', () => {
    const l = new WindowLimiter({ max: 1, windowMs: 60_000 });
    l.hit('a');
    expect(l.retryAfter('a')).toBeGreaterThan(0);
    l.reset('a');
    expect(l.retryAfter('a')).toBe(0);
  });
});

describe('credentials', () => {
  it('issues prefixed secrets whose hash is stored, not the secret', () => {
    const c = issueCredential('apiKey');
    expect(credentialKind(c.secret)).toBe('apiKey');
    expect(c.hash).toBe(hashCredential(c.secret));
    expect(c.hash).not.toContain(c.secret);
    expect(credentialKind(issueCredential('session').secret)).toBe('session');
  });

  it('parses only well-formed bearer headers', () => {
    expect(bearerFrom('Bearer sbt_abc')).toBe('sbt_abc');
    expect(bearerFrom('bearer   sbt_abc ')).toBe('sbt_abc');
    expect(bearerFrom('Basic Zm9vOmJhcg==')).toBeUndefined();
    expect(bearerFrom('Bearer a b')).toBeUndefined();
  });
});

describe('audit redaction', () => {
  it('drops secrets and hashes at any depth', () => {
    expect(
      redactForAudit({
        username: 'alice',
        ha1Md5: 'x',
        ha1Sha256: 'y',
        passwordHash: 'z',
        nested: { tokenHash: 't', ok: 1 },
        when: new Date(0),
      }),
    ).toEqual({ username: 'alice', nested: { ok: 1 }, when: '1970-01-01T00:00:00.000Z' });
  });
});
