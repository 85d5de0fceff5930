import { createHmac, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { NonceMac } from '../src/digest/nonce-mac.ts';

describe('NonceMac', () => {
  it('computes the same bytes as createHmac for short, block-sized and long keys', () => {
    const realms = ['example.com', '', 'sip.ünïcode.example', 'r'.repeat(300), 'example.com'];
    for (const keyLength of [16, 32, 64, 65, 200]) {
      const key = randomBytes(keyLength);
      const mac = new NonceMac(key);
      for (const realm of realms) {
        for (const bodyLength of [20, 0, 7]) {
          const body = randomBytes(bodyLength);
          const expected = createHmac('sha256', key).update(body).update(realm, 'utf8').digest();
          expect(mac.digest(body, realm).equals(expected), `key ${keyLength} realm ${realm.length}`).toBe(
            true,
          );
        }
      }
    }
  });

  it('gives different macs for different bodies and realms under one key', () => {
    const mac = new NonceMac(Buffer.alloc(32, 1));
    const a = mac.digest(Buffer.alloc(20, 2), 'a.example');
    const b = mac.digest(Buffer.alloc(20, 3), 'a.example');
    const c = mac.digest(Buffer.alloc(20, 2), 'b.example');
    expect(a.equals(b)).toBe(false);
    expect(a.equals(c)).toBe(false);
    expect(mac.digest(Buffer.alloc(20, 2), 'a.example').equals(a)).toBe(true);
  });
});
