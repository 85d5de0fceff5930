import { describe, expect, it } from 'vitest';
import { diffOf, recordName } from '../src/components/audit.ts';
import { ringTimeText } from '../src/components/ForwardEdit.tsx';
import { recordOptions } from '../src/components/options.ts';
import { expiryOf, keyState } from '../src/pages/admin/ApiKeys.tsx';
import { SubscriberForm } from '../src/pages/admin/SubscriberForms.tsx';

describe('audit entries', () => {
  it('name the record: user@domain, name, number, e-mail', () => {
    expect(recordName(null, { username: 'alice', domain: { name: 'a.example' } })).toBe('alice@a.example');
    expect(recordName({ name: 'Acme' }, null)).toBe('Acme');
    expect(recordName(null, { e164: '+4311001', subscriberId: 'x' })).toBe('+4311001');
    expect(recordName(null, { email: 'ops@example.com' })).toBe('ops@example.com');
    expect(recordName(null, null)).toBeNull();
  });

  it('diff only the fields that changed, ignoring bookkeeping', () => {
    const before = { id: '1', displayName: 'A', clir: false, updatedAt: 't1', blocked: ['1'] };
    const after = { id: '1', displayName: 'B', clir: false, updatedAt: 't2', blocked: ['1', '2'] };
    expect(diffOf(before, after)).toEqual([
      { field: 'displayName', before: 'A', after: 'B' },
      { field: 'blocked', before: '["1"]', after: '["1","2"]' },
    ]);
    expect(diffOf(undefined, { name: 'New', maxSubscribers: null })).toEqual([
      { field: 'name', before: '', after: 'New' },
      { field: 'maxSubscribers', before: '', after: '–' },
    ]);
  });
});

describe('form helpers', () => {
  it('an empty drop-down says what to create first; a loading one offers Choose…', () => {
    expect(recordOptions([], 'Create a domain first')).toEqual([
      { value: '', label: 'Create a domain first' },
    ]);
    expect(recordOptions(undefined, 'Create a domain first')).toEqual([{ value: '', label: 'Choose…' }]);
    expect(recordOptions([{ id: 'd1', name: 'a.example' }], 'x')).toEqual([
      { value: '', label: 'Choose…' },
      { value: 'd1', label: 'a.example' },
    ]);
  });

  it('a SIP password is optional on create but 8-128 characters when typed', () => {
    const base = {
      customerId: 'c',
      domainId: 'd',
      username: 'alice',
      displayName: '',
      maxConcurrentCalls: '',
      rewriteRuleSetId: '',
      clir: false,
      srtp: 'optional',
      allowedCalleePrefixes: '',
      blockedCalleePrefixes: '',
    };
    expect(SubscriberForm.safeParse({ ...base, password: '' }).success).toBe(true);
    // The SRTP policy is one of the API's three values.
    expect(SubscriberForm.safeParse({ ...base, password: '', srtp: 'mandatory' }).success).toBe(true);
    expect(SubscriberForm.safeParse({ ...base, password: '', srtp: 'always' }).success).toBe(false);
    const short = SubscriberForm.safeParse({ ...base, password: 'short' });
    expect(short.error?.issues.map((i) => [i.path.join('.'), i.message])).toEqual([
      ['password', 'At least 8 characters, or empty'],
    ]);
    expect(SubscriberForm.safeParse({ ...base, password: 'long enough 1' }).success).toBe(true);
    expect(SubscriberForm.safeParse({ ...base, password: '', allowedCalleePrefixes: '43, x' }).success).toBe(
      false,
    );
  });

  it('an API key is active, expired or revoked; a picked date lasts through that day', () => {
    const key = { revokedAt: null, expiresAt: '2030-01-01T00:00:00.000Z' } as Parameters<typeof keyState>[0];
    expect(keyState(key, Date.parse('2029-12-31T00:00:00Z'))).toBe('active');
    expect(keyState(key, Date.parse('2030-01-02T00:00:00Z'))).toBe('expired');
    expect(keyState({ ...key, revokedAt: '2029-01-01T00:00:00.000Z' }, 0)).toBe('revoked');
    expect(expiryOf('')).toBeNull();
    const end = new Date(expiryOf('2030-05-01') ?? '');
    expect([end.getFullYear(), end.getMonth(), end.getDate(), end.getHours()]).toEqual([2030, 4, 1, 23]);
  });

  it('ring time is shown for "when not answered" forwards only', () => {
    const f = { type: 'cft', ringTimeout: 25 } as Parameters<typeof ringTimeText>[0];
    expect(ringTimeText(f)).toBe('25 s');
    expect(ringTimeText({ ...f, ringTimeout: null })).toBe('default');
    expect(ringTimeText({ ...f, type: 'cfu' })).toBe('–');
  });
});
