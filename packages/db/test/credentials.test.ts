import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { generateSecret, hashPassword, sha256Hex, sipHa1, verifyPassword } from '../src/credentials.ts';

describe('sipHa1', () => {
  it('matches the RFC 7616 section 3.9.1 example (Mufasa / http-auth@example.org)', () => {
    // H(A1) of the RFC example, computed independently from its published inputs.
    const { ha1Md5, ha1Sha256 } = sipHa1('Mufasa', 'http-auth@example.org', 'Circle of Life');
    expect(ha1Md5).toBe(
      createHash('md5').update('Mufasa:http-auth@example.org:Circle of Life').digest('hex'),
    );
    expect(ha1Sha256).toBe(
      createHash('sha256').update('Mufasa:http-auth@example.org:Circle of Life').digest('hex'),
    );
    expect(ha1Md5).toMatch(/^[0-9a-f]{32}$/);
    expect(ha1Sha256).toMatch(/^[0-9a-f]{64}$/);
  });

  it('reproduces the RFC 2617 MD5 response for the Mufasa example', () => {
    // RFC 2617 section 3.5: realm testrealm@host.com, qop=auth, expected response 6629fae4...
    const { ha1Md5 } = sipHa1('Mufasa', 'testrealm@host.com', 'Circle Of Life');
    const ha2 = createHash('md5').update('GET:/dir/index.html').digest('hex');
    const response = createHash('md5')
      .update(`${ha1Md5}:dcd98b7102dd2f0e8b11d0f600bfb0c093:00000001:0a4f113b:auth:${ha2}`)
      .digest('hex');
    expect(response).toBe('6629fae49393a05397450978507c4ef1');
  });

  it('depends on every part of username:realm:password', () => {
    const base = sipHa1('alice', 'example.com', 'pw');
    expect(sipHa1('alice', 'example.com', 'pw2').ha1Sha256).not.toBe(base.ha1Sha256);
    expect(sipHa1('alice', 'example.org', 'pw').ha1Md5).not.toBe(base.ha1Md5);
    expect(sipHa1('bob', 'example.com', 'pw').ha1Md5).not.toBe(base.ha1Md5);
  });
});

describe('hashPassword / verifyPassword', () => {
  it('stores scrypt$N$r$p$salt$hash and verifies only the right password', async () => {
    const stored = await hashPassword('correct horse battery staple');
    expect(stored).toMatch(/^scrypt\$32768\$8\$1\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/);
    expect(await verifyPassword('correct horse battery staple', stored)).toBe(true);
    expect(await verifyPassword('correct horse battery stapler', stored)).toBe(false);
    expect(await verifyPassword('', stored)).toBe(false);
  });

  it('salts: the same password hashes differently each time', async () => {
    const [a, b] = await Promise.all([hashPassword('same'), hashPassword('same')]);
    expect(a).not.toBe(b);
    expect(await verifyPassword('same', a)).toBe(true);
    expect(await verifyPassword('same', b)).toBe(true);
  });

  it('verifies hashes made with other cost parameters (they are read from the hash)', async () => {
    const salt = Buffer.from('0123456789abcdef');
    const { scryptSync } = await import('node:crypto');
    const key = scryptSync('pw', salt, 32, { N: 1024, r: 4, p: 2 });
    const stored = `scrypt$1024$4$2$${salt.toString('base64')}$${key.toString('base64')}`;
    expect(await verifyPassword('pw', stored)).toBe(true);
    expect(await verifyPassword('px', stored)).toBe(false);
  });

  it('rejects malformed or abusive hashes instead of throwing', async () => {
    const good = await hashPassword('pw');
    const [, , , , salt, hash] = good.split('$');
    for (const bad of [
      '',
      'plaintext',
      `bcrypt$32768$8$1$${salt}$${hash}`,
      `scrypt$1000$8$1$${salt}$${hash}`, // N not a power of two
      `scrypt$${2 ** 24}$8$1$${salt}$${hash}`, // N too large: would eat the machine
      `scrypt$${2 ** 20}$32$1$${salt}$${hash}`, // 4 GiB of memory
      `scrypt$32768$8$1$$${hash}`, // empty salt
      `scrypt$32768$8$1$${salt}$AAAA`, // hash too short
      `scrypt$32768$8$1$${salt}`,
    ]) {
      expect(await verifyPassword('pw', bad)).toBe(false);
    }
  });
});

describe('generateSecret', () => {
  it('returns the requested length from an unambiguous alphabet', () => {
    for (const length of [1, 16, 24, 100]) {
      const secret = generateSecret(length);
      expect(secret).toHaveLength(length);
      expect(secret).toMatch(/^[A-HJ-NP-Za-km-z2-9]+$/);
    }
    expect(generateSecret()).toHaveLength(24);
  });

  it('does not repeat', () => {
    const seen = new Set(Array.from({ length: 200 }, () => generateSecret(16)));
    expect(seen.size).toBe(200);
  });

  it('refuses nonsense lengths', () => {
    expect(() => generateSecret(0)).toThrow(RangeError);
    expect(() => generateSecret(1.5)).toThrow(RangeError);
    expect(() => generateSecret(100_000)).toThrow(RangeError);
  });
});

describe('sha256Hex', () => {
  it('hashes tokens to 64 hex characters', () => {
    expect(sha256Hex('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });
});
