import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { RetryAfterGate } from './backoff.ts';
import type { ApnsCredentials } from './credentials.ts';
import { type Http2Pool, retryAfterMs } from './http2-pool.ts';
import { apnsProviderToken } from './jwt.ts';
import type { PushMessage, PushResult } from './types.ts';

export const DEFAULT_APNS_URL = 'https://api.push.apple.com';
/** APNs for development builds of an app (`PUSH_APNS_SANDBOX_URL`). */
export const DEFAULT_APNS_SANDBOX_URL = 'https://api.sandbox.push.apple.com';

export interface ApnsClientOptions {
  /** APNs origin (`PUSH_APNS_URL`); the sandbox is https://api.sandbox.push.apple.com. */
  url: string;
  pool: Http2Pool;
  log: Logger;
  now?: () => number;
  /**
   * Milliseconds a provider token is reused: Apple refuses tokens older than an hour and refreshes
   * more often than every 20 minutes (429 TooManyProviderTokenUpdates); default 40 minutes.
   */
  tokenLifetimeMs?: number;
}

/** Wait when a 429 names no Retry-After (APNs does not send one). */
const DEFAULT_BACKOFF_MS = 10_000;

interface CachedToken {
  jwt: string;
  issuedAt: number;
}

/**
 * APNs over HTTP/2 with token-based authentication, for VoIP pushes (PushKit): topic
 * `<bundle>.voip`, `apns-push-type: voip`, priority 10 (immediately) and expiration 0 (now or never:
 * a call notification that arrives late is worse than none).
 */
export class ApnsClient {
  private readonly tokens = new Map<string, CachedToken>();
  private readonly gate = new RetryAfterGate();
  private readonly now: () => number;
  private readonly tokenLifetimeMs: number;

  constructor(private readonly options: ApnsClientOptions) {
    this.now = options.now ?? Date.now;
    this.tokenLifetimeMs = options.tokenLifetimeMs ?? 40 * 60_000;
  }

  async send(credentials: ApnsCredentials, message: PushMessage): Promise<PushResult> {
    const topic = `${credentials.bundleId}.voip`;
    // RFC 8599: pn-param is `<team id>.<bundle id>.voip`; it must name this domain's app.
    if (message.param !== null && message.param !== `${credentials.teamId}.${topic}`)
      return { outcome: 'rejected', provider: 'apns', reason: 'pn-param names another app' };
    if (!/^[0-9a-fA-F]{64,200}$/.test(message.deviceToken))
      return { outcome: 'rejected', provider: 'apns', reason: 'BadDeviceToken' };
    const waitMs = this.gate.remaining(message.deviceToken, this.now());
    if (waitMs > 0)
      return { outcome: 'rate_limited', provider: 'apns', reason: 'Retry-After', retryAfterMs: waitMs };

    let answer = await this.post(credentials, topic, message, false);
    // The token was refused as expired (e.g. the clock jumped): sign a new one, try once more.
    if (answer.status === 403 && reasonOf(answer.body) === 'ExpiredProviderToken')
      answer = await this.post(credentials, topic, message, true);
    return this.resultOf(answer, message.deviceToken);
  }

  private async post(
    credentials: ApnsCredentials,
    topic: string,
    message: PushMessage,
    renewToken: boolean,
  ): Promise<{ status: number; headers: Record<string, string | undefined>; body: string }> {
    const token = await this.providerToken(credentials, renewToken);
    const url = new URL(`/3/device/${message.deviceToken.toLowerCase()}`, this.options.url);
    return this.options.pool.request(
      url,
      {
        authorization: `bearer ${token}`,
        'apns-topic': topic,
        'apns-push-type': 'voip',
        'apns-priority': '10',
        'apns-expiration': '0',
        'apns-id': randomUUID(),
        'content-type': 'application/json',
      },
      JSON.stringify(message.data),
    );
  }

  /** One JWT per team key, reused until it is `tokenLifetimeMs` old. */
  private async providerToken(credentials: ApnsCredentials, renew: boolean): Promise<string> {
    const id = `${credentials.teamId}:${credentials.keyId}`;
    const now = this.now();
    const cached = this.tokens.get(id);
    if (!renew && cached && now - cached.issuedAt < this.tokenLifetimeMs) return cached.jwt;
    const jwt = await apnsProviderToken(credentials, now);
    this.tokens.set(id, { jwt, issuedAt: now });
    return jwt;
  }

  private resultOf(
    answer: { status: number; headers: Record<string, string | undefined>; body: string },
    deviceToken: string,
  ): PushResult {
    const { status } = answer;
    const id = answer.headers['apns-id'];
    if (status === 200) return { outcome: 'delivered', provider: 'apns', status, ...(id ? { id } : {}) };
    const reason = reasonOf(answer.body) ?? `HTTP ${status}`;
    // 410: the device token is no longer active for the topic.
    if (status === 410) return { outcome: 'unregistered', provider: 'apns', status, reason };
    if (status === 429) {
      const now = this.now();
      const wait = retryAfterMs(answer.headers['retry-after'], now, DEFAULT_BACKOFF_MS);
      this.gate.block(deviceToken, wait, now);
      return { outcome: 'rate_limited', provider: 'apns', status, reason, retryAfterMs: wait };
    }
    if (status >= 500) return { outcome: 'failed', provider: 'apns', status, reason };
    return { outcome: 'rejected', provider: 'apns', status, reason };
  }
}

function reasonOf(body: string): string | undefined {
  try {
    const parsed = JSON.parse(body) as { reason?: unknown };
    return typeof parsed.reason === 'string' ? parsed.reason : undefined;
  } catch {
    return undefined;
  }
}
