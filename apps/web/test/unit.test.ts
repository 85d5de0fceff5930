import { describe, expect, it } from 'vitest';
import { ForwardForm } from '../src/components/ForwardEditor.tsx';
import { provisioningText } from '../src/components/provisioning.ts';
import { callsPerHour } from '../src/pages/admin/Dashboard.tsx';
import { PasswordForm } from '../src/pages/portal/Password.tsx';
import { SignupForm } from '../src/pages/Signup.tsx';

describe('callsPerHour', () => {
  it('counts calls into the last 24 hourly buckets and ignores older ones', () => {
    const now = new Date('2026-11-26T10:30:00Z');
    const buckets = callsPerHour(
      [
        { startedAt: '2026-11-26T10:05:00Z' },
        { startedAt: '2026-11-26T10:10:00Z' },
        { startedAt: '2026-11-26T09:59:59Z' },
        { startedAt: '2026-11-24T10:00:00Z' },
      ],
      now,
    );
    expect(buckets).toHaveLength(24);
    expect(buckets[23]?.calls).toBe(2);
    expect(buckets[22]?.calls).toBe(1);
    expect(buckets.reduce((n, b) => n + b.calls, 0)).toBe(3);
  });
});

describe('provisioningText', () => {
  it('carries the SIP URI, registrar and password a softphone needs', () => {
    const text = provisioningText({ username: 'alice', domain: 'voip.example.com', password: 's3cret-pass' });
    expect(text).toContain('sip:alice@voip.example.com');
    expect(text).toContain('Domain / registrar: voip.example.com');
    expect(text).toContain('Password: s3cret-pass');
  });
});

describe('form schemas', () => {
  it('accepts numbers and sip URIs as forward destinations and rejects anything else', () => {
    const base = { subscriberId: 'x', type: 'cfu', ringTimeout: '20' };
    expect(ForwardForm.safeParse({ ...base, destination: '+4930123456' }).success).toBe(true);
    expect(ForwardForm.safeParse({ ...base, destination: 'sip:bob@example.com' }).success).toBe(true);
    expect(ForwardForm.safeParse({ ...base, destination: 'bob; rm -rf' }).success).toBe(false);
    expect(ForwardForm.safeParse({ ...base, destination: '+4930123456', ringTimeout: '2' }).success).toBe(
      false,
    );
  });

  it('wants a 10-character password, typed twice the same', () => {
    expect(PasswordForm.safeParse({ password: 'short', confirm: 'short' }).success).toBe(false);
    expect(PasswordForm.safeParse({ password: 'long enough pw', confirm: 'long enough px' }).success).toBe(
      false,
    );
    expect(PasswordForm.safeParse({ password: 'long enough pw', confirm: 'long enough pw' }).success).toBe(
      true,
    );
  });

  it('refuses SIP user names with characters a URI would need escaped', () => {
    const base = { domain: 'd.example', email: 'a@b.example', password: 'long enough pw' };
    expect(SignupForm.safeParse({ ...base, username: 'alice.smith' }).success).toBe(true);
    expect(SignupForm.safeParse({ ...base, username: 'alice smith' }).success).toBe(false);
  });
});
