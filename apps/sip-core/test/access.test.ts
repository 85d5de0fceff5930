import { describe, expect, it } from 'vitest';
import { RateLimiter } from '../src/access/rate-limiter.ts';
import { ScannerDetector } from '../src/access/scanner.ts';
import { DEFAULT_SCANNER_USER_AGENTS } from '../src/config.ts';
import { AddressSet, canonicalAddress, isPrivateAddress } from '../src/net/address.ts';

describe('RateLimiter', () => {
  it('allows a burst, refuses beyond it, and refills over time', () => {
    let clock = 0;
    const limiter = new RateLimiter(2, 3, 100, () => clock);
    expect([1, 2, 3, 4].map(() => limiter.take('192.0.2.1'))).toEqual([true, true, true, false]);
    expect(limiter.take('192.0.2.2')).toBe(true);
    clock += 500;
    expect(limiter.take('192.0.2.1')).toBe(true);
    expect(limiter.take('192.0.2.1')).toBe(false);
  });

  it('stays bounded in the number of sources it tracks', () => {
    const limiter = new RateLimiter(1, 1, 10, () => 0);
    for (let i = 0; i < 50; i++) limiter.take(`10.0.0.${i}`);
    expect(limiter.size).toBe(10);
  });

  it('drops the source heard from longest ago, so a busy source cannot refill by being crowded out', () => {
    const limiter = new RateLimiter(1, 1, 3, () => 0);
    expect(limiter.take('a')).toBe(true);
    limiter.take('b');
    limiter.take('c');
    expect(limiter.take('a')).toBe(false); // heard again: now the most recent
    limiter.take('d'); // drops b, not a
    expect(limiter.take('a')).toBe(false);
    expect(limiter.take('b')).toBe(true); // forgotten: a fresh bucket
  });

  it('lets everything through when disabled', () => {
    const limiter = new RateLimiter(0, 1);
    expect([1, 2, 3].every(() => limiter.take('x'))).toBe(true);
  });
});

describe('ScannerDetector', () => {
  const detector = new ScannerDetector(DEFAULT_SCANNER_USER_AGENTS);
  it.each(['friendly-scanner', 'sipvicious 0.3', 'sipcli/v1.8', 'VaxSIPUserAgent/3.1', 'SIP-Scan'])(
    'flags %s',
    (ua) => expect(detector.isScanner(ua)).toBe(true),
  );
  it.each(['baresip v1.0.0', 'Linphone/5.1', undefined])('lets %s through', (ua) =>
    expect(detector.isScanner(ua)).toBe(false),
  );
});

describe('addresses', () => {
  it('recognises private and public addresses', () => {
    expect(isPrivateAddress('192.168.1.20')).toBe(true);
    expect(isPrivateAddress('100.64.3.4')).toBe(true);
    expect(isPrivateAddress('fd00::1')).toBe(true);
    expect(isPrivateAddress('192.0.2.1')).toBe(false);
    expect(isPrivateAddress('not-an-ip')).toBe(false);
  });

  it('checks IPv4 literals against the edges of each private range', () => {
    const inside = ['10.0.0.0', '10.255.255.255', '172.16.0.0', '172.31.255.255', '192.168.255.255'];
    const edges = ['100.64.0.0', '100.127.255.255', '169.254.0.1', '127.0.0.1', '127.255.255.255'];
    for (const address of [...inside, ...edges]) expect(isPrivateAddress(address), address).toBe(true);
    const outside = ['9.255.255.255', '11.0.0.0', '172.15.255.255', '172.32.0.0', '192.167.255.255'];
    const more = ['100.63.255.255', '100.128.0.0', '169.255.0.1', '128.0.0.1', '8.8.8.8', '0.0.0.0'];
    for (const address of [...outside, ...more]) expect(isPrivateAddress(address), address).toBe(false);
    // not dotted-quad literals: the same answer as the general check (none of these is an address)
    for (const address of ['10.0.0', '10.0.0.0.1', '10.0.0.256', '010.0.0.1', '10..0.1'])
      expect(isPrivateAddress(address), address).toBe(false);
  });

  it('matches single addresses and CIDR blocks in both families', () => {
    const set = new AddressSet(['192.0.2.7', '198.51.100.0/24', '2001:db8::/32', 'bogus', '10.0.0.0/99']);
    expect(set.size).toBe(3);
    expect(set.has('192.0.2.7')).toBe(true);
    expect(set.has('::ffff:192.0.2.7')).toBe(true);
    expect(set.has('198.51.100.200')).toBe(true);
    expect(set.has('[2001:db8::5]')).toBe(true);
    expect(set.has('192.0.2.8')).toBe(false);
  });

  it('answers again after an address is added (remembered answers are forgotten)', () => {
    const set = new AddressSet(['192.0.2.7']);
    expect(set.has('203.0.113.9')).toBe(false);
    expect(set.has('203.0.113.9')).toBe(false);
    set.add('203.0.113.0/24');
    expect(set.has('203.0.113.9')).toBe(true);
    expect(set.has('192.0.2.7')).toBe(true);
  });

  it('writes one spelling per address', () => {
    expect(canonicalAddress('[2001:DB8::1]')).toBe('2001:db8::1');
    expect(canonicalAddress('::ffff:10.1.2.3')).toBe('10.1.2.3');
  });
});
