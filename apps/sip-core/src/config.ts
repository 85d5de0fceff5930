import { randomBytes } from 'node:crypto';
import type { ClusterNode } from '@switchboard/config';

/**
 * Configuration of sip-core. Every field has a default (see `resolveConfig`), so the launcher only
 * passes what differs from a standard deployment.
 */

export interface DrachtioConnection {
  host: string;
  port: number;
  secret: string;
}

export interface RegistrarConfig {
  /** Shortest registration interval accepted; shorter requests get 423 with Min-Expires (RFC 3261 §10.3 step 7). */
  minExpires: number;
  /** Longest interval granted; longer requests are shortened to it. */
  maxExpires: number;
  /** Interval used when the request names none. */
  defaultExpires: number;
  /**
   * Longest interval granted to a device behind NAT over UDP, so that it refreshes its binding
   * (and with it the NAT mapping) often enough.
   */
  natExpires: number;
  /** Bindings kept per address of record; a new one beyond this replaces the one that expires first. */
  maxContactsPerAor: number;
  /** Service-Route values returned in the 200 OK (RFC 3608); empty: none. */
  serviceRoute: string[];
  /**
   * Milliseconds a binding change may wait in memory before it is written to the `registrations`
   * table, batched with the others of that window: the 200 OK does not wait for the database. A
   * clean shutdown writes everything; a crash loses at most this window's changes (those devices
   * are back at their next refresh). 0: every REGISTER is answered only after its own commit.
   */
  writeBehindMs: number;
}

export interface NatConfig {
  /** Seconds between keep-alive OPTIONS to each NATed UDP binding; 0 disables keep-alives. */
  keepaliveInterval: number;
  /** Consecutive unanswered keep-alives after which the binding is removed. */
  keepaliveMaxFailures: number;
  /** Keep-alives in flight at once, so a large location table does not burst. */
  keepaliveConcurrency: number;
}

export interface AccessConfig {
  /** Sources (addresses or CIDR blocks) exempt from rate limits and bans, e.g. trusted peers. */
  trustedSources: string[];
  /** Failed authentications from one address within `failureWindow` that ban it. */
  maxFailuresPerAddress: number;
  /**
   * Failed authentications for one username within `failureWindow` after which its further failures are
   * answered with a growing delay (1 s doubling up to `userDelayMax`). Never a lock: correct credentials
   * from an address that is not banned are accepted at once.
   */
  maxFailuresPerUser: number;
  /** Seconds over which failures are counted. */
  failureWindow: number;
  /** Seconds an automatic address ban lasts. */
  banDuration: number;
  /** Longest delay, in seconds, of a failure's answer for a username over `maxFailuresPerUser`. */
  userDelayMax: number;
  /** Token bucket per source address: sustained requests per second and burst size; 0 disables it. */
  rateLimitPerSecond: number;
  rateLimitBurst: number;
  /** Case-insensitive substrings of User-Agent that identify SIP scanners. */
  scannerUserAgents: string[];
}

export interface AuthConfig {
  /**
   * Secret for the stateless digest nonces (at least 16 bytes). Nodes that share registrations should
   * share it, so a nonce issued by one is accepted by another; default: random per process.
   */
  nonceSecret: string;
  /** Seconds a nonce stays valid; afterwards the right answer is re-challenged with stale=true. */
  nonceTtl: number;
  /**
   * Challenges offered, in order of preference (RFC 8760): one WWW-Authenticate each. Default MD5
   * only: some deployed clients (baresip 1.0, sipp 3.6) fail outright when any SHA-256 challenge is
   * present, even after an MD5 one. Both HA1s are stored, so `['SHA-256', 'MD5']` can be switched on
   * for fleets of RFC 8760 clients (linphone handles it) without resetting passwords.
   */
  algorithms: Array<'SHA-256' | 'MD5'>;
  /**
   * Strict digest-uri check (SIP_AUTH_STRICT_URI): the credentials' `uri` must designate the
   * Request-URI, else 400 (RFC 2617 §3.2.2.5). Default off: a digest-uri that differs is accepted when the
   * response verifies (the uri is inside the hash and the nonce stops replays), as Kamailio and Asterisk
   * do; sipp's `[authentication]` always writes `sip:<server ip>:<port>` there.
   */
  strictUri: boolean;
}

export interface PresenceConfig {
  /** Shortest subscription or publication accepted; shorter ones get 423 with Min-Expires (RFC 6665 §4.2.1.1). */
  minExpires: number;
  /** Longest granted; longer requests are shortened to it. */
  maxExpires: number;
  /** Granted when the SUBSCRIBE or PUBLISH names none (RFC 3856 §6.4, RFC 4235 §3.3: 3600). */
  defaultExpires: number;
  /** Subscriptions one subscriber may hold at once (a BLF panel has one per key); beyond: 403. */
  maxSubscriptionsPerSubscriber: number;
  /**
   * Whether a subscriber may watch subscribers of other customers. Default off: watcher and presentity
   * must be of the same customer (RFC 3856 §5.1.2 leaves authorisation to the presence agent).
   */
  acrossCustomers: boolean;
}

/** This process among its node's sip-core workers, all attached to the node's one engine. */
export interface WorkerConfig {
  /** 1-based; the first worker also runs the node's timers (NAT keep-alives, push refreshes). */
  index: number;
  /** SIP_CORE_WORKERS. */
  count: number;
}

/** Shared short-lived state between workers and nodes (REDIS_URL). */
export interface RedisConfig {
  url: string;
  /** Before every key (several platforms or test runs on one Redis); default `switchboard:`. */
  keyPrefix?: string;
  /** How long a dead node's calls keep counting for the limits (ms); default 60 s. */
  callLeaseMs?: number;
}

export interface SipCoreConfig {
  drachtio: DrachtioConnection;
  /** Name of this node, stored with each binding (the node whose engine reaches the device). */
  nodeName: string;
  worker: WorkerConfig;
  /** Unset: counters in this process (one node, one worker). */
  redis: RedisConfig | undefined;
  registrar: RegistrarConfig;
  nat: NatConfig;
  access: AccessConfig;
  auth: AuthConfig;
  presence: PresenceConfig;
  /** Every node of the cluster and its engine's cluster address (SIP_CLUSTER_NODES); empty: one node. */
  clusterNodes: ClusterNode[];
}

/** What the caller passes: the drachtio connection and any sections or fields to override. */
export interface SipCoreOptions {
  drachtio: DrachtioConnection;
  nodeName?: string;
  worker?: WorkerConfig;
  redis?: RedisConfig;
  registrar?: Partial<RegistrarConfig>;
  nat?: Partial<NatConfig>;
  access?: Partial<AccessConfig>;
  auth?: Partial<AuthConfig>;
  presence?: Partial<PresenceConfig>;
  clusterNodes?: ClusterNode[];
}

export const DEFAULT_SCANNER_USER_AGENTS: readonly string[] = [
  'friendly-scanner',
  'sipvicious',
  'sipcli',
  'vaxsipuseragent',
  'sip-scan',
  'sipsak',
  'sundayddr',
  'iwar',
  'sivus',
  'smap',
  'pplsip',
];

export const DEFAULT_REGISTRAR: RegistrarConfig = {
  minExpires: 60,
  maxExpires: 3600,
  defaultExpires: 3600,
  natExpires: 120,
  maxContactsPerAor: 10,
  serviceRoute: [],
  writeBehindMs: 200,
};

export const DEFAULT_NAT: NatConfig = {
  keepaliveInterval: 30,
  keepaliveMaxFailures: 3,
  keepaliveConcurrency: 50,
};

export const DEFAULT_ACCESS: AccessConfig = {
  trustedSources: [],
  maxFailuresPerAddress: 20,
  maxFailuresPerUser: 10,
  failureWindow: 600,
  banDuration: 3600,
  userDelayMax: 16,
  rateLimitPerSecond: 50,
  rateLimitBurst: 200,
  scannerUserAgents: [...DEFAULT_SCANNER_USER_AGENTS],
};

export const DEFAULT_AUTH: Omit<AuthConfig, 'nonceSecret'> = {
  nonceTtl: 300,
  algorithms: ['MD5'],
  strictUri: false,
};

export const DEFAULT_PRESENCE: PresenceConfig = {
  minExpires: 60,
  maxExpires: 3600,
  defaultExpires: 3600,
  maxSubscriptionsPerSubscriber: 100,
  acrossCustomers: false,
};

export class ConfigError extends Error {}

function positiveInteger(value: number, name: string, allowZero = false): void {
  if (!Number.isInteger(value) || value < 0 || (!allowZero && value === 0))
    throw new ConfigError(
      `${name} must be a ${allowZero ? 'non-negative' : 'positive'} integer, got ${value}`,
    );
}

/** Fills in defaults and rejects inconsistent values with a message naming the field. */
export function resolveConfig(options: SipCoreOptions): SipCoreConfig {
  const registrar = { ...DEFAULT_REGISTRAR, ...options.registrar };
  const nat = { ...DEFAULT_NAT, ...options.nat };
  const access = { ...DEFAULT_ACCESS, ...options.access };
  for (const key of [
    'minExpires',
    'maxExpires',
    'defaultExpires',
    'natExpires',
    'maxContactsPerAor',
  ] as const)
    positiveInteger(registrar[key], `registrar.${key}`);
  positiveInteger(registrar.writeBehindMs, 'registrar.writeBehindMs', true);
  if (registrar.minExpires > registrar.maxExpires)
    throw new ConfigError('registrar.minExpires must not exceed registrar.maxExpires');
  if (registrar.natExpires < registrar.minExpires)
    throw new ConfigError('registrar.natExpires must not be below registrar.minExpires');
  positiveInteger(nat.keepaliveInterval, 'nat.keepaliveInterval', true);
  positiveInteger(nat.keepaliveMaxFailures, 'nat.keepaliveMaxFailures');
  positiveInteger(nat.keepaliveConcurrency, 'nat.keepaliveConcurrency');
  for (const key of [
    'maxFailuresPerAddress',
    'maxFailuresPerUser',
    'failureWindow',
    'banDuration',
    'userDelayMax',
  ] as const)
    positiveInteger(access[key], `access.${key}`);
  // A held answer must come before the client gives up on the transaction (Timer F, 64*T1 = 32 s).
  if (access.userDelayMax > 30) throw new ConfigError('access.userDelayMax must not exceed 30 seconds');
  if (!(access.rateLimitPerSecond >= 0) || !(access.rateLimitBurst >= 1))
    throw new ConfigError('access.rateLimitPerSecond must be >= 0 and access.rateLimitBurst >= 1');
  const auth: AuthConfig = { ...DEFAULT_AUTH, nonceSecret: randomBytes(32).toString('hex'), ...options.auth };
  if (Buffer.byteLength(auth.nonceSecret) < 16)
    throw new ConfigError('auth.nonceSecret must be at least 16 bytes');
  positiveInteger(auth.nonceTtl, 'auth.nonceTtl');
  if (auth.algorithms.length === 0 || auth.algorithms.some((a) => a !== 'SHA-256' && a !== 'MD5'))
    throw new ConfigError('auth.algorithms must list SHA-256 and/or MD5');
  const presence = { ...DEFAULT_PRESENCE, ...options.presence };
  for (const key of ['minExpires', 'maxExpires', 'defaultExpires', 'maxSubscriptionsPerSubscriber'] as const)
    positiveInteger(presence[key], `presence.${key}`);
  if (presence.minExpires > presence.maxExpires)
    throw new ConfigError('presence.minExpires must not exceed presence.maxExpires');
  const worker = options.worker ?? { index: 1, count: 1 };
  positiveInteger(worker.count, 'worker.count');
  positiveInteger(worker.index, 'worker.index');
  if (worker.index > worker.count) throw new ConfigError('worker.index must not exceed worker.count');
  if (options.redis && !/^rediss?:\/\//.test(options.redis.url))
    throw new ConfigError('redis.url must be a redis:// or rediss:// URL');
  const { host, port, secret } = options.drachtio;
  if (!host || !Number.isInteger(port) || port < 1 || port > 65535 || !secret)
    throw new ConfigError('drachtio needs host, port (1-65535) and secret');
  return {
    drachtio: options.drachtio,
    nodeName: options.nodeName ?? 'sip-core',
    worker,
    redis: options.redis,
    registrar,
    nat,
    access: { ...access, scannerUserAgents: access.scannerUserAgents.map((ua) => ua.toLowerCase()) },
    auth,
    presence,
    clusterNodes: options.clusterNodes ?? [],
  };
}

/** Whether other sip-core processes (workers of this node, or other nodes) share the bindings and counts. */
export function isClustered(config: Pick<SipCoreConfig, 'worker' | 'redis'>): boolean {
  return config.worker.count > 1 || config.redis !== undefined;
}

/**
 * The node name a worker writes into the CDRs it opens: each worker closes only its own open
 * attempts after a crash (CdrWriter.reconcile), so workers after the first carry their number.
 */
export function cdrNodeName(config: Pick<SipCoreConfig, 'nodeName' | 'worker'>): string {
  return config.worker.index === 1 ? config.nodeName : `${config.nodeName}/${config.worker.index}`;
}
