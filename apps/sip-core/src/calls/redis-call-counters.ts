import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { type CallCounters, type Claimed, type CounterClaim, distinctClaims } from './call-counters.ts';

export interface RedisCallCountersOptions {
  /** `redis://host:port/db` (REDIS_URL). */
  url: string;
  /** Put before every key, so that several platforms (or test runs) can share one Redis. */
  keyPrefix?: string;
  /**
   * How long a counted call stays counted without its node renewing it: a node that dies holds its
   * calls' room for at most this long. Renewed every third of it.
   */
  leaseMs?: number;
  log: Logger;
  now?: () => number;
}

export const DEFAULT_CALL_LEASE_MS = 60_000;

/**
 * Checks every limit, then counts the call for each count it is not in yet, in one step (a Lua script
 * runs atomically in Redis). Each count is a sorted set of call-ids scored by their lease expiry: the
 * size of the set, leases past their expiry removed first, is the count. Returns the 1-based indexes
 * of the counts the call was added to, or minus the index of the first full one.
 */
const CLAIM_SCRIPT = `
local now = tonumber(ARGV[1])
local expiry = tonumber(ARGV[2])
local member = ARGV[3]
local ttl = tonumber(ARGV[4])
local fresh = {}
for i, key in ipairs(KEYS) do
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now)
  if not redis.call('ZSCORE', key, member) then
    local max = tonumber(ARGV[4 + i])
    if max >= 0 and redis.call('ZCARD', key) >= max then return -i end
    fresh[#fresh + 1] = i
  end
end
for _, i in ipairs(fresh) do
  redis.call('ZADD', KEYS[i], expiry, member)
  redis.call('PEXPIRE', KEYS[i], ttl)
end
return fresh
`;

/** The count as the claim script keeps it: live leases only. */
const COUNT_SCRIPT = `
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
return redis.call('ZCARD', KEYS[1])
`;

/**
 * Concurrent-call counts shared by every sip-core worker and node using one Redis (REDIS_URL). Every
 * call this process counted is renewed every `leaseMs / 3`; a node that stops (crash, network loss)
 * stops renewing, and its calls stop counting after at most `leaseMs`.
 *
 * Redis unreachable: a claim with a limit is refused (the caller answers 503: limits that cannot be
 * checked are not ignored), a claim without one is let through uncounted.
 */
export class RedisCallCounters implements CallCounters {
  private readonly redis: Redis;
  private readonly prefix: string;
  private readonly leaseMs: number;
  private readonly now: () => number;
  private readonly log: Logger;
  /** key -> call-ids this process holds there (renewed by the heartbeat). */
  private readonly held = new Map<string, Set<string>>();
  private readonly heartbeat: NodeJS.Timeout;

  constructor(options: RedisCallCountersOptions) {
    this.prefix = options.keyPrefix ?? 'switchboard:';
    this.leaseMs = options.leaseMs ?? DEFAULT_CALL_LEASE_MS;
    this.now = options.now ?? Date.now;
    this.log = options.log;
    this.redis = new Redis(options.url, {
      lazyConnect: false,
      maxRetriesPerRequest: 1,
      commandTimeout: 2_000,
      // Reconnect with a bounded backoff; commands meanwhile fail after one retry.
      retryStrategy: (attempt) => Math.min(attempt * 200, 5_000),
    });
    this.redis.on('error', (error: unknown) => this.log.warn({ err: error }, 'redis'));
    this.heartbeat = setInterval(() => void this.renew(), Math.max(100, Math.floor(this.leaseMs / 3)));
    this.heartbeat.unref();
  }

  /** Resolves once Redis answers (start-up waits for it, so the first call is not refused). */
  async ready(): Promise<void> {
    await this.redis.ping();
  }

  async claim(callId: string, claims: CounterClaim[]): Promise<Claimed> {
    const wanted = distinctClaims(claims);
    const keys = wanted.map((claim) => this.keyOf(claim));
    const now = this.now();
    let result: unknown;
    try {
      result = await this.redis.eval(
        CLAIM_SCRIPT,
        keys.length,
        ...keys,
        now,
        now + this.leaseMs,
        callId,
        this.leaseMs * 2,
        ...wanted.map((claim) => (claim.max == null ? -1 : claim.max)),
      );
    } catch (error) {
      this.log.error({ err: error, callId }, 'call counters unreachable');
      const limited = claims.findIndex((claim) => claim.max != null);
      if (limited >= 0) return { ok: false, failed: limited };
      return { ok: true, release: () => {} };
    }
    if (typeof result === 'number') {
      const full = wanted[-result - 1];
      return { ok: false, failed: full ? claims.indexOf(full) : 0 };
    }
    const fresh = (result as number[]).map((index) => keys[index - 1] as string);
    for (const key of fresh) this.hold(key, callId);
    let released = false;
    return {
      ok: true,
      release: () => {
        if (released) return;
        released = true;
        this.releaseKeys(fresh, callId);
      },
    };
  }

  async count(kind: CounterClaim['kind'], id: string): Promise<number> {
    return Number(await this.redis.eval(COUNT_SCRIPT, 1, this.keyOf({ kind, id }), this.now()));
  }

  /** Stops renewing and gives back the room of every call still counted here (clean shutdown). */
  async close(): Promise<void> {
    clearInterval(this.heartbeat);
    const pipeline = this.redis.pipeline();
    for (const [key, calls] of this.held) pipeline.zrem(key, ...calls);
    this.held.clear();
    try {
      await pipeline.exec();
      await this.redis.quit();
    } catch (error) {
      this.log.warn({ err: error }, 'redis: closing the call counters');
      this.redis.disconnect();
    }
  }

  private keyOf(claim: Pick<CounterClaim, 'kind' | 'id'>): string {
    return `${this.prefix}calls:${claim.kind}:${claim.id}`;
  }

  private hold(key: string, callId: string): void {
    let calls = this.held.get(key);
    if (!calls) {
      calls = new Set();
      this.held.set(key, calls);
    }
    calls.add(callId);
  }

  private releaseKeys(keys: string[], callId: string): void {
    if (keys.length === 0) return;
    const pipeline = this.redis.pipeline();
    for (const key of keys) {
      const calls = this.held.get(key);
      calls?.delete(callId);
      if (calls?.size === 0) this.held.delete(key);
      pipeline.zrem(key, callId);
    }
    // Not given back (Redis unreachable): the lease runs out instead.
    pipeline.exec().catch((error: unknown) => this.log.warn({ err: error, callId }, 'redis: release'));
  }

  /** Heartbeat: every call still counted here gets a new lease. */
  private async renew(): Promise<void> {
    if (this.held.size === 0) return;
    const expiry = this.now() + this.leaseMs;
    const pipeline = this.redis.pipeline();
    for (const [key, calls] of this.held) {
      for (const callId of calls) pipeline.zadd(key, expiry, callId);
      pipeline.pexpire(key, this.leaseMs * 2);
    }
    try {
      await pipeline.exec();
    } catch (error) {
      this.log.warn({ err: error }, 'redis: renewing call leases');
    }
  }
}
