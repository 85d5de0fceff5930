import { MemoryNonceCounts, type NonceCounts } from '@switchboard/sip';
import { Redis } from 'ioredis';
import type { Logger } from 'pino';

export interface RedisNonceCountsOptions {
  /** `redis://host:port/db` (REDIS_URL). */
  url: string;
  /** Put before every key, so that several platforms (or test runs) can share one Redis. */
  keyPrefix?: string;
  /** The nonce lifetime (ms): a nonce's count is kept a minute longer, after which the nonce is stale. */
  nonceTtlMs: number;
  log: Logger;
}

/**
 * Stores `nc` when it is higher than the count kept for the nonce; 1 when stored, 0 for a replay. One
 * script, so that two workers checking the same nonce at once cannot both accept the same count.
 */
const ACCEPT_SCRIPT = `
local last = redis.call('GET', KEYS[1])
if last and tonumber(last) >= tonumber(ARGV[1]) then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1
`;

/** Minimum milliseconds between two warnings that Redis cannot be asked (one per request would flood). */
const WARN_EVERY_MS = 10_000;

/**
 * The digest nonce-counts of every sip-core worker and node sharing one Redis (REDIS_URL): the nonces
 * are valid on all of them (SIP_NONCE_SECRET), so a replayed Authorization sent to another worker than
 * the one that accepted it must be refused there too.
 *
 * This process's own record is asked first (a replay here needs no round trip). Redis unreachable: the
 * process's own record decides, as for a single process, and a warning says so at most every 10 s.
 */
export class RedisNonceCounts implements NonceCounts {
  private readonly local = new MemoryNonceCounts();
  private readonly redis: Redis;
  private readonly prefix: string;
  private readonly keepMs: number;
  private readonly log: Logger;
  private lastWarning = 0;

  constructor(options: RedisNonceCountsOptions) {
    this.prefix = `${options.keyPrefix ?? 'switchboard:'}nc:`;
    this.keepMs = options.nonceTtlMs + 60_000;
    this.log = options.log;
    this.redis = new Redis(options.url, {
      maxRetriesPerRequest: 1,
      commandTimeout: 2_000,
      // The checks of one burst of REGISTERs go out as one write.
      enableAutoPipelining: true,
      retryStrategy: (attempt) => Math.min(attempt * 200, 5_000),
    });
    this.redis.on('error', (error: unknown) => this.warn(error));
  }

  accept(nonce: string, nc: number): boolean | Promise<boolean> {
    if (!this.local.accept(nonce, nc)) return false;
    return this.redis.eval(ACCEPT_SCRIPT, 1, this.prefix + nonce, nc, this.keepMs).then(
      (stored) => stored === 1,
      (error: unknown) => {
        this.warn(error);
        return true;
      },
    );
  }

  async close(): Promise<void> {
    try {
      await this.redis.quit();
    } catch {
      this.redis.disconnect();
    }
  }

  private warn(error: unknown): void {
    const now = Date.now();
    if (now - this.lastWarning < WARN_EVERY_MS) return;
    this.lastWarning = now;
    this.log.warn({ err: error }, 'redis unreachable: nonce-counts checked by this process alone');
  }
}
