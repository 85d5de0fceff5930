import { BlockList, isIP } from 'node:net';

/** Address family of an IP literal as `net.BlockList` names it, or undefined for anything else. */
export function ipFamily(address: string): 'ipv4' | 'ipv6' | undefined {
  const version = isIP(address);
  return version === 4 ? 'ipv4' : version === 6 ? 'ipv6' : undefined;
}

/** Strips IPv6 brackets and the IPv4-mapped prefix so one device has one spelling. */
export function canonicalAddress(address: string): string {
  let a = address.trim().toLowerCase();
  if (a.startsWith('[') && a.endsWith(']')) a = a.slice(1, -1);
  if (a.startsWith('::ffff:') && isIP(a.slice(7)) === 4) a = a.slice(7);
  return a;
}

const PRIVATE_RANGES = (() => {
  const list = new BlockList();
  // RFC 1918 private, RFC 6598 carrier-grade NAT, link-local, loopback, and their IPv6 counterparts.
  list.addSubnet('10.0.0.0', 8, 'ipv4');
  list.addSubnet('172.16.0.0', 12, 'ipv4');
  list.addSubnet('192.168.0.0', 16, 'ipv4');
  list.addSubnet('100.64.0.0', 10, 'ipv4');
  list.addSubnet('169.254.0.0', 16, 'ipv4');
  list.addSubnet('127.0.0.0', 8, 'ipv4');
  list.addSubnet('fc00::', 7, 'ipv6');
  list.addSubnet('fe80::', 10, 'ipv6');
  list.addAddress('::1', 'ipv6');
  return list;
})();

/**
 * The value of a dotted-quad IPv4 literal (`192.0.2.1`, no leading zeros beyond a lone `0`), or -1. Used to
 * check an address against the private ranges without `BlockList.check`, which builds a SocketAddress per
 * call (it showed in the registrar's profile: every REGISTER's Contact host is checked).
 */
function ipv4Value(text: string): number {
  let value = 0;
  let octet = 0;
  let digits = 0;
  let dots = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x2e) {
      if (digits === 0 || dots === 3) return -1;
      value = value * 256 + octet;
      octet = 0;
      digits = 0;
      dots++;
    } else if (c >= 0x30 && c <= 0x39) {
      if (digits > 0 && octet === 0) return -1; // leading zero
      octet = octet * 10 + (c - 0x30);
      if (++digits > 3 || octet > 255) return -1;
    } else return -1;
  }
  if (digits === 0 || dots !== 3) return -1;
  return value * 256 + octet;
}

/** [network, mask bits] of the IPv4 ranges in PRIVATE_RANGES. */
const PRIVATE_V4: ReadonlyArray<readonly [number, number]> = [
  [ipv4Value('10.0.0.0'), 8],
  [ipv4Value('172.16.0.0'), 12],
  [ipv4Value('192.168.0.0'), 16],
  [ipv4Value('100.64.0.0'), 10],
  [ipv4Value('169.254.0.0'), 16],
  [ipv4Value('127.0.0.0'), 8],
];

/** True for addresses that cannot be reached from the public internet (RFC 1918, RFC 6598, ULA, link-local). */
export function isPrivateAddress(address: string): boolean {
  const v4 = ipv4Value(address);
  if (v4 >= 0) {
    for (const [network, bits] of PRIVATE_V4) {
      const size = 2 ** (32 - bits);
      if (Math.floor(v4 / size) === Math.floor(network / size)) return true;
    }
    return false;
  }
  const a = canonicalAddress(address);
  const family = ipFamily(a);
  return family !== undefined && PRIVATE_RANGES.check(a, family);
}

/** Bound on remembered answers; past it they are forgotten at once (cheaper than an LRU, rarely hit). */
const MAX_ANSWERS = 50_000;

/**
 * A set of addresses and CIDR blocks (`192.0.2.7`, `198.51.100.0/24`, `2001:db8::/32`).
 * Entries that are neither are reported by `add` returning false and otherwise ignored.
 */
export class AddressSet {
  private list = new BlockList();
  private count = 0;
  /**
   * Answers already computed, per address as received. `BlockList.check` builds a SocketAddress
   * for every call, which showed up in the registrar's profile: every request is checked against
   * the trusted sources and the bans, and the same few thousand devices send again and again.
   */
  private readonly answers = new Map<string, boolean>();

  constructor(entries: Iterable<string> = []) {
    for (const entry of entries) this.add(entry);
  }

  get size(): number {
    return this.count;
  }

  add(entry: string): boolean {
    const [base = '', prefixText] = entry.trim().split('/');
    const address = canonicalAddress(base);
    const family = ipFamily(address);
    if (!family) return false;
    if (prefixText === undefined) {
      this.list.addAddress(address, family);
    } else {
      const prefix = Number(prefixText);
      const max = family === 'ipv4' ? 32 : 128;
      if (!/^\d{1,3}$/.test(prefixText) || prefix > max) return false;
      this.list.addSubnet(address, prefix, family);
    }
    this.count++;
    this.answers.clear();
    return true;
  }

  has(address: string): boolean {
    if (this.count === 0) return false;
    const known = this.answers.get(address);
    if (known !== undefined) return known;
    const a = canonicalAddress(address);
    const family = ipFamily(a);
    const answer = family !== undefined && this.list.check(a, family);
    if (this.answers.size >= MAX_ANSWERS) this.answers.clear();
    this.answers.set(address, answer);
    return answer;
  }
}
