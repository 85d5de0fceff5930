import { describe, expect, it } from 'vitest';
import { base32Decode, base32Encode, hotp, otpauthUri, totpStep, verifyTotp } from '../src/auth/totp.ts';

// The shared secret of RFC 4226 Appendix D and RFC 6238 Appendix B (SHA-1): ASCII "12345678901234567890".
const SECRET = Buffer.from('12345678901234567890', 'ascii');

describe('TOTP (RFC 6238) and HOTP (RFC 4226)', () => {
  it('gives the HOTP values of RFC 4226 Appendix D', () => {
    const expected = ['755224', '287082', '359152', '969429', '338314', '254676', '287922', '162583'];
    expect(expected.map((_, counter) => hotp(SECRET, counter))).toEqual(expected);
  });

  it('gives the last six digits of the RFC 6238 Appendix B SHA-1 values', () => {
    // T = 59 s -> 94287082, T = 1111111109 s -> 07081804, T = 2000000000 s -> 69279037.
    expect(hotp(SECRET, totpStep(59_000))).toBe('287082');
    expect(hotp(SECRET, totpStep(1_111_111_109_000))).toBe('081804');
    expect(hotp(SECRET, totpStep(2_000_000_000_000))).toBe('279037');
  });

  it('round-trips base32 and accepts one step of drift, never a step already used', () => {
    const secret = base32Encode(SECRET);
    expect(secret).toBe('GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ');
    expect(base32Decode(secret)).toEqual(SECRET);
    const now = 1_111_111_109_000;
    const step = totpStep(now);
    expect(verifyTotp(secret, hotp(SECRET, step - 1), now, null)).toBe(step - 1);
    expect(verifyTotp(secret, hotp(SECRET, step + 1), now, null)).toBe(step + 1);
    expect(verifyTotp(secret, hotp(SECRET, step + 2), now, null)).toBeUndefined();
    expect(verifyTotp(secret, hotp(SECRET, step), now, step)).toBeUndefined();
    expect(verifyTotp(secret, 'abcdef', now, null)).toBeUndefined();
  });

  it('writes the otpauth URI authenticator apps import', () => {
    const uri = new URL(otpauthUri('GEZDGNBV', 'ops@example.com'));
    expect(uri.protocol).toBe('otpauth:');
    expect(uri.host).toBe('totp');
    expect(decodeURIComponent(uri.pathname)).toBe('/Switchboard:ops@example.com');
    expect(Object.fromEntries(uri.searchParams)).toEqual({
      secret: 'GEZDGNBV',
      issuer: 'Switchboard',
      algorithm: 'SHA1',
      digits: '6',
      period: '30',
    });
  });
});
