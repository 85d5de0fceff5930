import { isIP } from 'node:net';

/**
 * SIP access limits that operators set by environment variable: which sources are exempt from rate limits
 * and bans, and the per-source token bucket of sip-core (requests per second, burst). `SIP_RATE_LIMIT=0`
 * turns the limiter off.
 */
export interface SipAccessConfig {
  /** SIP_TRUSTED_SOURCES: addresses and CIDR blocks (`127.0.0.0/8`, `2001:db8::/32`), comma-separated. */
  trustedSources: string[];
  /** SIP_RATE_LIMIT: sustained requests per second per source address; 0: no limit. */
  rateLimitPerSecond: number;
  /** SIP_RATE_BURST: requests one source may send at once before the sustained rate applies. */
  rateLimitBurst: number;
}

export const SIP_ACCESS_DEFAULTS = {
  SIP_TRUSTED_SOURCES: '',
  SIP_RATE_LIMIT: '50',
  SIP_RATE_BURST: '200',
} as const;

type Env = Record<string, string | undefined>;

/** An IPv4/IPv6 address or CIDR block, as sip-core's address sets take it; throws naming what is wrong. */
export function parseSourceEntry(raw: string): string {
  const entry = raw.trim();
  const [base = '', prefixText, extra] = entry.split('/');
  const address = base.startsWith('[') && base.endsWith(']') ? base.slice(1, -1) : base;
  const version = isIP(address);
  if (version === 0 || extra !== undefined) {
    throw new Error(`expected an IP address or CIDR block (as 127.0.0.0/8), got '${entry}'`);
  }
  if (prefixText !== undefined) {
    const max = version === 4 ? 32 : 128;
    if (!/^\d{1,3}$/.test(prefixText) || Number(prefixText) > max) {
      throw new Error(`expected a prefix length 0-${max} in '${entry}'`);
    }
  }
  return entry;
}

/** Reads the SIP access variables; each bad variable is reported as a problem (variable, message) and its default used. */
export function readSipAccess(env: Env): {
  access: SipAccessConfig;
  problems: { variable: string; message: string }[];
} {
  const problems: { variable: string; message: string }[] = [];
  const integer = (name: 'SIP_RATE_LIMIT' | 'SIP_RATE_BURST', min: number, max: number): number => {
    const raw = env[name]?.trim() || SIP_ACCESS_DEFAULTS[name];
    const n = /^\d{1,9}$/.test(raw) ? Number(raw) : Number.NaN;
    if (Number.isInteger(n) && n >= min && n <= max) return n;
    problems.push({ variable: name, message: `expected an integer ${min}-${max}, got '${raw}'` });
    return Number(SIP_ACCESS_DEFAULTS[name]);
  };
  const trustedSources: string[] = [];
  for (const item of (env.SIP_TRUSTED_SOURCES ?? '').split(',')) {
    if (item.trim() === '') continue;
    try {
      trustedSources.push(parseSourceEntry(item));
    } catch (err) {
      problems.push({ variable: 'SIP_TRUSTED_SOURCES', message: (err as Error).message });
    }
  }
  const access = {
    trustedSources,
    rateLimitPerSecond: integer('SIP_RATE_LIMIT', 0, 1_000_000),
    rateLimitBurst: integer('SIP_RATE_BURST', 1, 1_000_000),
  };
  return { access, problems };
}
