import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { type BencodeValue, decodeBencode, encodeBencode } from '../src/bencode.ts';
import { ngMessageCodec } from '../src/ng-client.ts';

// The package rtpengine-client bundles: the reference our codec must agree with.
const reference = createRequire(import.meta.url)('bencode') as {
  encode(value: unknown): Buffer;
  decode(bytes: Buffer, encoding: 'utf8'): unknown;
};

const bytes = (text: string): Buffer => Buffer.from(text, 'utf8');

describe('encodeBencode', () => {
  it('prefixes a string with its UTF-8 byte length, not its character count', () => {
    expect(encodeBencode('abc')).toBe('3:abc');
    expect(encodeBencode('')).toBe('0:');
    expect(encodeBencode('Zürich €')).toBe('11:Zürich €');
  });

  it('writes integers, negative ones and booleans', () => {
    expect(encodeBencode(0)).toBe('i0e');
    expect(encodeBencode(-42)).toBe('i-42e');
    expect(encodeBencode(2 ** 40)).toBe('i1099511627776e');
    expect(encodeBencode(true)).toBe('i1e');
    expect(encodeBencode(false)).toBe('i0e');
  });

  it('sorts dictionary keys and leaves out undefined and null values', () => {
    expect(encodeBencode({ sdp: 'v=0', 'call-id': 'x', flags: ['trust-address'], 'to-tag': undefined })).toBe(
      'd7:call-id1:x5:flagsl13:trust-addresse3:sdp3:v=0e',
    );
    expect(encodeBencode([1, null as unknown as BencodeValue, 'a'])).toBe('li1e1:ae');
  });

  it('refuses what bencode cannot carry', () => {
    expect(() => encodeBencode(1.5)).toThrow(RangeError);
    expect(() => encodeBencode(Number.NaN)).toThrow(RangeError);
    expect(() => encodeBencode(Buffer.from('x') as unknown as BencodeValue)).toThrow(TypeError);
    expect(() => encodeBencode((() => 1) as unknown as BencodeValue)).toThrow(TypeError);
    let deep: BencodeValue = 'x';
    for (let i = 0; i < 100; i++) deep = [deep];
    expect(() => encodeBencode(deep)).toThrow(RangeError);
  });
});

describe('decodeBencode', () => {
  it('reads every kind of value, strings as UTF-8', () => {
    expect(decodeBencode(bytes('d6:resulti-3e3:sdp11:Zürich €4:tagsl1:a1:bd1:ki0eeee'))).toEqual({
      result: -3,
      sdp: 'Zürich €',
      tags: ['a', 'b', { k: 0 }],
    });
    expect(decodeBencode(bytes('de'))).toEqual({});
    expect(decodeBencode(bytes('le'))).toEqual([]);
    expect(decodeBencode(bytes('0:'))).toBe('');
  });

  it('starts where it is told to', () => {
    expect(decodeBencode(bytes('cookie d2:ok4:ponge'), 7)).toEqual({ ok: 'pong' });
  });

  it('keeps a key named __proto__ as data, in a dictionary without a prototype', () => {
    const value = decodeBencode(bytes('d9:__proto__d5:admini1eee')) as Record<string, unknown>;
    expect(Object.getPrototypeOf(value)).toBeNull();
    expect(Object.keys(value)).toEqual(['__proto__']);
    expect(Object.getOwnPropertyDescriptor(value, '__proto__')?.value).toEqual({ admin: 1 });
    expect(({} as { admin?: unknown }).admin).toBeUndefined();
  });

  it.each([
    ['', 'nothing'],
    ['x', 'an unknown lead byte'],
    ['i12', 'an unterminated integer'],
    ['ie', 'an integer without digits'],
    ['i-e', 'a minus without digits'],
    ['i1x2e', 'a letter in an integer'],
    ['5:abc', 'a string longer than the message'],
    ['3abc', 'a string length without a colon'],
    ['d3:key', 'a dictionary without its value'],
    ['di1ei2ee', 'a dictionary key that is not a string'],
    ['l1:a', 'an unterminated list'],
    ['d1:ai1e', 'an unterminated dictionary'],
    ['i1ei2e', 'trailing data'],
    [`${'l'.repeat(100)}${'e'.repeat(100)}`, 'nesting deeper than any reply'],
  ])('refuses %j (%s) with a SyntaxError', (text) => {
    expect(() => decodeBencode(bytes(text))).toThrow(SyntaxError);
  });
});

describe('agreement with the bencode package', () => {
  /** A bounded pseudo-random NG-like value: the same seed gives the same value. */
  function randomValue(next: () => number, depth: number): BencodeValue {
    const kind = depth > 3 ? next() % 3 : next() % 5;
    if (kind === 0) return next() % 2 === 0 ? next() % 100_000 : -(next() % 1000);
    if (kind === 1) {
      const alphabet = ['a', '=', ' ', '\r\n', 'é', '€', '😀', '0', ':', 'e'];
      let text = '';
      for (let i = next() % 12; i > 0; i--) text += alphabet[next() % alphabet.length];
      return text;
    }
    if (kind === 2) return `k${next() % 50}`;
    if (kind === 3) return Array.from({ length: next() % 4 }, () => randomValue(next, depth + 1));
    const dictionary: Record<string, BencodeValue> = {};
    for (let i = next() % 5; i > 0; i--) dictionary[`key-${next() % 20}-é`] = randomValue(next, depth + 1);
    return dictionary;
  }

  it('encodes and decodes 2,000 random values byte for byte as the package does', () => {
    let state = 20261206;
    const next = (): number => {
      state = (state * 1103515245 + 12345) % 2 ** 31;
      return state >>> 8;
    };
    for (let i = 0; i < 2000; i++) {
      const value = randomValue(next, 0);
      const ours = bytes(encodeBencode(value));
      expect(ours.equals(reference.encode(value))).toBe(true);
      expect(decodeBencode(ours)).toEqual(reference.decode(ours, 'utf8'));
    }
  });
});

describe('ngMessageCodec', () => {
  it('frames a command as cookie, space and dictionary, and reads a reply back', () => {
    const message = ngMessageCodec.encodeMessage('5c1d', { command: 'ping' });
    expect(message.toString()).toBe('5c1d d7:command4:pinge');
    expect(ngMessageCodec.decodeMessage(bytes('5c1d d6:result4:ponge'))).toEqual({
      id: '5c1d',
      data: { result: 'pong' },
    });
  });

  it.each([
    ['d6:result4:ponge', 'no cookie'],
    [' d6:result4:ponge', 'an empty cookie'],
    ['5c1d l4:ponge', 'a list instead of a dictionary'],
    ['5c1d 4:pong', 'a string instead of a dictionary'],
    ['5c1d d6:result4:pon', 'a truncated dictionary'],
  ])('refuses %j (%s)', (text) => {
    expect(() => ngMessageCodec.decodeMessage(bytes(text))).toThrow(SyntaxError);
  });
});
