import { randomBytes } from 'node:crypto';
import { isIP } from 'node:net';
import { availableParallelism, networkInterfaces } from 'node:os';
import { resolve } from 'node:path';
import { type ApiCreateLimits, readApiCreateLimits } from './api-limits.ts';
import { type ApiSignInConfig, readApiSignIn } from './api-sign-in.ts';
import { type MailConfig, readMail } from './mail.ts';
import { readObjectStorage, type S3Settings } from './object-storage.ts';
import { type SettingValue, settingsFromEnvironment } from './settings.ts';
import { readSipAccess, type SipAccessConfig } from './sip-access.ts';

/**
 * The runtime contract (ARCHITECTURE.md, "Runtime contract"): every variable the platform reads, its default
 * and its validation. A bad value stops start-up with a message naming the variable and what it expects.
 */

export type SipTransport = 'udp' | 'tcp' | 'tls' | 'ws' | 'wss';
export const SIP_TRANSPORTS: readonly SipTransport[] = ['udp', 'tcp', 'tls', 'ws', 'wss'];

export interface HostPort {
  host: string;
  port: number;
}

export interface SipListener extends HostPort {
  transport: SipTransport;
}

export interface EnumListener extends HostPort {
  transport: 'udp' | 'tcp';
}

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
const LOG_LEVELS: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

export interface DrachtioTarget extends HostPort {
  secret: string;
}

/** Paths of a PEM certificate chain and its private key (the files are read by whoever serves TLS). */
export interface TlsPaths {
  certPath: string;
  keyPath: string;
}

/**
 * ENGINE_REQUEST_HANDLERS entry: drachtio-server's request handler for one SIP method (or `*`): connect out to
 * an app listening at `tcp://host:port`, or ask an http(s) URL where each new request goes.
 */
export interface EngineRequestHandler {
  method: string;
  url: string;
  httpMethod: 'GET' | 'POST';
}

export interface Config {
  /** PostgreSQL URL; undefined means the embedded PGlite database in `${dataDir}/db`. */
  databaseUrl: string | undefined;
  dataDir: string;
  sipListen: SipListener[];
  sipAdvertisedAddress: string | undefined;
  /** An external engine (ours or drachtio-server); undefined means the embedded engine. */
  drachtio: DrachtioTarget | undefined;
  engineAdmin: HostPort;
  engineSecret: string;
  /** True when ENGINE_SECRET was not given and one was generated for this run (the launcher prints it). */
  engineSecretGenerated: boolean;
  /**
   * rtpengine NG control addresses, `host:port[=weight]` comma-separated, as validated here; undefined means
   * "start a local rtpengine if installed".
   */
  rtpengineNg: string | undefined;
  /**
   * RTPENGINE_DTMF_LISTEN: where sip-core receives rtpengine's DTMF events (its `dtmf-log-dest`; worker n
   * on the port + n - 1); a local rtpengine is started pointing there. Unset: no RFC 4733 to INFO.
   */
  rtpengineDtmfListen: HostPort | undefined;
  /** RTP port range of a local rtpengine started by the launcher. */
  rtpPorts: { min: number; max: number };
  apiPort: number;
  numberingPort: number;
  /** Bind address of the numbering HTTP API (an extension of the contract; loopback unless exposed). */
  numberingHost: string;
  enumListen: EnumListener[];
  adminEmail: string | undefined;
  adminPassword: string | undefined;
  logLevel: LogLevel;

  // Engine extensions of the contract (read by the engine, standalone or embedded).
  /**
   * SIP_TLS_CERT/SIP_TLS_KEY for tls/wss listeners. Undefined with such a listener is accepted here: the
   * all-in-one launcher then generates a self-signed certificate; the standalone engine refuses to start.
   */
  sipTls: TlsPaths | undefined;
  /** ENGINE_ADMIN_TLS_CERT/ENGINE_ADMIN_TLS_KEY: serve the admin listener over TLS. */
  engineAdminTls: TlsPaths | undefined;
  /** SIP_TRACE: log every SIP message sent and received. */
  sipTrace: boolean;
  /** ENGINE_ANSWER_OPTIONS: answer OPTIONS with 200 when no app routes OPTIONS. */
  engineAnswerOptions: boolean;
  /** SIP_MAX_MESSAGE_BYTES: largest SIP message accepted from the network. */
  sipMaxMessageBytes: number;
  /** SIP_UDP_RECEIVE_BUFFER_BYTES: receive buffer asked for each UDP listener (the kernel caps it). */
  sipUdpReceiveBufferBytes: number;
  /** ENGINE_MAX_APPS: most drachtio apps connected at once. */
  engineMaxApps: number;
  /** ENGINE_REQUEST_HANDLERS: where new requests go instead of the connected apps (empty: the apps). */
  engineRequestHandlers: EngineRequestHandler[];

  // Observability.
  /** METRICS_LISTEN: `host:port` of the Prometheus listener of a standalone component; undefined: none. */
  metricsListen: HostPort | undefined;
  /** HEP_DESTINATION: `host:port` of a HEP v3 collector (Homer) that gets every SIP message; undefined: none. */
  hepDestination: HostPort | undefined;
  /** HEP_CAPTURE_ID: the capture agent id written into each HEP packet (default 2001). */
  hepCaptureId: number;
  /** HEP_PASSWORD: the collector's authentication key (HEP chunk 14); undefined: none sent. */
  hepPassword: string | undefined;
  /** API_CREATE_LIMIT, API_CREATE_LIMIT_PER_ADDRESS, API_CREATE_WINDOW (api-limits.ts). */
  apiCreateLimits: ApiCreateLimits;
  /** API_LOGIN_* and API_COOKIE_SECURE, see api-sign-in.ts. */
  apiSignIn: ApiSignInConfig;
  /** ENGINE_OUTBOUND_TLS_CA: PEM file of CAs trusted (besides Node's) for `tls://` request handlers. */
  engineOutboundTlsCa: string | undefined;
  /**
   * PUSH_APNS_URL, PUSH_APNS_SANDBOX_URL, PUSH_FCM_URL, PUSH_FCM_TOKEN_URL: push service endpoints
   * (tests use local servers).
   */
  push: { apnsUrl: string; apnsSandboxUrl: string; fcmUrl: string; fcmTokenUrl: string };
  /** SMTP_URL, MAIL_FROM, PUBLIC_URL (mail.ts). */
  mail: MailConfig;
  /**
   * S3_BUCKET, S3_ENDPOINT, S3_REGION, S3_ACCESS_KEY_ID, S3_SECRET_ACCESS_KEY, S3_PREFIX, S3_FORCE_PATH_STYLE
   * (object-storage.ts): voicemail and recordings in a bucket; undefined: in folders under DATA_DIR.
   */
  objectStorage: S3Settings | undefined;

  // Scale-out (docs/scaling.md).
  /** SIP_CORE_WORKERS: sip-core worker processes attached to one engine (default: cores - 1, at least 1). */
  sipCoreWorkers: number;
  /** REDIS_URL: shared short-lived state between workers and nodes (call counts); undefined: in process. */
  redisUrl: string | undefined;
  /** REDIS_KEY_PREFIX: before every key this platform writes (default `switchboard:`). */
  redisKeyPrefix: string;
  /**
   * SIP_CLUSTER_NODES: `name=ip:port,...`, every node of the cluster by its SIP_CORE_NODE_NAME and the
   * address its engine takes cluster traffic on (UDP). A call to a device registered on another node
   * goes through that node; only these addresses may send requests out on this engine's flows. Empty:
   * one node.
   */
  sipClusterNodes: ClusterNode[];

  // sip-core extensions of the contract.
  /**
   * SIP_AUTH_STRICT_URI: the digest credentials' uri must designate the Request-URI, else 400 (RFC 2617
   * §3.2.2.5). Off by default: a differing uri is accepted when the response verifies, as Kamailio does.
   */
  sipAuthStrictUri: boolean;
  /** SIP_MESSAGE_TIMEOUT_MS: a stream message must be complete this long after its first byte arrived. */
  sipMessageTimeoutMs: number;
  /** SIP_MAX_CONNECTIONS: inbound TCP/TLS/WS/WSS connections accepted at once, all addresses together. */
  sipMaxConnections: number;
  /** SIP_MAX_CONNECTIONS_PER_ADDRESS: inbound stream connections accepted at once from one address. */
  sipMaxConnectionsPerAddress: number;
  /** SIP_TRUSTED_SOURCES, SIP_RATE_LIMIT, SIP_RATE_BURST (sip-access.ts). */
  sipAccess: SipAccessConfig;
  /** Operator settings fixed by a variable set here, with its value (settings.ts): not changeable live. */
  environmentSettings: Map<string, SettingValue>;
}

/**
 * ENGINE_SECRET's shortest length when the admin listener is reachable beyond this host. On loopback a
 * shorter one is accepted (drachtio-server does, and drachtio-srf's test suite uses one), with a warning.
 */
export const MIN_ENGINE_SECRET_LENGTH = 16;

/** True for an address only this host can reach: 127.0.0.0/8, ::1 (IPv4-mapped too) or `localhost`. */
export function isLoopbackHost(host: string): boolean {
  const h = host.toLowerCase().replace(/^\[|\]$/g, '');
  if (h === 'localhost' || h === '::1') return true;
  const v4 = h.startsWith('::ffff:') ? h.slice(7) : h;
  return isIP(v4) === 4 && v4.startsWith('127.');
}

export interface ConfigProblem {
  variable: string;
  message: string;
}

export class ConfigError extends Error {
  constructor(readonly problems: ConfigProblem[]) {
    super(`invalid configuration:\n${problems.map((p) => `  ${p.variable}: ${p.message}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

export const DEFAULTS = {
  DATA_DIR: './data',
  SIP_LISTEN: 'udp:0.0.0.0:5060,tcp:0.0.0.0:5060,ws:0.0.0.0:5066',
  ENGINE_ADMIN: '127.0.0.1:9022',
  API_PORT: '3000',
  NUMBERING_PORT: '3001',
  ENUM_LISTEN: 'udp:127.0.0.1:5300,tcp:127.0.0.1:5300',
  LOG_LEVEL: 'info',
  RTP_PORTS: '30000-40000',
  SIP_TRACE: 'false',
  ENGINE_ANSWER_OPTIONS: 'true',
  SIP_MAX_MESSAGE_BYTES: '65535',
  SIP_UDP_RECEIVE_BUFFER_BYTES: '4194304',
  ENGINE_MAX_APPS: '1000',
  SIP_MESSAGE_TIMEOUT_MS: '10000',
  SIP_MAX_CONNECTIONS: '10000',
  SIP_MAX_CONNECTIONS_PER_ADDRESS: '100',
  SIP_AUTH_STRICT_URI: 'false',
  PUSH_APNS_URL: 'https://api.push.apple.com',
  PUSH_APNS_SANDBOX_URL: 'https://api.sandbox.push.apple.com',
  PUSH_FCM_URL: 'https://fcm.googleapis.com',
  PUSH_FCM_TOKEN_URL: 'https://oauth2.googleapis.com/token',
} as const;

type Env = Record<string, string | undefined>;

/** Reads the configuration from the environment; throws ConfigError listing every bad variable at once. */
export function loadConfig(env: Env = process.env): Config {
  const problems: ConfigProblem[] = [];
  const value = (name: string): string | undefined => {
    const v = env[name]?.trim();
    return v === undefined || v === '' ? undefined : v;
  };
  // A certificate and its key come together: one without the other is a mistake, not "no TLS".
  const tlsPair = (certVariable: string, keyVariable: string): TlsPaths | undefined => {
    const certPath = value(certVariable);
    const keyPath = value(keyVariable);
    if (certPath !== undefined && keyPath !== undefined) return { certPath, keyPath };
    if (certPath !== undefined) {
      problems.push({
        variable: keyVariable,
        message: `expected a PEM key file path, since ${certVariable} is set`,
      });
    }
    if (keyPath !== undefined) {
      problems.push({
        variable: certVariable,
        message: `expected a PEM certificate file path, since ${keyVariable} is set`,
      });
    }
    return undefined;
  };
  // Each parser reports its own problem and returns a usable placeholder so that all problems are collected.
  const check = <T>(name: string, fallback: T, parse: (raw: string) => T): T => {
    const raw = value(name) ?? (DEFAULTS as Record<string, string>)[name];
    if (raw === undefined) return fallback;
    try {
      return parse(raw);
    } catch (err) {
      problems.push({ variable: name, message: (err as Error).message });
      return fallback;
    }
  };

  const databaseUrl = check<string | undefined>('DATABASE_URL', undefined, parsePostgresUrl);
  // A relative DATA_DIR is taken from where the operator ran the command (pnpm runs package scripts in
  // the package's folder and says where it started in INIT_CWD), so `pnpm start` and `pnpm db:seed` at
  // the root both use ./data there.
  const dataDir = resolve(env.INIT_CWD || process.cwd(), value('DATA_DIR') ?? DEFAULTS.DATA_DIR);
  const sipListen = check('SIP_LISTEN', [], (raw) => parseList(raw, parseSipListener));
  const sipAdvertisedAddress = check<string | undefined>(
    'SIP_ADVERTISED_ADDRESS',
    undefined,
    parseAdvertisedAddress,
  );
  const drachtio = check<DrachtioTarget | undefined>('DRACHTIO_URL', undefined, parseDrachtioUrl);
  const engineAdmin = check('ENGINE_ADMIN', { host: '127.0.0.1', port: 9022 }, (raw) => parseHostPort(raw));
  const givenSecret = value('ENGINE_SECRET');
  if (
    givenSecret !== undefined &&
    givenSecret.length < MIN_ENGINE_SECRET_LENGTH &&
    !isLoopbackHost(engineAdmin.host)
  ) {
    problems.push({
      variable: 'ENGINE_SECRET',
      message: `expected at least ${MIN_ENGINE_SECRET_LENGTH} characters, since ENGINE_ADMIN (${engineAdmin.host}) is reachable beyond this host`,
    });
  }
  if (givenSecret?.includes('|')) {
    problems.push({ variable: 'ENGINE_SECRET', message: "must not contain '|' (the protocol's separator)" });
  }
  const rtpengineNg = check<string | undefined>('RTPENGINE_NG', undefined, (raw) => {
    parseList(raw, parseWeightedHostPort);
    return raw;
  });
  const rtpengineDtmfListen = check<HostPort | undefined>('RTPENGINE_DTMF_LISTEN', undefined, parseHostPort);
  const rtpPorts = check('RTP_PORTS', { min: 30000, max: 40000 }, parsePortRange);
  const apiPort = check('API_PORT', 3000, parsePort);
  const numberingPort = check('NUMBERING_PORT', 3001, parsePort);
  const numberingHost = check('NUMBERING_HOST', '127.0.0.1', (raw) => parseAdvertisedAddress(raw));
  const enumListen = check('ENUM_LISTEN', [], (raw) => parseList(raw, parseEnumListener));
  const adminEmail = check<string | undefined>('ADMIN_EMAIL', undefined, parseEmail);
  const adminPassword = check<string | undefined>('ADMIN_PASSWORD', undefined, (raw) => {
    if (raw.length < 12) throw new Error('expected at least 12 characters');
    return raw;
  });
  const logLevel = check<LogLevel>('LOG_LEVEL', 'info', (raw) => {
    if (!(LOG_LEVELS as readonly string[]).includes(raw)) {
      throw new Error(`expected one of ${LOG_LEVELS.join(', ')}`);
    }
    return raw as LogLevel;
  });

  const sipTls = tlsPair('SIP_TLS_CERT', 'SIP_TLS_KEY');
  const engineAdminTls = tlsPair('ENGINE_ADMIN_TLS_CERT', 'ENGINE_ADMIN_TLS_KEY');
  const sipTrace = check('SIP_TRACE', false, parseBoolean);
  const engineAnswerOptions = check('ENGINE_ANSWER_OPTIONS', true, parseBoolean);
  const sipMaxMessageBytes = check('SIP_MAX_MESSAGE_BYTES', 65535, (raw) => parseInteger(raw, 1024, 65535));
  const sipUdpReceiveBufferBytes = check('SIP_UDP_RECEIVE_BUFFER_BYTES', 4_194_304, (raw) =>
    parseInteger(raw, 65_536, 268_435_456),
  );
  const engineMaxApps = check('ENGINE_MAX_APPS', 1000, (raw) => parseInteger(raw, 1, 100_000));
  const sipAuthStrictUri = check('SIP_AUTH_STRICT_URI', false, parseBoolean);
  const engineRequestHandlers = check<EngineRequestHandler[]>('ENGINE_REQUEST_HANDLERS', [], (raw) =>
    parseList(raw, parseRequestHandler),
  );
  const sipMessageTimeoutMs = check('SIP_MESSAGE_TIMEOUT_MS', 10_000, (raw) =>
    parseInteger(raw, 100, 600_000),
  );
  const sipMaxConnections = check('SIP_MAX_CONNECTIONS', 10_000, (raw) => parseInteger(raw, 1, 1_000_000));
  const sipMaxConnectionsPerAddress = check('SIP_MAX_CONNECTIONS_PER_ADDRESS', 100, (raw) =>
    parseInteger(raw, 1, 1_000_000),
  );

  const push = {
    apnsUrl: check('PUSH_APNS_URL', DEFAULTS.PUSH_APNS_URL, parseHttpUrl),
    apnsSandboxUrl: check('PUSH_APNS_SANDBOX_URL', DEFAULTS.PUSH_APNS_SANDBOX_URL, parseHttpUrl),
    fcmUrl: check('PUSH_FCM_URL', DEFAULTS.PUSH_FCM_URL, parseHttpUrl),
    fcmTokenUrl: check('PUSH_FCM_TOKEN_URL', DEFAULTS.PUSH_FCM_TOKEN_URL, parseHttpUrl),
  };

  const engineOutboundTlsCa = value('ENGINE_OUTBOUND_TLS_CA');

  const apiSignIn = readApiSignIn(check);
  const mail = readMail(check);

  const apiLimits = readApiCreateLimits(env);
  problems.push(...apiLimits.problems);
  const sipAccess = readSipAccess(env);
  problems.push(...sipAccess.problems);
  const objectStorage = readObjectStorage(env);
  problems.push(...objectStorage.problems);
  const metricsListen = check<HostPort | undefined>('METRICS_LISTEN', undefined, parseHostPort);
  const hepDestination = check<HostPort | undefined>('HEP_DESTINATION', undefined, parseHostPort);
  const hepCaptureId = check('HEP_CAPTURE_ID', 2001, (raw) => parseInteger(raw, 0, 999_999_999));
  const hepPassword = value('HEP_PASSWORD');
  const sipCoreWorkers = check('SIP_CORE_WORKERS', Math.max(1, availableParallelism() - 1), (raw) =>
    parseInteger(raw, 1, 64),
  );
  const redisUrl = check<string | undefined>('REDIS_URL', undefined, parseRedisUrl);
  const redisKeyPrefix = value('REDIS_KEY_PREFIX') ?? 'switchboard:';
  const sipClusterNodes = check<ClusterNode[]>('SIP_CLUSTER_NODES', [], parseClusterNodes);
  // Operator settings without a section of their own here: only checked, read below with the others.
  check('PUSH_WAIT_TIMEOUT', undefined, (raw) => parseInteger(raw, 1, 120));
  check('SIP_MAX_CALLS', undefined, (raw) => parseInteger(raw, 0, 1_000_000));
  check('SIP_MAX_CALLS_PER_SECOND', undefined, (raw) => parseInteger(raw, 0, 100_000));

  if (!problems.some((p) => p.variable === 'API_PORT' || p.variable === 'NUMBERING_PORT')) {
    if (apiPort === numberingPort && apiPort !== 0) {
      problems.push({ variable: 'NUMBERING_PORT', message: `must differ from API_PORT (${apiPort})` });
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);
  // Every variable was checked above, so this reads them again without failing.
  const environmentSettings = settingsFromEnvironment(env);

  return {
    databaseUrl,
    dataDir,
    sipListen,
    sipAdvertisedAddress: sipAdvertisedAddress ?? firstNonLoopbackIPv4(),
    drachtio,
    engineAdmin,
    engineSecret: givenSecret ?? randomBytes(18).toString('base64url'),
    engineSecretGenerated: givenSecret === undefined,
    rtpengineNg,
    rtpengineDtmfListen,
    rtpPorts,
    apiPort,
    numberingPort,
    numberingHost,
    enumListen,
    adminEmail,
    adminPassword,
    logLevel,
    sipTls,
    engineAdminTls,
    sipTrace,
    engineAnswerOptions,
    sipMaxMessageBytes,
    sipUdpReceiveBufferBytes,
    engineMaxApps,
    engineRequestHandlers,
    sipMessageTimeoutMs,
    sipMaxConnections,
    sipMaxConnectionsPerAddress,
    sipAuthStrictUri,
    sipAccess: sipAccess.access,
    environmentSettings,
    push,
    mail,
    objectStorage: objectStorage.s3,
    engineOutboundTlsCa,
    apiSignIn,
    apiCreateLimits: apiLimits.limits,
    metricsListen,
    hepDestination,
    hepCaptureId,
    hepPassword,
    sipCoreWorkers,
    redisUrl,
    redisKeyPrefix,
    sipClusterNodes,
  };
}

/** A node of a cluster: its name (SIP_CORE_NODE_NAME) and where its engine takes cluster traffic. */
export interface ClusterNode {
  name: string;
  host: string;
  port: number;
}

/** `name=ip:port[,name=ip:port...]`; IP literals only (they are matched against source addresses). */
export function parseClusterNodes(raw: string): ClusterNode[] {
  const nodes: ClusterNode[] = [];
  for (const item of raw.split(',').map((part) => part.trim())) {
    if (item === '') continue;
    const at = item.indexOf('=');
    const name = item.slice(0, at).trim();
    if (at < 1 || name === '') throw new Error(`expected name=ip:port, got '${item}'`);
    const { host, port } = parseHostPort(item.slice(at + 1).trim());
    if (!isIP(host)) throw new Error(`'${host}' of node ${name} must be an IP address`);
    if (nodes.some((node) => node.name === name)) throw new Error(`node ${name} is named twice`);
    nodes.push({ name, host, port });
  }
  return nodes;
}

/** `redis://[user:password@]host:port[/db]` or `rediss://...`. */
export function parseRedisUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new Error('expected redis://host:6379');
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') throw new Error('expected redis://host:6379');
  if (!url.hostname) throw new Error('expected a host, as in redis://host:6379');
  return raw;
}

/** `METHOD=url` or `METHOD/POST=url`; METHOD a SIP method or `*`; url tcp:// or tls://host:port, or http(s)://... */
export function parseRequestHandler(item: string): EngineRequestHandler {
  const m = /^([A-Za-z]+|\*)(?:\/(GET|POST))?=(.+)$/i.exec(item);
  if (!m) throw new Error(`expected METHOD=url or METHOD/POST=url, got '${item}'`);
  const url = m[3]!.trim();
  if (!/^(tcp|tls):\/\/(\[[^\]]+\]|[^:/]+):\d{1,5}$/i.test(url) && !/^https?:\/\/\S+$/i.test(url)) {
    throw new Error(`expected a tcp://host:port, tls://host:port or http(s):// URL, got '${url}'`);
  }
  return {
    method: m[1] === '*' ? '*' : m[1]!.toUpperCase(),
    url,
    httpMethod: m[2]?.toUpperCase() === 'POST' ? 'POST' : 'GET',
  };
}

function parseList<T>(raw: string, parseItem: (item: string) => T): T[] {
  const items = raw
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  if (items.length === 0) throw new Error('expected at least one entry');
  return items.map(parseItem);
}

export function parsePort(raw: string): number {
  if (!/^\d{1,5}$/.test(raw)) throw new Error(`expected a port number 0-65535, got '${raw}'`);
  const port = Number(raw);
  if (port > 65535) throw new Error(`expected a port number 0-65535, got '${raw}'`);
  return port;
}

const TRUE_WORDS = ['1', 'true', 'yes', 'on'];
const FALSE_WORDS = ['0', 'false', 'no', 'off'];

export function parseBoolean(raw: string): boolean {
  const word = raw.toLowerCase();
  if (TRUE_WORDS.includes(word)) return true;
  if (FALSE_WORDS.includes(word)) return false;
  throw new Error(`expected 1/0, true/false, yes/no or on/off, got '${raw}'`);
}

export function parseInteger(raw: string, min: number, max: number): number {
  const n = /^\d{1,9}$/.test(raw) ? Number(raw) : Number.NaN;
  if (!Number.isInteger(n) || n < min || n > max)
    throw new Error(`expected an integer ${min}-${max}, got '${raw}'`);
  return n;
}

/** `host:port` where host is an IPv4 address, a `[bracketed]` IPv6 address or a DNS name. */
export function parseHostPort(raw: string): HostPort {
  const m = /^(\[[0-9a-fA-F:.]+\]|[^:[\]]+):(\d+)$/.exec(raw);
  if (!m) throw new Error(`expected host:port (IPv6 as [addr]:port), got '${raw}'`);
  const host = m[1]!.startsWith('[') ? m[1]!.slice(1, -1) : m[1]!;
  if (m[1]!.startsWith('[') && isIP(host) !== 6) throw new Error(`'${host}' is not an IPv6 address`);
  if (!m[1]!.startsWith('[') && !isIP(host) && !isHostname(host)) {
    throw new Error(`'${host}' is not an IP address or host name`);
  }
  return { host, port: parsePort(m[2]!) };
}

/** An rtpengine instance: `host:port` with an optional `=weight` for the pool's weighted selection. */
function parseWeightedHostPort(item: string): HostPort & { weight: number } {
  const [address = '', weight] = item.split('=');
  if (weight !== undefined && !/^[1-9]\d{0,3}$/.test(weight)) {
    throw new Error(`expected host:port or host:port=weight (weight 1-9999), got '${item}'`);
  }
  return { ...parseHostPort(address), weight: weight === undefined ? 1 : Number(weight) };
}

function parsePortRange(raw: string): { min: number; max: number } {
  const m = /^(\d{1,5})-(\d{1,5})$/.exec(raw);
  const min = Number(m?.[1]);
  const max = Number(m?.[2]);
  if (!m || min < 1024 || max > 65535 || max - min < 10 || min % 2 !== 0) {
    throw new Error(`expected an even start port, a range like 30000-40000 within 1024-65535, got '${raw}'`);
  }
  return { min, max };
}

function parseSipListener(item: string): SipListener {
  const colon = item.indexOf(':');
  const transport = item.slice(0, colon).toLowerCase();
  if (colon < 0 || !(SIP_TRANSPORTS as readonly string[]).includes(transport)) {
    throw new Error(
      `expected transport:host:port with transport one of ${SIP_TRANSPORTS.join(', ')}, got '${item}'`,
    );
  }
  return { transport: transport as SipTransport, ...parseHostPort(item.slice(colon + 1)) };
}

function parseEnumListener(item: string): EnumListener {
  const colon = item.indexOf(':');
  const transport = item.slice(0, colon).toLowerCase();
  if (transport !== 'udp' && transport !== 'tcp') {
    throw new Error(`expected udp:host:port or tcp:host:port, got '${item}'`);
  }
  return { transport, ...parseHostPort(item.slice(colon + 1)) };
}

function parsePostgresUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new Error('expected a URL like postgresql://user:password@host:5432/database');
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') {
    throw new Error(`expected a postgres:// or postgresql:// URL, got '${url.protocol}//'`);
  }
  if (url.pathname.length <= 1) throw new Error('expected a database name in the URL path');
  return raw;
}

function parseDrachtioUrl(raw: string): DrachtioTarget {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new Error('expected drachtio://secret@host:9022');
  }
  if (url.protocol !== 'drachtio:') throw new Error('expected drachtio://secret@host:9022');
  const secret = decodeURIComponent(url.username);
  if (secret === '')
    throw new Error('expected the shared secret before @, as in drachtio://secret@host:9022');
  const hostPort = parseHostPort(`${url.hostname}:${url.port || '9022'}`);
  return { ...hostPort, secret };
}

function parseAdvertisedAddress(raw: string): string {
  if (isIP(raw) || isHostname(raw)) return raw;
  throw new Error(`expected an IP address or host name, got '${raw}'`);
}

function parseEmail(raw: string): string {
  if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(raw)) throw new Error(`expected an e-mail address, got '${raw}'`);
  return raw.toLowerCase();
}

function isHostname(s: string): boolean {
  return /^(?=.{1,253}$)([a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)(\.[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*$/.test(
    s,
  );
}

/** The address written into Via/Contact/SDP when SIP_ADVERTISED_ADDRESS is not set. */
export function firstNonLoopbackIPv4(): string | undefined {
  for (const addrs of Object.values(networkInterfaces())) {
    for (const a of addrs ?? []) {
      if (a.family === 'IPv4' && !a.internal) return a.address;
    }
  }
  return undefined;
}

/** An https URL (http only for local test servers). */
function parseHttpUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new Error('expected an https URL');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new Error('expected an https URL');
  return raw;
}
