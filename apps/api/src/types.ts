import type { S3Settings, SettingValue } from '@switchboard/config';
import type { PrismaClient } from '@switchboard/db';
import type { MetricsRegistry } from '@switchboard/metrics';
import type { Logger } from 'pino';
import type { Mailer } from './mail.ts';
import type { ApiPushOptions } from './routes/push-credentials.ts';
import type { SipConnection } from './sip-connection.ts';

export type Role = 'operator' | 'reseller' | 'customer';
export const ROLES: readonly Role[] = ['operator', 'reseller', 'customer'];

/** Who is calling, resolved once per request from the bearer credential. */
export interface Principal {
  userId: string;
  email: string;
  role: Role;
  /** A reseller user's reseller; for a customer user, the reseller that owns its customer (may be null). */
  resellerId: string | null;
  /** A customer user's customer. */
  customerId: string | null;
  /** The session behind a login token, or null for an API key. */
  sessionId: string | null;
  apiKeyId: string | null;
  /** The user signs in with a TOTP code as well. */
  totpEnabled: boolean;
}

export interface ComponentHealth {
  status: 'up' | 'down' | 'disabled';
  detail?: string;
}

/** A call in progress, as the SIP side reports it. */
export interface ActiveCall {
  id: string;
  callId: string;
  direction: 'internal' | 'outbound' | 'inbound';
  state: 'trying' | 'ringing' | 'answered';
  caller: string;
  callee: string;
  startedAt: Date | string;
  answeredAt?: Date | string | null;
  callerSubscriberId?: string | null;
  calleeSubscriberId?: string | null;
  callerCustomerId?: string | null;
  calleeCustomerId?: string | null;
  /** The callee is shown an anonymous caller (CLIR, a peer's Privacy header). */
  callerWithheld?: boolean;
  /** Voice codecs of the answer, the one in use first (`PCMA/8000`). */
  codecs?: string[];
  /** NG address of the media relay (rtpengine) holding the call; null when media is not anchored. */
  mediaRelay?: string | null;
  node?: string | null;
}

/** One SIP message of a call ladder, as the engine captured it. */
export interface LadderMessage {
  seq: number;
  at: string;
  direction: 'in' | 'out';
  transport: string;
  source: string;
  destination: string;
  callId: string;
  startLine: string;
  message: string;
}

export interface ApiDeps {
  prisma: PrismaClient;
  logger: Logger;
  health: () => Promise<Record<string, ComponentHealth>>;
  /** Folder with the built web app (index.html at its root); served at `/` with SPA fallback. */
  webRoot?: string;
  /** Live calls; until the SIP side provides them the list is empty. */
  activeCalls?: () => Promise<ActiveCall[]>;
  /** Lifetime of a login token; default 12 hours. */
  sessionTtlMs?: number;
  /** Clock, replaceable in tests. */
  now?: () => number;
  /** Login, sign-up and create limits; defaults suit production. */
  limits?: Partial<ApiLimits>;
  /** Push credentials sealing key and push service endpoints; defaults from the environment. */
  push?: ApiPushOptions;
  /** Where sip-core keeps voicemail recordings and greetings; default `push.dataDir`, `DATA_DIR`, `./data`. */
  dataDir?: string;
  /** Folder of the call recordings (sip-core writes them); default `$DATA_DIR/recordings/calls`. */
  recordingsDir?: string;
  /**
   * Voicemail audio and call recordings in this bucket (S3_* settings, as sip-core has them) instead of
   * the folders above; unset: the folders.
   */
  objectStorage?: S3Settings | undefined;
  /**
   * Mark the session cookies `Secure`: `auto` when the request came over HTTPS to this server; `true` behind
   * a TLS-terminating proxy (the API trusts no forwarded header to tell).
   */
  cookieSecure?: boolean | 'auto';
  /**
   * Reverse proxies (addresses or CIDR blocks) whose X-Forwarded-For / X-Forwarded-Proto are believed:
   * the client address the login limits count, and HTTPS for the cookies. Empty: none.
   */
  trustedProxies?: readonly string[];
  /** The process's metrics registry, served at GET /metrics; default: one with the API's own. */
  metrics?: MetricsRegistry;
  /** The engine's capture of the given Call-IDs (all-in-one only), for GET /api/v1/calls/{id}/ladder. */
  callLadder?: (callIds: string[]) => LadderMessage[];
  /**
   * Operator settings fixed by environment variables, with their values (`Config.environmentSettings`):
   * shown with source `environment` and not changeable through the API. Default: none.
   */
  environmentSettings?: ReadonlyMap<string, SettingValue>;
  /** Outgoing e-mail (SMTP_URL); undefined: password reset and sign-up answer 503. */
  mailer?: Mailer;
  /** PUBLIC_URL: the web app's address in e-mailed links and provisioning QR codes. */
  publicUrl?: string;
  /** Where phones connect (advertised address, listeners' transports and ports); default: unknown. */
  sipConnection?: () => SipConnection;
}

export interface ApiLimits {
  /** Login attempts one client address may fail within the window; then 429 until the window ends. */
  loginFailuresPerIp: number;
  /** Failed logins on one account after which each further attempt on it is slowed down (never refused). */
  loginFailuresPerAccount: number;
  loginWindowMs: number;
  /** Longest wait of a slowed-down login attempt; 0 turns the slow-down off. */
  loginMaxDelayMs: number;
  signupsPerIp: number;
  signupWindowMs: number;
  /** Creates per reseller or customer principal per window; 0: no limit (API_CREATE_LIMIT). */
  createsPerPrincipal: number;
  /** Creates by reseller and customer principals per client address per window (API_CREATE_LIMIT_PER_ADDRESS). */
  createsPerAddress: number;
  createWindowMs: number;
}

export const DEFAULT_LIMITS: ApiLimits = {
  loginFailuresPerIp: 20,
  loginFailuresPerAccount: 5,
  loginWindowMs: 15 * 60_000,
  loginMaxDelayMs: 30_000,
  signupsPerIp: 5,
  signupWindowMs: 60 * 60_000,
  createsPerPrincipal: 300,
  createsPerAddress: 1000,
  createWindowMs: 10 * 60_000,
};
