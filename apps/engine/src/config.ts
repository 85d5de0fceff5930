import { isIP } from 'node:net';

/**
 * The engine's configuration. The shapes of HostPort and SipListener match the launcher's runtime contract
 * (SIP_LISTEN, ENGINE_ADMIN), so the all-in-one launcher can hand its parsed values straight to startEngine.
 */

export type SipTransport = 'udp' | 'tcp' | 'tls' | 'ws' | 'wss';
export const SIP_TRANSPORTS: readonly SipTransport[] = ['udp', 'tcp', 'tls', 'ws', 'wss'];

export interface HostPort {
  host: string;
  port: number;
}

export interface SipListener extends HostPort {
  transport: SipTransport;
  /** Address written into Via/Contact for this listener (a host behind 1:1 NAT); defaults to the engine-wide one. */
  advertisedAddress?: string;
}

export interface TlsFiles {
  /** PEM certificate chain. */
  cert: string;
  /** PEM private key. */
  key: string;
}

export interface EngineLimits {
  /** Largest SIP message accepted from the network, in bytes (larger ones are dropped, or 413 on streams). */
  maxMessageBytes: number;
  /** Most drachtio apps connected at once. */
  maxAppConnections: number;
  /** How long an app has to answer an incoming request before the engine answers 500 itself (ms). */
  appResponseTimeoutMs: number;
  /** How long a new app connection may take to authenticate (ms). */
  authTimeoutMs: number;
}

export interface EngineConfig {
  sipListen: SipListener[];
  /** Engine-wide advertised address (SIP_ADVERTISED_ADDRESS); a listener's own advertisedAddress wins. */
  sipAdvertisedAddress?: string;
  /** Where drachtio-srf apps connect (ENGINE_ADMIN). */
  engineAdmin: HostPort;
  /** The shared secret apps authenticate with (ENGINE_SECRET). */
  engineSecret: string;
  /** Certificate for tls/wss SIP listeners. */
  sipTls?: TlsFiles;
  /** Serve the admin listener over TLS with this certificate. */
  adminTls?: TlsFiles;
  /** Log every SIP message sent and received (SIP_TRACE=1). */
  sipTrace?: boolean;
  /** Answer OPTIONS with 200 when no app routes OPTIONS (default true). */
  answerOptions?: boolean;
  limits?: Partial<EngineLimits>;
}

export const DEFAULT_LIMITS: EngineLimits = {
  maxMessageBytes: 65_535,
  maxAppConnections: 1000,
  appResponseTimeoutMs: 64_000,
  authTimeoutMs: 10_000,
};

export const ENGINE_DEFAULTS = {
  SIP_LISTEN: 'udp:0.0.0.0:5060,tcp:0.0.0.0:5060,ws:0.0.0.0:5066',
  ENGINE_ADMIN: '127.0.0.1:9022',
} as const;

export class EngineConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid engine configuration:\n${problems.map((p) => `  ${p}`).join('\n')}`);
    this.name = 'EngineConfigError';
  }
}

type Env = Record<string, string | undefined>;

/**
 * Reads the standalone engine's configuration from the environment:
 * SIP_LISTEN, SIP_ADVERTISED_ADDRESS, ENGINE_ADMIN, ENGINE_SECRET (required), SIP_TLS_CERT/SIP_TLS_KEY,
 * ENGINE_ADMIN_TLS_CERT/ENGINE_ADMIN_TLS_KEY (PEM file contents are read by main.ts), SIP_TRACE,
 * ENGINE_ANSWER_OPTIONS, SIP_MAX_MESSAGE_BYTES, ENGINE_MAX_APPS.
 * Every problem is collected and reported at once.
 */
export function engineConfigFromEnv(env: Env): EngineConfig & { tlsPaths: Partial<Record<string, string>> } {
  const problems: string[] = [];
  const value = (name: string): string | undefined => {
    const v = env[name]?.trim();
    return v === undefined || v === '' ? undefined : v;
  };
  const attempt = <T>(name: string, fallback: T, parse: () => T): T => {
    try {
      return parse();
    } catch (err) {
      problems.push(`${name}: ${(err as Error).message}`);
      return fallback;
    }
  };

  const sipListen = attempt('SIP_LISTEN', [], () =>
    parseSipListen(value('SIP_LISTEN') ?? ENGINE_DEFAULTS.SIP_LISTEN),
  );
  const advertised = value('SIP_ADVERTISED_ADDRESS');
  if (advertised !== undefined && !isIP(advertised) && !isHostname(advertised)) {
    problems.push(`SIP_ADVERTISED_ADDRESS: expected an IP address or host name, got '${advertised}'`);
  }
  const engineAdmin = attempt('ENGINE_ADMIN', { host: '127.0.0.1', port: 9022 }, () =>
    parseHostPort(value('ENGINE_ADMIN') ?? ENGINE_DEFAULTS.ENGINE_ADMIN),
  );
  const engineSecret = value('ENGINE_SECRET') ?? '';
  if (engineSecret.length < 8) problems.push('ENGINE_SECRET: expected at least 8 characters');
  if (engineSecret.includes('|'))
    problems.push("ENGINE_SECRET: must not contain '|' (the protocol's separator)");
  const flag = (name: string, fallback: boolean): boolean => {
    const raw = value(name);
    if (raw === undefined) return fallback;
    if (['1', 'true', 'yes', 'on'].includes(raw.toLowerCase())) return true;
    if (['0', 'false', 'no', 'off'].includes(raw.toLowerCase())) return false;
    problems.push(`${name}: expected 1/0, true/false, yes/no or on/off, got '${raw}'`);
    return fallback;
  };
  const integer = (name: string, fallback: number, min: number, max: number): number => {
    const raw = value(name);
    if (raw === undefined) return fallback;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min || n > max) {
      problems.push(`${name}: expected an integer ${min}-${max}, got '${raw}'`);
      return fallback;
    }
    return n;
  };
  const tlsPaths: Partial<Record<string, string>> = {};
  for (const name of ['SIP_TLS_CERT', 'SIP_TLS_KEY', 'ENGINE_ADMIN_TLS_CERT', 'ENGINE_ADMIN_TLS_KEY']) {
    const v = value(name);
    if (v !== undefined) tlsPaths[name] = v;
  }
  if ((tlsPaths.SIP_TLS_CERT === undefined) !== (tlsPaths.SIP_TLS_KEY === undefined)) {
    problems.push('SIP_TLS_CERT and SIP_TLS_KEY: give both or neither');
  }
  if ((tlsPaths.ENGINE_ADMIN_TLS_CERT === undefined) !== (tlsPaths.ENGINE_ADMIN_TLS_KEY === undefined)) {
    problems.push('ENGINE_ADMIN_TLS_CERT and ENGINE_ADMIN_TLS_KEY: give both or neither');
  }
  if (
    sipListen.some((l) => l.transport === 'tls' || l.transport === 'wss') &&
    tlsPaths.SIP_TLS_CERT === undefined
  ) {
    problems.push('SIP_LISTEN: tls and wss listeners need SIP_TLS_CERT and SIP_TLS_KEY');
  }
  const limits: EngineLimits = {
    ...DEFAULT_LIMITS,
    maxMessageBytes: integer('SIP_MAX_MESSAGE_BYTES', DEFAULT_LIMITS.maxMessageBytes, 1024, 65_535),
    maxAppConnections: integer('ENGINE_MAX_APPS', DEFAULT_LIMITS.maxAppConnections, 1, 100_000),
  };
  const config = {
    sipListen,
    engineAdmin,
    engineSecret,
    sipTrace: flag('SIP_TRACE', false),
    answerOptions: flag('ENGINE_ANSWER_OPTIONS', true),
    limits,
    tlsPaths,
    ...(advertised !== undefined ? { sipAdvertisedAddress: advertised } : {}),
  };
  if (problems.length > 0) throw new EngineConfigError(problems);
  return config;
}

/** `transport:host:port[,...]`, IPv6 hosts as `[addr]`. */
export function parseSipListen(raw: string): SipListener[] {
  const items = raw
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  if (items.length === 0) throw new Error('expected at least one transport:host:port');
  return items.map((item) => {
    const colon = item.indexOf(':');
    const transport = item.slice(0, colon).toLowerCase();
    if (colon < 0 || !(SIP_TRANSPORTS as readonly string[]).includes(transport)) {
      throw new Error(
        `expected transport:host:port with transport one of ${SIP_TRANSPORTS.join(', ')}, got '${item}'`,
      );
    }
    return { transport: transport as SipTransport, ...parseHostPort(item.slice(colon + 1)) };
  });
}

export function parseHostPort(raw: string): HostPort {
  const m = /^(\[[0-9a-fA-F:.]+\]|[^:[\]]+):(\d{1,5})$/.exec(raw);
  if (!m) throw new Error(`expected host:port (IPv6 as [addr]:port), got '${raw}'`);
  const bracketed = m[1]!.startsWith('[');
  const host = bracketed ? m[1]!.slice(1, -1) : m[1]!;
  if (bracketed && isIP(host) !== 6) throw new Error(`'${host}' is not an IPv6 address`);
  if (!bracketed && !isIP(host) && !isHostname(host))
    throw new Error(`'${host}' is not an IP address or host name`);
  const port = Number(m[2]);
  if (port > 65535) throw new Error(`expected a port number 0-65535, got '${m[2]}'`);
  return { host, port };
}

function isHostname(s: string): boolean {
  return /^(?=.{1,253}$)([a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)(\.[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*$/.test(
    s,
  );
}

/** `udp/1.2.3.4:5060`, IPv6 bracketed: the form drachtio apps receive in the authenticate reply. */
export function formatHostport(transport: SipTransport, host: string, port: number): string {
  return `${transport}/${isIP(host) === 6 ? `[${host}]` : host}:${port}`;
}
