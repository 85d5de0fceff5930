import type { Logger } from 'pino';
import { ApnsClient, DEFAULT_APNS_SANDBOX_URL, DEFAULT_APNS_URL } from './apns.ts';
import { PushCounters, pushResultLabel } from './counters.ts';
import { DEFAULT_FCM_TOKEN_URL, DEFAULT_FCM_URL, FcmClient } from './fcm.ts';
import { Http2Pool } from './http2-pool.ts';
import { type CallInfo, callPayload, refreshPayload, testPayload, wakeToken } from './payload.ts';
import type { CredentialSource } from './store.ts';
import { isPushProvider, type PushBinding, type PushResult } from './types.ts';
import { pnsKey } from './waiters.ts';

/**
 * Push service endpoints (runtime contract `PUSH_APNS_URL`, `PUSH_APNS_SANDBOX_URL`, `PUSH_FCM_URL`,
 * `PUSH_FCM_TOKEN_URL`).
 */
export interface PushEndpoints {
  apnsUrl: string;
  /** APNs for development builds: credentials uploaded with `environment: sandbox`. */
  apnsSandboxUrl: string;
  fcmUrl: string;
  fcmTokenUrl: string;
}

export const DEFAULT_PUSH_ENDPOINTS: PushEndpoints = {
  apnsUrl: DEFAULT_APNS_URL,
  apnsSandboxUrl: DEFAULT_APNS_SANDBOX_URL,
  fcmUrl: DEFAULT_FCM_URL,
  fcmTokenUrl: DEFAULT_FCM_TOKEN_URL,
};

/** Endpoints from the environment, the real services where a variable is unset. */
export function pushEndpointsFromEnv(env: NodeJS.ProcessEnv = process.env): PushEndpoints {
  const pick = (name: string, fallback: string): string => {
    const value = env[name]?.trim();
    if (!value) return fallback;
    try {
      new URL(value);
    } catch {
      throw new Error(`${name} must be a URL, got ${JSON.stringify(value)}`);
    }
    return value;
  };
  return {
    apnsUrl: pick('PUSH_APNS_URL', DEFAULT_APNS_URL),
    apnsSandboxUrl: pick('PUSH_APNS_SANDBOX_URL', DEFAULT_APNS_SANDBOX_URL),
    fcmUrl: pick('PUSH_FCM_URL', DEFAULT_FCM_URL),
    fcmTokenUrl: pick('PUSH_FCM_TOKEN_URL', DEFAULT_FCM_TOKEN_URL),
  };
}

/** Why a push is sent; also the `purpose` label of the counters. */
export type PushPurpose = 'call' | 'refresh' | 'test';

export interface PushServiceOptions {
  credentials: CredentialSource;
  endpoints?: Partial<PushEndpoints>;
  /** Trusted CA (PEM) for the push services instead of the system store: tests. */
  ca?: string;
  /** Secret of the wake tokens, shared by every node. */
  tokenSecret: string;
  log: Logger;
  now?: () => number;
  /**
   * The push service says the device token is dead (APNs 410, FCM 404): the binding cannot be
   * woken any more and should be removed.
   */
  onUnregistered?: (binding: PushBinding) => void | Promise<void>;
  /** Every push's result, e.g. to store it with the binding (`push_last_at`, `push_last_result`). */
  onResult?: (
    binding: PushBinding,
    purpose: PushPurpose,
    result: PushResult,
    at: Date,
  ) => void | Promise<void>;
  /**
   * A Prometheus counter (`switchboard_push_notifications_total`) every push is counted in, by
   * provider, purpose and result (`pushResultLabel`).
   */
  countIn?: { inc(labels: { provider: string; purpose: string; result: string }): void };
  /** Milliseconds a call's wake-up result is remembered, so forks of one call push once. */
  dedupeMs?: number;
  /** Milliseconds APNs provider tokens are reused (20 to 60 minutes). */
  apnsTokenLifetimeMs?: number;
}

/**
 * Sends RFC 8599 push notifications to bindings: `wake` for a call (once per call and device, however
 * often the call forks to it), `refresh` to ask for a binding refresh, `test` for operators.
 * Resolves with what the push service answered; it never throws for a push that failed.
 */
export class PushService {
  readonly counters = new PushCounters();
  private readonly pool: Http2Pool;
  private readonly apns: ApnsClient;
  private readonly apnsSandbox: ApnsClient;
  private readonly fcm: FcmClient;
  private readonly now: () => number;
  private readonly log: Logger;
  private readonly wakes = new Map<string, Promise<PushResult>>();
  private readonly dedupeMs: number;

  constructor(private readonly options: PushServiceOptions) {
    const endpoints = { ...DEFAULT_PUSH_ENDPOINTS, ...options.endpoints };
    this.now = options.now ?? Date.now;
    this.log = options.log;
    this.dedupeMs = options.dedupeMs ?? 120_000;
    this.pool = new Http2Pool({ ca: options.ca });
    const apns = (url: string) =>
      new ApnsClient({
        url,
        pool: this.pool,
        log: this.log,
        now: this.now,
        ...(options.apnsTokenLifetimeMs ? { tokenLifetimeMs: options.apnsTokenLifetimeMs } : {}),
      });
    this.apns = apns(endpoints.apnsUrl);
    this.apnsSandbox = apns(endpoints.apnsSandboxUrl);
    this.fcm = new FcmClient({
      url: endpoints.fcmUrl,
      tokenUrl: endpoints.fcmTokenUrl,
      pool: this.pool,
      log: this.log,
      now: this.now,
    });
  }

  /**
   * Wakes the device of `binding` for a call (RFC 8599). Several wakes of one call to one
   * device (parallel forks, a retransmitted INVITE) share one push and its result.
   */
  wake(binding: PushBinding, call: CallInfo): Promise<PushResult> {
    const key = `${call.callId}\u0000${pnsKey(binding) ?? binding.bindingKey}`;
    const running = this.wakes.get(key);
    if (running) return running;
    const data = callPayload(call, wakeToken(this.options.tokenSecret, call.callId, this.now()));
    const push = this.send(binding, 'call', data);
    this.wakes.set(key, push);
    void push.then(() => {
      const timer = setTimeout(() => {
        if (this.wakes.get(key) === push) this.wakes.delete(key);
      }, this.dedupeMs);
      timer.unref();
    });
    return push;
  }

  /** RFC 8599: the binding is about to expire and no refresh came; ask the app for one. */
  refresh(binding: PushBinding): Promise<PushResult> {
    return this.send(binding, 'refresh', refreshPayload(binding.aor));
  }

  /** A push that only checks credentials and device token (the operator's "send test push"). */
  test(binding: PushBinding): Promise<PushResult> {
    return this.send(binding, 'test', testPayload());
  }

  close(): void {
    this.pool.close();
  }

  private async send(
    binding: PushBinding,
    purpose: PushPurpose,
    data: Record<string, string>,
  ): Promise<PushResult> {
    const result = await this.deliver(binding, data);
    const provider = result.provider ?? binding.pnProvider ?? 'none';
    this.counters.count(provider, purpose, result.outcome);
    this.options.countIn?.inc({ provider, purpose, result: pushResultLabel(result.outcome) });
    const fields = { aor: binding.aor, purpose, ...result, provider };
    if (result.outcome === 'delivered') this.log.info(fields, 'push sent');
    else this.log.warn(fields, 'push not delivered');
    const at = new Date(this.now());
    await this.report(() => this.options.onResult?.(binding, purpose, result, at), 'recording push result');
    if (result.outcome === 'unregistered')
      await this.report(() => this.options.onUnregistered?.(binding), 'removing unregistered binding');
    return result;
  }

  private async deliver(binding: PushBinding, data: Record<string, string>): Promise<PushResult> {
    const provider = binding.pnProvider;
    if (!provider || !isPushProvider(provider) || !binding.pnPrid)
      return { outcome: 'rejected', provider: null, reason: 'binding has no usable pn-provider and pn-prid' };
    const domain = domainOf(binding.aor);
    try {
      const credentials = await this.options.credentials.get(domain, provider);
      if (!credentials)
        return { outcome: 'failed', provider, reason: `no ${provider} credentials for ${domain}` };
      const message = { deviceToken: binding.pnPrid, param: binding.pnParam, data };
      if (credentials.provider === 'fcm') return await this.fcm.send(credentials, message);
      const apns = credentials.environment === 'sandbox' ? this.apnsSandbox : this.apns;
      return await apns.send(credentials, message);
    } catch (error) {
      return { outcome: 'failed', provider, reason: (error as Error).message };
    }
  }

  private async report(work: () => void | Promise<void>, what: string): Promise<void> {
    try {
      await work();
    } catch (error) {
      this.log.error({ err: error }, `${what} failed`);
    }
  }
}

/** The domain of `sip:user@domain`. */
export function domainOf(aor: string): string {
  const at = aor.lastIndexOf('@');
  return (at >= 0 ? aor.slice(at + 1) : aor.replace(/^sips?:/, '')).toLowerCase();
}

/** Stores each push's time and outcome with its binding (`registrations.push_last_*`). */
export function recordResultIn(prisma: {
  registration: {
    updateMany(args: {
      where: { aor: string; bindingKey: string };
      data: { pushLastAt: Date; pushLastResult: string };
    }): Promise<unknown>;
  };
}): NonNullable<PushServiceOptions['onResult']> {
  return async (binding, _purpose, result, at) => {
    await prisma.registration.updateMany({
      where: { aor: binding.aor, bindingKey: binding.bindingKey },
      data: { pushLastAt: at, pushLastResult: result.outcome },
    });
  };
}
