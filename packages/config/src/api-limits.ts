/**
 * Limits of the REST API that operators tune by environment variable. Creates are counted per principal
 * (user or API key's user) and per client address in a fixed window; `0` turns a limit off. They are there
 * so that nobody can test names (usernames, e-mails, domains, numbers) of other tenants at speed by trying
 * to create them; the defaults leave room for ordinary provisioning through the web admin and scripts.
 */
export interface ApiCreateLimits {
  /** API_CREATE_LIMIT: creates one reseller or customer principal may make per window (0: no limit). */
  perPrincipal: number;
  /** API_CREATE_LIMIT_PER_ADDRESS: creates by reseller and customer principals from one address per window. */
  perAddress: number;
  /** API_CREATE_WINDOW (seconds). */
  windowMs: number;
}

export const API_LIMIT_DEFAULTS = {
  API_CREATE_LIMIT: '300',
  API_CREATE_LIMIT_PER_ADDRESS: '1000',
  API_CREATE_WINDOW: '600',
} as const;

type Env = Record<string, string | undefined>;

/** Reads the API limits; each bad variable is reported as a problem (variable, message) and its default used. */
export function readApiCreateLimits(env: Env): {
  limits: ApiCreateLimits;
  problems: { variable: string; message: string }[];
} {
  const problems: { variable: string; message: string }[] = [];
  const integer = (name: keyof typeof API_LIMIT_DEFAULTS, min: number, max: number): number => {
    const raw = env[name]?.trim() || API_LIMIT_DEFAULTS[name];
    const n = /^\d{1,9}$/.test(raw) ? Number(raw) : Number.NaN;
    if (Number.isInteger(n) && n >= min && n <= max) return n;
    problems.push({ variable: name, message: `expected an integer ${min}-${max}, got '${raw}'` });
    return Number(API_LIMIT_DEFAULTS[name]);
  };
  const limits = {
    perPrincipal: integer('API_CREATE_LIMIT', 0, 1_000_000),
    perAddress: integer('API_CREATE_LIMIT_PER_ADDRESS', 0, 1_000_000),
    windowMs: integer('API_CREATE_WINDOW', 1, 86_400) * 1000,
  };
  return { limits, problems };
}
