import { describe, expect, it } from 'vitest';
import { withholdsIdentity } from '../../src/calls/privacy.ts';

describe('withholdsIdentity (the Privacy header, RFC 3323 §4.2)', () => {
  it('id, user and header withhold the caller, alone, in a list, in any case', () => {
    for (const value of ['id', 'user', 'header', 'ID', ' id ', 'session;id', 'header; session', 'none, user'])
      expect(withholdsIdentity(value), value).toBe(true);
  });

  it('none, session, critical, a value that merely contains one, or no header do not', () => {
    for (const value of [undefined, '', 'none', 'session', 'critical', 'session;critical', 'identity', 'idx'])
      expect(withholdsIdentity(value), String(value)).toBe(false);
  });
});
