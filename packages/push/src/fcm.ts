import type { Logger } from 'pino';
import { RetryAfterGate } from './backoff.ts';
import type { FcmCredentials } from './credentials.ts';
import { type Http2Answer, type Http2Pool, retryAfterMs } from './http2-pool.ts';
import { serviceAccountAssertion } from './jwt.ts';
import type { PushMessage, PushResult } from './types.ts';

export const DEFAULT_FCM_URL = 'https://fcm.googleapis.com';
export const DEFAULT_FCM_TOKEN_URL = 'https://oauth2.googleapis.com/token';

export interface FcmClientOptions {
  /** FCM origin (`PUSH_FCM_URL`). */
  url: string;
  /** OAuth 2.0 token endpoint (`PUSH_FCM_TOKEN_URL`); also the audience of the assertion. */
  tokenUrl: string;
  pool: Http2Pool;
  log: Logger;
  now?: () => number;
}

/** Wait when a 429 names no Retry-After. */
const DEFAULT_BACKOFF_MS = 10_000;
/** An access token is renewed this long before Google says it expires. */
const TOKEN_MARGIN_MS = 5 * 60_000;

interface AccessToken {
  token: string;
  expiresAt: number;
}

/** A token exchange that failed: the push fails, the reason is logged. */
class TokenError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/**
 * FCM HTTP v1: an OAuth 2.0 access token obtained with the service account's signed JWT (RFC 7523
 * grant), reused until shortly before it expires, and data-only messages with Android priority
 * HIGH, so the app's messaging service runs at once even in Doze.
 */
export class FcmClient {
  private readonly tokens = new Map<string, AccessToken>();
  private readonly pending = new Map<string, Promise<AccessToken>>();
  private readonly gate = new RetryAfterGate();
  private readonly now: () => number;

  constructor(private readonly options: FcmClientOptions) {
    this.now = options.now ?? Date.now;
  }

  async send(credentials: FcmCredentials, message: PushMessage): Promise<PushResult> {
    // RFC 8599: pn-param is the project id; it must be this domain's project.
    if (message.param !== null && message.param !== credentials.projectId)
      return { outcome: 'rejected', provider: 'fcm', reason: 'pn-param names another project' };
    const waitMs = this.gate.remaining(message.deviceToken, this.now());
    if (waitMs > 0)
      return { outcome: 'rate_limited', provider: 'fcm', reason: 'Retry-After', retryAfterMs: waitMs };

    let answer: Http2Answer;
    try {
      answer = await this.post(credentials, message, false);
      // The access token was revoked or expired early: get a fresh one, try once more.
      if (answer.status === 401) answer = await this.post(credentials, message, true);
    } catch (error) {
      if (error instanceof TokenError)
        return { outcome: 'failed', provider: 'fcm', status: error.status, reason: error.message };
      throw error;
    }
    return this.resultOf(answer, message);
  }

  private async post(
    credentials: FcmCredentials,
    message: PushMessage,
    renew: boolean,
  ): Promise<Http2Answer> {
    const access = await this.accessToken(credentials, renew);
    const url = new URL(
      `/v1/projects/${encodeURIComponent(credentials.projectId)}/messages:send`,
      this.options.url,
    );
    const body = {
      message: {
        token: message.deviceToken,
        data: message.data,
        // ttl 0: deliver now or never, like APNs expiration 0.
        android: { priority: 'HIGH', ttl: '0s' },
      },
    };
    return this.options.pool.request(
      url,
      { authorization: `Bearer ${access.token}`, 'content-type': 'application/json; charset=utf-8' },
      JSON.stringify(body),
    );
  }

  /** One access token per service account; concurrent sends share one exchange. */
  private async accessToken(credentials: FcmCredentials, renew: boolean): Promise<AccessToken> {
    const id = credentials.clientEmail;
    const cached = this.tokens.get(id);
    if (!renew && cached && cached.expiresAt - TOKEN_MARGIN_MS > this.now()) return cached;
    const running = this.pending.get(id);
    if (running) return running;
    const exchange = this.exchange(credentials).finally(() => this.pending.delete(id));
    this.pending.set(id, exchange);
    const token = await exchange;
    this.tokens.set(id, token);
    return token;
  }

  private async exchange(credentials: FcmCredentials): Promise<AccessToken> {
    const now = this.now();
    const assertion = await serviceAccountAssertion(credentials, this.options.tokenUrl, now);
    const form = new URLSearchParams({
      grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer',
      assertion,
    });
    const answer = await this.options.pool.request(
      new URL(this.options.tokenUrl),
      { 'content-type': 'application/x-www-form-urlencoded' },
      form.toString(),
    );
    let parsed: { access_token?: unknown; expires_in?: unknown; error?: unknown } = {};
    try {
      parsed = JSON.parse(answer.body) as typeof parsed;
    } catch {
      // reported below
    }
    if (answer.status !== 200 || typeof parsed.access_token !== 'string') {
      const reason = typeof parsed.error === 'string' ? parsed.error : `HTTP ${answer.status}`;
      throw new TokenError(answer.status, `token exchange failed: ${reason}`);
    }
    const lifetime = typeof parsed.expires_in === 'number' ? parsed.expires_in : 3600;
    return { token: parsed.access_token, expiresAt: now + lifetime * 1000 };
  }

  private resultOf(answer: Http2Answer, message: PushMessage): PushResult {
    const { status } = answer;
    const error = errorOf(answer.body);
    if (status === 200) {
      const name = nameOf(answer.body);
      return { outcome: 'delivered', provider: 'fcm', status, ...(name ? { id: name } : {}) };
    }
    const reason = error.code ?? error.status ?? `HTTP ${status}`;
    // 404 UNREGISTERED (or NOT_FOUND): the app was uninstalled or the token expired.
    if (status === 404) return { outcome: 'unregistered', provider: 'fcm', status, reason };
    if (status === 429) {
      const now = this.now();
      const wait = retryAfterMs(answer.headers['retry-after'], now, DEFAULT_BACKOFF_MS);
      // QUOTA_EXCEEDED does not say whether the project's or the device's rate was exceeded; the
      // device is held back, so other devices of the project still get their calls.
      this.gate.block(message.deviceToken, wait, now);
      return { outcome: 'rate_limited', provider: 'fcm', status, reason, retryAfterMs: wait };
    }
    if (status >= 500) return { outcome: 'failed', provider: 'fcm', status, reason };
    return { outcome: 'rejected', provider: 'fcm', status, reason };
  }
}

/** FCM errors are Google API errors; the FCM error code sits in `details`. */
function errorOf(body: string): { status?: string; code?: string } {
  try {
    const parsed = JSON.parse(body) as { error?: { status?: unknown; details?: unknown } };
    const result: { status?: string; code?: string } = {};
    if (typeof parsed.error?.status === 'string') result.status = parsed.error.status;
    if (Array.isArray(parsed.error?.details)) {
      for (const detail of parsed.error.details as Array<{ errorCode?: unknown }>) {
        if (typeof detail?.errorCode === 'string') result.code = detail.errorCode;
      }
    }
    return result;
  } catch {
    return {};
  }
}

function nameOf(body: string): string | undefined {
  try {
    const parsed = JSON.parse(body) as { name?: unknown };
    return typeof parsed.name === 'string' ? parsed.name : undefined;
  } catch {
    return undefined;
  }
}
