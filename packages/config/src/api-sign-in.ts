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
  };
}
