import { sipHa1 } from '@switchboard/db';
import { describe, expect, it } from 'vitest';
import { ha1Hex, packHa1 } from '../src/directory/ha1.ts';

describe('packed HA1 values', () => {
  const { ha1Md5, ha1Sha256 } = sipHa1('alice', 'example.test', 'secret');

  it('give back both values as the table holds them, in fewer characters', () => {
    const packed = packHa1(ha1Md5, ha1Sha256);
    expect(ha1Hex(packed, 'MD5')).toBe(ha1Md5);
    expect(ha1Hex(packed, 'SHA-256')).toBe(ha1Sha256);
    expect(packed.length).toBeLessThan((ha1Md5 + ha1Sha256).length / 2 + 2);
  });

  it('read upper-case hex as the same value', () => {
    const packed = packHa1(ha1Md5.toUpperCase(), ha1Sha256.toUpperCase());
    expect(ha1Hex(packed, 'MD5')).toBe(ha1Md5);
    expect(ha1Hex(packed, 'SHA-256')).toBe(ha1Sha256);
  });

  it('have no value for an algorithm whose stored HA1 is not hex of its length, keeping the other', () => {
    const badMd5 = packHa1(`${ha1Md5.slice(0, 31)}g`, ha1Sha256);
    expect(ha1Hex(badMd5, 'MD5')).toBeUndefined();
    expect(ha1Hex(badMd5, 'SHA-256')).toBe(ha1Sha256);
    const shortSha = packHa1(ha1Md5, ha1Sha256.slice(0, 62));
    expect(ha1Hex(shortSha, 'MD5')).toBe(ha1Md5);
    expect(ha1Hex(shortSha, 'SHA-256')).toBeUndefined();
    expect(ha1Hex(packHa1('', ''), 'MD5')).toBeUndefined();
  });

  it('have no value for another algorithm or a string that is no packed pair', () => {
    const packed = packHa1(ha1Md5, ha1Sha256);
    expect(ha1Hex(packed, 'SHA-512-256')).toBeUndefined();
    expect(ha1Hex(packed, 'md5')).toBeUndefined();
    expect(ha1Hex('', 'MD5')).toBeUndefined();
    expect(ha1Hex(ha1Md5, 'MD5')).toBeUndefined();
  });
});
