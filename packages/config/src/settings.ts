import { parseBoolean, parseInteger } from './runtime-contract.ts';
import { parseSourceEntry } from './sip-access.ts';

/**
 * Operator settings: the part of sip-core's configuration an operator may change at run time, through
 * `PATCH /api/v1/settings` (stored in the `settings` table, applied by every sip-core through the change
 * feed). Each has a default; a setting that has an environment variable and where that variable is set is
 * fixed by the environment: the API refuses to change it (the environment is the deployment's word).
 */
export type SettingValue = number | boolean | string[];

export interface SettingDefinition {
  /** sip-core's configuration path, e.g. `access.rateLimitPerSecond`. Also the row id in `settings`. */
  key: string;
  kind: 'integer' | 'boolean' | 'addresses';
  default: SettingValue;
  /** Bounds of an integer. */
  min?: number;
  max?: number;
  /** The environment variable that fixes it, if any. */
  variable?: string;
  description: string;
  /** Who applies it: sip-core (default) or the API (web sign-in policy), which reads it per request. */
  component?: 'sip-core' | 'api';
}

export const SETTINGS: readonly SettingDefinition[] = [
  {
    key: 'access.trustedSources',
    kind: 'addresses',
    default: [],
    variable: 'SIP_TRUSTED_SOURCES',
    description: 'Addresses and CIDR blocks exempt from SIP rate limits and bans',
  },
  {
    key: 'access.rateLimitPerSecond',
    kind: 'integer',
    default: 50,
    min: 0,
    max: 1_000_000,
    variable: 'SIP_RATE_LIMIT',
    description: 'SIP requests per second per source address; 0: no limit',
  },
  {
    key: 'access.rateLimitBurst',
    kind: 'integer',
    default: 200,
    min: 1,
    max: 1_000_000,
    variable: 'SIP_RATE_BURST',
    description: 'SIP requests one source may send at once before the rate applies',
  },
  {
    key: 'access.maxFailuresPerAddress',
    kind: 'integer',
    default: 20,
    min: 1,
    max: 1_000_000,
    description: 'Failed authentications from one address within the failure window that ban it',
  },
  {
    key: 'access.banDuration',
    kind: 'integer',
    default: 3600,
    min: 1,
    max: 31_536_000,
    description: 'Seconds an automatic address ban lasts',
  },
  {
    key: 'registrar.minExpires',
    kind: 'integer',
    default: 60,
    min: 1,
    max: 86_400,
    description: 'Shortest registration interval accepted (seconds); shorter ones get 423',
  },
  {
    key: 'registrar.maxExpires',
    kind: 'integer',
    default: 3600,
    min: 1,
    max: 86_400,
    description: 'Longest registration interval granted (seconds)',
  },
  {
    key: 'auth.strictUri',
    kind: 'boolean',
    default: false,
    variable: 'SIP_AUTH_STRICT_URI',
    description: "Digest credentials' uri must designate the Request-URI, else 400",
  },
  {
    key: 'calls.ringTimeout',
    kind: 'integer',
    default: 60,
    min: 1,
    max: 3600,
    description: 'Seconds a callee may ring before the call ends as not answered',
  },
  {
    key: 'calls.maxCallDuration',
    kind: 'integer',
    default: 0,
    min: 0,
    max: 604_800,
    description: "Cap on one call's duration in seconds when the customer sets none; 0: unlimited",
  },
  {
    key: 'calls.pushWaitTimeout',
    kind: 'integer',
    default: 10,
    min: 1,
    max: 120,
    variable: 'PUSH_WAIT_TIMEOUT',
    description:
      'Seconds a call waits for a device woken by push to register before it counts as not answering',
  },
  {
    key: 'calls.maxConcurrent',
    kind: 'integer',
    default: 0,
    min: 0,
    max: 1_000_000,
    variable: 'SIP_MAX_CALLS',
    description:
      'Most calls one node handles at once (shared among its sip-core workers); more get 503 with Retry-After; 0: no limit',
  },
  {
    key: 'calls.maxPerSecond',
    kind: 'integer',
    default: 0,
    min: 0,
    max: 100_000,
    variable: 'SIP_MAX_CALLS_PER_SECOND',
    description:
      'Most new calls one node admits in any one second (shared among its sip-core workers); more get 503 with Retry-After; 0: no limit',
  },
  {
    key: 'presence.acrossCustomers',
    kind: 'boolean',
    default: false,
    description:
      "Subscribers may watch the presence and calls (busy lamps) of other customers' subscribers; off: only their own customer's",
  },
  {
    key: 'presence.maxSubscriptionsPerSubscriber',
    kind: 'integer',
    default: 100,
    min: 1,
    max: 10_000,
    description: 'Presence and dialog subscriptions one subscriber may hold at once',
  },
  {
    key: 'messages.maxBytes',
    kind: 'integer',
    default: 4096,
    min: 1,
    max: 65_536,
    description: 'Largest instant message body accepted (bytes); a larger one gets 413',
  },
  {
    key: 'messages.ratePerMinute',
    kind: 'integer',
    default: 60,
    min: 0,
    max: 100_000,
    description: 'Instant messages one subscriber may send per minute (as many at once); 0: no limit',
  },
  {
    key: 'web.requireTwoFactor',
    kind: 'boolean',
    default: false,
    description: 'Operators and resellers must sign in with a TOTP code; without one they can only enrol',
    component: 'api',
  },
];

const BY_KEY = new Map(SETTINGS.map((s) => [s.key, s]));

export function settingDefinition(key: string): SettingDefinition | undefined {
  return BY_KEY.get(key);
}

/** The settings whose environment variable is set, with the value it gives (an invalid one throws). */
export function settingsFromEnvironment(env: Record<string, string | undefined>): Map<string, SettingValue> {
  const fixed = new Map<string, SettingValue>();
  for (const s of SETTINGS) {
    const raw = s.variable === undefined ? undefined : env[s.variable]?.trim();
    if (raw === undefined || raw === '') continue;
    if (s.kind === 'boolean') fixed.set(s.key, parseBoolean(raw));
    else if (s.kind === 'integer') fixed.set(s.key, parseInteger(raw, s.min ?? 0, s.max ?? 999_999_999));
    else
      fixed.set(
        s.key,
        raw
          .split(',')
          .filter((e) => e.trim() !== '')
          .map(parseSourceEntry),
      );
  }
  return fixed;
}

/** Checks a stored or submitted value against its definition; undefined when it is valid. */
export function settingProblem(s: SettingDefinition, value: unknown): string | undefined {
  if (s.kind === 'boolean') return typeof value === 'boolean' ? undefined : 'expected true or false';
  if (s.kind === 'integer') {
    const min = s.min ?? 0;
    const max = s.max ?? 999_999_999;
    return Number.isInteger(value) && (value as number) >= min && (value as number) <= max
      ? undefined
      : `expected an integer ${min}-${max}`;
  }
  if (!Array.isArray(value) || value.some((e) => typeof e !== 'string'))
    return 'expected a list of addresses';
  for (const entry of value as string[]) {
    try {
      parseSourceEntry(entry);
    } catch (err) {
      return (err as Error).message;
    }
  }
  return undefined;
}

/** Rules between settings: the registrar's shortest interval may not exceed its longest. */
export function settingsConflict(values: ReadonlyMap<string, SettingValue>): string | undefined {
  const min = values.get('registrar.minExpires');
  const max = values.get('registrar.maxExpires');
  if (typeof min === 'number' && typeof max === 'number' && min > max)
    return 'registrar.minExpires must not exceed registrar.maxExpires';
  return undefined;
}
