import { describe, expect, it } from 'vitest';
import { withholdsIdentity, withoutOriginUser } from '../../src/calls/privacy.ts';

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

describe('withoutOriginUser', () => {
  it("replaces only the origin's username, keeping the rest of the SDP", () => {
    const sdp = 'v=0\r\no=alice 123 4 IN IP4 192.0.2.1\r\ns=alice\r\nc=IN IP4 192.0.2.1\r\n';
    expect(withoutOriginUser(sdp)).toBe(
      'v=0\r\no=- 123 4 IN IP4 192.0.2.1\r\ns=alice\r\nc=IN IP4 192.0.2.1\r\n',
    );
    expect(withoutOriginUser('v=0\no=+4930111111 1 1 IN IP4 127.0.0.1\n')).toBe(
      'v=0\no=- 1 1 IN IP4 127.0.0.1\n',
    );
    expect(withoutOriginUser('v=0\r\ns=-\r\n')).toBe('v=0\r\ns=-\r\n');
  });
});
