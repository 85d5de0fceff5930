import { isIP } from 'node:net';
import { parseBoolean, parseInteger } from './runtime-contract.ts';

/**
 * Web and API sign-in settings (an extension of the runtime contract, read by the API): the login
 * brute-force limits and whether the session cookies are marked Secure.
 */
export interface ApiSignInConfig {
  limits: {
    /** API_LOGIN_FAILURES_PER_IP: attempts one client address may fail in the window, then 429. */
    loginFailuresPerIp: number;
    /** API_LOGIN_FAILURES_PER_USER: failures on one account after which its logins are slowed down. */
    loginFailuresPerAccount: number;
    /** API_LOGIN_WINDOW (seconds): how long failures are remembered. */
    loginWindowMs: number;
    /** API_LOGIN_MAX_DELAY (seconds): longest slow-down of one attempt; 0 = no slow-down. */
    loginMaxDelayMs: number;
  };
  /** API_COOKIE_SECURE: `auto` (Secure when the request came over HTTPS), or always / never. */
  cookieSecure: boolean | 'auto';
  /**
   * API_TRUSTED_PROXIES: addresses or CIDR blocks of reverse proxies in front of the API whose
   * X-Forwarded-For / X-Forwarded-Proto are believed (client address for the login limits, HTTPS for the
   * cookies). Empty: no forwarded header is believed.
   */
  trustedProxies: string[];
}

type Check = <T>(name: string, fallback: T, parse: (raw: string) => T) => T;

/**
 * Reads the variables through loadConfig's `check`, which reports a bad value under its variable's name.
 * Defaults: 20 failures per address, slow-down after 5 per account, a 900 s window, at most 30 s of delay.
 */
export function readApiSignIn(check: Check): ApiSignInConfig {
  return {
    limits: {
      loginFailuresPerIp: check('API_LOGIN_FAILURES_PER_IP', 20, (raw) => parseInteger(raw, 1, 1_000_000)),
      loginFailuresPerAccount: check('API_LOGIN_FAILURES_PER_USER', 5, (raw) =>
        parseInteger(raw, 1, 1_000_000),
      ),
      loginWindowMs: check('API_LOGIN_WINDOW', 900_000, (raw) => parseInteger(raw, 1, 604_800) * 1000),
      loginMaxDelayMs: check('API_LOGIN_MAX_DELAY', 30_000, (raw) => parseInteger(raw, 0, 3600) * 1000),
    },
    cookieSecure: check<boolean | 'auto'>('API_COOKIE_SECURE', 'auto', (raw) =>
      raw.toLowerCase() === 'auto' ? 'auto' : parseBoolean(raw),
    ),
    trustedProxies: check<string[]>('API_TRUSTED_PROXIES', [], (raw) =>
      raw
        .split(',')
        .map((item) => item.trim())
        .filter((item) => item !== '')
        .map(parseAddressOrBlock),
    ),
  };
}

/** `192.0.2.1`, `10.0.0.0/8`, `::1` or `2001:db8::/32`. */
function parseAddressOrBlock(item: string): string {
  const [address = '', prefix, extra] = item.split('/');
  const family = isIP(address);
  const bits = family === 6 ? 128 : 32;
  const prefixOk = prefix === undefined || (/^\d{1,3}$/.test(prefix) && Number(prefix) <= bits);
  if (family === 0 || !prefixOk || extra !== undefined) {
    throw new Error(`expected IP addresses or CIDR blocks, comma-separated, got '${item}'`);
  }
  return item;
}
